import Foundation

/// An in-process WorkQueue with the broker's semantics: stage queues, delay queues that return to the same
/// stage, parking queues, a delivery limit for messages given back too often, and redelivery of what a stopped
/// consumer did not acknowledge. Messages live as long as the process. Used by unit tests and as the reference
/// backend of the queue contract suite.
public final class MemoryWorkQueue: WorkQueue {
    let broker: MemoryBroker
    let codec = JobMessageCodec()

    public init(deliveryLimit: Int = 20) {
        broker = MemoryBroker(deliveryLimit: deliveryLimit)
    }

    public func declareTopology() async throws {}

    public func publish(_ message: JobMessage, to stage: Stage) async throws {
        let (body, headers) = codec.encode(message)
        await broker.enqueue(MemoryBroker.Lane(stage: stage, priority: message.priority), body: body, headers: headers, count: 0)
    }

    /// Publishes bytes as they are, as any producer could (tests of bad input).
    public func publishRaw(_ body: [UInt8], headers: [String: String] = [:], to stage: Stage) async {
        await broker.enqueue(MemoryBroker.Lane(stage: stage, priority: .normal), body: body, headers: headers, count: 0)
    }

    public func publishDelayed(_ message: JobMessage, stage: Stage, delay: Duration) async throws {
        let (body, headers) = codec.encode(message)
        let broker = self.broker
        Task {
            try? await Task.sleep(for: delay)
            await broker.enqueue(MemoryBroker.Lane(stage: stage, priority: message.priority), body: body, headers: headers, count: 0)
        }
    }

    public func park(body: [UInt8], headers: [String: String], stage: Stage, reasonKind: String, reason: String) async throws {
        var h = headers
        h[MessageHeader.reason] = reason
        h[MessageHeader.reasonKind] = reasonKind
        await broker.park(stage: stage, body: body, headers: h)
    }

    public func consume(stages: [Stage], prefetch: Int) async throws -> any DeliverySource {
        MemoryDeliverySource(broker: broker, consumer: await broker.addConsumer(stages: stages))
    }

    public func parked(stage: Stage?, limit: Int) async throws -> [ParkedMessage] {
        Array(await broker.parkedMessages(stage: stage).prefix(limit))
    }

    public func takeParked(stage: Stage?, matching: @escaping @Sendable (ParkedMessage) -> Bool,
                           handler: @escaping @Sendable (ParkedMessage) async throws -> Void) async throws -> Int {
        var taken = 0
        for (id, message) in await broker.parkedWithIDs(stage: stage) where matching(message) {
            try await handler(message)
            await broker.removeParked(id: id)
            taken += 1
        }
        return taken
    }

    public func depths() async throws -> [String: Int] { await broker.depths() }

    public func close() async {}
}

final class MemoryDeliverySource: DeliverySource {
    let broker: MemoryBroker
    let consumer: Int
    init(broker: MemoryBroker, consumer: Int) { self.broker = broker; self.consumer = consumer }

    func next() async throws -> Delivery? { await broker.next(consumer: consumer) }
    func ack(_ delivery: Delivery) async throws { try await broker.ack(tag: delivery.tag) }
    func abandon(_ delivery: Delivery) async { await broker.requeue(tag: delivery.tag) }
    func stop() async { await broker.stop(consumer: consumer) }
}

