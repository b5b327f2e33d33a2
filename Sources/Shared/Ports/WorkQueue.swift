import Foundation

/// One message received from a stage queue, not yet acknowledged.
public struct Delivery: Sendable {
    public var body: [UInt8]
    /// String-valued headers (ours, plus the broker's `x-delivery-count` and `x-first-death-reason`).
    public var headers: [String: String]
    /// The stage whose queue delivered it.
    public var queueStage: Stage
    /// The class of the stage's queue that delivered it (`Priority`).
    public var queuePriority: Priority
    public var redelivered: Bool
    /// Opaque to callers: identifies the delivery to the source that produced it.
    public var tag: UInt64
    public var generation: UInt64

    public init(body: [UInt8], headers: [String: String], queueStage: Stage, queuePriority: Priority = .normal, redelivered: Bool,
                tag: UInt64, generation: UInt64) {
        self.body = body; self.headers = headers; self.queueStage = queueStage; self.queuePriority = queuePriority
        self.redelivered = redelivered; self.tag = tag; self.generation = generation
    }

    public var deliveryCount: Int { headers["x-delivery-count"].flatMap(Int.init) ?? (redelivered ? 1 : 0) }
}

/// A message in a parking (dead-letter) queue, with why it is there.
public struct ParkedMessage: Sendable, Hashable {
    public var stage: Stage
    public var body: [UInt8]
    public var headers: [String: String]
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
    public var jobID: String? { headers[MessageHeader.jobID] }
    /// Our reason, or the broker's for messages it dead-lettered itself (the newest death, e.g. `delivery_limit`).
    public var reason: String {
        headers[MessageHeader.reason] ?? brokerReason.map { "broker: \($0) (a worker stopped while holding it, again and again)" } ?? "unknown"
    }
    public var reasonKind: String { headers[MessageHeader.reasonKind] ?? brokerReason ?? "unknown" }
    var brokerReason: String? { headers["x-death-reason"] ?? headers["x-first-death-reason"] }

    public init(stage: Stage, body: [UInt8], headers: [String: String]) {
        self.stage = stage; self.body = body; self.headers = headers
    }
}

/// Errors any queue backend may report.
public enum QueueError: Error, Sendable, CustomStringConvertible {
    case connection(String)
    case unroutable(String)
    case nacked(String)
    case staleDelivery
    case closed

    public var description: String {
        switch self {
        case .connection(let s): return "broker connection: \(s)"
        case .unroutable(let s): return "message was returned as unroutable: \(s)"
        case .nacked(let s): return "broker refused the message: \(s)"
        case .staleDelivery: return "delivery belongs to a closed connection (the broker redelivers it)"
        case .closed: return "queue is closed"
        }
    }
}

/// Where a job's messages go: stage queues, per-stage delay queues that route back to the same stage,
/// and per-stage parking queues. Every publish is durable and confirmed before it returns.
public protocol WorkQueue: Sendable {
    /// Declares exchanges and queues (idempotent).
    func declareTopology() async throws
    /// A cheap check that throws when the broker cannot be used now or a consumer has lost its connection
    /// (readiness probes). In-memory queues are always there.
    func ping() async throws
    /// Publishes to `stage`'s work queue of the message's class (`JobMessage.priority`).
    func publish(_ message: JobMessage, to stage: Stage) async throws
    /// Publishes to `stage`'s delay queue for `delay` (a value of the retry policy's `allDelays`); it comes back
    /// to `stage`'s work queue when the delay ends.
    func publishDelayed(_ message: JobMessage, stage: Stage, delay: Duration) async throws
    /// Publishes raw bytes to `stage`'s parking queue with the reason in headers.
    func park(body: [UInt8], headers: [String: String], stage: Stage, reasonKind: String, reason: String) async throws
    /// Starts consuming the queues of `stages`, every class of each, taking from the classes in proportion
    /// (`PriorityTurns`).
    func consume(stages: [Stage], prefetch: Int) async throws -> any DeliverySource

    /// Reads parked messages without removing them.
    func parked(stage: Stage?, limit: Int) async throws -> [ParkedMessage]
    /// Removes the parked messages `matching` selects, each only after `handler` succeeded for it. Returns the count.
    func takeParked(stage: Stage?, matching: @escaping @Sendable (ParkedMessage) -> Bool,
                    handler: @escaping @Sendable (ParkedMessage) async throws -> Void) async throws -> Int
    /// Message counts: ready messages in each stage queue and parking queue.
    func depths() async throws -> [String: Int]
    func close() async
}

extension WorkQueue {
    public func ping() async throws {}
}

/// A running consumer.
public protocol DeliverySource: Sendable {
    /// The next delivery; waits for one. Nil once `stop()` was called.
    func next() async throws -> Delivery?
    /// Acknowledges: the broker forgets the message.
    func ack(_ delivery: Delivery) async throws
    /// Gives the message back to the broker unacknowledged, as a crash would.
    func abandon(_ delivery: Delivery) async
    /// Stops receiving; deliveries not acknowledged go back to the queue.
    func stop() async
}
