import Foundation
import Logging

/// Settings of the StageRunner, shared by every worker and the local mode.
public struct RunnerSettings: Sendable {
    public var workerID: String
    public var retry: RetryPolicy
    public var failpoints: Failpoints
    public var leaseDuration: Duration
    /// How often a delivery may be put back while another worker holds the stage, before it is parked.
    public var maxLeaseWaits: Int
    /// Deliveries of one attempt lost with their worker (crashes) before the job is parked as a crash loop.
    public var crashLimit: Int
    public var workRoot: URL
    /// Longest pause between two tries of a store or broker call that failed.
    public var infraBackoffCap: Duration

    public init(workerID: String, retry: RetryPolicy = RetryPolicy(), failpoints: Failpoints = .none,
                leaseDuration: Duration = .seconds(60), maxLeaseWaits: Int = 1000, crashLimit: Int = 10,
                workRoot: URL = FileManager.default.temporaryDirectory.appendingPathComponent("reelforge"),
                infraBackoffCap: Duration = .seconds(30)) {
        self.workerID = workerID; self.retry = retry; self.failpoints = failpoints
        self.leaseDuration = leaseDuration; self.maxLeaseWaits = maxLeaseWaits; self.crashLimit = crashLimit
        self.workRoot = workRoot
        self.infraBackoffCap = infraBackoffCap
    }
}

/// What the runner did with a delivery; for progress displays, metrics and tests.
public enum RunnerEvent: Sendable, Hashable {
    case started(jobID: String, stage: Stage, attempt: Int)
    case succeeded(jobID: String, stage: Stage, attempt: Int, seconds: Double)
    case skipped(jobID: String, stage: Stage)
    case retryScheduled(jobID: String, stage: Stage, attempt: Int, delay: Duration, reason: String)
    case parked(jobID: String?, stage: Stage, kind: String, reason: String)
    case completed(jobID: String, ideaID: String)
    /// Provider spend that reached the ledger with a checkpoint, or (`saved`) a stored result reused instead of paying again.
    case credits(stage: Stage, usd: Double, saved: Bool)
    case leaseHeld(jobID: String, stage: Stage)
    case progress(jobID: String, stage: Stage, fraction: Double, detail: String)
}

/// Thrown by the crash failpoint when the runner is told to simulate a crash instead of exiting.
public struct SimulatedCrash: Error, Sendable {
    public init() {}
}

/// The one loop every worker and the local mode share: decode, plan, claim, run, checkpoint, forward, ack.
/// Retry, resume and parking live here and nowhere else.
public final class StageRunner: Sendable {
    public let queue: any WorkQueue
    public let store: any JobStore
    public let artifacts: any ArtifactStore
    public let executors: [Stage: any StageExecutor]
    public let settings: RunnerSettings
    public let logger: Logger
    let codec = JobMessageCodec()
    let onEvent: @Sendable (RunnerEvent) -> Void
    /// What the crash failpoint does: by default the process exits at once (as `kill -9` would).
    let crash: @Sendable () async throws -> Void

    public init(queue: any WorkQueue, store: any JobStore, artifacts: any ArtifactStore,
                executors: [any StageExecutor], settings: RunnerSettings, logger: Logger,
                onEvent: @escaping @Sendable (RunnerEvent) -> Void = { _ in },
                crash: @escaping @Sendable () async throws -> Void = { Foundation.exit(86) }) {
        self.queue = queue; self.store = store; self.artifacts = artifacts
        self.executors = Dictionary(executors.map { ($0.stage, $0) }, uniquingKeysWith: { a, _ in a })
        self.settings = settings; self.logger = logger; self.onEvent = onEvent; self.crash = crash
    }

    // MARK: Serving

