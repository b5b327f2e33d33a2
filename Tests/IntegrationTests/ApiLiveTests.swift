import Crypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MongoStore
import ReelForgeTestKit
import Shared
import Testing

/// `reelforge serve` as a process in front of the three worker processes, on the real RabbitMQ and NX-27017:
/// the API end to end, schemathesis against its OpenAPI document, and the dashboard in headless Chromium.
@Suite("HTTP API, live", .enabled(if: TestServices.available), .serialized)
struct ApiLiveTests {
    let logs = temporaryDirectory("api-live-logs")
    let env: [String: String]
    static let operatorToken = "live-operator-token-0123456789"
    static let viewerToken = "live-viewer-token-0123456789"

    init() throws {
        let tokens = logs.appendingPathComponent("tokens")
        try "\(Self.operatorToken) operator\n\(Self.viewerToken) viewer\n".write(to: tokens, atomically: true, encoding: .utf8)
        env = [
            "AMQP_URL": TestServices.amqpURL!, "MONGODB_URI": TestServices.freshMongoURI(), "REELFORGE_QUEUE_PREFIX": TestServices.freshPrefix(),
            "REELFORGE_RETRY_DELAYS": "500ms,1s", "REELFORGE_RETRY_JITTER": "0", "REELFORGE_LEASE_SECONDS": "3",
            "REELFORGE_WORK_DIR": temporaryDirectory("api-live-work").path, "REELFORGE_HTTP_PORT": "0", "REELFORGE_FAILPOINTS": "",
            "REELFORGE_VIDEO_SIZE": "180x320", "REELFORGE_VIDEO_FPS": "10", "REELFORGE_VIDEO_PRESET": "ultrafast",
            "REELFORGE_API_TOKENS_FILE": tokens.path, "REELFORGE_WEBHOOK_SECRET": "live-webhook-secret-0123456789",
        ]
    }

