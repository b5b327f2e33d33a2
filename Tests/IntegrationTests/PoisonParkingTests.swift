import Foundation
import RabbitMQBroker
import ReelForgeTestKit
import Shared
import Testing

/// Unreadable messages on the real broker: parked with a reason that says what is wrong, keeping the producer's
/// `x-reelforge-job-id` so that `reelforge dlq show/purge JOB` finds them; and the CLI's standard output holding
/// only its own output while libmongoc has something to say.
@Suite("Poison parking and CLI output on the real services", .enabled(if: TestServices.available), .serialized)
struct PoisonParkingTests {
    let logs = temporaryDirectory("poison")

    /// The CLI's settings for the harness's queues (the same topology arguments, or RabbitMQ refuses them).
    func cliEnv(prefix: String) -> [String: String] {
        ["AMQP_URL": TestServices.amqpURL!, "MONGODB_URI": TestServices.freshMongoURI(), "REELFORGE_QUEUE_PREFIX": prefix,
         "REELFORGE_RETRY_DELAYS": "200ms,400ms", "REELFORGE_RETRY_JITTER": "0", "REELFORGE_DELIVERY_LIMIT": "5"]
    }

    @Test func unreadableMessagesKeepTheProducersJobIDAndDlqFindsThem() async throws {
        let h = try await Backend.real.harness().prepared()
        let queue = try #require(h.queue as? RabbitMQWorkQueue)
        h.start()
        let twice = #"{"job_id":"job_twice_1","idea_id":"idea_twice_1","stage":"script","idea":"why cats purr","idea":"why dogs bark"}"#
        try await queue.publishRaw(Array(twice.utf8), headers: [MessageHeader.jobID: "job_twice_1"], to: .script)
        try await queue.publishRaw(Array("{not json".utf8), headers: [MessageHeader.jobID: "job_garbage_7"], to: .script)
        let both = try await eventually(timeout: .seconds(30)) { try await h.queue.parked(stage: .script, limit: 10).count == 2 }
        await h.stop()
        #expect(both, "two messages parked")
        let parked = try await h.queue.parked(stage: .script, limit: 10)
        let ambiguous = try #require(parked.first { $0.jobID == "job_twice_1" }, "the producer's job id is kept: \(parked.map(\.headers))")
        #expect(ambiguous.reasonKind == "poison" && ambiguous.reason.contains("key 'idea' more than once"), "\(ambiguous.reason)")
        #expect(try await h.store.idea("idea_twice_1") == nil, "no idea is made from a body tools read differently")
        #expect(parked.contains { $0.jobID == "job_garbage_7" && $0.reason.contains("not valid JSON") })

        let env = cliEnv(prefix: queue.topology.prefix)
        let (shown, status) = try await Proc.run("reelforge", ["dlq", "show", "job_garbage_7"], env: env, logDir: logs)
        #expect(status == 0 && shown.contains("\"job_id\" : \"job_garbage_7\"") && shown.contains("not valid JSON"), "\(shown)")
        let (purged, purgeStatus) = try await Proc.run("reelforge", ["dlq", "purge", "job_twice_1"], env: env, logDir: logs)
        #expect(purgeStatus == 0 && purged.contains("purged 1 message"), "\(purged)")
        #expect(try await h.queue.parked(stage: .script, limit: 10).map(\.jobID) == ["job_garbage_7"])
        await h.close()
    }

    /// libmongoc's default handler prints on standard output; an unknown URI option makes it say something.
    @Test func libmongocLinesStayOffStandardOutput() async throws {
        var env = ProcessInfo.processInfo.environment.merging(cliEnv(prefix: TestServices.freshPrefix())) { $1 }
        env["MONGODB_URI"] = TestServices.freshMongoURI() + "?reelforgeUnknownOption=1"
        let (out, err, status) = try await Self.run(TestServices.binDir.appendingPathComponent("reelforge").path, ["status", "--json"], env: env)
        #expect(status == 0, "\(err)")
        #expect(try JSONValue.parse(Data(out.utf8)).arrayValue == [], "standard output is the JSON alone: \(out)")
        #expect(err.contains("WARNING [mongoc]") && err.contains("reelforgeunknownoption"), "through the logger: \(err)")
    }

    /// Runs a program to its end; standard output and standard error apart.
    static func run(_ path: String, _ args: [String], env: [String: String]) async throws -> (String, String, Int32) {
        let dir = temporaryDirectory("run")
        let outURL = dir.appendingPathComponent("out"), errURL = dir.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        p.environment = env
        p.standardOutput = try FileHandle(forWritingTo: outURL)
        p.standardError = try FileHandle(forWritingTo: errURL)
        try p.run()
        for _ in 0..<600 where p.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        return (try String(contentsOf: outURL, encoding: .utf8), try String(contentsOf: errURL, encoding: .utf8), p.terminationStatus)
    }
}
