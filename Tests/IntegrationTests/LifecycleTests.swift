import Foundation
import ReelForgeTestKit
import ServiceLifecycle
import Shared
import Testing
import WorkerRuntime

/// A worker's ServiceGroup run in-process (issue 13 item 1): graceful shutdown stops taking deliveries, lets the
/// one in flight finish within the grace period, or gives it back unacknowledged once the grace period is over.
@Suite("Worker lifecycle in-process")
struct LifecycleTests {
    let queue = MemoryWorkQueue()
    let store = RecordJobStore.memory()
    let events = EventLog()
    let readiness = Readiness(checks: [])

    /// A group of one consumer of the script queue with `executor`, as a worker builds it (no probes, no signals).
    func worker(_ executor: CountingExecutor, grace: Duration) throws -> ServiceGroup {
        let runner = StageRunner(queue: queue, store: store, artifacts: try DirectoryArtifactStore(root: temporaryDirectory("artifacts")),
                                 executors: [executor],
                                 settings: RunnerSettings(workerID: "worker-a", workRoot: temporaryDirectory("work")),
                                 logger: testLogger(), onEvent: { events.record($0) })
        let consumer = StageConsumer(runner: runner, stages: [.script], concurrency: 1, queueNames: "test.script",
                                     readiness: readiness, giveBackWait: .seconds(5), logger: testLogger())
        return WorkerMain.serviceGroup(consumer: consumer, probes: nil, grace: grace, signals: [], logger: testLogger())
    }

    func started() -> Bool { events.all.contains { if case .started = $0 { return true } else { return false } } }

    @Test func shutdownPastTheGracePeriodGivesTheDeliveryBack() async throws {
        let slow = CountingExecutor(.script, delay: .seconds(120))
        let group = try worker(slow, grace: .seconds(2))
        let running = Task { try await group.run() }
        let submitted = try await Operations(queue: queue, store: store, maxRetries: 3).submit(idea: "why clocks tick", seconds: 10)
        #expect(await eventually(timeout: .seconds(20)) { started() })
        #expect(await readiness.verdict() == .ready)

        let asked = ContinuousClock.now
        await group.triggerGracefulShutdown()
        #expect(await eventually(timeout: .seconds(1)) { await readiness.verdict() != .ready },
                "/readyz turns 503 at the shutdown request, not after the grace period")
        try await running.value
        let took = ContinuousClock.now - asked
        #expect(took < .seconds(10), "the group ended \(took) after the request (grace 2 s)")
        #expect(took >= .seconds(1), "the stage in flight was given its grace period first (ended after \(took))")

        // Not acknowledged: back in the script queue, nothing recorded, the stage never finished.
        #expect(try await queue.depths()["script"] == 1)
        #expect(slow.totalCalls == 0)
        #expect(try await store.idea(submitted.ideaID)?.lastSuccessfulStep == nil)
        #expect(!events.all.contains { if case .succeeded = $0 { return true } else { return false } })

        // Redelivered to the next worker, which finishes it.
        let fast = CountingExecutor(.script)
        let next = try worker(fast, grace: .seconds(2))
        let again = Task { try await next.run() }
        #expect(try await eventually(timeout: .seconds(20)) { try await store.idea(submitted.ideaID)?.lastSuccessfulStep == .scriptGenerated })
        #expect(fast.calls(for: submitted.ideaID) == 1)
        await next.triggerGracefulShutdown()
        try await again.value
    }

    @Test func aStageThatEndsWithinTheGracePeriodFinishes() async throws {
        let slowish = CountingExecutor(.script, delay: .seconds(2))
        let group = try worker(slowish, grace: .seconds(60))
        let running = Task { try await group.run() }
        let submitted = try await Operations(queue: queue, store: store, maxRetries: 3).submit(idea: "why bread rises", seconds: 10)
        #expect(await eventually(timeout: .seconds(20)) { started() })

        await group.triggerGracefulShutdown()
        try await running.value

        // Finished and acknowledged: checkpoint written, the next stage enqueued, nothing left in the script queue.
        #expect(slowish.calls(for: submitted.ideaID) == 1)
        #expect(try await store.idea(submitted.ideaID)?.lastSuccessfulStep == .scriptGenerated)
        let depths = try await queue.depths()
        #expect(depths["script"] == 0 && depths["adapt"] == 1, "\(depths)")
    }

    @Test func shutdownBeforeAnyDeliveryEndsAtOnce() async throws {
        let group = try worker(CountingExecutor(.script), grace: .seconds(60))
        let running = Task { try await group.run() }
        #expect(await eventually(timeout: .seconds(20)) { await readiness.verdict() == .ready })
        let asked = ContinuousClock.now
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(ContinuousClock.now - asked < .seconds(10), "an idle consumer does not wait for the grace period")
    }
}
