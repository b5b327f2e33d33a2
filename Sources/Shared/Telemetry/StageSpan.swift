import Tracing

/// The `stage <name>` span around one delivery: the child of the producer's span named by the delivery's
/// `traceparent`, with the attributes `stage`, `job_id`, `idea_id`, `attempt` and `outcome`.
enum StageSpan {
    /// The stage span of the delivery this task handles, for the runner's events to describe.
    @TaskLocal static var current: (any Span)?

    static func around(_ delivery: Delivery, _ body: () async -> Void) async {
        var parent = ServiceContext.current ?? .topLevel
        InstrumentationSystem.instrument.extract(delivery.headers, into: &parent, using: HeaderExtractor())
        await withSpan("stage \(delivery.queueStage.rawValue)", context: parent, ofKind: .consumer) { span in
            span.attributes["stage"] = delivery.queueStage.rawValue
            span.attributes["delivery_count"] = delivery.deliveryCount
            await $current.withValue(span) { await body() }
        }
    }

    static func describe(_ message: JobMessage) {
        guard let span = current else { return }
        span.attributes["job_id"] = message.jobID
        span.attributes["idea_id"] = message.ideaID
        span.attributes["attempt"] = message.attempt
    }

    static func outcome(_ outcome: String, failure: String? = nil) {
        guard let span = current else { return }
        span.attributes["outcome"] = outcome
        if let failure { span.setStatus(SpanStatus(code: .error, message: failure)) }
    }

    /// What a runner event says about the delivery's outcome; the last one wins (video: succeeded, then completed).
    static func note(_ event: RunnerEvent) {
        switch event {
        case .succeeded: outcome("succeeded")
        case .completed: outcome("completed")
        case .skipped: outcome("skipped")
        case .leaseHeld: outcome("lease_held")
        case .cancelled: outcome("cancelled")
        case .retryScheduled(_, _, _, _, let reason): outcome("retry", failure: reason)
        case .parked(_, _, let kind, let reason): outcome("parked", failure: "\(kind): \(reason)")
        case .started, .credits, .progress: break
        }
    }
}
