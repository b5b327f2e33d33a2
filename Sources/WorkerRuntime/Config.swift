import Foundation
import Logging
import Shared

/// Everything a worker or the CLI reads from its environment, with defaults, and the executors of the stages it
/// runs (each made by its stage's module from the same environment). Read once at start.
public struct ReelForgeConfig: Sendable {
    public var amqpURL: String
    public var amqpCACert: String?
    public var mongoURI: String
    public var prefix: String
    public var concurrency: Int
    public var retry: RetryPolicy
    public var deliveryLimit: Int
    public var leaseDuration: Duration
    public var stageTimeouts: StageTimeouts = .defaults
    /// The fleet's shared provider limits (`REELFORGE_PROVIDER_LIMITS`).
    public var providerLimits: ProviderLimits = .none
    /// How long a provider call waits in the worker for its limit before its run goes back to the queue.
    public var providerWait: Duration = .seconds(10)
    public var failpoints: Failpoints
    public var failpointsText: String
    public var workerID: String
    public var workDir: URL
    public var logFormat: LogFormat
    public var logLevel: String
    public var shutdownGrace: Duration
    /// Port of /healthz, /readyz and /metrics (0: any free port; nil: off).
    public var httpPort: Int?
    /// Whether REELFORGE_HTTP_PORT set the port: then a busy port is fatal; the default (9090) gives way to any
    /// free port, so that several workers run on one host.
    public var httpPortIsSet: Bool
    /// The environment (secret files read), for the stage modules.
    public var settings: SettingsReader
    /// The executors of the stages this process runs, and their settings as logged at start.
    public var executors: [any StageExecutor] = []
    public var stageSummaries: [String] = []

    public enum LogFormat: String, Sendable { case text, json }

    /// The probes server's port: nil when off.
    public var probePort: ProbePort? {
        httpPort.map { httpPortIsSet ? .fixed($0) : .preferred($0) }
    }

