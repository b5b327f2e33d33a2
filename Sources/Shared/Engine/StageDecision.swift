import Foundation

/// What the runner does with a delivery. Each case is carried out by `StageRunner` and ends with the delivery
/// acknowledged once its effect is durable (except `.run`, which goes on to claim the stage).
public enum StageOutcome: Sendable, Hashable {
    /// Acknowledge and do nothing else (`skipped`: the message's stage was already done).
    case drop(skipped: Stage?, note: String)
    /// Enqueue `stage` (again only when `force`), then acknowledge (`skipped`: the message's stage was done).
    case forward(to: Stage, force: Bool, skipped: Stage?, note: String)
    /// The video exists: mark the job completed (when `mark`), then acknowledge.
    case complete(mark: Bool, skipped: Stage, note: String)
    /// Come back later: publish `message` to its stage's delay queue after `delay`, then acknowledge.
    case delay(JobMessage, after: Duration, note: String)
    /// A failure with budget left: record it, publish the next attempt after `delay`, acknowledge.
    case retry(JobMessage, after: Duration, failure: ErrorEntry)
    /// Park the delivery with its reason (recording the failure on the job first, and marking it failed, when
    /// `failure` is given), then acknowledge.
    case park(kind: String, reason: String, failure: ErrorEntry?)
    /// Claim the stage's lease and run it.
    case claim
    /// The job was cancelled: make sure job and idea say so, then acknowledge (nothing runs, nothing is forwarded).
    case cancelled(note: String)
}

/// The runner's decisions as pure functions of values: the message, the stored job and idea, the answer of a
/// claim, a failure, the settings and the time. No I/O, so every path is tested without a broker or a store.
public enum StageDecision {
    /// A delivery whose job and idea were loaded (or could not be): run it, skip it, reroute it or park it.
    public static func received(_ message: JobMessage, deliveryCount: Int, job: JobRecord?, idea: IdeaRecord?,
                                settings: RunnerSettings, now: Date) -> StageOutcome {
        guard let job, let idea else {
            return .park(kind: "poison", reason: "job \(message.jobID) / idea \(message.ideaID) does not exist", failure: nil)
        }
        if job.status == .cancelled {
            return .cancelled(note: "job \(job.jobID) was cancelled: \(message.stage) does not run")
        }
        if job.status == .failed {
            return .drop(skipped: nil, note: "ignoring a message for failed job \(job.jobID) (use 'reelforge dlq replay' or 'reelforge retry')")
        }
        switch ResumePlanner.decide(messageStage: message.stage, checkpoint: idea.lastSuccessfulStep) {
        case .alreadyDone(let stage, next: nil):
            return .complete(mark: job.status != .completed, skipped: stage,
                             note: "skipping \(stage) (already done): video already generated, job complete")
        case .alreadyDone(let stage, next: let next?):
            if job.dispatched.contains(next) { return .drop(skipped: stage, note: "skipping \(stage) (already done); \(next) is already enqueued") }
            return .forward(to: next, force: false, skipped: stage, note: "skipping \(stage) (already done); \(ResumePlanner.describe(checkpoint: idea.lastSuccessfulStep))")
        case .reroute(let needed):
            return .forward(to: needed, force: true, skipped: nil,
                            note: "the message asks for \(message.stage) but \(ResumePlanner.describe(checkpoint: idea.lastSuccessfulStep)): sending the job to \(needed)")
        case .run(let stage):
            // Deliveries of this attempt that a dead worker took with it, including those before lease waits.
            let lost = message.redeliveries + deliveryCount
            guard lost < settings.crashLimit else {
                let reason = "\(stage) was started \(lost) times by workers that stopped before finishing it (crash loop)"
                return .park(kind: "crash_loop", reason: reason,
                             failure: ErrorEntry(stage: stage, kind: "crash_loop", message: reason, attempt: message.attempt, at: now,
                                                 worker: settings.workerID))
            }
            return .claim
        }
    }

