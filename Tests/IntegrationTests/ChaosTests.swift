import Foundation
import ReelForgeTestKit
import Testing

/// The CI-sized reliability drill: scripts/chaos with its own RabbitMQ and database server, two copies of each
/// worker, 20% transient failures per stage, kill -9 of random workers, one broker and one database restart, spans
/// exported over OTLP to a receiver stand-in and checked.
@Suite("Reliability drill (scripts/chaos, CI size)", .enabled(if: TestServices.available))
struct ChaosTests {
    @Test func nothingLostAndNoPaidStageRunTwice() async throws {
        let repo = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let python = repo.appendingPathComponent(".venv/bin/python")
        var env = ProcessInfo.processInfo.environment
        env["REELFORGE_BIN_DIR"] = TestServices.binDir.path
        let (data, status) = try await runProgram(
            FileManager.default.isExecutableFile(atPath: python.path) ? python.path : "/usr/bin/python3",
            [repo.appendingPathComponent("scripts/chaos").path, "--jobs", "24", "--kills", "6", "--copies", "2",
             "--duration", "5", "--size", "360x640", "--timeout", "600"], environment: env, withErrors: true)
        let output = String(decoding: data, as: UTF8.self)
        #expect(status == 0, "scripts/chaos failed:\n\(output.suffix(4000))")
        #expect(output.contains("jobs lost               0"))
        #expect(output.contains("provider calls != 1     0"))
        #expect(output.contains("secrets in logs, spans  0"))
        // Spans went to the receiver stand-in: every video one trace across the CLI and the three workers, every
        // stage span the child of the publish of its message.
        #expect(output.contains("videos split or untraced 0"))
        #expect(output.contains(" 0 wrong"))
    }
}
