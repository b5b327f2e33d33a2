import Foundation
import Shared
import Synchronization

/// Counts down; `take()` is true while some remain.
public final class Countdown: Sendable {
    private let left: Mutex<Int>
    public init(_ n: Int) { left = Mutex(n) }
    public func take() -> Bool { left.withLock { n in n -= 1; return n >= 0 } }
}

/// A StageRunner over any backends with counting executors, for the pipeline scenarios (resume, retry,
/// parking, crash, duplicates) that run the same way on the memory backends and on RabbitMQ with MongoDB.
public final class PipelineHarness: Sendable {
    public let queue: any WorkQueue
    public let store: any JobStore
    public let artifacts: any ArtifactStore
    public let executors = Stage.allCases.map { CountingExecutor($0) }
    public let events = EventLog()
    public let runner: StageRunner
    public let retry: RetryPolicy
    private let serving: Mutex<[Task<Void, Error>]> = Mutex([])

    public init(queue: any WorkQueue, store: any JobStore, artifacts: any ArtifactStore, failpoints: String = "",
                crashTimes: Int = 0, leaseSeconds: Int = 5, crashLimit: Int = 10, workerID: String = "worker-a",
                retry: RetryPolicy = RetryPolicy(delays: [.milliseconds(30), .milliseconds(60)], maxRetries: 3, jitter: 0, jitterBuckets: 1)) throws {
        self.queue = queue; self.store = store; self.artifacts = artifacts; self.retry = retry
        let crashes = Countdown(crashTimes)
        let log = events
        runner = StageRunner(
            queue: queue, store: store, artifacts: artifacts, executors: executors,
            settings: RunnerSettings(workerID: workerID, retry: retry, failpoints: try Failpoints(parsing: failpoints),
                                     leaseDuration: .seconds(Int64(leaseSeconds)), crashLimit: crashLimit, workRoot: temporaryDirectory("work"),
                                     infraBackoffCap: .milliseconds(500)),
            logger: testLogger(), onEvent: { log.record($0) },
            crash: { if crashes.take() { throw SimulatedCrash() } })
    }

    public func executor(_ s: Stage) -> CountingExecutor { executors[s.index] }
    public var operations: Operations { Operations(queue: queue, store: store, artifacts: artifacts, maxRetries: retry.maxRetries) }

    /// A second runner on the same backends, without failpoints (a fixed worker).
    public func cleanRunner(workerID: String = "worker-b") -> StageRunner {
        StageRunner(queue: queue, store: store, artifacts: artifacts, executors: executors,
                    settings: RunnerSettings(workerID: workerID, retry: retry, workRoot: temporaryDirectory("work")),
                    logger: testLogger())
    }

    public func start(concurrency: Int = 1, runner: StageRunner? = nil) {
        let r = runner ?? self.runner
        let t = Task { try await r.serve(stages: Stage.allCases, concurrency: concurrency) }
        serving.withLock { $0.append(t) }
    }

    public func stop() async {
        let tasks = serving.withLock { list in defer { list = [] }; return list }
        for t in tasks { t.cancel(); _ = await t.result }
    }

    /// Waits for the idea to reach `status`; returns the idea as it is then.
    public func wait(_ ideaID: String, _ status: JobStatus, timeout: Duration = .seconds(30)) async throws -> (reached: Bool, idea: IdeaRecord?) {
        let ok = try await eventually(timeout: timeout) { try await self.store.idea(ideaID)?.status == status }
        return (ok, try await store.idea(ideaID))
    }
}

/// One idea run through the whole pipeline on the memory backends, with `real` executors in place of the
/// counting ones, until it completes or fails (or `timeout` passes).
public struct PipelineRun: Sendable {
    public var idea: IdeaRecord
    public var job: JobRecord
    public var settled: Bool
    public var queue: MemoryWorkQueue
    public var artifacts: DirectoryArtifactStore

    public static func run(idea text: String, seconds: Int = 30, real: [any StageExecutor], retry: RetryPolicy,
                           events: EventLog = EventLog(), timeout: Duration = .seconds(120)) async throws -> PipelineRun {
        let queue = MemoryWorkQueue(), store = RecordJobStore.memory()
        let artifacts = try DirectoryArtifactStore(root: temporaryDirectory("artifacts"))
        let replaced = Set(real.map(\.stage))
        let executors = real + Stage.allCases.filter { !replaced.contains($0) }.map { CountingExecutor($0) as any StageExecutor }
        let runner = StageRunner(queue: queue, store: store, artifacts: artifacts, executors: executors,
                                 settings: RunnerSettings(workerID: "w", retry: retry, workRoot: temporaryDirectory("work")),
                                 logger: testLogger(), onEvent: { events.record($0) })
        let serving = Task { try await runner.serve(stages: Stage.allCases, concurrency: 1) }
        defer { serving.cancel() }
        let s = try await Operations(queue: queue, store: store, maxRetries: retry.maxRetries).submit(idea: text, seconds: seconds)
        let settled = try await eventually(timeout: timeout) {
            let status = try await store.idea(s.ideaID)?.status
            return status == .completed || status == .failed
        }
        guard let idea = try await store.idea(s.ideaID), let job = try await store.job(s.jobID) else {
            throw StoreError.notFound("the submitted job")
        }
        return PipelineRun(idea: idea, job: job, settled: settled, queue: queue, artifacts: artifacts)
    }
}
