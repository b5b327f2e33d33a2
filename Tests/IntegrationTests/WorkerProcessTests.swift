import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MongoStore
import RabbitMQBroker
import ReelForgeTestKit
import Shared
import Testing

/// A worker or CLI process of the built executables, its output kept in a log file.
final class Proc: @unchecked Sendable {
    let process = Process()
    let log: URL

    /// `unsetting`: variables of the test's own environment the process must not see.
    init(_ name: String, _ args: [String] = [], env: [String: String], unsetting: [String] = [], logDir: URL) throws {
        log = logDir.appendingPathComponent("\(name)-\(UUID().uuidString.prefix(4)).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.executableURL = TestServices.binDir.appendingPathComponent(name)
        process.arguments = args
        process.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }.filter { !unsetting.contains($0.key) }
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    func kill9() {
        guard process.isRunning else { return }  // already ended: its pid may be another process's by now
        Foundation.kill(process.processIdentifier, SIGKILL); process.waitUntilExit()
    }

    /// SIGTERM, then the exit status.
    func terminate() async -> Int32 {
        process.terminate()
        for _ in 0..<600 where process.isRunning { try? await Task.sleep(for: .milliseconds(50)) }
        return process.isRunning ? -1 : process.terminationStatus
    }

    /// Runs a command to its end and returns its output and status.
    static func run(_ name: String, _ args: [String], env: [String: String], logDir: URL) async throws -> (String, Int32) {
        let p = try Proc(name, args, env: env, logDir: logDir)
        for _ in 0..<1200 where p.process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        return (p.output, p.process.terminationStatus)
    }
}

/// The three worker executables and the CLI against the real RabbitMQ and MongoDB-protocol server: the
/// acceptance scenarios of the resumable pipeline, with real offline providers (espeak-ng, libx264).
@Suite("Workers as processes", .enabled(if: TestServices.available), .serialized)
struct WorkerProcessTests {
    let logs = temporaryDirectory("worker-logs")
    let env: [String: String]
    let store: MongoJobStore
    let artifacts: GridFSArtifactStore

    init() throws {
        let uri = TestServices.freshMongoURI()
        env = [
            "AMQP_URL": TestServices.amqpURL!, "MONGODB_URI": uri, "REELFORGE_QUEUE_PREFIX": TestServices.freshPrefix(),
            "REELFORGE_RETRY_DELAYS": "500ms,1s", "REELFORGE_RETRY_JITTER": "0", "REELFORGE_LEASE_SECONDS": "3",
            "REELFORGE_SHUTDOWN_GRACE_SECONDS": "20", "REELFORGE_WORK_DIR": temporaryDirectory("work").path,
            "REELFORGE_FAILPOINTS": "", "REELFORGE_HTTP_PORT": "0",
        ]
        let client = try MongoClient(uri: uri)
        store = MongoJobStore(client: client)
        artifacts = GridFSArtifactStore(client: client)
    }

    func start(_ name: String, failpoints: String = "") throws -> Proc {
        var e = env
        e["REELFORGE_FAILPOINTS"] = failpoints
        return try Proc(name, env: e, logDir: logs)
    }

    func cli(_ args: String...) async throws -> String {
        let (out, status) = try await Proc.run("reelforge", args, env: env, logDir: logs)
        #expect(status == 0, "reelforge \(args.joined(separator: " ")) exited \(status): \(out)")
        return out
    }

