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
    /// returns a result only after 3 s; later runs are quick.
    final class HangingOnce: StageExecutor {
        let stage = Stage.audio
        let runs = Mutex(0)
        let inner = CountingExecutor(.audio)
        func run(_ input: StageInput, logger: Logger) async throws -> StageOutput {
            let n = runs.withLock { $0 += 1; return $0 }
            if n == 1 {
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    Thread.detachNewThread { Thread.sleep(forTimeInterval: 3); c.resume() }
                }
            }
            return try await inner.run(input, logger: logger)
        }
    }

    @Test func aStageThatHangsPastItsLimitIsRetriedAndItsLateResultIsNotRecorded() async throws {
        let queue = MemoryWorkQueue(), store = RecordJobStore.memory()
        let artifacts = try DirectoryArtifactStore(root: temporaryDirectory("timeout-artifacts"))
        let audio = HangingOnce()
        let limits = try StageTimeouts(parsing: "audio=1")
        #expect(limits[.audio] == .seconds(1) && limits[.video] == StageTimeouts.defaults[.video])
        let runner = StageRunner(queue: queue, store: store, artifacts: artifacts,
                                 executors: [CountingExecutor(.script), CountingExecutor(.adapt), audio, CountingExecutor(.video)],
                                 settings: RunnerSettings(workerID: "t", retry: RetryPolicy(delays: [.milliseconds(100)], maxRetries: 2, jitter: 0, jitterBuckets: 1),
                                                          workRoot: temporaryDirectory("timeout-work"), stageTimeouts: limits),
                                 logger: testLogger())
        let serving = Task { try await runner.serve(stages: Stage.allCases, concurrency: 2) }
        defer { serving.cancel() }
        let id = try await Operations(queue: queue, store: store, maxRetries: 2).submit(idea: "why the sky is blue", seconds: 10).ideaID
        #expect(try await eventually(timeout: .seconds(30)) { try await store.idea(id)?.status == .completed })
        let idea = try #require(try await store.idea(id))
        let job = try #require(try await store.jobs(ideaID: id).last)
        #expect(job.attempts[.audio] == 2, "the hung run counted, then a second one")
        #expect(idea.errors.count == 1 && idea.errors[0].kind == "transient" && idea.errors[0].message.contains("time limit"), "\(idea.errors)")
        // The first run's late result (after 3 s) was dropped: one audio result, of the second attempt, in the ledger.
        try await Task.sleep(for: .seconds(3))
        let after = try #require(try await store.idea(id))
        #expect(after.costs.filter { $0.stage == .audio }.map(\.attempt) == [2])
        #expect(after.artifacts[.audio]?.attempt == 2 && audio.inner.totalCalls == 2)
        #expect(throws: ConfigError.self) { try StageTimeouts(parsing: "audio=0") }
        #expect(throws: ConfigError.self) { try StageTimeouts(parsing: "render=10") }
    }
}
