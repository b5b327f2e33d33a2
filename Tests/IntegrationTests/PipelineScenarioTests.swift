import Foundation
import EmbeddedStore
import MongoStore
import RabbitMQBroker
import ReelForgeTestKit
import Shared
import Testing

/// The pipeline scenarios, written once and run over the memory backends and over RabbitMQ with MongoDB.
enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case memory, embedded, real
    var testDescription: String { rawValue }

    func harness(failpoints: String = "", crashTimes: Int = 0, leaseSeconds: Int = 5, crashLimit: Int = 10) throws -> PipelineHarness {
        switch self {
        case .memory:
            return try PipelineHarness(queue: MemoryWorkQueue(deliveryLimit: 5), store: RecordJobStore.memory(),
                                       artifacts: DirectoryArtifactStore(root: temporaryDirectory("artifacts")),
                                       failpoints: failpoints, crashTimes: crashTimes, leaseSeconds: leaseSeconds, crashLimit: crashLimit)
        case .embedded:
            let dir = temporaryDirectory("embedded")
            return try PipelineHarness(queue: MemoryWorkQueue(deliveryLimit: 5), store: RecordJobStore.sqlite(path: dir.appendingPathComponent("store.sqlite").path),
                                       artifacts: DirectoryArtifactStore(root: dir.appendingPathComponent("artifacts")),
                                       failpoints: failpoints, crashTimes: crashTimes, leaseSeconds: leaseSeconds, crashLimit: crashLimit)
        case .real:
            let retry = RetryPolicy(delays: [.milliseconds(200), .milliseconds(400)], maxRetries: 3, jitter: 0, jitterBuckets: 1)
            let (store, artifacts) = try TestServices.mongoStore()
            return try PipelineHarness(queue: TestServices.rabbitQueue(retry: retry, deliveryLimit: 5), store: store, artifacts: artifacts,
                                       failpoints: failpoints, crashTimes: crashTimes, leaseSeconds: leaseSeconds, crashLimit: crashLimit, retry: retry)
        }
    }

    /// The backends this run can use: the real ones only where scripts/test started them.
    static var usable: [Backend] { TestServices.available ? [.memory, .embedded, .real] : [.memory, .embedded] }
}

extension PipelineHarness {
    func prepared() async throws -> PipelineHarness {
        try await store.prepare()
        try await queue.declareTopology()
        return self
    }

    func waitForStatus(_ ideaID: String, _ status: JobStatus, timeout: Duration = .seconds(120)) async throws -> IdeaRecord {
        let (ok, idea) = try await wait(ideaID, status, timeout: timeout)
        let found = try #require(idea)
        if !ok {
            let job = try await store.jobs(ideaID: ideaID).last
            let depths = try? await queue.depths()
            Issue.record("""
                idea \(ideaID) should be \(status), is \(found.status) at \(found.lastSuccessfulStep?.rawValue ?? "-")
                job: \(String(describing: job))
                queue depths: \(String(describing: depths))
                events: \(events.all)
                """)
        }
        return found
    }

    func job(_ id: String) async throws -> JobRecord { try #require(try await store.job(id)) }

    func close() async {
        await stop()
        if let q = queue as? RabbitMQWorkQueue { try? await q.deleteTopology(); await q.close() }
    }

    func publishRaw(_ body: String, to stage: Stage) async throws {
        if let q = queue as? MemoryWorkQueue { await q.publishRaw(Array(body.utf8), to: stage) }
        if let q = queue as? RabbitMQWorkQueue { try await q.publishRaw(Array(body.utf8), to: stage) }
    }
}

@Suite("Pipeline scenarios")
struct PipelineScenarioTests {
    @Test(arguments: Backend.usable)
    func runsEveryStageOnce(_ backend: Backend) async throws {
        let h = try await backend.harness().prepared()
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
        await h.close()
    }

