import Foundation
import Logging
import ReelForgeTestKit
import Shared
import Synchronization
import Testing

/// A stage run past its wall-clock limit is stopped, counted as a transient failure and retried; a result it
/// hands back late is dropped, never recorded.
@Suite("Stage timeouts")
struct StageTimeoutTests {
    /// An audio stage whose first run hangs in a wait that ignores cancellation (as a stuck C call would) and
    /// returns a result only after 6 s; later runs are quick.
    final class HangingOnce: StageExecutor {
        let stage = Stage.audio
        let runs = Mutex(0)
        let inner = CountingExecutor(.audio)
        func run(_ input: StageInput, logger: Logger) async throws -> StageOutput {
            let n = runs.withLock { $0 += 1; return $0 }
            if n == 1 {
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    Thread.detachNewThread { Thread.sleep(forTimeInterval: 6); c.resume() }
                }
            }
            return try await inner.run(input, logger: logger)
        }
    }

    @Test func aStageThatHangsPastItsLimitIsRetriedAndItsLateResultIsNotRecorded() async throws {
        let queue = MemoryWorkQueue(), store = RecordJobStore.memory()
        let artifacts = try DirectoryArtifactStore(root: temporaryDirectory("timeout-artifacts"))
        let audio = HangingOnce()
        let limits = try StageTimeouts(parsing: "audio=2")
        #expect(limits[.audio] == .seconds(2) && limits[.video] == StageTimeouts.defaults[.video])
        let runner = StageRunner(queue: queue, store: store, artifacts: artifacts,
                                 executors: [CountingExecutor(.script), CountingExecutor(.adapt), audio, CountingExecutor(.video)],
                                 settings: RunnerSettings(workerID: "t", retry: RetryPolicy(delays: [.milliseconds(100)], maxRetries: 4, jitter: 0, jitterBuckets: 1),
                                                          workRoot: temporaryDirectory("timeout-work"), stageTimeouts: limits),
                                 logger: testLogger())
        let serving = Task { try await runner.serve(stages: Stage.allCases, concurrency: 2) }
        defer { serving.cancel() }
        let id = try await Operations(queue: queue, store: store, maxRetries: 4).submit(idea: "why the sky is blue", seconds: 10).ideaID
        #expect(try await eventually(timeout: .seconds(60)) { try await store.idea(id)?.status == .completed })
        let idea = try #require(try await store.idea(id))
        let job = try #require(try await store.jobs(ideaID: id).last)
        // The hung run counted and failed as transient (past its limit), then a later attempt made it (the second,
        // unless a loaded machine made that one slow too).
        let attempt = try #require(job.attempts[.audio])
        #expect(attempt >= 2 && idea.errors.count == attempt - 1, "\(idea.errors)")
        #expect(idea.errors.first?.kind == "transient" && idea.errors.first?.message.contains("time limit") == true, "\(idea.errors)")
        // The first run's late result was dropped: one audio result in the ledger, of the last attempt.
        try await Task.sleep(for: .seconds(6))
        let after = try #require(try await store.idea(id))
        #expect(after.costs.filter { $0.stage == .audio }.map(\.attempt) == [attempt])
        #expect(after.artifacts[.audio]?.attempt == attempt)
        #expect(throws: ConfigError.self) { try StageTimeouts(parsing: "audio=0") }
        #expect(throws: ConfigError.self) { try StageTimeouts(parsing: "render=10") }
    }
}
