import Foundation
import ReelForgeTestKit
import Shared
import Synchronization
import Testing

/// The StageRunner over the in-memory backends with counting executors: the resume and retry rules without
/// servers. The same scenarios run over RabbitMQ and MongoDB in IntegrationTests.
final class Harness: Sendable {
    let queue = MemoryWorkQueue(deliveryLimit: 5)
    let store = MemoryJobStore()
    let artifacts: DirectoryArtifactStore
    let executors = Stage.allCases.map { CountingExecutor($0) }
    let events = EventLog()
    let runner: StageRunner
    let serving: Mutex<Task<Void, Error>?> = Mutex(nil)

    init(failpoints: String = "", crashTimes: Int = 0, leaseSeconds: Int = 5, workerID: String = "worker-a") throws {
        artifacts = try DirectoryArtifactStore(root: temporaryDirectory("artifacts"))
        let crashCount = Counter(crashTimes)
        let log = events
        runner = StageRunner(
            queue: queue, store: store, artifacts: artifacts, executors: executors,
            settings: RunnerSettings(workerID: workerID,
                                     retry: RetryPolicy(delays: [.milliseconds(30), .milliseconds(60)], maxRetries: 3, jitter: 0, jitterBuckets: 1),
                                     failpoints: try Failpoints(parsing: failpoints), leaseDuration: .seconds(Int64(leaseSeconds)),
                                     workRoot: temporaryDirectory("work"), infraBackoffCap: .milliseconds(200)),
            logger: testLogger(), onEvent: { log.record($0) },
            crash: { if crashCount.take() { throw SimulatedCrash() } })
    }

    func executor(_ s: Stage) -> CountingExecutor { executors[s.index] }
    var operations: Operations { Operations(queue: queue, store: store, maxRetries: 3) }

    func start(concurrency: Int = 1) {
        let runner = self.runner
        serving.withLock { $0 = Task { try await runner.serve(stages: Stage.allCases, concurrency: concurrency) } }
    }

    func stop() async {
        let t = serving.withLock { $0 }
        t?.cancel()
        _ = await t?.result
    }

    func waitForStatus(_ ideaID: String, _ status: JobStatus) async throws -> IdeaRecord {
        let ok = try await eventually { try await self.store.idea(ideaID)?.status == status }
        let idea = try #require(try await store.idea(ideaID))
        #expect(ok, "idea \(ideaID) should be \(status), is \(idea.status) at \(idea.lastSuccessfulStep?.rawValue ?? "-")")
        return idea
    }

    func job(_ id: String) async throws -> JobRecord { try #require(try await store.job(id)) }
}

/// Counts down; `take()` is true while some remain.
final class Counter: Sendable {
    private let left: Mutex<Int>
    init(_ n: Int) { left = Mutex(n) }
    func take() -> Bool { left.withLock { n in n -= 1; return n >= 0 } }
}

@Suite("StageRunner on memory backends")
struct StageRunnerTests {
    @Test func runsEveryStageOnce() async throws {
        let h = try Harness()
        h.start()
        let s = try await h.operations.submit(idea: "why octopuses have three hearts")
        let idea = try await h.waitForStatus(s.ideaID, .completed)
        await h.stop()
        #expect(idea.lastSuccessfulStep == .videoGenerated)
        #expect(idea.progressPercentage == 100)
        let job = try await h.job(s.jobID)
        #expect(job.status == .completed)
        #expect(job.attempts == [.script: 1, .adapt: 1, .audio: 1, .video: 1])
        for stage in Stage.allCases {
            #expect(h.executor(stage).calls(for: s.ideaID) == 1)
            let ref = try #require(idea.artifacts[stage]?.files["\(stage.rawValue).txt"])
            let copy = temporaryDirectory().appendingPathComponent("a.txt")
            try await h.artifacts.get(id: ref.id, to: copy)
            #expect(try String(contentsOf: copy, encoding: .utf8).hasPrefix(stage.rawValue))
        }
        #expect(idea.costs.count == 4)
    }