    @Test(arguments: Backend.usable)
    func transientVideoFailuresRetryOnlyVideo(_ backend: Backend) async throws {
        let h = try await backend.harness(failpoints: "video=2").prepared()
        h.start()
        let s = try await h.operations.submit(idea: "why the sky is blue")
        let idea = try await h.waitForStatus(s.ideaID, .completed)
        await h.stop()
        let job = try await h.job(s.jobID)
        #expect(job.attempts == [.script: 1, .adapt: 1, .audio: 1, .video: 3])
        #expect(job.retryCount == 2)
        #expect([Stage.script, .adapt, .audio].allSatisfy { h.executor($0).calls(for: s.ideaID) == 1 })
        #expect(idea.errors.filter { $0.stage == .video }.count == 2)
        await h.close()
    }

    @Test(arguments: Backend.usable)
    func exhaustedJobParksAndReplayResumesAtTheFailedStage(_ backend: Backend) async throws {
        let h = try await backend.harness(failpoints: "video=5").prepared()
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
        h.start(runner: h.cleanRunner())
        #expect(try await h.operations.replay(jobID: s.jobID) == [s.jobID])
        let idea = try await h.waitForStatus(s.ideaID, .completed)
        await h.stop()
        #expect(idea.lastSuccessfulStep == .videoGenerated)
        let job = try await h.job(s.jobID)
        #expect(job.attempts[.script] == 1 && job.attempts[.adapt] == 1 && job.attempts[.audio] == 1)
        #expect(h.executor(.video).calls(for: s.ideaID) == 1)
        #expect(try await h.queue.parked(stage: nil, limit: 10).isEmpty)
        await h.close()
    }

    @Test(arguments: Backend.usable)
    func permanentFailureParksAtOnce(_ backend: Backend) async throws {
        let h = try await backend.harness(failpoints: "audio=fatal").prepared()
        h.start()
        let s = try await h.operations.submit(idea: "why cats purr")
        let idea = try await h.waitForStatus(s.ideaID, .failed)
        await h.stop()
        #expect(idea.lastSuccessfulStep == .scriptAdapted)
        #expect(try await h.job(s.jobID).attempts[.audio] == 1)
        #expect(try await h.queue.parked(stage: .audio, limit: 10).first?.reasonKind == "permanent")
        #expect(idea.errors.last?.kind == "permanent")
        await h.close()
    }

    @Test(arguments: Backend.usable)
    func crashBeforeCheckpointRunsTheStageOnceMore(_ backend: Backend) async throws {
        let h = try await backend.harness(failpoints: "script=crash", crashTimes: 1).prepared()
        h.start()
        let s = try await h.operations.submit(idea: "how volcanoes form")
        _ = try await h.waitForStatus(s.ideaID, .completed)
        await h.stop()
        // The crashed run got the provider's result and stored it but wrote no checkpoint: the redelivery finished
        // the stage from the stored result, without calling the provider again.
        #expect(Stage.allCases.allSatisfy { h.executor($0).calls(for: s.ideaID) == 1 })
        #expect(try await h.job(s.jobID).attempts[.script] == 2)
        #expect(h.events.all.filter { if case .started(_, .script, _) = $0 { return true } else { return false } }.count == 2)
        await h.close()
    }

    @Test(arguments: Backend.usable)
    func duplicateDeliveriesDoNotRunAStageTwice(_ backend: Backend) async throws {
        // A lease that outlives any stall of a loaded machine: an expired lease lets another delivery run the stage
        // again by design (at-least-once), which is not what this test is about.
        let h = try await backend.harness(leaseSeconds: 60).prepared()
        let s = try await h.operations.submit(idea: "why the moon has phases")
        for _ in 0..<3 { try await h.queue.publish(JobMessage(jobID: s.jobID, ideaID: s.ideaID, stage: .script), to: .script) }
        h.start(concurrency: 4)
        _ = try await h.waitForStatus(s.ideaID, .completed)
        try await Task.sleep(for: .milliseconds(300))  // let the duplicates drain
        await h.stop()
        #expect(Stage.allCases.allSatisfy { h.executor($0).calls(for: s.ideaID) == 1 })
        await h.close()
    }

