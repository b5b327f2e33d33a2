import Foundation
import Logging
import Shared
import Synchronization

/// Names of ReelForge's exchanges and queues under a prefix (default `reelforge`).
public struct Topology: Sendable, Hashable {
    public var prefix: String
    public var retry: RetryPolicy
    /// Deliveries of one message before a stage queue parks it (crash loops).
    public var deliveryLimit: Int

    public init(prefix: String = "reelforge", retry: RetryPolicy = RetryPolicy(), deliveryLimit: Int = 10) {
        self.prefix = prefix; self.retry = retry; self.deliveryLimit = deliveryLimit
    }

    public var workExchange: String { "\(prefix).work" }
    public var delayExchange: String { "\(prefix).delay" }
    public var parkedExchange: String { "\(prefix).parked" }
    public func queue(_ s: Stage) -> String { "\(prefix).\(s.rawValue)" }
    /// The stage's queue of a class: `reelforge.video` (normal), `reelforge.video.high`, `reelforge.video.bulk`.
    public func queue(_ s: Stage, _ p: Priority) -> String { p == .normal ? queue(s) : "\(prefix).\(s.rawValue).\(p.rawValue)" }
    /// The work exchange's routing key of a stage's class queue.
    public func workKey(_ s: Stage, _ p: Priority) -> String { p == .normal ? s.rawValue : "\(s.rawValue).\(p.rawValue)" }
    public func parkedQueue(_ s: Stage) -> String { "\(prefix).\(s.rawValue).parked" }
    public func delayQueue(_ s: Stage, _ d: Duration) -> String { "\(prefix).\(s.rawValue).delay.\(d.milliseconds)ms" }
    public func delayKey(_ s: Stage, _ d: Duration) -> String { "\(s.rawValue).\(d.milliseconds)ms" }
    /// High-priority messages wait in delay queues of their own, which return them to the stage's high queue (a
    /// delay queue's way back is fixed by its arguments). Bulk ones share the normal delay queues: they come back to
    /// the normal queue and are moved down to the bulk queue at once, which costs no one anything.
    public func delayQueue(_ s: Stage, _ d: Duration, _ p: Priority) -> String {
        p == .high ? "\(prefix).\(s.rawValue).high.delay.\(d.milliseconds)ms" : delayQueue(s, d)
    }
    public func delayKey(_ s: Stage, _ d: Duration, _ p: Priority) -> String {
        p == .high ? "\(s.rawValue).high.\(d.milliseconds)ms" : delayKey(s, d)
    }
    /// The classes with delay queues of their own.
    static let delayClasses: [Priority] = [.normal, .high]

    /// Every queue, for listings and tests.
    public var allQueues: [String] {
        Stage.allCases.flatMap { s in
            Priority.allCases.map { queue(s, $0) } + [parkedQueue(s)] + Self.delayClasses.flatMap { p in retry.allDelays.map { delayQueue(s, $0, p) } }
        }
    }

    /// Declares everything; safe to run any number of times with the same settings.
    func declare(on conn: AMQPConnection) throws {
        for x in [workExchange, delayExchange, parkedExchange] { try conn.declareExchange(x) }
        let quorum: [(String, AMQPField)] = [("x-queue-type", .string("quorum"))]
        let safeDeadLettering: [(String, AMQPField)] = [
            ("x-dead-letter-strategy", .string("at-least-once")), ("x-overflow", .string("reject-publish")),
        ]
        for s in Stage.allCases {
            try conn.declareQueue(parkedQueue(s), arguments: quorum)
            try conn.bind(queue: parkedQueue(s), exchange: parkedExchange, key: s.rawValue)
            for p in Priority.allCases {
                try conn.declareQueue(queue(s, p), arguments: quorum + safeDeadLettering + [
                    ("x-delivery-limit", .int(Int64(deliveryLimit))),
                    ("x-dead-letter-exchange", .string(parkedExchange)),
                    ("x-dead-letter-routing-key", .string(s.rawValue)),
                ])
                try conn.bind(queue: queue(s, p), exchange: workExchange, key: workKey(s, p))
            }
            for p in Self.delayClasses {
                for d in retry.allDelays {
                    try conn.declareQueue(delayQueue(s, d, p), arguments: quorum + safeDeadLettering + [
                        ("x-message-ttl", .int(d.milliseconds)),
                        ("x-dead-letter-exchange", .string(workExchange)),
                        ("x-dead-letter-routing-key", .string(workKey(s, p))),
                    ])
                    try conn.bind(queue: delayQueue(s, d, p), exchange: delayExchange, key: delayKey(s, d, p))
                }
            }
        }
    }
}

