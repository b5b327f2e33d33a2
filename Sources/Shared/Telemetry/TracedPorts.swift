import Foundation
import Tracing

/// Runs `body` in a child span of the current one; an error it throws is recorded on the span and rethrown.
/// The tracer is the one active for the task (`withTracer`, or the bootstrapped one): no-op when none is.
@inline(__always)
func traced<T: Sendable>(_ name: String, kind: SpanKind = .client, stage: Stage? = nil,
                         _ body: () async throws -> T) async throws -> T {
    try await withSpan(name, ofKind: kind) { span in
        if let stage { span.attributes["stage"] = stage.rawValue }
        return try await body()
    }
}

/// A WorkQueue whose publishes are `publish <stage>` producer spans, with the span's W3C context written into the
/// message's `traceparent`/`tracestate` headers: the consumer's stage span becomes its child, on any worker.
public struct TracingWorkQueue: WorkQueue {
    public let base: any WorkQueue

    public init(_ base: any WorkQueue) { self.base = base }

    public func declareTopology() async throws { try await base.declareTopology() }
    public func ping() async throws { try await base.ping() }

    public func publish(_ message: JobMessage, to stage: Stage) async throws {
        try await withSpan("publish \(stage.rawValue)", ofKind: .producer) { span in
            span.attributes["stage"] = stage.rawValue
            span.attributes["job_id"] = message.jobID
            try await base.publish(Self.carrying(message), to: stage)
        }
    }

    public func publishDelayed(_ message: JobMessage, stage: Stage, delay: Duration) async throws {
        try await withSpan("publish \(stage.rawValue) delayed", ofKind: .producer) { span in
            span.attributes["stage"] = stage.rawValue
            span.attributes["job_id"] = message.jobID
            span.attributes["delay_ms"] = Int64(delay.seconds * 1000)
            try await base.publishDelayed(Self.carrying(message), stage: stage, delay: delay)
        }
    }

    /// Parked messages keep the headers they came with (the producer's trace context among them).
    public func park(body: [UInt8], headers: [String: String], stage: Stage, reasonKind: String, reason: String) async throws {
        try await traced("park \(stage.rawValue)", kind: .producer, stage: stage) {
            try await base.park(body: body, headers: headers, stage: stage, reasonKind: reasonKind, reason: reason)
        }
    }

    public func consume(stages: [Stage], prefetch: Int) async throws -> any DeliverySource {
        try await base.consume(stages: stages, prefetch: prefetch)
    }

    public func parked(stage: Stage?, limit: Int) async throws -> [ParkedMessage] { try await base.parked(stage: stage, limit: limit) }

    public func takeParked(stage: Stage?, matching: @escaping @Sendable (ParkedMessage) -> Bool,
                           handler: @escaping @Sendable (ParkedMessage) async throws -> Void) async throws -> Int {
        try await base.takeParked(stage: stage, matching: matching, handler: handler)
    }

    public func depths() async throws -> [String: Int] { try await base.depths() }
    public func close() async { await base.close() }

    /// The message with the current span's context in its trace headers (none when tracing is off).
    static func carrying(_ message: JobMessage) -> JobMessage {
        var m = message
        m.traceHeaders = [:]
        InstrumentationSystem.instrument.inject(ServiceContext.current ?? .topLevel, into: &m.traceHeaders, using: HeaderInjector())
        return m
    }
}

/// A JobStore whose calls are `store <operation>` client spans.
public struct TracingJobStore: JobStore {
    public let base: any JobStore

    public init(_ base: any JobStore) { self.base = base }

    public func prepare() async throws { try await base.prepare() }
    public func ping() async throws { try await base.ping() }

    public func create(idea: IdeaRecord, job: JobRecord) async throws -> Bool {
        try await traced("store create") { try await base.create(idea: idea, job: job) }
    }

