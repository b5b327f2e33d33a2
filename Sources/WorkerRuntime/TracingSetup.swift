import Foundation
import Logging
import Shared
import Synchronization
import Tracing

/// Bootstraps tracing once for an executable: `W3CTracer` always (spans give the logs `trace_id` and `span_id`
/// and carry the trace context between the workers), exporting over OTLP/HTTP only when
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (a full URL) or `OTEL_EXPORTER_OTLP_ENDPOINT` (a base URL: `/v1/traces` is
/// appended) is set. Off by default. See docs/tracing.md.
public enum TracingSetup {
    private static let exporter = Mutex<OTLPHTTPExporter?>(nil)
    /// `InstrumentationSystem.bootstrap` may run once per process; a worker started again in the same process
    /// (tests) only swaps the exporter.
    private static let bootstrapped = Mutex(false)

    /// Forwards to the exporter of the latest `bootstrap`.
    struct Current: SpanExporter {
        func export(_ span: FinishedSpan) { TracingSetup.exporter.withLock { $0 }?.export(span) }
    }

    /// The collector URL the environment names, or nil (tracing exports nothing).
    public static func endpoint(_ environment: [String: String]) -> URL? {
        if let full = environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"], !full.isEmpty { return URL(string: full) }
        guard let base = environment["OTEL_EXPORTER_OTLP_ENDPOINT"], !base.isEmpty else { return nil }
        return URL(string: base.hasSuffix("/") ? base + "v1/traces" : base + "/v1/traces")
    }

    public static func bootstrap(service: String, logger: Logger,
                                 environment: [String: String] = ProcessInfo.processInfo.environment) {
        var otlp: OTLPHTTPExporter?
        if let url = endpoint(environment) {
            let name = environment["OTEL_SERVICE_NAME"].flatMap { $0.isEmpty ? nil : $0 } ?? service
            let interval = environment["OTEL_BSP_SCHEDULE_DELAY"].flatMap(Int64.init).map { Duration.milliseconds($0) } ?? .seconds(1)
            otlp = OTLPHTTPExporter(url: url, service: name, interval: interval, logger: logger)
            logger.info("exporting spans over OTLP/HTTP (JSON) to \(Redactor.shared.redact(url.absoluteString)) as \(name)")
        }
        exporter.withLock { $0 = otlp }
        let first = bootstrapped.withLock { done in defer { done = true }; return !done }
        if first { InstrumentationSystem.bootstrap(W3CTracer(exporter: Current())) }
    }

    /// Sends the spans still waiting; called once before the process exits.
    public static func shutdown() async {
        let otlp = exporter.withLock { e in defer { e = nil }; return e }
        await otlp?.shutdown()
    }
}
