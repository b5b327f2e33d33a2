import Foundation
import Logging
import Tracing

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
    /// How long one run of each stage may take by the wall clock.
    public var stageTimeouts: StageTimeouts
    /// Waits for a provider (shared limit, 429 pause, open circuit) one attempt may make before it is parked.
    public var maxProviderWaits: Int
    /// The fleet's shared provider limits, installed around every stage run (nil: calls are not governed).
    public var governor: ProviderGovernor?

    public init(workerID: String, retry: RetryPolicy = RetryPolicy(), failpoints: Failpoints = .none,
                leaseDuration: Duration = .seconds(60), maxLeaseWaits: Int = 1000, crashLimit: Int = 10,
                workRoot: URL = FileManager.default.temporaryDirectory.appendingPathComponent("reelforge"),
                infraBackoffCap: Duration = .seconds(30), stageTimeouts: StageTimeouts = .defaults, maxProviderWaits: Int = 2000,
                governor: ProviderGovernor? = nil) {
        self.workerID = workerID; self.retry = retry; self.failpoints = failpoints
        self.leaseDuration = leaseDuration; self.maxLeaseWaits = maxLeaseWaits; self.crashLimit = crashLimit
        self.workRoot = workRoot
        self.infraBackoffCap = infraBackoffCap
        self.stageTimeouts = stageTimeouts
        self.maxProviderWaits = maxProviderWaits
        self.governor = governor
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
    /// A message of a cancelled job arrived and was dropped.
    case cancelled(jobID: String, stage: Stage)
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
    /// The tracer of this runner's spans; nil: the one bootstrapped for the process (`InstrumentationSystem`).
    let tracer: (any Tracer)?

    /// Store, artifact and queue calls go through the tracing decorators: each is a child span of the stage span.
    public init(queue: any WorkQueue, store: any JobStore, artifacts: any ArtifactStore,
                executors: [any StageExecutor], settings: RunnerSettings, logger: Logger,
                onEvent: @escaping @Sendable (RunnerEvent) -> Void = { _ in },
                crash: @escaping @Sendable () async throws -> Void = { Foundation.exit(86) },
                tracer: (any Tracer)? = nil) {
        self.queue = TracingWorkQueue(queue); self.store = TracingJobStore(store); self.artifacts = TracingArtifactStore(artifacts)
        self.executors = Dictionary(executors.map { ($0.stage, $0) }, uniquingKeysWith: { a, _ in a })
        self.settings = settings; self.logger = logger; self.crash = crash; self.tracer = tracer
        self.onEvent = { event in StageSpan.note(event); onEvent(event) }
    }

    // MARK: Serving

    /// Consumes the queues of `stages` with `concurrency` deliveries in flight until the task running `serve` is
    /// cancelled; then stops receiving and lets in-flight work finish.
    public func serve(stages: [Stage], concurrency: Int) async throws {
        let source = try await queue.consume(stages: stages, prefetch: concurrency)
        try await withTaskCancellationHandler {
            try await consume(source, concurrency: concurrency, finishInFlightWhenCancelled: true)
        } onCancel: {
            Task { await source.stop() }
        }
    }

    /// Hands the deliveries of `source` to `handle`, `concurrency` at once, until the source ends (after its
    /// `stop()`), then waits for those in flight. Cancelling the calling task cancels the in-flight ones too: each
    /// gives its delivery back unacknowledged (see `handle`). With `finishInFlightWhenCancelled` they run
    /// unstructured instead and finish.
    public func consume(_ source: any DeliverySource, concurrency: Int, finishInFlightWhenCancelled: Bool = false) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var inFlight = 0
            while true {
                if inFlight >= max(1, concurrency) { try await group.next(); inFlight -= 1 }
                guard let delivery = try await source.next() else { break }
                inFlight += 1
                if finishInFlightWhenCancelled {
                    group.addTask { await Task.detached { await self.handle(delivery, from: source) }.value }
                } else {
                    group.addTask { await self.handle(delivery, from: source) }
                }
            }
            try await group.waitForAll()
        }
    }

    // MARK: One delivery

    /// One delivery being handled: what every step that answers it needs.
    struct DeliveryContext: Sendable {
        let delivery: Delivery
        let source: any DeliverySource
        var log: Logger
    }

    /// Handles one delivery to the end: it is acknowledged only once its outcome (next stage enqueued, retry
    /// scheduled, parked) is durable. Store and broker failures are retried in place; never throws.
    /// It runs in a `stage <name>` span, the child of the span that published the message (its `traceparent`).
    public func handle(_ delivery: Delivery, from source: any DeliverySource) async {
        guard let tracer else { return await StageSpan.around(delivery) { await self.handleDelivery(delivery, from: source) } }
        await withTracer(tracer) { await StageSpan.around(delivery) { await self.handleDelivery(delivery, from: source) } }
    }

    private func handleDelivery(_ delivery: Delivery, from source: any DeliverySource) async {
        var d = DeliveryContext(delivery: delivery, source: source, log: logger)
        d.log.addTraceIDs()
        d.log[metadataKey: "stage"] = "\(delivery.queueStage)"
        let message: JobMessage
        do {
            message = try codec.decode(body: delivery.body, headers: delivery.headers)
        } catch {
            d.log.warning("parking undecodable message: \(error.description)")
            await park(d, stage: delivery.queueStage, jobID: nil, kind: "poison", reason: error.description)
            return
        }
        d.log[metadataKey: "job_id"] = "\(message.jobID)"
        d.log[metadataKey: "idea_id"] = "\(message.ideaID)"
        StageSpan.describe(message)
        if message.stage != delivery.queueStage {
            let reason = "message names stage \(message.stage) but came from the \(delivery.queueStage) queue"
            d.log.warning("parking message: \(reason)")
            await park(d, stage: delivery.queueStage, jobID: message.jobID, kind: "poison", reason: reason)
            return
        }
        do {
            if message.priority != delivery.queuePriority {
                // Back from a delay queue (they return to the stage's normal queue) or sent by a producer to the
                // wrong class: it goes to its class's queue, so that it waits there and not here.
                try await infra(d.log) { try await self.queue.publish(message, to: message.stage) }
                d.log.debug("moved to the \(message.priority) queue of \(message.stage)")
                return try await ack(d)
            }
            try await process(message, d)
        } catch is CancellationError {
            d.log.notice("stopping: returning the delivery to the queue")
            StageSpan.outcome("abandoned")
            await source.abandon(delivery)
        } catch is SimulatedCrash {
            d.log.notice("simulated crash: the delivery goes back unacknowledged")
            StageSpan.outcome("abandoned")
            await source.abandon(delivery)
        } catch {
            StageSpan.outcome("abandoned")
            d.log.error("giving the delivery back after an unexpected error: \(Redactor.shared.redact("\(error)"))")
            await source.abandon(delivery)
        }
    }

    /// Decides from the stored job and idea, claims the stage's lease and runs it, or carries out what was decided.
    private func process(_ message: JobMessage, _ d: DeliveryContext) async throws {
        var d = d
        let loaded = try await loadOrCreate(message, log: d.log)
        let outcome = StageDecision.received(message, deliveryCount: d.delivery.deliveryCount, job: loaded?.0, idea: loaded?.1,
                                             settings: settings, now: Date())
        guard outcome == .claim, let (job, idea) = loaded else { return try await carryOut(outcome, message: message, job: loaded?.0, d) }
        let stage = message.stage
        d.log[metadataKey: "attempt"] = "\(message.attempt)"
        if idea.lastSuccessfulStep != nil {
            let skipped = ResumePlanner.skipped(checkpoint: idea.lastSuccessfulStep).map(\.rawValue).joined(separator: ", ")
            d.log.info("\(ResumePlanner.describe(checkpoint: idea.lastSuccessfulStep)) (skipping \(skipped): already done)")
        }
        let claim = try await infra(d.log) {
            try await self.store.claim(jobID: job.jobID, stage: stage, owner: self.settings.workerID,
                                       until: Date().addingTimeInterval(self.settings.leaseDuration.seconds), now: Date())
        }
        guard case .claimed(let claimed) = claim else {
            if case .held = claim { onEvent(.leaseHeld(jobID: job.jobID, stage: stage)) }
            let next = StageDecision.notClaimed(claim, message: message, deliveryCount: d.delivery.deliveryCount, settings: settings)
            return try await carryOut(next, message: message, job: job, d)
        }
        // Reload the idea under the lease: another worker may have finished the stage meanwhile.
        let fresh = try await infra(d.log) { try await self.store.idea(idea.id) } ?? idea
        if fresh.isDone(stage) {
            try await infra(d.log) { try await self.store.release(jobID: job.jobID, stage: stage, owner: self.settings.workerID) }
            d.log.info("skipping \(stage) (already done by another delivery, or by another job of this idea)")
            try await advance(job: claimed, after: stage, priority: message.priority, log: d.log, force: false)
            return try await ack(d)
        }
        try await run(message, job: claimed, idea: fresh, d)
    }

    /// Runs the claimed stage, records its checkpoint and moves the job on; a failure is decided and carried out.
    private func run(_ message: JobMessage, job: JobRecord, idea: IdeaRecord, _ d: DeliveryContext) async throws {
        let stage = message.stage
        d.log.info("running \(stage), attempt \(message.attempt) (stage attempts so far: \(job.attempts[stage] ?? 0))")
        onEvent(.started(jobID: job.jobID, stage: stage, attempt: message.attempt))
        let started = ContinuousClock.now
        do {
            let result = try await produce(message, job: job, idea: idea, log: d.log)
            try await record(result, message: message, job: job, started: started, log: d.log)
        } catch let failure as StageFailure {
            if case .throttled = failure.kind {
                // Nothing was recorded: the stage is free for whichever delivery comes back first.
                try await infra(d.log) { try await self.store.release(jobID: job.jobID, stage: stage, owner: self.settings.workerID) }
            }
            return try await carryOut(StageDecision.failed(failure, message: message, deliveryCount: d.delivery.deliveryCount, settings: settings,
                                                           now: Date()), message: message, job: job, d)
        } catch is CancellationError {
            try? await store.release(jobID: job.jobID, stage: stage, owner: settings.workerID)
            throw CancellationError()
        } catch is SimulatedCrash {
            throw SimulatedCrash()
        } catch let error as LeaseLost {
            d.log.warning("\(error)")
            return try await carryOut(StageDecision.leaseLost(message, settings: settings), message: message, job: job, d)
        } catch {
            let failure = StageFailure.transient("\(stage) failed: \(error)")
            return try await carryOut(StageDecision.failed(failure, message: message, settings: settings, now: Date()), message: message, job: job, d)
        }
        try await advance(job: job, after: stage, priority: message.priority, log: d.log, force: true)
        try await ack(d)
    }

    /// The stage's result: stored by an earlier run that stopped before its checkpoint (the provider is not paid
    /// again), or made now by the executor under the lease, its files and the result record stored at once.
    private func produce(_ message: JobMessage, job: JobRecord, idea: IdeaRecord, log: Logger) async throws -> StagedResult {
        let stage = message.stage
        if case .fail(let f) = settings.failpoints.effect(stage: stage, attempt: message.attempt) { throw f }
        guard let executor = executors[stage] else { throw StageFailure.permanent("this worker has no executor for stage \(stage)") }
        let dir = settings.workRoot.appendingPathComponent("\(job.jobID)-\(stage.rawValue)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        if let staged = try await stagedResult(ideaID: idea.id, stage: stage, dir: dir, log: log) {
            log.notice("reusing the result an earlier run of \(stage) stored before it stopped: the provider is not called again")
            onEvent(.credits(stage: stage, usd: staged.costs.reduce(0) { $0 + $1.costUSD }, saved: true))
            return staged
        }
        let started = ContinuousClock.now
        let output = try await runLeased(executor, idea: idea, job: job, attempt: message.attempt, priority: message.priority, dir: dir, log: log)
        var refs: [String: ArtifactRef] = [:]
        for (name, file) in output.files.sorted(by: { $0.key < $1.key }) {
            let id = ArtifactKey.artifact(ideaID: idea.id, stage: stage, name: name)
            refs[name] = try await infra(log) { try await self.artifacts.put(id: id, name: name, contentType: file.contentType, from: file.url) }
        }
        let result = StagedResult(artifact: StageArtifact(inline: output.inline, files: refs, attempt: message.attempt, producedAt: Date(),
                                                          seconds: (ContinuousClock.now - started).seconds, worker: settings.workerID),
                                  costs: output.costs)
        try await storeStagedResult(result, ideaID: idea.id, stage: stage, dir: dir, log: log)
        return result
    }

    /// Writes the checkpoint (with the costs, once) after the crash failpoint's chance to stop the process.
    private func record(_ result: StagedResult, message: JobMessage, job: JobRecord, started: ContinuousClock.Instant, log: Logger) async throws {
        let stage = message.stage
        if settings.failpoints.effect(stage: stage, attempt: message.attempt) == .crash {
            log.critical("failpoint \(stage)=crash: exiting in the middle of the stage, before its checkpoint")
            try await crash()
        }
        let write = CheckpointWrite(jobID: job.jobID, ideaID: job.ideaID, stage: stage, artifact: result.artifact,
                                    costs: result.costs, owner: settings.workerID, at: Date())
        let advanced = try await infra(log) { try await self.store.checkpoint(write) }
        let seconds = (ContinuousClock.now - started).seconds
        if advanced {
            log.info("\(stage.checkpoint) recorded (\(String(format: "%.2f", seconds)) s)")
            onEvent(.credits(stage: stage, usd: result.costs.reduce(0) { $0 + $1.costUSD }, saved: false))
        } else {
            log.warning("\(stage) was already checkpointed by another run; keeping the first result")
        }
        onEvent(.succeeded(jobID: job.jobID, stage: stage, attempt: message.attempt, seconds: seconds))
    }

    /// After `stage` is done: the job's next stage is enqueued (again only when `force`), or the job completes.
    private func advance(job: JobRecord, after stage: Stage, priority: Priority, log: Logger, force: Bool) async throws {
        if let next = stage.next {
            try await forward(job: job, to: next, priority: priority, log: log, force: force)
        } else {
            try await infra(log) { try await self.store.markCompleted(jobID: job.jobID, ideaID: job.ideaID, at: Date()) }
            log.info("job complete: video_generated")
            onEvent(.completed(jobID: job.jobID, ideaID: job.ideaID))
        }
    }

    /// Carries out a decided outcome, then acknowledges the delivery (parking acknowledges on its own).
    private func carryOut(_ outcome: StageOutcome, message: JobMessage, job: JobRecord?, _ d: DeliveryContext) async throws {
        let stage = message.stage
        switch outcome {
        case .claim:
            preconditionFailure("a claim is carried out by process()")
        case .drop(let skipped, let note):
            if let skipped { onEvent(.skipped(jobID: message.jobID, stage: skipped)) }
            d.log.info("\(note)")
        case .forward(let to, let force, let skipped, let note):
            if let skipped { onEvent(.skipped(jobID: message.jobID, stage: skipped)) }
            d.log.info("\(note)")
            if let job { try await forward(job: job, to: to, priority: message.priority, log: d.log, force: force) }
        case .complete(let mark, let skipped, let note):
            onEvent(.skipped(jobID: message.jobID, stage: skipped))
            d.log.info("\(note)")
            if mark {
                try await infra(d.log) { try await self.store.markCompleted(jobID: message.jobID, ideaID: message.ideaID, at: Date()) }
                onEvent(.completed(jobID: message.jobID, ideaID: message.ideaID))
            }
        case .delay(let later, let delay, let note):
            d.log.info("\(note)")
            try await infra(d.log) { try await self.queue.publishDelayed(later, stage: stage, delay: delay) }
        case .retry(let next, let delay, let failure):
            try await infra(d.log) {
                try await self.store.recordFailure(jobID: message.jobID, ideaID: message.ideaID, failure, owner: self.settings.workerID, final: false, retrying: true)
            }
            try await infra(d.log) { try await self.queue.publishDelayed(next, stage: stage, delay: delay) }
            d.log.warning("\(stage) attempt \(message.attempt) failed (\(failure.kind)): \(failure.message); retry \(next.attempt - 1) of \(settings.retry.maxRetries) in \(delay.compact)")
            onEvent(.retryScheduled(jobID: message.jobID, stage: stage, attempt: next.attempt, delay: delay, reason: failure.message))
        case .cancelled(let note):
            d.log.notice("\(note)")
            // A claim may have shown the idea as processing just before the cancellation: it says cancelled again.
            _ = try await infra(d.log) { try await self.store.cancel(jobID: message.jobID, at: Date()) }
            onEvent(.cancelled(jobID: message.jobID, stage: stage))
        case .park(let kind, let reason, let failure):
            if let failure {
                try await infra(d.log) {
                    try await self.store.recordFailure(jobID: message.jobID, ideaID: message.ideaID, failure, owner: self.settings.workerID, final: true, retrying: false)
                }
                d.log.error("parking job: \(reason)")
            }
            return await park(d, stage: stage, jobID: message.jobID, kind: kind, reason: reason)
        }
        try await ack(d)
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
            i.format = new.format; i.style = new.style; i.footage = new.footage
            return i
        }()
        let job = {
            var j = JobRecord(jobID: message.jobID, ideaID: message.ideaID, startFrom: message.stage, maxRetries: settings.retry.maxRetries, now: now)
            j.priority = message.priority
            return j
        }()
        do {
            if try await infra(log, { try await self.store.create(idea: idea, job: job) }) {
                log.info("created idea \(idea.id) and job \(job.jobID) from the message")
            } else {
                log.info("created job \(job.jobID) for the existing idea \(idea.id) (the stored idea is kept as it is)")
            }
        } catch StoreError.duplicate {
            // Created meanwhile by a duplicate delivery: load it.
        }
        guard let j = try await store.job(message.jobID), let i = try await store.idea(j.ideaID) else { return nil }
        return (j, i)
    }

    /// Runs the executor while renewing the lease; the executor stops at its safe points once the lease is lost,
    /// and its output is returned only while the lease is still this run's.
    private func runLeased(_ executor: any StageExecutor, idea: IdeaRecord, job: JobRecord, attempt: Int, priority: Priority, dir: URL,
                           log: Logger) async throws -> StageOutput {
        let onEvent = self.onEvent
        let stage = executor.stage, jobID = job.jobID
        let input = StageInput(idea: idea, jobID: jobID, attempt: attempt, workDir: dir, artifacts: artifacts,
                               progress: { f, detail in onEvent(.progress(jobID: jobID, stage: stage, fraction: f, detail: detail)) })
        let keeper = LeaseKeeper(store: store, jobID: jobID, stage: stage, owner: settings.workerID,
                                 duration: settings.leaseDuration, logger: log)
        return try await withThrowingTaskGroup(of: StageOutput?.self) { group in
            group.addTask {
                try await withTaskCancellationHandler {
                    try await StageSafePoint.$current.withValue(keeper) {
                        try await ProviderGovernor.$current.withValue(self.settings.governor) {
                            try await ProviderGovernor.$run.withValue(.starting(patient: priority == .high, limit: self.settings.stageTimeouts[stage])) {
                                try await executor.run(input, logger: log)
                            }
                        }
                    }
                } onCancel: { keeper.cancel() }
            }
            group.addTask { try await keeper.keepRenewed(); return nil }
            if let limit = settings.stageTimeouts[stage] {
                // Past its limit the run is stopped (cancelled: its safe points and provider calls end) and counts
                // as a transient failure; whatever it would still return is dropped with it, never recorded.
                group.addTask {
                    try await Task.sleep(for: limit)
                    throw StageFailure.transient("\(stage) ran past its time limit of \(limit.compact) (\(StageTimeouts.variable)); stopped")
                }
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let output = result {
                    try await keeper.confirm()
                    return output
                }
            }
            throw CancellationError()
        }
    }

    /// Publishes the job's next message to `stage` (attempt 1, the class of the message it follows) and notes it
    /// as dispatched.
    private func forward(job: JobRecord, to stage: Stage, priority: Priority, log: Logger, force: Bool = false) async throws {
        if !force && job.dispatched.contains(stage) { return }
        let message = {
            var m = JobMessage(jobID: job.jobID, ideaID: job.ideaID, stage: stage, attempt: 1)
            m.priority = priority
            return m
        }()
        try await infra(log) { try await self.queue.publish(message, to: stage) }
        try await infra(log) { try await self.store.markDispatched(jobID: job.jobID, stage: stage) }
        log.info("enqueued \(stage)")
    }

    /// Publishes the delivery as it came to the parking queue of `stage` with the reason, then acknowledges it.
    private func park(_ d: DeliveryContext, stage: Stage, jobID: String?, kind: String, reason: String) async {
        var h = d.delivery.headers.filter { !$0.key.hasPrefix("x-death") && $0.key != "CC" && $0.key != "BCC" }
        h[MessageHeader.stage] = stage.rawValue
        h[MessageHeader.parkedAt] = Timestamp.iso(Date())
        h[MessageHeader.parkedBy] = settings.workerID
        // Unreadable bodies keep the producer's job-id header, so that `dlq show/purge JOB` still finds them.
        if let jobID { h[MessageHeader.jobID] = jobID }
        let headers = h
        let reason = Redactor.shared.redact(reason)
        do {
            try await infra(d.log) {
                try await self.queue.park(body: d.delivery.body, headers: headers, stage: stage, reasonKind: kind, reason: reason)
            }
            onEvent(.parked(jobID: jobID, stage: stage, kind: kind, reason: reason))
            try await ack(d)
        } catch {
            await d.source.abandon(d.delivery)
        }
    }

    private func ack(_ d: DeliveryContext) async throws {
        do { try await d.source.ack(d.delivery) } catch QueueError.staleDelivery {
            d.log.notice("the connection that delivered this message closed; the broker will redeliver it and the checkpoint makes that harmless")
        }
    }

    /// Runs a store or broker call, retrying with capped exponential backoff and jitter while the store or broker
    /// is unavailable, until it succeeds or the task is cancelled. Any other error is thrown at once.
    @discardableResult
    func infra<T: Sendable>(_ log: Logger, _ body: @Sendable () async throws -> T) async throws -> T {
        var backoff = Backoff(first: .milliseconds(200), cap: settings.infraBackoffCap)
        while true {
            let pause: Double
            do { return try await body() } catch {
                switch error {
                case StoreError.backend, QueueError.connection, QueueError.nacked, QueueError.unroutable:
                    pause = backoff.failed()
                    if backoff.failures == 1 || backoff.failures % 10 == 0 {
                        log.warning("broker or store unavailable, retrying: \(Redactor.shared.redact("\(error)"))")
                    }
                default:
                    throw error
                }
            }
            try Task.checkCancellation()
            try await Task.sleep(for: .milliseconds(Int64(pause * 1000)))
        }
    }
}

/// A stage's result waiting between the provider's answer and the checkpoint: what the checkpoint will
/// record, including the provider calls it paid for (they reach the cost ledger with the checkpoint, once).
public struct StagedResult: Codable, Sendable {
    public var artifact: StageArtifact
    public var costs: [CostEntry]
    public static let name = "result.json"
    public static func id(ideaID: String, stage: Stage) -> String { ArtifactKey.artifact(ideaID: ideaID, stage: stage, name: name) }
}