    func submit(_ idea: String) async throws -> Operations.Submitted {
        let out = try await cli("submit", idea, "--json", "--duration", "5")
        let json = String(out[try #require(out.firstIndex(of: "{"))...])
        return try JSONDecoder().decode(Operations.Submitted.self, from: Data(json.utf8))
    }

    func waitFor(_ ideaID: String, _ status: JobStatus, _ workers: [Proc], timeout: Duration = .seconds(90)) async throws -> IdeaRecord {
        let ok = try await eventually(timeout: timeout) { try await store.idea(ideaID)?.status == status }
        let idea = try #require(try await store.idea(ideaID))
        if !ok { for w in workers { print("---- \(w.log.lastPathComponent)\n\(w.output.suffix(3000))") } }
        #expect(ok, "idea should be \(status), is \(idea.status) at \(idea.lastSuccessfulStep?.rawValue ?? "-")")
        return idea
    }

    /// Downloads the MP4 and checks it with ffprobe: H.264 1080x1920 and AAC, as long as the narration.
    func checkVideo(_ idea: IdeaRecord) async throws {
        let ref = try #require(idea.artifacts[.video]?.files["video.mp4"])
        let file = temporaryDirectory().appendingPathComponent("video.mp4")
        try await artifacts.get(id: ref.id, to: file)
        let (data, _) = try await runProgram("/usr/bin/ffprobe", ["-v", "error", "-show_entries", "stream=codec_name,width,height:format=duration",
                                                                  "-of", "json", file.path])
        let info = try JSONValue.parse(data)
        let streams = info["streams"]?.arrayValue ?? []
        #expect(streams.contains { $0["codec_name"] == "h264" && $0["width"] == 1080 && $0["height"] == 1920 })
        #expect(streams.contains { $0["codec_name"] == "aac" })
        let duration = Double(info["format"]?["duration"]?.stringValue ?? "0") ?? 0
        let narration = idea.artifacts[.audio]?.inline["duration_seconds"]?.doubleValue ?? -1
        #expect(abs(duration - narration) < 0.2, "video \(duration) s, narration \(narration) s")
        #expect(idea.artifacts[.video]?.files["subtitles.srt"] != nil)
    }

    @Test func transientVideoFailuresRetryOnlyVideo() async throws {
        let workers = [try start("ScriptWorker"), try start("AudioWorker"), try start("VideoWorker", failpoints: "video=2")]
        let s = try await submit("why octopuses have three hearts")
        let idea = try await waitFor(s.ideaID, .completed, workers)
        #expect(idea.lastSuccessfulStep == .videoGenerated && idea.progressPercentage == 100)
        let job = try #require(try await store.job(s.jobID))
        #expect(job.attempts == [.script: 1, .adapt: 1, .audio: 1, .video: 3])
        // One paid call per stage: the retries happened before the renderer ran.
        #expect(Dictionary(grouping: idea.costs, by: \.stage).mapValues(\.count) == [.script: 1, .adapt: 1, .audio: 1, .video: 1])
        try await checkVideo(idea)
        let status = try await cli("status", s.ideaID, "--json")
        #expect(status.contains("\"video_generated\""))
        // The video worker's probes and metrics.
        let port = try #require(workers[2].output.firstMatch(of: /on port (\d+)/).map { String($0.1) })
        func get(_ path: String) async throws -> String {
            let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)\(path)")!)
            return String(decoding: data, as: UTF8.self)
        }
        #expect(try await get("/healthz") == "ok\n")
        #expect(try await get("/readyz") == "ready\n")
        let metrics = try await get("/metrics")
        #expect(metrics.contains("reelforge_stage_retried_total{stage=\"video\"} 2\n"))
        #expect(metrics.contains("reelforge_stage_processed_total{stage=\"video\"} 1\n"))
        #expect(metrics.contains("reelforge_stage_duration_seconds_count{stage=\"video\"} 1\n"))
        #expect(metrics.contains("# TYPE reelforge_stage_duration_seconds histogram\n"))
        #expect(metrics.contains("reelforge_provider_calls_total{stage=\"video\",provider=\"local-render\"} 1\n"))
        for w in workers { #expect(await w.terminate() == 0, "\(w.log.lastPathComponent) should exit 0 on SIGTERM") }
        #expect(workers[2].output.contains("resuming after audio_generated, starting at video"))
    }

    @Test func exhaustedVideoIsParkedAndReplayCompletesIt() async throws {
        let workers = [try start("ScriptWorker"), try start("AudioWorker")]
        let failing = try start("VideoWorker", failpoints: "video=5")
        let s = try await submit("how bees choose a home")
        _ = try await waitFor(s.ideaID, .failed, workers + [failing])
        #expect(try await store.job(s.jobID)?.attempts[.video] == 4)
        let list = try await cli("dlq", "list")
        #expect(list.contains(s.jobID) && list.contains("exhausted"))
        #expect(await failing.terminate() == 0)

        let fixed = try start("VideoWorker")
        let replay = try await cli("dlq", "replay", s.jobID)
        #expect(replay.contains("replayed \(s.jobID)"))
        let idea = try await waitFor(s.ideaID, .completed, workers + [fixed])
        let job = try #require(try await store.job(s.jobID))
        #expect(job.attempts[.script] == 1 && job.attempts[.adapt] == 1 && job.attempts[.audio] == 1 && job.attempts[.video] == 5)
        try await checkVideo(idea)
        #expect(try await cli("dlq", "list").contains("no parked messages"))
        for w in workers + [fixed] { _ = await w.terminate() }
    }

    @Test func killNineInTheMiddleOfAStageLosesNothing() async throws {
        let workers = [try start("ScriptWorker"), try start("AudioWorker")]
        var video = try start("VideoWorker")
        let s = try await submit("why the sea is salty")
        // Wait until the video stage is claimed (running), then kill the worker without warning.
        let claimed = try await eventually(timeout: .seconds(60)) { try await store.job(s.jobID)?.lease?.stage == .video }
        #expect(claimed)
        video.kill9()
        #expect(try await store.idea(s.ideaID)?.lastSuccessfulStep == .audioGenerated)
        video = try start("VideoWorker")
        let idea = try await waitFor(s.ideaID, .completed, workers + [video])
        let job = try #require(try await store.job(s.jobID))
        #expect(job.attempts[.audio] == 1 && (job.attempts[.video] ?? 0) >= 2)
        try await checkVideo(idea)
        for w in workers + [video] { _ = await w.terminate() }
    }

    @Test func malformedMessagesAreParkedWhileTheWorkerKeepsServing() async throws {
        let workers = [try start("ScriptWorker"), try start("AudioWorker"), try start("VideoWorker")]
        let raw = try RabbitMQWorkQueue(url: env["AMQP_URL"]!, topology: .init(prefix: env["REELFORGE_QUEUE_PREFIX"]!),
                                                       logger: testLogger())
        try await raw.declareTopology()
        try await raw.publishRaw(Array("{not json".utf8), to: .script)
        try await raw.publishRaw([0xFF, 0xFE, 0x00], to: .script)
        let s = try await submit("how owls see at night")
        _ = try await waitFor(s.ideaID, .completed, workers)
        let parked = try await raw.parked(stage: .script, limit: 10)
        #expect(parked.count == 2 && parked.allSatisfy { $0.reasonKind == "poison" })
        #expect(parked.contains { $0.reason.contains("not valid UTF-8") })
        await raw.close()
        for w in workers { #expect(await w.terminate() == 0) }
    }
}