    public func idea(_ id: String) async throws -> IdeaRecord? { try await traced("store idea") { try await base.idea(id) } }
    public func job(_ id: String) async throws -> JobRecord? { try await traced("store job") { try await base.job(id) } }
    public func ideas(limit: Int) async throws -> [IdeaRecord] { try await base.ideas(limit: limit) }
    public func jobs(ideaID: String) async throws -> [JobRecord] { try await base.jobs(ideaID: ideaID) }

    public func claim(jobID: String, stage: Stage, owner: String, until: Date, now: Date) async throws -> ClaimResult {
        try await traced("store claim", stage: stage) { try await base.claim(jobID: jobID, stage: stage, owner: owner, until: until, now: now) }
    }

    public func renew(jobID: String, stage: Stage, owner: String, until: Date) async throws -> Bool {
        try await traced("store renew", stage: stage) { try await base.renew(jobID: jobID, stage: stage, owner: owner, until: until) }
    }

    public func checkpoint(_ write: CheckpointWrite) async throws -> Bool {
        try await traced("store checkpoint", stage: write.stage) { try await base.checkpoint(write) }
    }

    public func recordFailure(jobID: String, ideaID: String, _ entry: ErrorEntry, owner: String, final: Bool, retrying: Bool) async throws {
        try await traced("store recordFailure") {
            try await base.recordFailure(jobID: jobID, ideaID: ideaID, entry, owner: owner, final: final, retrying: retrying)
        }
    }

    public func release(jobID: String, stage: Stage, owner: String) async throws {
        try await traced("store release", stage: stage) { try await base.release(jobID: jobID, stage: stage, owner: owner) }
    }

    public func markDispatched(jobID: String, stage: Stage) async throws {
        try await traced("store markDispatched", stage: stage) { try await base.markDispatched(jobID: jobID, stage: stage) }
    }

    public func markCompleted(jobID: String, ideaID: String, at: Date) async throws {
        try await traced("store markCompleted") { try await base.markCompleted(jobID: jobID, ideaID: ideaID, at: at) }
    }

    public func reopen(jobID: String, ideaID: String, stage: Stage, at: Date) async throws {
        try await traced("store reopen", stage: stage) { try await base.reopen(jobID: jobID, ideaID: ideaID, stage: stage, at: at) }
    }

    public func cancel(jobID: String, at: Date) async throws -> Bool {
        try await traced("store cancel") { try await base.cancel(jobID: jobID, at: at) }
    }
    public func ideas(_ query: IdeaQuery) async throws -> [IdeaRecord] { try await base.ideas(query) }
    public func webhooksDue(limit: Int) async throws -> [IdeaRecord] { try await base.webhooksDue(limit: limit) }
    public func updateWebhook(ideaID: String, from rev: Int, to state: WebhookState) async throws -> Bool {
        try await traced("store webhook") { try await base.updateWebhook(ideaID: ideaID, from: rev, to: state) }
    }
    public func edit(ideaID: String, _ edits: IdeaEdits, at: Date) async throws {
        try await traced("store edit") { try await base.edit(ideaID: ideaID, edits, at: at) }
    }
    public func rewind(ideaID: String, toBefore stage: Stage, at: Date) async throws {
        try await traced("store rewind", stage: stage) { try await base.rewind(ideaID: ideaID, toBefore: stage, at: at) }
    }
}

/// An ArtifactStore whose calls are `artifacts <operation>` client spans.
public struct TracingArtifactStore: ArtifactStore {
    public let base: any ArtifactStore

    public init(_ base: any ArtifactStore) { self.base = base }

    public func put(id: String, name: String, contentType: String, from file: URL) async throws -> ArtifactRef {
        try await traced("artifacts put") { try await base.put(id: id, name: name, contentType: contentType, from: file) }
    }

    public func get(id: String, to file: URL) async throws { try await traced("artifacts get") { try await base.get(id: id, to: file) } }
    public func delete(id: String) async throws { try await traced("artifacts delete") { try await base.delete(id: id) } }
    public func list(_ scope: ArtifactScope) async throws -> [String] { try await base.list(scope) }
}
