import Foundation
import ReelForgeTestKit
import Shared
import Testing

/// Two jobs of one idea (a second message with the same idea id and a new job id) delivered at once, to two
/// workers: the lease is the idea's, so each stage runs once, and the second job completes from the checkpoints
/// the first wrote.
@Suite("Twin jobs of one idea")
struct TwinJobTests {
    @Test(arguments: Backend.usable)
    func eachStageRunsOnceForBothJobs(_ backend: Backend) async throws {
        let h = try await backend.harness().prepared()
        // Slow stages, so that both jobs' deliveries arrive while the other job is running the stage.
        let executors = Stage.allCases.map { CountingExecutor($0, delay: .milliseconds(700)) }
        let events = EventLog()
        let runners = ["worker-a", "worker-b"].map { id in
            StageRunner(queue: h.queue, store: h.store, artifacts: h.artifacts, executors: executors,
                        settings: RunnerSettings(workerID: id, retry: h.retry, leaseDuration: .seconds(20), workRoot: temporaryDirectory("work")),
                        logger: testLogger(), onEvent: { events.record($0) })
        }
        for r in runners { h.start(concurrency: 2, runner: r) }
        let first = try await h.operations.submit(idea: "why twins share a birthday", seconds: 20)
        let twin = JobMessage(jobID: Identifier.make("job"), ideaID: first.ideaID, stage: .script,
                              newIdea: .init(text: "a different text under the same idea id", language: "en", targetSeconds: 20))
        try await h.queue.publish(twin, to: .script)

        let idea = try await h.waitForStatus(first.ideaID, .completed)
        let bothDone = try await eventually(timeout: .seconds(60)) {
            try await h.store.jobs(ideaID: first.ideaID).allSatisfy { $0.status == .completed }
        }
        await h.close()
        let jobs = try await h.store.jobs(ideaID: first.ideaID)
        #expect(bothDone, "both jobs complete: \(jobs)")
        #expect(Set(jobs.map(\.jobID)) == [first.jobID, twin.jobID])
        for e in executors {
            #expect(e.calls(for: first.ideaID) == 1, "\(e.stage) ran \(e.calls(for: first.ideaID)) times for the idea")
        }
        #expect(Dictionary(grouping: idea.costs, by: \.stage).mapValues(\.count) == [.script: 1, .adapt: 1, .audio: 1, .video: 1],
                "each stage paid once")
        #expect(idea.idea == "why twins share a birthday", "the twin's message does not rewrite the idea")
        #expect(events.all.contains { if case .leaseHeld = $0 { return true }; return false },
                "the twin's delivery met the first job's lease (the race this test is about happened)")
    }
}