    /// The variables of every process; each stage module adds its own (`variables(with:)`).
    public static let variables: [StageModule.Variable] = [
        ("AMQP_URL", "RabbitMQ URL, amqp:// or amqps:// (default amqp://guest:guest@localhost:5672/)"),
        ("AMQP_URL_FILE", "a file holding AMQP_URL (container secrets); used when AMQP_URL is unset"),
        ("AMQP_CA_CERT", "CA bundle for amqps:// (default: the system bundle)"),
        ("MONGODB_URI", "MongoDB URI; its path names the database (default mongodb://localhost:27017/reelforge)"),
        ("MONGODB_URI_FILE", "a file holding MONGODB_URI (container secrets); used when MONGODB_URI is unset"),
        ("REELFORGE_HTTP_PORT", "port of /healthz, /readyz and /metrics for workers (default 9090, or any free port when 9090 is taken; a port set here must be free; 0: any free port; 'off' disables)"),
        ("REELFORGE_QUEUE_PREFIX", "prefix of every exchange and queue (default reelforge)"),
        ("REELFORGE_PREFETCH", "deliveries a worker handles at once (default 1)"),
        ("REELFORGE_RETRY_DELAYS", "backoff levels, e.g. 10s,1m,5m (default)"),
        ("REELFORGE_RETRY_JITTER", "spread of each delay, 0 to 0.9 (default 0.2)"),
        ("REELFORGE_MAX_RETRIES", "retries per stage after the first attempt (default 3)"),
        ("REELFORGE_DELIVERY_LIMIT", "deliveries of one message before the broker parks it (default 10)"),
        ("REELFORGE_LEASE_SECONDS", "stage lease, renewed while the stage runs (default 60)"),
        (ProviderLimits.variable, "shared provider limits for the whole fleet, e.g. openai:rps=5,concurrent=2;elevenlabs:concurrent=3,units_per_minute=40000 (settings rps, rpm, units_per_minute, concurrent, failures, cooldown; docs/providers.md); every provider gets the 429 pause and the circuit breaker"),
        ("REELFORGE_PROVIDER_WAIT", "how long a provider call waits in the worker for its limit, pause or circuit before its job goes back through a delay queue without spending an attempt (default 10s)"),
        (StageTimeouts.variable, "wall-clock limit of one stage run, stage=seconds pairs (default script=300,adapt=120,audio=1800,video=3600); past it the run is stopped and retried"),
        ("REELFORGE_FAILPOINTS", "injected failures, e.g. video=2,audio=fatal,script=crash (off)"),
        ("REELFORGE_WORKER_ID", "this worker's name in leases and logs, unique per process (default host-pid-random)"),
        ("REELFORGE_WORK_DIR", "scratch folder for stage files (default the system temp folder)"),
        ("REELFORGE_LOG_FORMAT", "text or json (default text)"),
        ("REELFORGE_LOG_LEVEL", "trace, debug, info, notice, warning, error (default info)"),
        ("REELFORGE_SHUTDOWN_GRACE_SECONDS", "how long SIGTERM waits for in-flight work (default 120)"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "OpenTelemetry collector base URL: spans are sent to it over OTLP/HTTP as JSON, to /v1/traces (off)"),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "the full URL of the collector's traces endpoint, instead of the one above"),
        ("OTEL_SERVICE_NAME", "service name of the exported spans (default the executable's name)"),
        ("OTEL_BSP_SCHEDULE_DELAY", "milliseconds between two span exports (default 1000)"),
    ]

    /// The variables of a process that runs these stages: every process's, then each module's, each named once.
    public static func variables(with modules: [StageModule]) -> [StageModule.Variable] {
        StageModule.unique([variables] + modules.map(\.variables))
    }

    /// `modules`: the stages this process runs; each makes its executor from the same environment, so that a bad
    /// value of any of them stops the process at start.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment,
                                       modules: [StageModule] = []) throws -> ReelForgeConfig {
        let settings = SettingsReader(try withSecretFiles(environment))
        func int(_ name: String, _ d: Int, _ range: ClosedRange<Int>) throws -> Int { try settings.integer(name, d, range) }
        let failText = settings.environment["REELFORGE_FAILPOINTS"] ?? ""
        var config = ReelForgeConfig(
            amqpURL: settings.text("AMQP_URL", default: "amqp://guest:guest@localhost:5672/"),
            amqpCACert: settings.environment["AMQP_CA_CERT"],
            mongoURI: settings.text("MONGODB_URI", default: "mongodb://localhost:27017/reelforge"),
            prefix: settings.text("REELFORGE_QUEUE_PREFIX", default: "reelforge"),
            concurrency: try int("REELFORGE_PREFETCH", 1, 1...64),
            retry: try retryPolicy(settings),
            deliveryLimit: try int("REELFORGE_DELIVERY_LIMIT", 10, 2...1000),
            leaseDuration: .seconds(try int("REELFORGE_LEASE_SECONDS", 60, 2...86_400)),
            failpoints: try Failpoints(parsing: failText),
            failpointsText: failText,
            workerID: settings.text("REELFORGE_WORKER_ID") ?? defaultWorkerID(),
            workDir: URL(fileURLWithPath: settings.text("REELFORGE_WORK_DIR")
                         ?? FileManager.default.temporaryDirectory.appendingPathComponent("reelforge-work").path),
            logFormat: LogFormat(rawValue: settings.environment["REELFORGE_LOG_FORMAT"] ?? "text") ?? .text,
            logLevel: settings.environment["REELFORGE_LOG_LEVEL"] ?? "info",
            shutdownGrace: .seconds(try int("REELFORGE_SHUTDOWN_GRACE_SECONDS", 120, 0...86_400)),
            httpPort: settings.environment["REELFORGE_HTTP_PORT"] == "off" ? nil : try int("REELFORGE_HTTP_PORT", 9090, 0...65535),
            httpPortIsSet: settings.text("REELFORGE_HTTP_PORT") != nil,
            settings: settings)
        if let text = settings.text(StageTimeouts.variable) { config.stageTimeouts = try StageTimeouts(parsing: text) }
        if let text = settings.text(ProviderLimits.variable) { config.providerLimits = try ProviderLimits(parsing: text) }
        if let text = settings.text("REELFORGE_PROVIDER_WAIT") {
            let d = try RetryPolicy.parseDuration(text, name: "REELFORGE_PROVIDER_WAIT")
            guard d <= .seconds(600) else { throw ConfigError.invalid("REELFORGE_PROVIDER_WAIT", "must be at most 10m") }
            config.providerWait = d
        }
        Redactor.shared.registerPassword(ofURI: config.amqpURL)
        Redactor.shared.registerPassword(ofURI: config.mongoURI)
        guard config.prefix.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) else {
            throw ConfigError.invalid("REELFORGE_QUEUE_PREFIX", "may hold letters, digits, '.', '-' and '_' only")
        }
        for module in modules {
            let built = try module.make(settings)
            config.executors.append(built.executor)
            config.stageSummaries.append(built.summary)
        }
        return config
    }

    /// This process's name in leases and logs: host, pid and a random suffix.
    static func defaultWorkerID() -> String {
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "host"
        return "\(host)-\(getpid())-\(Identifier.make("w").dropFirst(2).prefix(6))"
    }

    /// REELFORGE_RETRY_DELAYS, REELFORGE_RETRY_JITTER and REELFORGE_MAX_RETRIES.
    static func retryPolicy(_ settings: SettingsReader) throws -> RetryPolicy {
        let delays = try RetryPolicy.parseDelays(settings.environment["REELFORGE_RETRY_DELAYS"] ?? "10s,1m,5m")
        let jitter = try settings.number("REELFORGE_RETRY_JITTER", 0.2, 0...0.9)
        return RetryPolicy(delays: delays, maxRetries: try settings.integer("REELFORGE_MAX_RETRIES", 3, 0...100), jitter: jitter,
                           jitterBuckets: jitter == 0 ? 1 : 3)
    }

    /// `NAME_FILE` names a file whose content is NAME's value (Docker and Kubernetes secrets), for the variables
    /// that carry secrets. The value is registered with the Redactor so it never reaches a log line.
    public static func withSecretFiles(_ env: [String: String]) throws -> [String: String] {
        var out = env
        for (name, path) in env where name.hasSuffix("_FILE") && (name.hasPrefix("AMQP_") || name.hasPrefix("MONGODB_") || name.hasSuffix("_API_KEY_FILE")
                                                                  || name == "REELFORGE_WEBHOOK_SECRET_FILE") {
            let base = String(name.dropLast("_FILE".count))
            if let v = env[base], !v.isEmpty { continue }
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw ConfigError.invalid(name, "names a file that cannot be read (\(SafeName.file(URL(fileURLWithPath: path).lastPathComponent)))")
            }
            let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
            out[base] = value
            Redactor.shared.register(value)
        }
        return out
    }

    /// The settings as printed at start, secrets redacted.
    public var summary: String {
        let r = Redactor.shared
        return [
            "amqp=\(r.redact(amqpURL))", "mongodb=\(r.redact(mongoURI))", "prefix=\(prefix)", "prefetch=\(concurrency)",
            "retry_delays=\(retry.delays.map(\.compact).joined(separator: ","))", "max_retries=\(retry.maxRetries)",
            "jitter=\(retry.jitter)", "delivery_limit=\(deliveryLimit)", "lease=\(leaseDuration.compact)",
            "failpoints=\(failpointsText.isEmpty ? "off" : failpointsText)", "worker_id=\(workerID)",
            "provider_limits=\(providerLimits.limits.isEmpty ? "none" : providerLimits.limits.values.sorted { $0.key < $1.key }.map { "\($0.key):\($0.summary)" }.joined(separator: ";"))",
        ].joined(separator: " ") + stageSummaries.map { " " + $0 }.joined()
    }

    /// The runner's settings, its provider calls governed by the shared limits kept in `providerStates`.
    public func runnerSettings(workerID: String? = nil, providerStates: any ProviderStates, logger: Logger,
                               observe: @escaping @Sendable (ProviderGovernor.Observation) -> Void = { _ in }) -> RunnerSettings {
        let id = workerID ?? self.workerID
        return RunnerSettings(workerID: id, retry: retry, failpoints: failpoints, leaseDuration: leaseDuration,
                              workRoot: workDir, stageTimeouts: stageTimeouts,
                              governor: ProviderGovernor(states: providerStates, limits: providerLimits, owner: id, maxWait: providerWait,
                                                         logger: logger, observe: observe))
    }
}