    /// Consumes the queues of `stages` with `concurrency` deliveries in flight until `stop` is cancelled
    /// (the task running `serve` is cancelled); then stops receiving and lets in-flight work finish.
    public func serve(stages: [Stage], concurrency: Int) async throws {
        let source = try await queue.consume(stages: stages, prefetch: concurrency)
        try await withTaskCancellationHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                var inFlight = 0
                while true {
                    if inFlight >= max(1, concurrency) { try await group.next(); inFlight -= 1 }
                    guard let delivery = try await source.next() else { break }
                    inFlight += 1
                    // In-flight deliveries finish even when serving is cancelled: they run unstructured.
                    group.addTask { await Task.detached { await self.handle(delivery, from: source) }.value }
                }
                try await group.waitForAll()
            }
        } onCancel: {
            Task { await source.stop() }
        }
    }

    // MARK: One delivery

    /// Handles one delivery to the end: it is acknowledged only once its outcome (next stage enqueued, retry
    /// scheduled, parked) is durable. Store and broker failures are retried in place; never throws.
    public func handle(_ delivery: Delivery, from source: any DeliverySource) async {
        var log = logger
        log[metadataKey: "stage"] = "\(delivery.queueStage)"
        let message: JobMessage
        do {
            message = try codec.decode(body: delivery.body, headers: delivery.headers)
        } catch {
            log.warning("parking undecodable message: \(error.description)")
            await parkAndAck(delivery, source: source, stage: delivery.queueStage, jobID: nil, ideaID: nil,
                             kind: "poison", reason: error.description, log: log)
            return
        }
        log[metadataKey: "job_id"] = "\(message.jobID)"
        log[metadataKey: "idea_id"] = "\(message.ideaID)"
        if message.stage != delivery.queueStage {
            log.warning("parking message: it names stage \(message.stage) but came from the \(delivery.queueStage) queue")
            await parkAndAck(delivery, source: source, stage: delivery.queueStage, jobID: message.jobID, ideaID: nil,
                             kind: "poison", reason: "message names stage \(message.stage) but came from the \(delivery.queueStage) queue", log: log)
            return
        }
        do {
            try await process(message, delivery: delivery, source: source, log: log)
        } catch is CancellationError {
            log.notice("stopping: returning the delivery to the queue")
            await source.abandon(delivery)
        } catch is SimulatedCrash {
            log.notice("simulated crash: the delivery goes back unacknowledged")
            await source.abandon(delivery)
        } catch {
            log.error("giving the delivery back after an unexpected error: \(Redactor.shared.redact("\(error)"))")
            await source.abandon(delivery)
        }
    }

    private func process(_ message: JobMessage, delivery: Delivery, source: any DeliverySource, log: Logger) async throws {
        var log = log
        guard let loaded = try await loadOrCreate(message, log: log) else {
            await parkAndAck(delivery, source: source, stage: message.stage, jobID: message.jobID, ideaID: message.ideaID,
                             kind: "poison", reason: "job \(message.jobID) / idea \(message.ideaID) does not exist", log: log)
            return
        }
        var (job, idea) = loaded
        let jobID = job.jobID, ideaID = idea.id
        if job.status == .failed {
            log.notice("ignoring a message for failed job \(jobID) (use 'reelforge dlq replay' or 'reelforge retry')")
            try await ackOrDrop(delivery, source: source, log: log)
            return
        }

        switch ResumePlanner.decide(messageStage: message.stage, checkpoint: idea.lastSuccessfulStep) {
        case .alreadyDone(let stage, let next):
            onEvent(.skipped(jobID: jobID, stage: stage))
            guard let next else {
                log.info("skipping \(stage) (already done): video already generated, job complete")
                if job.status != .completed {
                    try await infra(log) { try await self.store.markCompleted(jobID: jobID, ideaID: ideaID, at: Date()) }
                    onEvent(.completed(jobID: jobID, ideaID: ideaID))
                }
                try await ackOrDrop(delivery, source: source, log: log)
                return
            }
            if job.dispatched.contains(next) {
                log.info("skipping \(stage) (already done); \(next) is already enqueued")
            } else {
                log.info("skipping \(stage) (already done); \(ResumePlanner.describe(checkpoint: idea.lastSuccessfulStep))")
                try await forward(job: job, to: next, log: log)
            }
            try await ackOrDrop(delivery, source: source, log: log)
            return
        case .reroute(let needed):
            log.notice("the message asks for \(message.stage) but \(ResumePlanner.describe(checkpoint: idea.lastSuccessfulStep)): sending the job to \(needed)")
            try await forward(job: job, to: needed, log: log, force: true)
            try await ackOrDrop(delivery, source: source, log: log)
            return
        case .run:
            break
        }

        let stage = message.stage
        log[metadataKey: "attempt"] = "\(message.attempt)"
        // Deliveries of this attempt that a dead worker took with it, including those before lease waits.
        let lost = message.redeliveries + delivery.deliveryCount
        if lost >= settings.crashLimit {
            let reason = "\(stage) was started \(lost) times by workers that stopped before finishing it (crash loop)"
            log.error("parking job: \(reason)")
            let entry = ErrorEntry(stage: stage, kind: "crash_loop", message: reason, attempt: message.attempt, at: Date())
            try await infra(log) {
                try await self.store.recordFailure(jobID: jobID, ideaID: ideaID, entry, owner: self.settings.workerID, final: true, retrying: false)
            }
            await parkAndAck(delivery, source: source, stage: stage, jobID: jobID, ideaID: ideaID, kind: "crash_loop", reason: reason, log: log)
            return
        }
        if idea.lastSuccessfulStep != nil {
            let skipped = ResumePlanner.skipped(checkpoint: idea.lastSuccessfulStep).map(\.rawValue).joined(separator: ", ")
            log.info("\(ResumePlanner.describe(checkpoint: idea.lastSuccessfulStep)) (skipping \(skipped): already done)")
        }

        // Claim the stage with a lease.
        let claimed = try await infra(log) {
            try await self.store.claim(jobID: jobID, stage: stage, owner: self.settings.workerID,
                                       until: Date().addingTimeInterval(self.settings.leaseDuration.seconds), now: Date())
        }
        switch claimed {
        case .missing:
            await parkAndAck(delivery, source: source, stage: stage, jobID: jobID, ideaID: ideaID,
                             kind: "poison", reason: "job \(jobID) disappeared", log: log)
            return
        case .held(let lease):
            onEvent(.leaseHeld(jobID: jobID, stage: stage))
            if message.leaseWaits >= settings.maxLeaseWaits {
                await parkAndAck(delivery, source: source, stage: stage, jobID: jobID, ideaID: ideaID, kind: "lease",
                                 reason: "stage \(stage) stayed claimed by \(lease.owner) through \(message.leaseWaits) waits", log: log)
                return
            }
            // Another delivery of this job is being worked on (or its worker died and the lease will run out):
            // come back after the shortest delay rather than run the stage twice at once.
            var waited = message
            waited.leaseWaits += 1
            waited.redeliveries = lost
            let later = waited
            let delay = settings.retry.allDelays.first!
            log.info("stage \(stage) is claimed by \(lease.owner) until \(lease.expiresAt); checking again in \(delay.compact)")
            try await infra(log) { try await self.queue.publishDelayed(later, stage: stage, delay: delay) }
            try await ackOrDrop(delivery, source: source, log: log)
            return
        case .claimed(let j):
            job = j
        }

        // Reload the idea under the lease: another worker may have finished the stage meanwhile.
        if let fresh = try await infra(log, { try await self.store.idea(ideaID) }) { idea = fresh }
        if idea.isDone(stage) {
            try await infra(log) { try await self.store.release(jobID: jobID, stage: stage, owner: self.settings.workerID) }
            log.info("skipping \(stage) (already done by another delivery)")
            try await ackOrDrop(delivery, source: source, log: log)
            return
        }

        log.info("running \(stage), attempt \(message.attempt) (stage attempts so far: \(job.attempts[stage] ?? 0))")
        onEvent(.started(jobID: jobID, stage: stage, attempt: message.attempt))
        let started = ContinuousClock.now
        let effect = settings.failpoints.effect(stage: stage, attempt: message.attempt)
        do {
            if case .fail(let f) = effect { throw f }
            guard let executor = executors[stage] else {
                throw StageFailure.permanent("this worker has no executor for stage \(stage)")
            }
            let dir = settings.workRoot.appendingPathComponent("\(jobID)-\(stage.rawValue)-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let result: StagedResult
            if let staged = try await stagedResult(ideaID: ideaID, stage: stage, dir: dir, log: log) {
                // An earlier run got the provider's result and stored it, then stopped before its checkpoint.
                log.notice("reusing the result an earlier run of \(stage) stored before it stopped: the provider is not called again")
                result = staged
                onEvent(.credits(stage: stage, usd: staged.costs.reduce(0) { $0 + $1.costUSD }, saved: true))
            } else {
                let output = try await runLeased(executor, idea: idea, job: job, attempt: message.attempt, dir: dir, log: log)
                var refs: [String: ArtifactRef] = [:]
                for (name, file) in output.files.sorted(by: { $0.key < $1.key }) {
                    let id = SafeName.artifactID(ideaID: ideaID, stage: stage, name: name)
                    refs[name] = try await infra(log) {
                        try await self.artifacts.put(id: id, name: name, contentType: file.contentType, from: file.url)
                    }
                }
                result = StagedResult(artifact: StageArtifact(inline: output.inline, files: refs, attempt: message.attempt, producedAt: Date()),
                                      costs: output.costs)
                try await storeStagedResult(result, ideaID: ideaID, stage: stage, dir: dir, log: log)
            }
            if effect == .crash {
                log.critical("failpoint \(stage)=crash: exiting in the middle of the stage, before its checkpoint")
                try await crash()
            }
            let write = CheckpointWrite(jobID: jobID, ideaID: ideaID, stage: stage, artifact: result.artifact,
                                        costs: result.costs, owner: settings.workerID, at: Date())
            let advanced = try await infra(log) { try await self.store.checkpoint(write) }
            let seconds = (ContinuousClock.now - started).seconds
            if advanced {
                log.info("\(stage.checkpoint) recorded (\(String(format: "%.2f", seconds)) s)")
                onEvent(.credits(stage: stage, usd: result.costs.reduce(0) { $0 + $1.costUSD }, saved: false))
            } else {
                log.warning("\(stage) was already checkpointed by another run; keeping the first result")
            }
            onEvent(.succeeded(jobID: jobID, stage: stage, attempt: message.attempt, seconds: seconds))
        } catch let failure as StageFailure {
            try await fail(failure, message: message, delivery: delivery, source: source, job: job, idea: idea, log: log)
            return
        } catch is CancellationError {
            try? await store.release(jobID: jobID, stage: stage, owner: settings.workerID)
            throw CancellationError()
        } catch is SimulatedCrash {
            throw SimulatedCrash()
        } catch let error as LeaseLost {
            log.warning("\(error)")
            try await ackOrDrop(delivery, source: source, log: log)
            return
        } catch {
            let failure = StageFailure.transient("\(stage) failed: \(error)")
            try await fail(failure, message: message, delivery: delivery, source: source, job: job, idea: idea, log: log)
            return
        }

        if let next = stage.next {
            try await forward(job: job, to: next, log: log, force: true)
        } else {
            try await infra(log) { try await self.store.markCompleted(jobID: jobID, ideaID: ideaID, at: Date()) }
            log.info("job complete: video_generated")
            onEvent(.completed(jobID: jobID, ideaID: ideaID))
        }
        try await ackOrDrop(delivery, source: source, log: log)
    }

    // MARK: Steps

    /// The result of a paid stage is stored (files, then this record) before the checkpoint, so that a run that
    /// dies in between is finished from it instead of paying the provider again.
    private func storeStagedResult(_ result: StagedResult, ideaID: String, stage: Stage, dir: URL, log: Logger) async throws {
        let file = dir.appendingPathComponent(StagedResult.name)
        try JSONEncoder().encode(result).write(to: file)
        _ = try await infra(log) {
            try await self.artifacts.put(id: StagedResult.id(ideaID: ideaID, stage: stage), name: StagedResult.name,
                                         contentType: "application/json", from: file)
        }
    }

    private func stagedResult(ideaID: String, stage: Stage, dir: URL, log: Logger) async throws -> StagedResult? {
        let file = dir.appendingPathComponent(StagedResult.name)
        do {
            try await infra(log) { try await self.artifacts.get(id: StagedResult.id(ideaID: ideaID, stage: stage), to: file) }
        } catch StoreError.notFound {
            return nil
        }
        return try? JSONDecoder().decode(StagedResult.self, from: Data(contentsOf: file))
    }

    private func loadOrCreate(_ message: JobMessage, log: Logger) async throws -> (JobRecord, IdeaRecord)? {
        if let job = try await infra(log, { try await self.store.job(message.jobID) }) {
            guard job.ideaID == message.ideaID,
                  let idea = try await infra(log, { try await self.store.idea(job.ideaID) }) else { return nil }
            return (job, idea)
        }
        guard let new = message.newIdea else { return nil }
        let now = Date()
        let idea = {
            var i = IdeaRecord(id: message.ideaID, idea: new.text, language: new.language, targetSeconds: new.targetSeconds, now: now)
            i.background = new.background
            return i
        }()
        let job = JobRecord(jobID: message.jobID, ideaID: message.ideaID, startFrom: message.stage,
                            maxRetries: settings.retry.maxRetries, now: now)
        do {
            try await infra(log) { try await self.store.create(idea: idea, job: job) }
            log.info("created idea \(idea.id) and job \(job.jobID) from the message")
        } catch StoreError.duplicate {
            // Created meanwhile by a duplicate delivery: load it.
        }
        guard let j = try await store.job(message.jobID), let i = try await store.idea(j.ideaID) else { return nil }
        return (j, i)
    }

    private struct LeaseLost: Error, CustomStringConvertible {
        var stage: Stage
        var description: String { "lost the lease on \(stage) to another worker: abandoning this run" }
    }

    /// Runs the executor while renewing the lease; stops it if the lease is lost.
    private func runLeased(_ executor: any StageExecutor, idea: IdeaRecord, job: JobRecord, attempt: Int, dir: URL, log: Logger) async throws -> StageOutput {
        let onEvent = self.onEvent
        let stage = executor.stage, jobID = job.jobID
        let input = StageInput(idea: idea, jobID: jobID, attempt: attempt, workDir: dir, artifacts: artifacts,
                               progress: { f, detail in onEvent(.progress(jobID: jobID, stage: stage, fraction: f, detail: detail)) })
        let renewEvery = settings.leaseDuration / 3
        return try await withThrowingTaskGroup(of: StageOutput?.self) { group in
            group.addTask { try await executor.run(input, logger: log) }
            group.addTask {
                while true {
                    try await Task.sleep(for: renewEvery)
                    let until = Date().addingTimeInterval(self.settings.leaseDuration.seconds)
                    do {
                        if try await !self.store.renew(jobID: job.jobID, stage: executor.stage, owner: self.settings.workerID, until: until) {
                            throw LeaseLost(stage: executor.stage)
                        }
                    } catch let e as LeaseLost { throw e } catch is CancellationError { throw CancellationError() } catch {
                        log.warning("could not renew the lease (will try again): \(Redactor.shared.redact("\(error)"))")
                    }
                }
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let output = result { return output }
            }
            throw CancellationError()
        }
    }

    /// Publishes the job's next message to `stage` (attempt 1) and notes it as dispatched.
    private func forward(job: JobRecord, to stage: Stage, log: Logger, force: Bool = false) async throws {
        if !force && job.dispatched.contains(stage) { return }
        let message = JobMessage(jobID: job.jobID, ideaID: job.ideaID, stage: stage, attempt: 1)
        try await infra(log) { try await self.queue.publish(message, to: stage) }
        try await infra(log) { try await self.store.markDispatched(jobID: job.jobID, stage: stage) }
        log.info("enqueued \(stage)")
    }

    private func fail(_ failure: StageFailure, message: JobMessage, delivery: Delivery, source: any DeliverySource,
                      job: JobRecord, idea: IdeaRecord, log: Logger) async throws {
        let stage = message.stage
        let text = Redactor.shared.redact(failure.message)
        switch settings.retry.decide(failure, attempt: message.attempt) {
        case .retry(let nextAttempt, let delay):
            let entry = ErrorEntry(stage: stage, kind: failure.kind.label, message: text, attempt: message.attempt, at: Date())
            try await infra(log) {
                try await self.store.recordFailure(jobID: job.jobID, ideaID: idea.id, entry, owner: self.settings.workerID, final: false, retrying: true)
            }
            var next = message
            next.attempt = nextAttempt
            next.leaseWaits = 0
            next.newIdea = nil
            let retry = next
            try await infra(log) { try await self.queue.publishDelayed(retry, stage: stage, delay: delay) }
            log.warning("\(stage) attempt \(message.attempt) failed (\(failure.kind.label)): \(text); retry \(nextAttempt - 1) of \(settings.retry.maxRetries) in \(delay.compact)")
            onEvent(.retryScheduled(jobID: job.jobID, stage: stage, attempt: nextAttempt, delay: delay, reason: text))
            try await ackOrDrop(delivery, source: source, log: log)
        case .park(let kind):
            let reason = kind == "exhausted"
                ? "\(stage) failed \(message.attempt) times (retry budget of \(settings.retry.maxRetries) spent); last error: \(text)"
                : "\(stage) failed permanently: \(text)"
            let entry = ErrorEntry(stage: stage, kind: kind, message: reason, attempt: message.attempt, at: Date())
            try await infra(log) {
                try await self.store.recordFailure(jobID: job.jobID, ideaID: idea.id, entry, owner: self.settings.workerID, final: true, retrying: false)
            }
            log.error("parking job: \(reason)")
            await parkAndAck(delivery, source: source, stage: stage, jobID: job.jobID, ideaID: idea.id, kind: kind, reason: reason, log: log)
        }
    }

    /// Publishes the delivery as it came to the parking queue of `stage` with the reason, then acknowledges it.
    private func parkAndAck(_ delivery: Delivery, source: any DeliverySource, stage: Stage, jobID: String?, ideaID: String?,
                            kind: String, reason: String, log: Logger) async {
        var h = delivery.headers.filter { !$0.key.hasPrefix("x-death") && $0.key != "CC" && $0.key != "BCC" }
        h[MessageHeader.stage] = stage.rawValue
        h[MessageHeader.parkedAt] = Timestamp.iso(Date())
        h[MessageHeader.parkedBy] = settings.workerID
        // Unreadable bodies keep the producer's job-id header, so that `dlq show/purge JOB` still finds them.
        if let jobID { h[MessageHeader.jobID] = jobID }
        let headers = h
        let reason = Redactor.shared.redact(reason)
        do {
            try await infra(log) {
                try await self.queue.park(body: delivery.body, headers: headers, stage: stage, reasonKind: kind, reason: reason)
            }
            onEvent(.parked(jobID: jobID, stage: stage, kind: kind, reason: reason))
            try await ackOrDrop(delivery, source: source, log: log)
        } catch {
            await source.abandon(delivery)
        }
    }

    private func ackOrDrop(_ delivery: Delivery, source: any DeliverySource, log: Logger) async throws {
        do { try await source.ack(delivery) } catch QueueError.staleDelivery {
            log.notice("the connection that delivered this message closed; the broker will redeliver it and the checkpoint makes that harmless")
        }
    }

    /// Runs a store or broker call, retrying with capped exponential backoff and jitter while the store or broker
    /// is unavailable, until it succeeds or the task is cancelled. Any other error is thrown at once.
    @discardableResult
    func infra<T: Sendable>(_ log: Logger, _ body: @Sendable () async throws -> T) async throws -> T {
        var pause = 0.2
        var failures = 0
        while true {
            do { return try await body() } catch {
                switch error {
                case StoreError.backend, QueueError.connection, QueueError.nacked, QueueError.unroutable:
                    failures += 1
                    if failures == 1 || failures % 10 == 0 {
                        log.warning("broker or store unavailable, retrying: \(Redactor.shared.redact("\(error)"))")
                    }
                default:
                    throw error
                }
            }
            try Task.checkCancellation()
            let jittered = pause * Double.random(in: 0.7...1.3)
            try await Task.sleep(for: .milliseconds(Int64(jittered * 1000)))
            pause = min(pause * 2, settings.infraBackoffCap.seconds)
        }
    }
}

/// A stage's result waiting between the provider's answer and the checkpoint: what the checkpoint will
/// record, including the provider calls it paid for (they reach the cost ledger with the checkpoint, once).
public struct StagedResult: Codable, Sendable {
    public var artifact: StageArtifact
    public var costs: [CostEntry]
    public static let name = "result.json"
    public static func id(ideaID: String, stage: Stage) -> String { SafeName.artifactID(ideaID: ideaID, stage: stage, name: name) }
}