    @Test(arguments: Backend.usable)
    func malformedMessagesAreParkedAndTheWorkerGoesOn(_ backend: Backend) async throws {
        let h = try await backend.harness().prepared()
        h.start()
        let bad = ["{not json", #"{"job_id":"j","idea_id":"i","stage":"render"}"#, #"{"job_id":"ghost","idea_id":"nobody","stage":"script"}"#]
        for b in bad { try await h.publishRaw(b, to: .script) }
        let s = try await h.operations.submit(idea: "how rainbows form")
        _ = try await h.waitForStatus(s.ideaID, .completed)
        await h.stop()
        let parked = try await h.queue.parked(stage: .script, limit: 10)
        #expect(parked.count == 3)
        #expect(parked.allSatisfy { $0.reasonKind == "poison" })
        #expect(parked.contains { $0.reason.contains("not valid JSON") })
        #expect(parked.contains { $0.reason.contains("unknown stage") })
        #expect(parked.contains { $0.reason.contains("does not exist") })
        // Poison cannot be replayed: replaying everything leaves it parked instead of failing.
        #expect(try await h.operations.replay(jobID: nil).isEmpty)
        #expect(try await h.queue.parked(stage: .script, limit: 10).count == 3)
        await h.close()
    }

    @Test(arguments: Backend.usable)
    func aHeldLeaseMakesTheDeliveryWaitNotRunTwice(_ backend: Backend) async throws {
        let h = try await backend.harness(leaseSeconds: 1).prepared()
        let s = try await h.operations.submit(idea: "why leaves change colour")
        // Another worker claimed the script stage and then died. Its lease is held until the delivery has been seen
        // waiting for it; then it is let go (as when the lease runs out), however slow the machine.
        _ = try await h.store.claim(jobID: s.jobID, stage: .script, owner: "dead-worker", until: Date().addingTimeInterval(3600), now: Date())
        h.start()
        #expect(await eventually(timeout: .seconds(60)) { h.events.all.contains(.leaseHeld(jobID: s.jobID, stage: .script)) })
        #expect(h.executor(.script).calls(for: s.ideaID) == 0, "nothing ran while the lease was held")
        try await h.store.release(jobID: s.jobID, stage: .script, owner: "dead-worker")
        _ = try await h.waitForStatus(s.ideaID, .completed)
        await h.stop()
        #expect(h.executor(.script).calls(for: s.ideaID) == 1)
        #expect(h.events.all.contains(.leaseHeld(jobID: s.jobID, stage: .script)))
        await h.close()
    }

    @Test(arguments: Backend.usable)
    func aJobWhoseVideoExistsCompletesWithoutWork(_ backend: Backend) async throws {
        let h = try await backend.harness().prepared()
        h.start()
        let s = try await h.operations.submit(idea: "why zebras have stripes")
        _ = try await h.waitForStatus(s.ideaID, .completed)
        let before = h.executors.map(\.totalCalls)
        try await h.queue.publish(JobMessage(jobID: s.jobID, ideaID: s.ideaID, stage: .script), to: .script)
        try await Task.sleep(for: .milliseconds(300))
        await h.stop()
        #expect(h.executors.map(\.totalCalls) == before)
        #expect(h.events.all.contains(.skipped(jobID: s.jobID, stage: .script)))
        await h.close()
    }

    @Test(arguments: Backend.usable)
    func retryFromAStageRunsThatStageAndLaterOnesOnly(_ backend: Backend) async throws {
        let h = try await backend.harness().prepared()
        h.start()
        let s = try await h.operations.submit(idea: "how tides work")
        _ = try await h.waitForStatus(s.ideaID, .completed)
        let nothingToDo = try await h.operations.retry(ideaID: s.ideaID)
        #expect(nothingToDo == nil)
        let restarted = try await h.operations.retry(ideaID: s.ideaID, from: .audio)
        #expect(restarted == .audio)
        #expect(await eventually { h.executor(.video).calls(for: s.ideaID) == 2 })
        _ = try await h.waitForStatus(s.ideaID, .completed)
        await h.stop()
        #expect(h.executor(.script).calls(for: s.ideaID) == 1 && h.executor(.adapt).calls(for: s.ideaID) == 1)
        #expect(h.executor(.audio).calls(for: s.ideaID) == 2)
        await h.close()
    }

    @Test(arguments: Backend.usable)
    func messagesCanCreateTheirJob(_ backend: Backend) async throws {
        let h = try await backend.harness().prepared()
        h.start()
        try await h.queue.publish(JobMessage(jobID: "job_ext1", ideaID: "idea_ext1", stage: .script,
                                             newIdea: .init(text: "how owls see at night", language: "en", targetSeconds: 15,
                                                            background: "media:owl.jpg")), to: .script)
        let idea = try await h.waitForStatus("idea_ext1", .completed)
        await h.stop()
        #expect(idea.idea == "how owls see at night" && idea.targetSeconds == 15)
        #expect(idea.background == "media:owl.jpg", "the asked background is kept with the idea")
        await h.close()
    }

    @Test(arguments: Backend.usable)
    func crashLoopsAreParkedNotRetriedForever(_ backend: Backend) async throws {
        let h = try await backend.harness(failpoints: "audio=crash", crashTimes: 1000, leaseSeconds: 1, crashLimit: 3).prepared()
        h.start()
        let s = try await h.operations.submit(idea: "why the crash loops")
        let idea = try await h.waitForStatus(s.ideaID, .failed)
        await h.stop()
        #expect(idea.lastSuccessfulStep == .scriptAdapted)
        #expect(idea.errors.last?.kind == "crash_loop")
        let parked = try await h.queue.parked(stage: .audio, limit: 10)
        #expect(parked.count == 1 && parked.first?.reasonKind == "crash_loop")
        await h.close()
    }

    @Test(arguments: Backend.usable)
    func fuzzedAndOversizedBodiesAreParkedWhileTheWorkerKeepsServing(_ backend: Backend) async throws {
        let h = try await backend.harness().prepared()
        h.start()
        var rng = SystemRandomNumberGenerator()
        let valid = Array(#"{"version":1,"job_id":"job_fz","idea_id":"idea_fz","stage":"script"}"#.utf8)
        var bodies: [[UInt8]] = []
        for i in 0..<60 {
            if i % 2 == 0 {
                var b = valid
                for _ in 0..<Int.random(in: 1...6, using: &rng) { b[Int.random(in: 0..<b.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
                bodies.append(b)
            } else {
                bodies.append((0..<Int.random(in: 0...200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
            }
        }
        bodies.append([UInt8](repeating: 0x7B, count: 1_000_000))  // far over the frame size and the body limit
        for b in bodies {
            if let q = h.queue as? MemoryWorkQueue { await q.publishRaw(b, to: .script) }
            if let q = h.queue as? RabbitMQWorkQueue { try await q.publishRaw(b, to: .script) }
        }
        let s = try await h.operations.submit(idea: "how fuzzing finds bugs")
        _ = try await h.waitForStatus(s.ideaID, .completed)
        let parkedAll = try await eventually(timeout: .seconds(30)) { try await h.queue.parked(stage: .script, limit: 1000).count == bodies.count }
        await h.stop()
        #expect(parkedAll, "every bad body is parked with its reason")
        let parked = try await h.queue.parked(stage: .script, limit: 1000)
        #expect(parked.allSatisfy { $0.reasonKind == "poison" && !$0.reason.isEmpty })
        #expect(parked.contains { $0.reason.contains("over the 65536-byte limit") })
        await h.close()
    }
}
