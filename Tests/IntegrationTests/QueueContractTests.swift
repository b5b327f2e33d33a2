import Foundation
import RabbitMQBroker
import ReelForgeTestKit
import Shared
import Testing

/// The WorkQueue contract, written once and run against the memory queue and RabbitMQ.
enum QueueContract {
    static let codec = JobMessageCodec()

    /// The next delivery, or nil after `timeout`.
    static func next(_ source: any DeliverySource, timeout: Duration = .seconds(20)) async throws -> Delivery? {
        try await withThrowingTaskGroup(of: Delivery?.self) { group in
            group.addTask { try await source.next() }
            group.addTask { try await Task.sleep(for: timeout); return nil }
            let first = try await group.next() ?? nil
            group.cancelAll()
            if first == nil { await source.stop() }
            return first
        }
    }

    static func publishConsumeAck(_ queue: any WorkQueue) async throws {
        try await queue.declareTopology()
        try await queue.declareTopology()  // idempotent
        let m = JobMessage(jobID: "job_q1", ideaID: "idea_q1", stage: .audio, attempt: 2)
        try await queue.publish(m, to: .audio)
        let source = try await queue.consume(stages: [.script, .audio], prefetch: 1)
        let d = try #require(try await next(source))
        #expect(d.queueStage == .audio)
        #expect(try codec.decode(body: d.body, headers: d.headers) == m)
        try await source.ack(d)
        #expect(try await next(source, timeout: .milliseconds(500)) == nil)
        #expect(try await queue.depths()["audio"] == 0)
    }

    static func delayedMessagesReturnToTheSameStage(_ queue: any WorkQueue, delay: Duration) async throws {
        try await queue.declareTopology()
        let m = JobMessage(jobID: "job_q2", ideaID: "idea_q2", stage: .video, attempt: 3)
        let sent = ContinuousClock.now
        try await queue.publishDelayed(m, stage: .video, delay: delay)
        let source = try await queue.consume(stages: [.video], prefetch: 1)
        let d = try #require(try await next(source, timeout: .seconds(30)))
        let waited = ContinuousClock.now - sent
        #expect(waited >= delay * 0.8, "came back after \(waited), before its delay \(delay)")
        #expect(d.queueStage == .video)
        #expect(try codec.decode(body: d.body, headers: d.headers) == m)
        try await source.ack(d)
        await source.stop()
    }

    static func parkedMessagesCanBeListedAndTaken(_ queue: any WorkQueue) async throws {
        try await queue.declareTopology()
        let (body, headers) = codec.encode(JobMessage(jobID: "job_q3", ideaID: "idea_q3", stage: .audio))
        try await queue.park(body: body, headers: headers, stage: .audio, reasonKind: "permanent", reason: "HTTP 401: bad key")
        try await queue.park(body: Array("{garbage".utf8), headers: [:], stage: .script, reasonKind: "poison", reason: "not JSON")
        for _ in 0..<2 {  // listing does not consume
            let all = try await queue.parked(stage: nil, limit: 10)
            #expect(all.count == 2)
            let audio = try #require(all.first { $0.stage == .audio })
            #expect(audio.jobID == "job_q3" && audio.reasonKind == "permanent" && audio.reason == "HTTP 401: bad key")
        }
        #expect(try await queue.parked(stage: .script, limit: 10).map(\.bodyText) == ["{garbage"])
        struct Refused: Error {}
        await #expect(throws: Refused.self) {
            _ = try await queue.takeParked(stage: nil, matching: { $0.jobID == "job_q3" }, handler: { _ in throw Refused() })
        }
        #expect(try await queue.parked(stage: nil, limit: 10).count == 2)  // a failed handler keeps the message
        #expect(try await queue.takeParked(stage: nil, matching: { $0.jobID == "job_q3" }, handler: { _ in }) == 1)
        #expect(try await queue.parked(stage: nil, limit: 10).map(\.stage) == [.script])
    }

    static func abandonedMessagesComeBackThenPark(_ queue: any WorkQueue, deliveryLimit: Int) async throws {
        try await queue.declareTopology()
        try await queue.publish(JobMessage(jobID: "job_q4", ideaID: "idea_q4", stage: .script), to: .script)
        let source = try await queue.consume(stages: [.script], prefetch: 1)
        var deliveries = 0
        // The expected deliveries may be slow on a loaded machine (a consumer's connection, a quorum queue's
        // redelivery); only the one that must not come gets a short wait.
        while let d = try await next(source, timeout: deliveries <= deliveryLimit ? .seconds(30) : .seconds(3)) {
            deliveries += 1
            if deliveries > 1 { #expect(d.redelivered || d.deliveryCount > 0) }
            await source.abandon(d)
            if deliveries > deliveryLimit + 3 { break }
        }
        #expect(deliveries == deliveryLimit + 1, "a message is delivered once plus \(deliveryLimit) redeliveries")
        // Dead-lettering to the parking queue is asynchronous in the broker.
        let deadline = ContinuousClock.now + .seconds(30)
        var parked = try await queue.parked(stage: .script, limit: 10)
        while parked.isEmpty && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            parked = try await queue.parked(stage: .script, limit: 10)
        }
        #expect(parked.count == 1)
        #expect(parked.first?.reasonKind == "delivery_limit")
    }

    static func stoppedConsumersLetInFlightFinish(_ queue: any WorkQueue) async throws {
        try await queue.declareTopology()
        for i in 1...2 { try await queue.publish(JobMessage(jobID: "job_s\(i)", ideaID: "idea_s\(i)", stage: .adapt), to: .adapt) }
        let first = try await queue.consume(stages: [.adapt], prefetch: 1)
        let d = try #require(try await next(first))
        await first.stop()
        #expect(try await first.next() == nil)
        try await first.ack(d)  // the in-flight delivery is still acknowledged after stop
        let second = try await queue.consume(stages: [.adapt], prefetch: 1)
        let other = try #require(try await next(second))
        #expect(other.body != d.body)
        try await second.ack(other)
        #expect(try await next(second, timeout: .milliseconds(500)) == nil)
    }
}