/// The WorkQueue on RabbitMQ through librabbitmq: quorum stage queues with a delivery limit, fixed-TTL delay
/// queues per stage that dead-letter back to that stage, parking queues; persistent messages, publisher
/// confirms with `mandatory`, manual acknowledgements.
public final class RabbitMQWorkQueue: WorkQueue {
    public let topology: Topology
    let endpoint: AMQPEndpoint
    let logger: Logger
    let codec = JobMessageCodec()
    private let publisher: AMQPLink
    /// The consumers' links, for `ping` (weak: a consumer's life is its DeliverySource's).
    private let consumers = Mutex<[WeakLink]>([])

    public init(url: String, topology: Topology, logger: Logger, caCertPath: String? = nil) throws {
        self.endpoint = try AMQPEndpoint(url: url, caCertPath: caCertPath)
        self.topology = topology
        self.logger = logger
        self.publisher = AMQPLink(endpoint: endpoint, name: "publisher", consumer: false, logger: logger) { _ in }
    }

    public func declareTopology() async throws {
        let t = topology
        try await publisher.perform { conn in try t.declare(on: conn) }
    }

    /// A passive declare of the first stage queue (one broker round trip on the publisher's connection) and
    /// every consumer's connection open.
    public func ping() async throws {
        let queue = topology.queue(Stage.allCases[0])
        _ = try await publisher.perform { conn in try conn.queueDepth(queue) }
        let down = consumers.withLock { links in
            links.removeAll { $0.link == nil }
            return links.compactMap(\.link).filter { !$0.isConnected }.count
        }
        if down > 0 { throw QueueError.connection("a consumer is not connected to \(endpoint.host):\(endpoint.port)") }
    }

    public func publish(_ message: JobMessage, to stage: Stage) async throws {
        let (body, headers) = codec.encode(message)
        try await publish(exchange: topology.workExchange, key: topology.workKey(stage, message.priority), body: body, headers: headers)
    }

    /// Publishes bytes as they are to a stage's work queue, as any AMQP producer could (tests of bad input).
    public func publishRaw(_ body: [UInt8], headers: [String: String] = [:], to stage: Stage) async throws {
        try await publish(exchange: topology.workExchange, key: stage.rawValue, body: body, headers: headers)
    }

    public func publishDelayed(_ message: JobMessage, stage: Stage, delay: Duration) async throws {
        let (body, headers) = codec.encode(message)
        let chosen = topology.retry.allDelays.first(where: { $0 >= delay }) ?? topology.retry.allDelays.last!
        try await publish(exchange: topology.delayExchange, key: topology.delayKey(stage, chosen, message.priority), body: body, headers: headers)
    }

    public func park(body: [UInt8], headers: [String: String], stage: Stage, reasonKind: String, reason: String) async throws {
        var h = headers
        h[MessageHeader.reason] = reason
        h[MessageHeader.reasonKind] = reasonKind
        try await publish(exchange: topology.parkedExchange, key: stage.rawValue, body: body, headers: h)
    }

    private func publish(exchange: String, key: String, body: [UInt8], headers: [String: String]) async throws {
        try await publisher.perform { conn in
            try conn.publishConfirmed(exchange: exchange, routingKey: key, body: body, headers: headers)
        }
    }

    public func consume(stages: [Stage], prefetch: Int) async throws -> any DeliverySource {
        let t = topology
        var keys: [String: (stage: Stage, priority: Priority)] = [:]
        for s in stages { for p in Priority.allCases { keys[t.queue(s, p)] = (s, p) } }
        let link = AMQPLink(endpoint: endpoint, name: "consumer-" + stages.map(\.rawValue).joined(separator: "+"),
                            consumer: true, stageOfQueue: keys, logger: logger) { conn in
            try t.declare(on: conn)
            try conn.qos(prefetch: max(1, prefetch))
            for s in stages { for p in Priority.allCases { try conn.consume(queue: t.queue(s, p)) } }
        }
        consumers.withLock { $0.append(WeakLink(link: link)) }
        return RabbitMQDeliverySource(link: link)
    }

    // MARK: Dead letters

