import AdaptStage
import ApiServer
import AudioStage
import Crypto
import Foundation
import Hummingbird
import Logging
import ReelForgeTestKit
import ScriptStage
import Shared
import Synchronization
import Testing
import VideoStage
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The HTTP API (docs/api.md) over the in-process pipeline: the template script, the rules, espeak-ng and the real
/// renderer at 180x320, on the same StageRunner and Operations as the workers.
@Suite("HTTP API", .serialized)  // each test renders videos: one at a time
struct ApiTests {
    static let operatorToken = "operator-token-for-tests-0123456789"
    static let viewerToken = "viewer-token-for-tests-0123456789"

    /// An audio stage that takes its time (checking its safe point), and one that fails for good while `broken`.
    final class ControlledAudio: StageExecutor {
        let stage = Stage.audio
        let inner = AudioStageExecutor(synthesizer: EspeakSynthesizer())
        let slow = Mutex(false)
        let broken = Mutex(false)
        let started = Mutex(0)
        func run(_ input: StageInput, logger: Logger) async throws -> StageOutput {
            started.withLock { $0 += 1 }
            if broken.withLock({ $0 }) { throw StageFailure.permanent("voice provider: HTTP 401 invalid key for job \(input.jobID)") }
            if slow.withLock({ $0 }) {
                for _ in 0..<200 {
                    try await input.checkpoint()
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            return try await inner.run(input, logger: logger)
        }
    }

    final class CountingVideo: StageExecutor {
        let stage = Stage.video
        let inner: VideoStageExecutor
        let runs = Mutex(0)
        init() {
            var options = RenderOptions()
            options.width = 180; options.height = 320; options.fps = 10; options.preset = "ultrafast"
            inner = VideoStageExecutor(renderer: VideoRenderer(options: options))
        }
        func run(_ input: StageInput, logger: Logger) async throws -> StageOutput {
            runs.withLock { $0 += 1 }
            return try await inner.run(input, logger: logger)
        }
    }

    /// The API on a free port over an in-memory queue and store, with (unless `running` is false) a runner.
    final class Harness: Sendable {
        let queue = MemoryWorkQueue()
        let store = RecordJobStore.memory()
        let artifacts: DirectoryArtifactStore
        let audio = ControlledAudio()
        let video = CountingVideo()
        let base: URL
        let tasks: [Task<Void, any Error>]
        let logs = LogLines()

        static let webhookSecret = "webhook-secret-for-tests-0123456789"

        init(running: Bool = true) async throws {
            artifacts = try DirectoryArtifactStore(root: temporaryDirectory("api-artifacts"))
            let logger = logs.logger()
            let operations = Operations(queue: queue, store: store, artifacts: artifacts, maxRetries: 2)
            let tokens = try ApiTokens(parsing: "\(ApiTests.operatorToken) operator\n# a comment\n\(ApiTests.viewerToken) viewer\n")
            let server = try ApiServer(operations: operations, artifacts: artifacts, tokens: tokens,
                                       options: .init(port: 0, cacheFolder: temporaryDirectory("api-cache")), logger: logger)
            let notifier = WebhookNotifier(store: store, secret: Self.webhookSecret, logger: logger, poll: .milliseconds(200), timeout: 5)
            var tasks: [Task<Void, any Error>] = [Task { try await server.run() }, Task { try await notifier.run() }]
            if running {
                let runner = StageRunner(queue: queue, store: store, artifacts: artifacts,
                                         executors: [ScriptStageExecutor(writer: TemplateScriptWriter()), AdaptStageExecutor(), audio, video],
                                         settings: RunnerSettings(workerID: "api-test", retry: RetryPolicy(delays: [.milliseconds(200)], maxRetries: 2, jitter: 0, jitterBuckets: 1),
                                                                  leaseDuration: .seconds(3), workRoot: temporaryDirectory("api-work")),
                                         logger: logger)
                tasks.append(Task { try await runner.serve(stages: Stage.allCases, concurrency: 2) })
            }
            self.tasks = tasks
            base = URL(string: "http://127.0.0.1:\(try await server.port())")!
        }

        func stop() { for t in tasks { t.cancel() } }

        @discardableResult
        func call(_ method: String, _ path: String, token: String? = ApiTests.operatorToken, body: String? = nil,
                  type: String = "application/json", headers: [String: String] = [:]) async throws -> (status: Int, body: Data, headers: [String: String]) {
            var r = URLRequest(url: URL(string: path, relativeTo: base)!)
            r.httpMethod = method
            r.timeoutInterval = 180
            if let token { r.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
            if let body { r.httpBody = Data(body.utf8); r.setValue(type, forHTTPHeaderField: "Content-Type") }
            for (k, v) in headers { r.setValue(v, forHTTPHeaderField: k) }
            let (data, response) = try await URLSession.shared.data(for: r)
            let http = try #require(response as? HTTPURLResponse)
            var fields: [String: String] = [:]
            for (k, v) in http.allHeaderFields { fields["\(k)".lowercased()] = "\(v)" }
            return (http.statusCode, data, fields)
        }

        func json(_ method: String, _ path: String, token: String? = ApiTests.operatorToken, body: String? = nil,
                  headers: [String: String] = [:]) async throws -> (status: Int, value: JSONValue) {
            let r = try await call(method, path, token: token, body: body, headers: headers)
            return (r.status, (try? JSONValue.parse(r.body)) ?? .null)
        }

        func waitFor(_ id: String, _ statuses: Set<JobStatus>, timeout: Duration = .seconds(120)) async throws -> IdeaRecord {
            _ = try await eventually(timeout: timeout) { try await statuses.contains(store.idea(id)?.status ?? .queued) }
            return try #require(try await store.idea(id))
        }
    }

    @Test func anIdempotencyKeyMakesOneVideoAndTheEventsFollowItToTheEndAndTheVideoSeeks() async throws {
        let h = try await Harness()
        defer { h.stop() }
        let body = #"{"idea": "why octopuses have three hearts", "duration_seconds": 8}"#
        let first = try await h.json("POST", "/v1/videos", body: body, headers: ["Idempotency-Key": "key-1"])
        let second = try await h.json("POST", "/v1/videos", body: body, headers: ["Idempotency-Key": "key-1"])
        #expect(first.status == 201 && second.status == 200, "\(first) \(second)")
        let id = try #require(first.value["id"]?.stringValue)
        #expect(second.value["id"]?.stringValue == id)
        #expect(try await h.store.jobs(ideaID: id).count == 1, "one job for one key")
        let other = try await h.json("POST", "/v1/videos", body: #"{"idea": "why cats purr"}"#, headers: ["Idempotency-Key": "key-1"])
        #expect(other.status == 409 && other.value["error"]?["code"]?.stringValue == "idempotency_conflict")

        // Live events until the end: the stages in order, the progress never going back, completed last.
        let events = try await h.call("GET", "/v1/videos/\(id)/events", token: Self.viewerToken)
        #expect(events.status == 200 && events.headers["content-type"]?.hasPrefix("text/event-stream") == true)
        let videos = String(decoding: events.body, as: UTF8.self).components(separatedBy: "\n").filter { $0.hasPrefix("data: ") }
            .compactMap { try? JSONValue.parse(Data($0.dropFirst(6).utf8)) }
        let progress = videos.compactMap { $0["progress"]?.intValue }
        #expect(videos.count >= 2 && videos.last?["status"]?.stringValue == "completed", "\(videos.map { $0["status"] ?? .null })")
        #expect(zip(progress, progress.dropFirst()).allSatisfy { $0 <= $1 } && progress.last == 100, "\(progress)")

        // The video, whole and in ranges, as a browser's player asks for it.
        let detail = try await h.json("GET", "/v1/videos/\(id)", token: Self.viewerToken)
        let size = try #require(detail.value["files"]?["video.mp4"]?["size"]?.intValue)
        let whole = try await h.call("GET", "/v1/videos/\(id)/files/video.mp4", token: Self.viewerToken)
        #expect(whole.status == 200 && whole.body.count == size && whole.headers["accept-ranges"] == "bytes")
        let part = try await h.call("GET", "/v1/videos/\(id)/files/video.mp4", token: Self.viewerToken, headers: ["Range": "bytes=100-1099"])
        #expect(part.status == 206 && part.body == whole.body[100..<1100] && part.headers["content-range"] == "bytes 100-1099/\(size)")
        let tail = try await h.call("GET", "/v1/videos/\(id)/files/video.mp4", token: Self.viewerToken, headers: ["Range": "bytes=-500"])
        #expect(tail.status == 206 && tail.body == whole.body.suffix(500))
        let beyond = try await h.call("GET", "/v1/videos/\(id)/files/video.mp4", token: Self.viewerToken, headers: ["Range": "bytes=\(size + 10)-"])
        #expect(beyond.status == 416 && beyond.headers["content-range"] == "bytes */\(size)")
        // The timeline names every stage's success; the ledger and the status are there.
        let outcomes = (detail.value["timeline"]?.arrayValue ?? []).map { "\($0["stage"]?.stringValue ?? "")=\($0["outcome"]?.stringValue ?? "")" }
        #expect(outcomes == ["script=succeeded", "adapt=succeeded", "audio=succeeded", "video=succeeded"], "\(outcomes)")
        #expect(detail.value["status"]?.stringValue == "completed" && detail.value["checkpoint"]?.stringValue == "video_generated")
    }

    /// A receiver of webhooks that fails its first call (the notifier retries after a second).
    final class Receiver: Sendable {
        let calls = Mutex<[(headers: [String: String], body: Data)]>([])
        let port = Mutex(0)

        func start() async throws -> Task<Void, any Error> {
            let router = Router()
            router.post("hook") { [self] request, _ -> Response in
                let body = try await request.body.collect(upTo: 1 << 20)
                var headers: [String: String] = [:]
                for field in request.headers { headers[field.name.canonicalName.lowercased()] = field.value }
                let n = calls.withLock { $0.append((headers, Data(body.readableBytesView))); return $0.count }
                return Response(status: n == 1 ? .internalServerError : .noContent)
            }
            let ready = AsyncStream<Int>.makeStream()
            let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                                  onServerRunning: { channel in ready.continuation.yield(channel.localAddress?.port ?? 0) })
            let task = Task { try await app.run() }
            for await p in ready.stream { port.withLock { $0 = p }; break }
            return task
        }
    }

    @Test func theEndOfAVideoIsAnnouncedToItsCallbackSignedAndRetried() async throws {
        let h = try await Harness()
        let receiver = Receiver()
        let serving = try await receiver.start()
        defer { h.stop(); serving.cancel() }
        let url = "http://127.0.0.1:\(receiver.port.withLock { $0 })/hook"
        let created = try await h.json("POST", "/v1/videos", body: #"{"idea": "why leaves fall", "duration_seconds": 6, "callback_url": "\#(url)"}"#)
        let id = try #require(created.value["id"]?.stringValue)
        #expect(created.value["callback_url"]?.stringValue == url)
        _ = try await h.waitFor(id, [.completed])
        _ = await eventually(timeout: .seconds(30)) { receiver.calls.withLock { $0.count } >= 2 }
        let calls = receiver.calls.withLock { $0 }
        #expect(calls.count == 2, "the first delivery failed (HTTP 500) and was retried once: \(calls.count)")
        let last = try #require(calls.last)
        let timestamp = try #require(last.headers["x-reelforge-timestamp"].flatMap(Int.init))
        var signed = Data("\(timestamp).".utf8)
        signed.append(last.body)
        let expected = "sha256=" + HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Data(Harness.webhookSecret.utf8)))
            .map { String(format: "%02x", $0) }.joined()
        #expect(last.headers["x-reelforge-signature"] == expected, "the signature verifies with the shared secret")
        #expect(abs(Double(timestamp) - Date().timeIntervalSince1970) < 60)
        let payload = try JSONValue.parse(last.body)
        #expect(payload["id"]?.stringValue == id && payload["event"]?.stringValue == "video.completed" && payload["status"]?.stringValue == "completed")
        // Delivered: never sent again; a tampered body would not verify.
        try await Task.sleep(for: .seconds(1.5))
        #expect(receiver.calls.withLock { $0.count } == 2)
        let state = try #require(try await h.store.idea(id)?.webhook)
        #expect(!state.pending && state.attempts == 2 && state.deliveredAt != nil)
        var tampered = signed
        tampered.append(contentsOf: [0x20])
        #expect(WebhookNotifier.signature(body: tampered.dropFirst("\(timestamp).".utf8.count), timestamp: timestamp,
                                          key: SymmetricKey(data: Data(Harness.webhookSecret.utf8))) != expected)
        // A callback that is not an http(s) URL is refused up front.
        let bad = try await h.json("POST", "/v1/videos", body: #"{"idea": "why leaves fall", "callback_url": "file:///etc/passwd"}"#)
        #expect(bad.status == 400 && bad.value["error"]?["message"]?.stringValue?.contains("callback_url") == true)
    }

