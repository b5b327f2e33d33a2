import Foundation
import Shared
import Testing

/// Every path of the runner's decisions, from values alone: no broker, no store, no clock but the one given.
@Suite("Stage decisions")
struct StageDecisionTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let settings = RunnerSettings(workerID: "w", retry: RetryPolicy(delays: [.seconds(10), .seconds(60)], maxRetries: 2),
                                  maxLeaseWaits: 5, crashLimit: 3)

    func records(checkpoint: Checkpoint? = nil, status: JobStatus = .processing, dispatched: Set<Stage> = []) -> (JobRecord, IdeaRecord) {
        var idea = IdeaRecord(id: "idea_1", idea: "why cats purr", language: "en", targetSeconds: 30, now: now)
        idea.lastSuccessfulStep = checkpoint
        var job = JobRecord(jobID: "job_1", ideaID: "idea_1", startFrom: .script, maxRetries: 2, now: now)
        job.status = status
        job.dispatched = dispatched
        return (job, idea)
    }

    func received(_ stage: Stage, deliveryCount: Int = 0, redeliveries: Int = 0, _ r: (JobRecord, IdeaRecord)?) -> StageOutcome {
        let message = JobMessage(jobID: "job_1", ideaID: "idea_1", stage: stage, redeliveries: redeliveries)
        return StageDecision.received(message, deliveryCount: deliveryCount, job: r?.0, idea: r?.1, settings: settings, now: now)
    }

    @Test func aMessageWithoutItsJobIsParkedAsPoison() {
        guard case .park("poison", _, nil) = received(.script, nil) else { Issue.record("not parked as poison"); return }
    }

    @Test func aFailedJobsStrayMessageIsDropped() {
        guard case .drop(nil, _) = received(.audio, records(status: .failed)) else { Issue.record("not dropped"); return }
    }

    @Test func theStageThatIsNextRunsAndTheOthersAreSkippedOrRerouted() {
        #expect(received(.audio, records(checkpoint: .scriptAdapted)) == .claim)
        guard case .forward(.audio, false, .adapt, _) = received(.adapt, records(checkpoint: .scriptAdapted)) else {
            Issue.record("a done stage does not forward its job"); return
        }
        guard case .drop(.adapt, _) = received(.adapt, records(checkpoint: .scriptAdapted, dispatched: [.audio])) else {
            Issue.record("a done stage whose next one is enqueued is not just dropped"); return
        }
        guard case .forward(.script, true, nil, _) = received(.video, records()) else { Issue.record("not rerouted to script"); return }
        guard case .complete(true, .video, _) = received(.video, records(checkpoint: .videoGenerated)) else {
            Issue.record("a finished video does not complete the job"); return
        }
        guard case .complete(false, .audio, _) = received(.audio, records(checkpoint: .videoGenerated, status: .completed)) else {
            Issue.record("a completed job is marked again"); return
        }
    }

    @Test func deliveriesLostWithTheirWorkersEndAsACrashLoop() {
        #expect(received(.script, deliveryCount: 1, redeliveries: 1, records()) == .claim)
        guard case .park("crash_loop", _, let failure?) = received(.script, deliveryCount: 2, redeliveries: 1, records()) else {
            Issue.record("not parked as a crash loop"); return
        }
        #expect(failure.kind == "crash_loop" && failure.at == now)
    }

    @Test func aHeldLeaseIsWaitedForThenParked() {
        let lease = Lease(stage: .video, owner: "other", expiresAt: now)
        var message = JobMessage(jobID: "job_1", ideaID: "idea_1", stage: .video, leaseWaits: 2, redeliveries: 1)
        guard case .delay(let later, let delay, _) = StageDecision.notClaimed(.held(lease), message: message, deliveryCount: 1, settings: settings) else {
            Issue.record("a held lease is not waited for"); return
        }
        #expect(later.leaseWaits == 3 && later.redeliveries == 2 && later.attempt == 1 && delay == settings.retry.allDelays.first)
        message.leaseWaits = 5
        guard case .park("lease", _, nil) = StageDecision.notClaimed(.held(lease), message: message, deliveryCount: 0, settings: settings) else {
            Issue.record("endless lease waits are not parked"); return
        }
        guard case .park("poison", _, nil) = StageDecision.notClaimed(.missing, message: message, deliveryCount: 0, settings: settings) else {
            Issue.record("a job that vanished is not parked"); return
        }
    }

    @Test func failuresRetryWhileTheBudgetLastsThenPark() {
        var message = JobMessage(jobID: "job_1", ideaID: "idea_1", stage: .audio, attempt: 1, leaseWaits: 3)
        guard case .retry(let next, let delay, let failure) = StageDecision.failed(.transient("HTTP 503"), message: message, settings: settings, now: now) else {
            Issue.record("a transient failure is not retried"); return
        }
        #expect(next.attempt == 2 && next.leaseWaits == 0 && failure.message == "HTTP 503" && failure.attempt == 1)
        #expect(delay >= .seconds(5) && delay <= .seconds(15))
        message.attempt = 3
        guard case .park("exhausted", let reason, _?) = StageDecision.failed(.transient("HTTP 503"), message: message, settings: settings, now: now) else {
            Issue.record("a spent budget does not park"); return
        }
        #expect(reason.contains("failed 3 times"))
        guard case .park("permanent", _, _?) = StageDecision.failed(.permanent("bad key"), message: message, settings: settings, now: now) else {
            Issue.record("a permanent failure is retried"); return
        }
    }

    @Test func aLostLeaseComesBackAsALeaseWait() {
        let message = JobMessage(jobID: "job_1", ideaID: "idea_1", stage: .video, attempt: 2, leaseWaits: 1, redeliveries: 1)
        guard case .delay(let later, _, _) = StageDecision.leaseLost(message, settings: settings) else { Issue.record("not delayed"); return }
        #expect(later.attempt == 2 && later.leaseWaits == 2 && later.redeliveries == 1)
    }
}