actor MemoryBroker {
    struct Message { var body: [UInt8]; var headers: [String: String]; var count: Int }
    struct Consumer {
        var stages: [Stage]
        var waiter: CheckedContinuation<Delivery?, Never>?
        var stopped = false
        var turns = PriorityTurns()
    }
    /// One stage's queue of one class.
    struct Lane: Hashable { var stage: Stage; var priority: Priority }

    let deliveryLimit: Int
    var ready: [Lane: [Message]] = [:]
    var unacked: [UInt64: (lane: Lane, consumer: Int, message: Message)] = [:]
    var parked: [(id: Int, stage: Stage, message: Message)] = []
    var consumers: [Int: Consumer] = [:]
    var nextTag: UInt64 = 1
    var nextID = 1

    init(deliveryLimit: Int) { self.deliveryLimit = deliveryLimit }

    func addConsumer(stages: [Stage]) -> Int {
        let id = nextID; nextID += 1
        consumers[id] = Consumer(stages: stages)
        return id
    }

    func enqueue(_ lane: Lane, body: [UInt8], headers: [String: String], count: Int) {
        ready[lane, default: []].append(Message(body: body, headers: headers, count: count))
        dispatch()
    }

    func park(stage: Stage, body: [UInt8], headers: [String: String]) {
        parked.append((nextID, stage, Message(body: body, headers: headers, count: 0)))
        nextID += 1
    }

    func next(consumer: Int) async -> Delivery? {
        guard let c = consumers[consumer], !c.stopped else { return nil }
        if let d = take(for: consumer) { return d }
        return await withCheckedContinuation { cont in
            consumers[consumer]?.waiter = cont
        }
    }

    private func take(for consumer: Int) -> Delivery? {
        guard var c = consumers[consumer] else { return nil }
        let waiting = Set(c.stages.flatMap { s in Priority.allCases.filter { ready[Lane(stage: s, priority: $0)]?.isEmpty == false } })
        guard let priority = c.turns.pick(waiting: waiting) else { return nil }
        consumers[consumer] = c
        for stage in c.stages {
            let lane = Lane(stage: stage, priority: priority)
            guard var list = ready[lane], !list.isEmpty else { continue }
            let m = list.removeFirst()
            ready[lane] = list
            let tag = nextTag; nextTag += 1
            unacked[tag] = (lane, consumer, m)
            var headers = m.headers
            if m.count > 0 { headers["x-delivery-count"] = String(m.count) }
            return Delivery(body: m.body, headers: headers, queueStage: stage, queuePriority: priority, redelivered: m.count > 0, tag: tag,
                            generation: 0)
        }
        return nil
    }

    private func dispatch() {
        for (id, c) in consumers where c.waiter != nil && !c.stopped {
            if let d = take(for: id) {
                let w = c.waiter!
                consumers[id]?.waiter = nil
                w.resume(returning: d)
            }
        }
    }

    func ack(tag: UInt64) throws {
        guard unacked.removeValue(forKey: tag) != nil else { throw QueueError.staleDelivery }
    }

    func requeue(tag: UInt64) {
        guard var entry = unacked.removeValue(forKey: tag) else { return }
        entry.message.count += 1
        if entry.message.count > deliveryLimit {
            var h = entry.message.headers
            h["x-first-death-reason"] = "delivery_limit"
            park(stage: entry.lane.stage, body: entry.message.body, headers: h)
        } else {
            // A returned message goes back to the head of its queue, as with the broker.
            ready[entry.lane, default: []].insert(entry.message, at: 0)
            dispatch()
        }
    }

    func stop(consumer: Int) {
        consumers[consumer]?.stopped = true
        if let w = consumers[consumer]?.waiter {
            consumers[consumer]?.waiter = nil
            w.resume(returning: nil)
        }
    }

    func parkedMessages(stage: Stage?) -> [ParkedMessage] {
        parkedWithIDs(stage: stage).map(\.1)
    }

    func parkedWithIDs(stage: Stage?) -> [(Int, ParkedMessage)] {
        parked.filter { stage == nil || $0.stage == stage }
            .map { ($0.id, ParkedMessage(stage: $0.stage, body: $0.message.body, headers: $0.message.headers)) }
    }

    func removeParked(id: Int) { parked.removeAll { $0.id == id } }

    func depths() -> [String: Int] {
        var d: [String: Int] = [:]
        for s in Stage.allCases {
            var total = 0
            for p in Priority.allCases {
                let n = ready[Lane(stage: s, priority: p)]?.count ?? 0
                total += n
                if p != .normal { d["\(s.rawValue).\(p.rawValue)"] = n }
            }
            d[s.rawValue] = total
            d["\(s.rawValue).parked"] = parked.filter { $0.stage == s }.count
        }
        return d
    }
}