    @Test func aBatchOfFiftyWithThreeBadLinesMakesFortySevenJobsAndNamesEachError() async throws {
        let h = try await Harness(running: false)
        defer { h.stop() }
        var lines = (1...50).map { #"{"idea": "idea number \#($0) about octopuses", "duration_seconds": 10}"# }
        lines[4] = #"{"idea": "a french one", "language": "de"}"#
        lines[19] = #"{"idea": "   "}"#
        lines[41] = "not json at all"
        let r = try await h.call("POST", "/v1/videos/batch", body: lines.joined(separator: "\n"), type: "application/x-ndjson")
        let value = try JSONValue.parse(r.body)
        #expect(r.status == 200)
        #expect(value["created"]?.arrayValue?.count == 47)
        let errors = (value["errors"]?.arrayValue ?? []).map { ($0["line"]?.intValue ?? 0, $0["error"]?.stringValue ?? "") }
        #expect(errors.map(\.0) == [5, 20, 42], "\(errors)")
        #expect(errors[0].1.contains("language") && errors[1].1.contains("idea") && errors[2].1.contains("not a JSON object"), "\(errors)")
        #expect(try await h.store.ideas(limit: 100).count == 47)

        let csv = "idea,language,duration_seconds\n\"why cats purr, and why it matters\",en,12\nwhy bees dance,fr,abc\n"
        let c = try JSONValue.parse(try await h.call("POST", "/v1/videos/batch", body: csv, type: "text/csv").body)
        #expect(c["created"]?.arrayValue?.count == 1 && c["errors"]?.arrayValue?.first?["line"]?.intValue == 3, "\(c)")
        // Listing pages through all of them with the cursor, newest first, each once.
        var seen: [String] = []
        var cursor: String?
        repeat {
            let page = try await h.json("GET", "/v1/videos?limit=20" + (cursor.map { "&cursor=\($0)" } ?? ""), token: Self.viewerToken)
            seen += (page.value["videos"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue }
            cursor = page.value["next_cursor"]?.stringValue
        } while cursor != nil
        #expect(seen.count == 48 && Set(seen).count == 48)
        let found = try await h.json("GET", "/v1/videos?q=idea%20number%207%20", token: Self.viewerToken)
        #expect(found.value["videos"]?.arrayValue?.count == 1)

        // What resuming saved: a video whose video stage failed twice did not pay its script and voice again.
        var paid = IdeaRecord(id: "idea_paid", idea: "a paid one", language: "en", targetSeconds: 20, now: Date())
        paid.costs = [CostEntry(stage: .script, attempt: 1, provider: "openai", units: 900, unit: "tokens", costUSD: 0.01, at: Date()),
                      CostEntry(stage: .audio, attempt: 1, provider: "elevenlabs", units: 1500, unit: "characters", costUSD: 0.45, at: Date())]
        paid.errors = [ErrorEntry(stage: .video, kind: "transient", message: "render broke", attempt: 1, at: Date()),
                       ErrorEntry(stage: .audio, kind: "transient", message: "429", attempt: 1, at: Date()),
                       ErrorEntry(stage: .video, kind: "transient", message: "render broke", attempt: 2, at: Date())]
        try await h.store.create(idea: paid, job: JobRecord(jobID: "job_paid", ideaID: paid.id, maxRetries: 3, now: Date()))
        let detail = try await h.json("GET", "/v1/videos/idea_paid", token: Self.viewerToken)
        #expect(abs((detail.value["resume_saved_usd"]?.doubleValue ?? 0) - (0.46 * 2 + 0.01)) < 1e-9, "\(detail.value["resume_saved_usd"] ?? .null)")
        #expect(abs((detail.value["cost_usd"]?.doubleValue ?? 0) - 0.46) < 1e-9)
    }

    @Test func aCancelDuringTheAudioStageEndsTheVideoCancelledAndTheVideoStageNeverRuns() async throws {
        let h = try await Harness()
        defer { h.stop() }
        h.audio.slow.withLock { $0 = true }
        let created = try await h.json("POST", "/v1/videos", body: #"{"idea": "why the sea is salty", "duration_seconds": 6}"#)
        let id = try #require(created.value["id"]?.stringValue)
        _ = await eventually(timeout: .seconds(60)) { h.audio.started.withLock { $0 } > 0 }
        let viewer = try await h.json("POST", "/v1/videos/\(id)/cancel", token: Self.viewerToken)
        #expect(viewer.status == 403)
        let cancel = try await h.json("POST", "/v1/videos/\(id)/cancel")
        #expect(cancel.status == 202 && cancel.value["status"]?.stringValue == "cancelled", "\(cancel)")
        // The running audio stage loses its lease at its next renewal and stores nothing; its message is dropped.
        try await Task.sleep(for: .seconds(8))
        let idea = try #require(try await h.store.idea(id))
        #expect(idea.status == .cancelled && idea.lastSuccessfulStep == .scriptAdapted, "\(idea.status) \(String(describing: idea.lastSuccessfulStep))")
        #expect(h.video.runs.withLock { $0 } == 0, "no video stage ever ran")
        #expect(idea.leases.isEmpty)
        let again = try await h.json("POST", "/v1/videos/\(id)/cancel")
        #expect(again.status == 202, "cancelling twice is fine")
    }

    @Test func aParkedJobIsReplayedFromItsGroupAndTokensAreChecked() async throws {
        let h = try await Harness()
        defer { h.stop() }
        // Without a token, with an unknown one, or a viewer's on an operator endpoint.
        #expect(try await h.json("GET", "/v1/videos", token: nil).status == 401)
        #expect(try await h.json("GET", "/v1/videos", token: "not-a-known-token-at-all").status == 401)
        let forbidden = try await h.json("POST", "/v1/videos", token: Self.viewerToken, body: #"{"idea": "x y z"}"#)
        #expect(forbidden.status == 403 && forbidden.value["error"]?["code"]?.stringValue == "forbidden")
        #expect(try await h.json("GET", "/v1/nothing-here").status == 404)

        h.audio.broken.withLock { $0 = true }
        var ids: [String] = []
        for idea in ["why owls turn their heads", "why zebras have stripes"] {
            ids.append(try #require(try await h.json("POST", "/v1/videos", body: #"{"idea": "\#(idea)", "duration_seconds": 6}"#).value["id"]?.stringValue))
        }
        for id in ids { #expect(try await h.waitFor(id, [.failed]).status == .failed) }
        let groups = try await h.json("GET", "/v1/dead-letters", token: Self.viewerToken)
        let list = groups.value["groups"]?.arrayValue ?? []
        // Two messages, one cause (the job ids in the reason are masked): one group of two.
        #expect(list.count == 1 && list.first?["count"]?.intValue == 2 && list.first?["stage"]?.stringValue == "audio", "\(groups)")
        let group = try #require(list.first?["group"]?.stringValue)
        h.audio.broken.withLock { $0 = false }
        let replay = try await h.json("POST", "/v1/dead-letters/replay", body: ##"{"group": "\##(group)", "edits": {"background": "#203040"}}"##)
        #expect(replay.status == 200 && replay.value["replayed"]?.arrayValue?.count == 2, "\(replay)")
        for id in ids {
            let idea = try await h.waitFor(id, [.completed, .failed])
            #expect(idea.status == .completed && idea.background == "#203040")
        }
        #expect(try await h.json("GET", "/v1/dead-letters").value["groups"]?.arrayValue?.isEmpty == true)
        // No token reached the log.
        let log = h.logs.lines.withLock { $0.map { "\($0.message) \($0.metadata)" }.joined(separator: "\n") }
        #expect(!log.contains(Self.operatorToken) && !log.contains(Self.viewerToken))
        // The document that describes all of this is served, and is the one kept in the repository.
        let served = try await h.call("GET", "/openapi.json", token: nil)
        let kept = try Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/openapi.json"))
        #expect(try JSONValue.parse(served.body) == JSONValue.parse(kept))
    }
}

