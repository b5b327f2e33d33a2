import EmbeddedStore
import Foundation
import Logging
import ServiceLifecycle
import Shared

/// `reelforge serve` without a broker: the whole pipeline in this process on the embedded store of `reelforge
/// make` (`.reelforge/`), with the same StageRunner, retries, parking and checkpoints as the workers, behind the
/// same API. The queue lives in memory, the records on disk: at start every unfinished job is sent again to the
/// stage after its checkpoint, and every failed one is parked again (what a restart of a worker fleet keeps in
/// RabbitMQ's queues).
public struct EmbeddedPipeline: Service, CustomStringConvertible {
    public let store: RecordJobStore
    public let artifacts: DirectoryArtifactStore
    public let queue: MemoryWorkQueue
    public let runner: StageRunner
    public let operations: Operations
    let lock: HomeLock
    let concurrency: Int
    let logger: Logger

    public var description: String { "EmbeddedPipeline" }

    /// Opens (and locks: one process a home) the embedded store in `home`; `config` holds all four executors.
    public init(home: URL, config: ReelForgeConfig, concurrency: Int = 2, logger: Logger, onEvent: @escaping @Sendable (RunnerEvent) -> Void = { _ in }) throws {
        precondition(Set(config.executors.map(\.stage)) == Set(Stage.allCases), "the embedded pipeline runs every stage")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        lock = try HomeLock(home.appendingPathComponent("lock"))
        store = try RecordJobStore.sqlite(path: home.appendingPathComponent("store.sqlite").path)
        artifacts = try DirectoryArtifactStore(root: home.appendingPathComponent("artifacts"))
        queue = MemoryWorkQueue()
        runner = StageRunner(queue: queue, store: store, artifacts: artifacts, executors: config.executors,
                             settings: config.runnerSettings(workerID: "serve-\(getpid())", providerStates: MemoryProviderStates(), logger: logger),
                             logger: logger, onEvent: onEvent)
        operations = Operations(queue: queue, store: store, artifacts: artifacts, maxRetries: config.retry.maxRetries)
        self.concurrency = concurrency
        self.logger = logger
    }

    /// Sends unfinished jobs on again and parks failed ones again; returns how many of each.
    @discardableResult
    public func recover() async throws -> (resumed: Int, parked: Int) {
        var resumed = 0, parked = 0
        var cursor: IdeaQuery.Cursor?
        while true {
            let page = try await store.ideas(IdeaQuery(after: cursor, limit: 500))
            for idea in page {
                cursor = IdeaQuery.Cursor(createdAt: idea.createdAt, id: idea.id)
                guard let job = try await store.jobs(ideaID: idea.id).last else { continue }
                // This process holds the home lock: a lease in the store is a stopped run's.
                if let lease = job.lease { try await store.release(jobID: job.jobID, stage: lease.stage, owner: lease.owner) }
                switch job.status {
                case .queued, .processing:
                    guard let stage = ResumePlanner.nextStage(after: idea.lastSuccessfulStep) else {
                        try await store.markCompleted(jobID: job.jobID, ideaID: idea.id, at: Date())
                        continue
                    }
                    try await queue.publish(JobMessage(jobID: job.jobID, ideaID: idea.id, stage: stage, attempt: 1), to: stage)
                    resumed += 1
                case .failed:
                    let stage = job.lastError?.stage ?? ResumePlanner.nextStage(after: idea.lastSuccessfulStep) ?? .video
                    let (body, headers) = JobMessageCodec().encode(JobMessage(jobID: job.jobID, ideaID: idea.id, stage: stage, attempt: 1))
                    try await queue.park(body: body, headers: headers.merging([MessageHeader.parkedAt: Timestamp.iso(job.lastError?.at ?? job.updatedAt)]) { $1 },
                                         stage: stage, reasonKind: job.lastError?.kind ?? "failed", reason: job.lastError?.message ?? "failed")
                    parked += 1
                case .completed, .cancelled:
                    continue
                }
            }
            if page.count < 500 { break }
        }
        if resumed + parked > 0 { logger.info("embedded store: \(resumed) unfinished job(s) sent on, \(parked) failed job(s) parked again") }
        return (resumed, parked)
    }

    public func run() async throws {
        defer { lock.release() }
        try await recover()
        try await cancelWhenGracefulShutdown {
            try await runner.serve(stages: Stage.allCases, concurrency: concurrency)
        }
    }
}