    @Test func transientVideoFailuresRetryOnlyVideo() async throws {
        let h = try Harness(failpoints: "video=2")
        h.start()
        let s = try await h.operations.submit(idea: "why the sky is blue")
        let idea = try await h.waitForStatus(s.ideaID, .completed)
        await h.stop()
        let job = try await h.job(s.jobID)
        #expect(job.attempts == [.script: 1, .adapt: 1, .audio: 1, .video: 3])
        #expect(job.retryCount == 2)
        #expect([Stage.script, .adapt, .audio].allSatisfy { h.executor($0).calls(for: s.ideaID) == 1 })
        #expect(idea.errors.filter { $0.stage == .video }.count == 2)
    }

    @Test func exhaustedJobParksAndReplayResumesAtTheFailedStage() async throws {
        let h = try Harness(failpoints: "video=5")
        h.start()
        let s = try await h.operations.submit(idea: "how bees choose a home")
        let failed = try await h.waitForStatus(s.ideaID, .failed)
        #expect(failed.lastSuccessfulStep == .audioGenerated)
        #expect(try await h.job(s.jobID).attempts[.video] == 4)
        let parked = try await h.queue.parked(stage: nil, limit: 10)
        #expect(parked.count == 1)
        #expect(parked.first?.jobID == s.jobID && parked.first?.stage == .video && parked.first?.reasonKind == "exhausted")
        await h.stop()

        // The same store and queue, a worker without failpoints: replay.
        let fixed = StageRunner(queue: h.queue, store: h.store, artifacts: h.artifacts, executors: h.executors,
                                settings: RunnerSettings(workerID: "worker-b", retry: RetryPolicy(delays: [.milliseconds(30)], maxRetries: 3, jitter: 0, jitterBuckets: 1),
                                                         workRoot: temporaryDirectory()), logger: testLogger())
        let serving = Task { try await fixed.serve(stages: Stage.allCases, concurrency: 1) }
        #expect(try await h.operations.replay(jobID: s.jobID) == [s.jobID])
        let idea = try await h.waitForStatus(s.ideaID, .completed)
        serving.cancel()
        #expect(idea.lastSuccessfulStep == .videoGenerated)
        let job = try await h.job(s.jobID)
        #expect(job.attempts[.script] == 1 && job.attempts[.adapt] == 1 && job.attempts[.audio] == 1)
        #expect(h.executor(.video).calls(for: s.ideaID) == 1)
        #expect(try await h.queue.parked(stage: nil, limit: 10).isEmpty)
    }

    @Test func permanentFailureParksAtOnce() async throws {
        let h = try Harness(failpoints: "audio=fatal")
        h.start()
        let s = try await h.operations.submit(idea: "why cats purr")
        let idea = try await h.waitForStatus(s.ideaID, .failed)
        await h.stop()
        #expect(idea.lastSuccessfulStep == .scriptAdapted)
        #expect(try await h.job(s.jobID).attempts[.audio] == 1)
        #expect(try await h.queue.parked(stage: .audio, limit: 10).first?.reasonKind == "permanent")
        #expect(idea.errors.last?.kind == "permanent")
    }

    @Test func crashBeforeCheckpointRunsTheStageOnceMore() async throws {
        let h = try Harness(failpoints: "script=crash", crashTimes: 1)
        h.start()
        let s = try await h.operations.submit(idea: "how volcanoes form")
        _ = try await h.waitForStatus(s.ideaID, .completed)
        await h.stop()
        // The crashed run did the work but wrote no checkpoint: the redelivery ran it again, once.
        #expect(h.executor(.script).calls(for: s.ideaID) == 2)
        #expect([Stage.adapt, .audio, .video].allSatisfy { h.executor($0).calls(for: s.ideaID) == 1 })
        #expect(try await h.job(s.jobID).attempts[.script] == 2)
    }

    @Test func duplicateDeliveriesDoNotRunAStageTwice() async throws {
        let h = try Harness()
        let s = try await h.operations.submit(idea: "why the moon has phases")
        for _ in 0..<3 { try await h.queue.publish(JobMessage(jobID: s.jobID, ideaID: s.ideaID, stage: .script), to: .script) }
        h.start(concurrency: 4)
        _ = try await h.waitForStatus(s.ideaID, .completed)
        try await Task.sleep(for: .milliseconds(300))  // let the duplicates drain
        await h.stop()
        #expect(Stage.allCases.allSatisfy { h.executor($0).calls(for: s.ideaID) == 1 })
    }