@Suite("WorkQueue contract: memory")
struct MemoryQueueContractTests {
    @Test func publishConsumeAck() async throws { try await QueueContract.publishConsumeAck(MemoryWorkQueue()) }
    @Test func delayed() async throws { try await QueueContract.delayedMessagesReturnToTheSameStage(MemoryWorkQueue(), delay: .milliseconds(300)) }
    @Test func parking() async throws { try await QueueContract.parkedMessagesCanBeListedAndTaken(MemoryWorkQueue()) }
    @Test func deliveryLimit() async throws { try await QueueContract.abandonedMessagesComeBackThenPark(MemoryWorkQueue(deliveryLimit: 3), deliveryLimit: 3) }
    @Test func stop() async throws { try await QueueContract.stoppedConsumersLetInFlightFinish(MemoryWorkQueue()) }
}

@Suite("WorkQueue contract: RabbitMQ", .enabled(if: TestServices.available))
struct RabbitQueueContractTests {
    func withQueue(deliveryLimit: Int = 4, _ body: (RabbitMQWorkQueue) async throws -> Void) async throws {
        let q = try TestServices.rabbitQueue(retry: RetryPolicy(delays: [.milliseconds(300), .seconds(1)], maxRetries: 3, jitter: 0, jitterBuckets: 1),
                                             deliveryLimit: deliveryLimit)
        do { try await body(q) } catch { try? await q.deleteTopology(); await q.close(); throw error }
        try? await q.deleteTopology()
        await q.close()
    }

    @Test func publishConsumeAck() async throws { try await withQueue { try await QueueContract.publishConsumeAck($0) } }
    @Test func delayed() async throws { try await withQueue { try await QueueContract.delayedMessagesReturnToTheSameStage($0, delay: .milliseconds(300)) } }
    @Test func parking() async throws { try await withQueue { try await QueueContract.parkedMessagesCanBeListedAndTaken($0) } }
    @Test func deliveryLimit() async throws { try await withQueue(deliveryLimit: 3) { try await QueueContract.abandonedMessagesComeBackThenPark($0, deliveryLimit: 3) } }
    @Test func stop() async throws { try await withQueue { try await QueueContract.stoppedConsumersLetInFlightFinish($0) } }

    @Test func unroutablePublishesFail() async throws {
        try await withQueue { q in
            // Nothing declared under this prefix yet: the work exchange does not exist or routes nowhere.
            await #expect(throws: (any Error).self) {
                try await q.publish(JobMessage(jobID: "j", ideaID: "i", stage: .script), to: .script)
            }
        }
    }
}
