import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import Shared
import Synchronization
import Tracing

/// Sends ended spans to an OpenTelemetry collector over OTLP/HTTP with the JSON encoding (`POST …/v1/traces`,
/// `Content-Type: application/json`), in batches, every `interval`.
/// At most `bufferLimit` spans wait; beyond that the oldest are dropped and counted (a collector that is down
/// never grows the worker's memory). A failed send is logged (the first, then every tenth) and dropped.
public final class OTLPHTTPExporter: SpanExporter {
    public let url: URL
    let service: String
    let interval: Duration
    let bufferLimit: Int
    let logger: Logger
    private let state = Mutex(State())
    private let sender: Mutex<Task<Void, Never>?> = Mutex(nil)

    struct State {
        var waiting: [FinishedSpan] = []
        var dropped = 0
        var failures = 0
    }

    public init(url: URL, service: String, interval: Duration = .seconds(1), bufferLimit: Int = 4096, logger: Logger) {
        self.url = url; self.service = service; self.interval = interval
        self.bufferLimit = bufferLimit; self.logger = logger
        let task = Task { [weak self] in if let self { await self.sendLoop() } }
        sender.withLock { $0 = task }
    }

    public func export(_ span: FinishedSpan) {
        state.withLock { s in
            s.waiting.append(span)
            if s.waiting.count > bufferLimit { s.waiting.removeFirst(); s.dropped += 1 }
        }
    }

    /// Sends what waits and stops the sender; called once when the process stops.
    public func shutdown() async {
        let task = sender.withLock { t in defer { t = nil }; return t }
        task?.cancel()
        await task?.value
        await sendWaiting()
    }

    private func sendLoop() async {
        while true {
            try? await Task.sleep(for: interval)
            // Once cancelled, `shutdown` sends what waits (a request from a cancelled task would fail at once).
            if Task.isCancelled { return }
            await sendWaiting()
        }
    }

    private func sendWaiting() async {
        let batch = state.withLock { s in defer { s.waiting = [] }; return s.waiting }
        guard !batch.isEmpty else { return }
        var request = URLRequest(url: url, timeoutInterval: 10)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(OTLPJSON.traces(batch, service: service).jsonText.utf8)
        let status: Int
        do {
            // Detached, so that stopping the process never cancels a request in flight: cancelling a URLSession task
            // as it completes trips swift-corelibs-foundation's task registry (a fatal error seen in the chaos drill).
            let prepared = request
            let (_, response) = try await Task.detached { try await URLSession.shared.data(for: prepared) }.value
            status = (response as? HTTPURLResponse)?.statusCode ?? 0
        } catch {
            status = 0
        }
        guard !(200..<300).contains(status) else { return }
        let (failures, overflow) = state.withLock { s in s.failures += 1; return (s.failures, s.dropped) }
        if failures == 1 || failures % 10 == 0 {
            logger.warning("the trace collector at \(Redactor.shared.redact(url.absoluteString)) did not take \(batch.count) spans (HTTP \(status)); dropped (failure \(failures); \(overflow) more dropped so far while the buffer was full)")
        }
    }
}

/// The OTLP/JSON shape of spans (opentelemetry-proto `ExportTraceServiceRequest`, ids as hex, 64-bit numbers as
/// strings, kinds and status codes as their enum numbers).
public enum OTLPJSON {
    public static func traces(_ spans: [FinishedSpan], service: String) -> JSONValue {
        let resource: JSONValue = .object(["attributes": .array([attribute("service.name", .string(service))])])
        let scope: JSONValue = .object(["scope": .object(["name": .string("reelforge")]), "spans": .array(spans.map(span))])
        return .object(["resourceSpans": .array([.object(["resource": resource, "scopeSpans": .array([scope])])])])
    }

    static func span(_ s: FinishedSpan) -> JSONValue {
        var o: [String: JSONValue] = [
            "traceId": .string("\(s.traceID)"), "spanId": .string("\(s.spanID)"), "name": .string(s.name),
            "kind": .int(kind(s.kind)), "startTimeUnixNano": .string("\(s.startNanos)"), "endTimeUnixNano": .string("\(s.endNanos)"),
            "attributes": .array(attributes(s.attributes)),
            "events": .array(s.events.map { e in
                .object(["name": .string(e.name), "timeUnixNano": .string("\(e.nanosecondsSinceEpoch)"),
                         "attributes": .array(attributes(e.attributes))])
            }),
        ]
        if let parent = s.parentSpanID { o["parentSpanId"] = .string("\(parent)") }
        if let status = s.status {
            o["status"] = .object(["code": .int(status.code == .ok ? 1 : 2), "message": .string(status.message ?? "")])
        }
        return .object(o)
    }

    static func kind(_ k: SpanKind) -> Int64 {
        switch k {
        case .internal: 1
        case .server: 2
        case .client: 3
        case .producer: 4
        case .consumer: 5
        }
    }

    static func attributes(_ a: SpanAttributes) -> [JSONValue] {
        var list: [JSONValue] = []
        a.forEach { key, value in
            let v: JSONValue = switch value {
            case .int32(let i): .object(["intValue": .string("\(i)")])
            case .int64(let i): .object(["intValue": .string("\(i)")])
            case .double(let d): .object(["doubleValue": .double(d)])
            case .bool(let b): .object(["boolValue": .bool(b)])
            case .string(let s): .object(["stringValue": .string(s)])
            default: .object(["stringValue": .string("\(value)")])
            }
            list.append(attribute(key, v, wrapped: true))
        }
        return list.sorted { ($0["key"]?.stringValue ?? "") < ($1["key"]?.stringValue ?? "") }
    }

    static func attribute(_ key: String, _ value: JSONValue, wrapped: Bool = false) -> JSONValue {
        .object(["key": .string(key), "value": wrapped ? value : .object(["stringValue": value])])
    }
}