    @Test func malformedMessagesAreParkedAndTheWorkerGoesOn() async throws {
        let h = try Harness()
        h.start()
        let bad = ["{not json", #"{"job_id":"j","idea_id":"i","stage":"render"}"#, #"{"job_id":"ghost","idea_id":"nobody","stage":"script"}"#]
        for b in bad { await h.queue.publishRaw(Array(b.utf8), to: .script) }
        let s = try await h.operations.submit(idea: "how rainbows form")
        _ = try await h.waitForStatus(s.ideaID, .completed)
        await h.stop()
        let parked = try await h.queue.parked(stage: .script, limit: 10)
        #expect(parked.count == 3)
        #expect(parked.allSatisfy { $0.reasonKind == "poison" })
        #expect(parked.contains { $0.reason.contains("not valid JSON") })
        #expect(parked.contains { $0.reason.contains("unknown stage") })
        #expect(parked.contains { $0.reason.contains("does not exist") })
    }

    @Test func aHeldLeaseMakesTheDeliveryWaitNotRunTwice() async throws {
        let h = try Harness(leaseSeconds: 1)
        let s = try await h.operations.submit(idea: "why leaves change colour")
        // Another worker claimed the script stage and then died: its lease runs out after a second.
        _ = try await h.store.claim(jobID: s.jobID, stage: .script, owner: "dead-worker", until: Date().addingTimeInterval(1), now: Date())
        h.start()
        _ = try await h.waitForStatus(s.ideaID, .completed)
        await h.stop()
        #expect(h.executor(.script).calls(for: s.ideaID) == 1)
        #expect(h.events.all.contains(.leaseHeld(jobID: s.jobID, stage: .script)))
    }

    @Test func aJobWhoseVideoExistsCompletesWithoutWork() async throws {
        let h = try Harness()
        h.start()
        let s = try await h.operations.submit(idea: "why zebras have stripes")
        _ = try await h.waitForStatus(s.ideaID, .completed)
        let before = h.executors.map(\.totalCalls)
        try await h.queue.publish(JobMessage(jobID: s.jobID, ideaID: s.ideaID, stage: .script), to: .script)
        try await Task.sleep(for: .milliseconds(300))
        await h.stop()
        #expect(h.executors.map(\.totalCalls) == before)
        #expect(h.events.all.contains(.skipped(jobID: s.jobID, stage: .script)))
    }

    @Test func retryFromAStageRunsThatStageAndLaterOnesOnly() async throws {
        let h = try Harness()
        h.start()
        let s = try await h.operations.submit(idea: "how tides work")
        _ = try await h.waitForStatus(s.ideaID, .completed)
        let nothingToDo = try await h.operations.retry(ideaID: s.ideaID)
        #expect(nothingToDo == nil)
        let restarted = try await h.operations.retry(ideaID: s.ideaID, from: .audio)
        #expect(restarted == .audio)
        #expect(try await eventually { h.executor(.video).calls(for: s.ideaID) == 2 })
        _ = try await h.waitForStatus(s.ideaID, .completed)
        await h.stop()
        #expect(h.executor(.script).calls(for: s.ideaID) == 1 && h.executor(.adapt).calls(for: s.ideaID) == 1)
        #expect(h.executor(.audio).calls(for: s.ideaID) == 2)
    }

    @Test func messagesCanCreateTheirJob() async throws {
        let h = try Harness()
        h.start()
        try await h.queue.publish(JobMessage(jobID: "job_ext1", ideaID: "idea_ext1", stage: .script,
                                             newIdea: .init(text: "how owls see at night", language: "en", targetSeconds: 15)), to: .script)
        let idea = try await h.waitForStatus("idea_ext1", .completed)
        await h.stop()
        #expect(idea.idea == "how owls see at night" && idea.targetSeconds == 15)
    }
}
