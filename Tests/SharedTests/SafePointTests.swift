import Foundation
import Logging
import ReelForgeTestKit
import Shared
import Synchronization
import Testing

/// A stage that works until stopped, looking at its safe point every 20 ms: in an async loop (speech pieces,
/// provider calls) or in a blocking loop on a thread of its own (the renderer's frame loop).
final class EndlessStage: StageExecutor {
    let stage = Stage.script
    let blocking: Bool
    let started = Mutex<Bool>(false)
    let stopped = Mutex<(at: ContinuousClock.Instant, error: String)?>(nil)

    init(blocking: Bool) { self.blocking = blocking }

    func run(_ input: StageInput, logger: Logger) async throws -> StageOutput {
        started.withLock { $0 = true }
        do {
            if blocking {
                let point = StageSafePoint.current
                try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, Error>) in
                    Thread {
                        do {
                            for _ in 0..<1500 { try point?.checkBlocking(); usleep(20_000) }
                            done.resume()
                        } catch { done.resume(throwing: error) }
                    }.start()
                }
            } else {
                for _ in 0..<1500 { try await input.checkpoint(); try await Task.sleep(for: .milliseconds(20)) }
            }
        } catch {
            stopped.withLock { $0 = (ContinuousClock.now, "\(error)") }
            throw error
        }
        return StageOutput(inline: ["text": "finished"])
    }
}

@Suite("Safe points of a stage run")
struct SafePointTests {
    @Test(arguments: [false, true])
    func aRunWhoseLeaseIsTakenStopsAtItsNextSafePoint(blocking: Bool) async throws {
        let queue = MemoryWorkQueue(), store = RecordJobStore.memory()
        let artifacts = try DirectoryArtifactStore(root: temporaryDirectory("artifacts"))
        let stage = EndlessStage(blocking: blocking)
        let runner = StageRunner(queue: queue, store: store, artifacts: artifacts, executors: [stage],
                                 settings: RunnerSettings(workerID: "worker-a", leaseDuration: .seconds(3), workRoot: temporaryDirectory("work")),
                                 logger: testLogger())
        let serving = Task { try await runner.serve(stages: [.script], concurrency: 1) }
        defer { serving.cancel() }
        let s = try await Operations(queue: queue, store: store, maxRetries: 3).submit(idea: "why clocks tick", seconds: 10)
        #expect(await eventually(timeout: .seconds(30)) { stage.started.withLock { $0 } })  // only waits for the start

        // Another worker takes the stage over (as after this one was stopped past its lease).
        try await store.release(jobID: s.jobID, stage: .script, owner: "worker-a")
        let now = Date()
        guard case .claimed = try await store.claim(jobID: s.jobID, stage: .script, owner: "thief", until: now + 60, now: now) else {
            Issue.record("the takeover must succeed"); return
        }
        let takenAt = ContinuousClock.now
        #expect(await eventually(timeout: .seconds(30)) { stage.stopped.withLock { $0 != nil } })
        let stop = try #require(stage.stopped.withLock { $0 })
        // Within a few renewal periods (1 s each), with room for a loaded machine; the endless stage would run 30 s.
        #expect(stop.at - takenAt < .seconds(10), "stopped \(stop.at - takenAt) after the takeover")
        #expect(stop.error.contains("lost the lease") || stop.error.contains("CancellationError"), "\(stop.error)")
        // Nothing of the abandoned run is recorded or stored.
        #expect(try await store.idea(s.ideaID)?.lastSuccessfulStep == nil)
        #expect(try await artifacts.list(ideaID: s.ideaID).isEmpty)
        #expect(try await store.idea(s.ideaID)?.leases[.script]?.owner == "thief")
    }
}