    /// The answer of a claim that did not give this run the lease.
    public static func notClaimed(_ claim: ClaimResult, message: JobMessage, deliveryCount: Int, settings: RunnerSettings) -> StageOutcome {
        switch claim {
        case .claimed:
            return .claim
        case .cancelled:
            return .cancelled(note: "job \(message.jobID) was cancelled: \(message.stage) does not run")
        case .missing:
            return .park(kind: "poison", reason: "job \(message.jobID) disappeared", failure: nil)
        case .held(let lease):
            guard message.leaseWaits < settings.maxLeaseWaits else {
                return .park(kind: "lease", reason: "stage \(message.stage) stayed claimed by \(lease.owner) through \(message.leaseWaits) waits",
                             failure: nil)
            }
            // Another delivery of this stage is being worked on (or its worker died and the lease will run out):
            // come back after the shortest delay rather than run the stage twice at once.
            return leaseWait(message, redeliveries: message.redeliveries + deliveryCount, settings: settings,
                             note: "stage \(message.stage) is claimed by \(lease.owner) until \(lease.expiresAt)")
        }
    }

    /// A run that lost its lease: the run that took the stage over may be another job's, so this message comes
    /// back later, when the checkpoint says what is left for its job (as while waiting for a lease).
    public static func leaseLost(_ message: JobMessage, settings: RunnerSettings) -> StageOutcome {
        leaseWait(message, redeliveries: message.redeliveries, settings: settings, note: "lost the lease on \(message.stage)")
    }

    static func leaseWait(_ message: JobMessage, redeliveries: Int, settings: RunnerSettings, note: String) -> StageOutcome {
        var later = message
        later.leaseWaits += 1
        later.redeliveries = redeliveries
        later.newIdea = nil
        let delay = settings.retry.allDelays.first!
        return .delay(later, after: delay, note: "\(note); checking again in \(delay.compact)")
    }

    /// A stage that failed: retry it through the delay queue while the budget lasts, else park the job.
    /// `deliveryCount`: deliveries of this message that ended without an outcome, carried by a wait (the same attempt).
    public static func failed(_ failure: StageFailure, message: JobMessage, deliveryCount: Int = 0, settings: RunnerSettings, now: Date) -> StageOutcome {
        let stage = message.stage
        let text = Redactor.shared.redact(failure.message)
        if case .throttled(let wait) = failure.kind {
            // A provider's shared limit, pause or open circuit: the same attempt comes back after the wait.
            guard message.providerWaits < settings.maxProviderWaits else {
                let reason = "\(stage) waited \(message.providerWaits) times for its provider; last: \(text)"
                return .park(kind: "provider_unavailable", reason: reason,
                             failure: ErrorEntry(stage: stage, kind: "provider_unavailable", message: reason, attempt: message.attempt, at: now,
                                                 worker: settings.workerID))
            }
            var later = message
            later.providerWaits += 1
            later.leaseWaits = 0
            later.redeliveries = message.redeliveries + deliveryCount
            later.newIdea = nil
            let delay = settings.retry.allDelays.first(where: { $0 >= wait }) ?? settings.retry.allDelays.last!
            return .delay(later, after: delay, note: "\(text); \(stage) attempt \(message.attempt) waits \(delay.compact) (no attempt spent)")
        }
        switch settings.retry.decide(failure, attempt: message.attempt) {
        case .retry(let nextAttempt, let delay):
            var next = message
            next.attempt = nextAttempt
            next.leaseWaits = 0
            next.providerWaits = 0
            next.newIdea = nil
            return .retry(next, after: delay, failure: ErrorEntry(stage: stage, kind: failure.kind.label, message: text, attempt: message.attempt, at: now,
                                                                     worker: settings.workerID))
        case .park(let kind):
            let reason = kind == "exhausted"
                ? "\(stage) failed \(message.attempt) times (retry budget of \(settings.retry.maxRetries) spent); last error: \(text)"
                : "\(stage) failed permanently: \(text)"
            return .park(kind: kind, reason: reason, failure: ErrorEntry(stage: stage, kind: kind, message: reason, attempt: message.attempt, at: now,
                                                                           worker: settings.workerID))
        }
    }
}
