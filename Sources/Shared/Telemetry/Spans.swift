import Logging
import Synchronization
import Tracing
import W3CTraceContext

/// A span that ended, as exporters and tests see it.
public struct FinishedSpan: Sendable {
    public var name: String
    public var kind: SpanKind
    public var traceID: TraceID
    public var spanID: SpanID
    public var parentSpanID: SpanID?
    public var startNanos: UInt64
    public var endNanos: UInt64
    public var attributes: SpanAttributes
    public var status: SpanStatus?
    public var events: [SpanEvent]

    public func attribute(_ key: String) -> SpanAttribute? {
        var value: SpanAttribute?
        attributes.forEach { k, v in if k == key { value = v } }
        return value
    }

    /// A string attribute's value (nil when absent or of another type).
    public func string(_ key: String) -> String? {
        if case .string(let s)? = attribute(key) { return s }
        return nil
    }
}

/// Where ended spans go. `export` must not block: exporters queue and send in batches.
public protocol SpanExporter: Sendable {
    func export(_ span: FinishedSpan)
    func flush()
}

extension SpanExporter {
    public func flush() {}
}

/// Keeps every ended span in memory: the exporter of the tests.
public final class SpanRecorder: SpanExporter {
    private let spans = Mutex<[FinishedSpan]>([])

    public init() {}

    public func export(_ span: FinishedSpan) { spans.withLock { $0.append(span) } }

    public var finished: [FinishedSpan] { spans.withLock { $0 } }
}

/// Writes and reads trace context in a message's string headers.
public struct HeaderInjector: Injector {
    public init() {}
    public func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
}

public struct HeaderExtractor: Extractor {
    public init() {}
    public func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
}

extension Logger {
    /// Adds `trace_id` and `span_id` of the current span (when it has W3C ids) to the log metadata.
    public mutating func addTraceIDs(_ context: ServiceContext? = .current) {
        guard let trace = context?.traceContext else { return }
        self[metadataKey: "trace_id"] = "\(trace.traceID)"
        self[metadataKey: "span_id"] = "\(trace.spanID)"
    }
}