    public func parked(stage: Stage?, limit: Int) async throws -> [ParkedMessage] {
        try await withBrowser { link, t in
            try await link.perform { conn -> [ParkedMessage] in
                var out: [ParkedMessage] = []
                for s in Stage.allCases where stage == nil || s == stage {
                    while out.count < limit, let r = try conn.get(queue: t.parkedQueue(s)) {
                        out.append(ParkedMessage(stage: s, body: r.body, headers: r.headers))
                    }
                }
                try conn.reopenChannel()  // every message read goes back, in order
                return out
            }
        }
    }

    public func takeParked(stage: Stage?, matching: @escaping @Sendable (ParkedMessage) -> Bool,
                           handler: @escaping @Sendable (ParkedMessage) async throws -> Void) async throws -> Int {
        try await withBrowser { link, t in
            let all = try await link.perform { conn -> [(UInt64, ParkedMessage)] in
                var out: [(UInt64, ParkedMessage)] = []
                for s in Stage.allCases where stage == nil || s == stage {
                    while let r = try conn.get(queue: t.parkedQueue(s)) {
                        out.append((r.deliveryTag, ParkedMessage(stage: s, body: r.body, headers: r.headers)))
                    }
                }
                return out
            }
            var taken = 0
            do {
                for (tag, message) in all where matching(message) {
                    try await handler(message)
                    try await link.perform { conn in try conn.ack(tag) }
                    taken += 1
                }
            } catch {
                try? await link.perform { conn in try conn.reopenChannel() }
                throw error
            }
            try await link.perform { conn in try conn.reopenChannel() }
            return taken
        }
    }

    /// Removes every parked message of `stage` (all stages when nil). Returns how many.
    public func purgeParked(stage: Stage?) async throws -> Int {
        let t = topology
        return try await publisher.perform { conn in
            try Stage.allCases.filter { stage == nil || $0 == stage }.reduce(0) { $0 + (try conn.purge(queue: t.parkedQueue($1))) }
        }
    }

    public func depths() async throws -> [String: Int] {
        let t = topology
        return try await publisher.perform { conn in
            var d: [String: Int] = [:]
            for s in Stage.allCases {
                // The stage's total, and each class apart from normal (`video.high`, `video.bulk`).
                var total = 0
                for p in Priority.allCases {
                    let n = try conn.queueDepth(t.queue(s, p)) ?? 0
                    total += n
                    if p != .normal { d["\(s.rawValue).\(p.rawValue)"] = n }
                }
                d[s.rawValue] = total
                d["\(s.rawValue).parked"] = try conn.queueDepth(t.parkedQueue(s)) ?? 0
                d["\(s.rawValue).delayed"] = try Topology.delayClasses.reduce(0) { sum, p in
                    try t.retry.allDelays.reduce(sum) { $0 + (try conn.queueDepth(t.delayQueue(s, $1, p)) ?? 0) }
                }
            }
            return d
        }
    }

    /// Deletes every queue and exchange of the topology (tests).
    public func deleteTopology() async throws {
        let t = topology
        try await publisher.perform { conn in
            for q in t.allQueues { try conn.deleteQueue(q) }
            for x in [t.workExchange, t.delayExchange, t.parkedExchange] { try conn.deleteExchange(x) }
        }
    }

    private func withBrowser<T: Sendable>(_ body: (AMQPLink, Topology) async throws -> T) async throws -> T {
        let link = AMQPLink(endpoint: endpoint, name: "browser", consumer: false, logger: logger) { _ in }
        do {
            let result = try await body(link, topology)
            await link.shutdown()
            return result
        } catch {
            await link.shutdown()
            throw error
        }
    }

    public func close() async {
        await publisher.shutdown()
    }
}

struct WeakLink: Sendable {
    weak var link: AMQPLink?
}

final class RabbitMQDeliverySource: DeliverySource {
    let link: AMQPLink
    init(link: AMQPLink) { self.link = link }

    func next() async throws -> Delivery? { await link.nextDelivery() }

    func ack(_ delivery: Delivery) async throws {
        try await link.perform(generation: delivery.generation) { conn in try conn.ack(delivery.tag) }
    }

    func abandon(_ delivery: Delivery) async {
        try? await link.perform(generation: delivery.generation) { conn in try conn.reject(delivery.tag, requeue: true) }
    }

    func stop() async {
        await link.stopConsuming()
    }

    deinit { link.requestShutdown() }
}
