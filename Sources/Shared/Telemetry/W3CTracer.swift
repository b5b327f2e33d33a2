import Foundation
import Synchronization
import Tracing
import W3CTraceContext

/// ReelForge's tracer: spans with W3C ids (a 16-byte trace id, 8-byte span ids), propagated as the `traceparent`
/// and `tracestate` headers of the W3C Trace Context standard, and handed to an exporter when they end (OTLP in
/// the executables when configured, a `SpanRecorder` in tests, nothing otherwise). Without an exporter spans
/// still give the logs their `trace_id` and `span_id`, so one video's lines can be found across the workers.
public struct W3CTracer: Tracer {
    public let exporter: (any SpanExporter)?

    public init(exporter: (any SpanExporter)? = nil) { self.exporter = exporter }

    public func startSpan<Instant: TracerInstant>(
        _ operationName: String, context: @autoclosure () -> ServiceContext, ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant, function: String, file fileID: String, line: UInt
    ) -> W3CSpan {
        var context = context()
        let parent = context.traceContext
        let own = TraceContext(traceID: parent?.traceID ?? .random(), spanID: .random(),
                               flags: parent?.flags ?? .sampled, state: parent?.state ?? TraceState())
        context.traceContext = own
        return W3CSpan(name: operationName, kind: kind, context: context, parentSpanID: parent?.spanID,
                       start: instant().nanosecondsSinceEpoch, exporter: exporter)
    }

    public func forceFlush() { exporter?.flush() }

    public func inject<Carrier, Inject: Injector>(_ context: ServiceContext, into carrier: inout Carrier, using injector: Inject)
        where Inject.Carrier == Carrier {
        guard let trace = context.traceContext else { return }
        injector.inject(trace.traceParentHeaderValue, forKey: TraceHeader.traceparent, into: &carrier)
        if let state = trace.traceStateHeaderValue, !state.isEmpty {
            injector.inject(state, forKey: TraceHeader.tracestate, into: &carrier)
        }
    }

    /// A malformed `traceparent` is ignored (the W3C rule): the receiver starts a new trace instead of failing.
    public func extract<Carrier, Extract: Extractor>(_ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract)
        where Extract.Carrier == Carrier {
        guard let parent = extractor.extract(key: TraceHeader.traceparent, from: carrier) else { return }
        let state = extractor.extract(key: TraceHeader.tracestate, from: carrier)
        if let trace = try? TraceContext(traceParentHeaderValue: parent, traceStateHeaderValue: state) {
            context.traceContext = trace
        } else if let trace = try? TraceContext(traceParentHeaderValue: parent) {
            context.traceContext = trace   // a bad tracestate alone is dropped
        }
    }
}

/// A span of `W3CTracer`. Mutable parts sit behind a lock: a span may be touched from several tasks.
public final class W3CSpan: Span {
    public let context: ServiceContext
    let kind: SpanKind
    let parentSpanID: SpanID?
    let start: UInt64
    let exporter: (any SpanExporter)?
    private let state: Mutex<State>

    struct State {
        var name: String
        var attributes: SpanAttributes = [:]
        var status: SpanStatus?
        var events: [SpanEvent] = []
        var links: [SpanLink] = []
        var ended = false
    }

    init(name: String, kind: SpanKind, context: ServiceContext, parentSpanID: SpanID?, start: UInt64, exporter: (any SpanExporter)?) {
        self.context = context; self.kind = kind; self.parentSpanID = parentSpanID; self.start = start
        self.exporter = exporter; self.state = Mutex(State(name: name))
    }

    public var operationName: String {
        get { state.withLock { $0.name } }
        set { state.withLock { $0.name = newValue } }
    }

    public var attributes: SpanAttributes {
        get { state.withLock { $0.attributes } }
        set { state.withLock { $0.attributes = newValue } }
    }

    public var isRecording: Bool { !state.withLock { $0.ended } }

    public func setStatus(_ status: SpanStatus) { state.withLock { $0.status = status } }
    public func addEvent(_ event: SpanEvent) { state.withLock { $0.events.append(event) } }
    public func addLink(_ link: SpanLink) { state.withLock { $0.links.append(link) } }

    /// Errors are recorded as `exception` events, redacted (an error may quote a URL with a key in it).
    public func recordError<Instant: TracerInstant>(_ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant) {
        var attrs = attributes
        attrs["exception.type"] = "\(type(of: error))"
        attrs["exception.message"] = Redactor.shared.redact("\(error)")
        addEvent(SpanEvent(name: "exception", at: instant(), attributes: attrs))
    }

    public func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        let finished: State? = state.withLock { s in
            if s.ended { return nil }
            s.ended = true
            return s
        }
        guard let finished, let trace = context.traceContext else { return }
        exporter?.export(FinishedSpan(
            name: finished.name, kind: kind, traceID: trace.traceID, spanID: trace.spanID, parentSpanID: parentSpanID,
            startNanos: start, endNanos: instant().nanosecondsSinceEpoch, attributes: finished.attributes,
            status: finished.status, events: finished.events))
    }
}

/// The W3C context of the current span in a `ServiceContext`.
enum TraceContextKey: ServiceContextKey {
    typealias Value = TraceContext
    static var nameOverride: String? { "w3c-trace-context" }
}

extension ServiceContext {
    public var traceContext: TraceContext? {
        get { self[TraceContextKey.self] }
        set { self[TraceContextKey.self] = newValue }
    }
}