    /// The server's address, read from its log line once it listens on the free port it took.
    func serve() async throws -> (Proc, URL) {
        let p = try Proc("reelforge", ["serve", "--port", "0"], env: env, logDir: logs)
        var found: URL?
        _ = await eventually(timeout: .seconds(60)) {
            guard let line = p.output.split(separator: "\n").first(where: { $0.contains("API and dashboard on http://") }),
                  let range = line.range(of: "http://") else { return false }
            found = URL(string: String(line[range.lowerBound...]).trimmingCharacters(in: .whitespaces))
            return found != nil
        }
        return (p, try #require(found, "serve did not start: \(p.output)"))
    }

    func call(_ base: URL, _ method: String, _ path: String, token: String = operatorToken, body: String? = nil,
              headers: [String: String] = [:]) async throws -> (status: Int, body: Data) {
        var r = URLRequest(url: URL(string: path, relativeTo: base)!)
        r.httpMethod = method
        r.timeoutInterval = 180
        r.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        if let body { r.httpBody = Data(body.utf8); r.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        for (k, v) in headers { r.setValue(v, forHTTPHeaderField: k) }
        let (data, response) = try await URLSession.shared.data(for: r)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    func status(_ base: URL, _ id: String) async throws -> String {
        try JSONValue.parse(try await call(base, "GET", "/v1/videos/\(id)", token: Self.viewerToken).body)["status"]?.stringValue ?? ""
    }

    @Test func theApiDrivesTheWorkersAndSchemathesisAndChromiumFindNothingWrong() async throws {
        let script = try Proc("ScriptWorker", env: env, logDir: logs)
        let video = try Proc("VideoWorker", env: env, logDir: logs)
        var audio: Proc?  // started later: a job waits in the audio stage meanwhile
        let (server, base) = try await serve()
        defer { for p in [script, video, server] + (audio.map { [$0] } ?? []) { p.kill9() } }

        // A video waiting at the audio stage is cancelled: when the audio worker comes, nothing more runs.
        let waiting = try JSONValue.parse(try await call(base, "POST", "/v1/videos", body: #"{"idea": "why the moon has phases", "duration_seconds": 6}"#).body)
        let waitingID = try #require(waiting["id"]?.stringValue)
        _ = try await eventually(timeout: .seconds(60)) {
            try JSONValue.parse(try await call(base, "GET", "/v1/videos/\(waitingID)", token: Self.viewerToken).body)["checkpoint"]?.stringValue == "script_adapted"
        }
        #expect(try await call(base, "POST", "/v1/videos/\(waitingID)/cancel").status == 202)

        // Without a token, or with a viewer's on an operator endpoint: refused.
        #expect(try await call(base, "GET", "/v1/videos", token: "").status == 401)
        #expect(try await call(base, "POST", "/v1/videos", token: Self.viewerToken, body: #"{"idea": "x y"}"#).status == 403)

        // One video with an idempotency key sent twice (its end announced to a receiver), and one that parks at the
        // video stage (a missing media file).
        let receiver = ApiTests.Receiver()
        let receiving = try await receiver.start()
        defer { receiving.cancel() }
        let hook = "http://127.0.0.1:\(receiver.port.withLock { $0 })/hook"
        let body = #"{"idea": "why octopuses have three hearts", "duration_seconds": 6, "callback_url": "\#(hook)"}"#
        let a = try await call(base, "POST", "/v1/videos", body: body, headers: ["Idempotency-Key": "live-1"])
        let b = try await call(base, "POST", "/v1/videos", body: body, headers: ["Idempotency-Key": "live-1"])
        #expect(a.status == 201 && b.status == 200)
        let id = try #require(try JSONValue.parse(a.body)["id"]?.stringValue)
        #expect(try JSONValue.parse(b.body)["id"]?.stringValue == id)
        let parked = try #require(try JSONValue.parse(try await call(base, "POST", "/v1/videos",
            body: #"{"idea": "why bees dance", "duration_seconds": 6, "background": "media:missing-file.png"}"#).body)["id"]?.stringValue)
        audio = try Proc("AudioWorker", env: env, logDir: logs)

        // Followed live to the end over Server-Sent Events, then downloaded in a range as a player would.
        let events = String(decoding: try await call(base, "GET", "/v1/videos/\(id)/events", token: Self.viewerToken).body, as: UTF8.self)
        #expect(events.contains("\"status\":\"completed\""), "\(events.suffix(300))")
        let part = try await call(base, "GET", "/v1/videos/\(id)/files/video.mp4", token: Self.viewerToken, headers: ["Range": "bytes=0-99"])
        #expect(part.status == 206 && part.body.count == 100 && part.body[4..<8] == Data("ftyp".utf8))
        _ = try await eventually(timeout: .seconds(90)) { try await status(base, parked) == "failed" }
        try await Task.sleep(for: .seconds(2))
        #expect(try await status(base, waitingID) == "cancelled")
        let store = MongoJobStore(client: try MongoClient(uri: env["MONGODB_URI"]!))
        #expect(try await store.idea(waitingID)?.artifacts[.audio] == nil, "the cancelled video's audio never ran")

        // The end was announced (the receiver fails its first call: retried), signed with the shared secret.
        _ = await eventually(timeout: .seconds(30)) { receiver.calls.withLock { $0.count } >= 2 }
        let delivered = try #require(receiver.calls.withLock { $0.last })
        let stamp = try #require(delivered.headers["x-reelforge-timestamp"])
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(stamp).".utf8) + delivered.body,
                                                  using: SymmetricKey(data: Data(env["REELFORGE_WEBHOOK_SECRET"]!.utf8)))
        #expect(delivered.headers["x-reelforge-signature"] == "sha256=" + mac.map { String(format: "%02x", $0) }.joined())
        #expect(try JSONValue.parse(delivered.body)["event"]?.stringValue == "video.completed")

        // The dead-letter group of the parked one, and the dashboard showing the videos, their stage and the group.
        let groups = try JSONValue.parse(try await call(base, "GET", "/v1/dead-letters", token: Self.viewerToken).body)["groups"]?.arrayValue ?? []
        #expect(groups.count == 1 && groups.first?["stage"]?.stringValue == "video", "\(groups)")
        let shot = logs.appendingPathComponent("dashboard.png")
        let dom = try await chromium(["--dump-dom", "\(base.absoluteString)#token=\(Self.viewerToken)"])
        #expect(dom.contains("data-id=\"\(id)\"") && dom.contains("data-status=\"completed\""), "\(dom.prefix(2000))")
        #expect(dom.contains("data-id=\"\(parked)\"") && dom.contains("data-status=\"failed\"") && dom.contains("data-stage=\"video\""))
        #expect(dom.contains("class=\"dlq-group\"") && dom.contains("id=\"pipeline\""))
        _ = try await chromium(["--window-size=1280,1000", "--hide-scrollbars", "--screenshot=\(shot.path)", "\(base.absoluteString)#token=\(Self.viewerToken)"])
        #expect((try? Data(contentsOf: shot).count) ?? 0 > 20_000, "a screenshot of the dashboard at \(shot.path)")

        // Replayed from its group with another background, it completes.
        let group = try #require(groups.first?["group"]?.stringValue)
        let replay = try await call(base, "POST", "/v1/dead-letters/replay", body: ##"{"group": "\##(group)", "edits": {"background": "#223344"}}"##)
        #expect(replay.status == 200)
        _ = try await eventually(timeout: .seconds(90)) { try await status(base, parked) == "completed" }
        #expect(try await status(base, parked) == "completed")

        // The workers stop here: what follows creates many videos (a batch, schemathesis's random ideas of up to
        // 600 s) that the API must accept and store, not videos this test needs made (rendering them would only load
        // the machine the rest of the suite runs on).
        for p in [script, video] + (audio.map { [$0] } ?? []) { p.kill9() }

        // A batch of 50 with three bad lines: 47 jobs in MongoDB and three precise errors; then all cancelled.
        var lines = (1...50).map { #"{"idea": "batch idea \#($0) about whales", "duration_seconds": 5}"# }
        lines[4] = #"{"idea": "a bad language", "language": "de"}"#
        lines[19] = #"{"idea": "ok", "duration_seconds": 9999}"#
        lines[41] = "{not json"
        var batch = URLRequest(url: URL(string: "/v1/videos/batch", relativeTo: base)!)
        batch.httpMethod = "POST"
        batch.setValue("Bearer \(Self.operatorToken)", forHTTPHeaderField: "Authorization")
        batch.setValue("application/x-ndjson", forHTTPHeaderField: "Content-Type")
        batch.httpBody = Data(lines.joined(separator: "\n").utf8)
        let answer = try JSONValue.parse(try await URLSession.shared.data(for: batch).0)
        let made = (answer["created"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue }
        let errors = (answer["errors"]?.arrayValue ?? []).map { ($0["line"]?.intValue ?? 0, $0["error"]?.stringValue ?? "") }
        #expect(made.count == 47 && errors.map(\.0) == [5, 20, 42], "\(errors)")
        #expect(errors.count == 3 && errors[0].1.contains("language") && errors[1].1.contains("duration_seconds") && errors[2].1.contains("JSON"))
        for id in made {
            #expect(try await status(base, id) == "queued")
            #expect(try await call(base, "POST", "/v1/videos/\(id)/cancel").status == 202)
        }
        for id in made { #expect(try await status(base, id) == "cancelled") }

        // Schemathesis against the live server and its document: no 5xx, every answer as documented.
        let st = try await run(TestServices.repo.appendingPathComponent(".venv/bin/st").path,
                         ["run", URL(string: "/openapi.json", relativeTo: base)!.absoluteString, "-H", "Authorization: Bearer \(Self.operatorToken)",
                          "--checks", "not_a_server_error,response_schema_conformance", "-n", "8", "--no-color"])
        #expect(st.status == 0, "schemathesis: \(st.output.suffix(3000))")
        #expect(!server.output.contains(Self.operatorToken) && !server.output.contains(Self.viewerToken), "no token in the server's log")
        #expect(server.process.isRunning, "the server still serves")
    }

    func chromium(_ args: [String]) async throws -> String {
        let r = try await run("/usr/bin/chromium", ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                              "--virtual-time-budget=8000"] + args)
        return r.output
    }

    /// Runs a command to its end without holding a thread of the cooperative pool (schemathesis takes half a
    /// minute; a blocking wait there starves every other test of the run).
    func run(_ path: String, _ args: [String]) async throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        p.currentDirectoryURL = logs
        let out = logs.appendingPathComponent("run-\(UUID().uuidString.prefix(6)).log")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        let handle = try FileHandle(forWritingTo: out)
        p.standardOutput = handle
        p.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try p.run()
        while p.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        try handle.close()
        return (p.terminationStatus, (try? String(contentsOf: out, encoding: .utf8)) ?? "")
    }
}
