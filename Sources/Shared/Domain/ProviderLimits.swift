import Foundation

/// The configured quota of one provider, or of one model of it (`REELFORGE_PROVIDER_LIMITS`). Every process of a
/// fleet reads the same text; the state that enforces it is shared through the store (`ProviderState`).
public struct ProviderLimit: Sendable, Hashable {
    /// `openai`, or `openai/gpt-4o-mini` for one model.
    public var key: String
    /// Requests a second (`rps=5`, or `rpm=300` as 5).
    public var requestsPerSecond: Double?
    /// Units a minute: tokens, characters or images, as the provider bills (`units_per_minute=40000`).
    public var unitsPerMinute: Double?
    /// Calls in flight at once across the fleet (`concurrent=2`).
    public var concurrent: Int?
    /// Consecutive failed calls (5xx, timeouts, unreachable) across the fleet that open the circuit (`failures=5`).
    public var breakerFailures: Int
    /// How long an open circuit waits before one probe call (`cooldown=5s`); it doubles after a failed probe, up to
    /// eight times this.
    public var breakerCooldown: Duration

    public static let defaultBreakerFailures = 5
    public static let defaultBreakerCooldown = Duration.seconds(5)

    public init(key: String, requestsPerSecond: Double? = nil, unitsPerMinute: Double? = nil, concurrent: Int? = nil,
                breakerFailures: Int = defaultBreakerFailures, breakerCooldown: Duration = defaultBreakerCooldown) {
        self.key = key; self.requestsPerSecond = requestsPerSecond; self.unitsPerMinute = unitsPerMinute; self.concurrent = concurrent
        self.breakerFailures = breakerFailures; self.breakerCooldown = breakerCooldown
    }

    /// What a provider without a configured quota gets: no rate or concurrency limit, but the fleet-wide pause on a
    /// `Retry-After` and the circuit breaker.
    public static func unconfigured(_ key: String) -> ProviderLimit { ProviderLimit(key: key) }

    public var isLimited: Bool { requestsPerSecond != nil || unitsPerMinute != nil || concurrent != nil }

    /// `rps=5,concurrent=2`: the settings as they would be written.
    public var summary: String {
        var parts: [String] = []
        if let r = requestsPerSecond { parts.append("rps=\(Self.number(r))") }
        if let u = unitsPerMinute { parts.append("units_per_minute=\(Self.number(u))") }
        if let c = concurrent { parts.append("concurrent=\(c)") }
        parts.append("failures=\(breakerFailures)")
        parts.append("cooldown=\(breakerCooldown.compact)")
        return parts.joined(separator: ",")
    }

    static func number(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v) }
}

/// Every configured provider limit, parsed from `REELFORGE_PROVIDER_LIMITS`:
///
///     entry[;entry...]        entry   = provider[/model]:setting[,setting...]
///     setting = rps=N | rpm=N | units_per_minute=N | concurrent=N | failures=N | cooldown=DURATION
///
/// e.g. `openai:rps=5,concurrent=2;elevenlabs:concurrent=3,units_per_minute=40000;openai/gpt-4o:rpm=60`.
/// A model's entry applies to calls for that model; other calls of the provider use the provider's entry.
public struct ProviderLimits: Sendable, Hashable {
    public var limits: [String: ProviderLimit]

    public static let variable = "REELFORGE_PROVIDER_LIMITS"
    public static let none = ProviderLimits(limits: [:])

    public init(limits: [String: ProviderLimit]) { self.limits = limits }

    public init(parsing text: String, name: String = variable) throws {
        var limits: [String: ProviderLimit] = [:]
        let grammar = "must be provider[/model]:setting,... entries separated by ';' (settings rps, rpm, units_per_minute, concurrent, failures, cooldown), e.g. openai:rps=5,concurrent=2"
        for entry in text.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            // Model names may hold ':' and '/' (llama3:8b, meta-llama/llama-3): the settings follow the last ':'.
            guard let colon = entry.lastIndex(of: ":") else { throw ConfigError.invalid(name, "'\(entry.prefix(60))' \(grammar)") }
            let key = Self.key(String(entry[..<colon]).trimmingCharacters(in: .whitespaces))
            guard Self.isValidKey(key) else { throw ConfigError.invalid(name, "'\(key.prefix(60))' is not a provider name \(grammar)") }
            guard limits[key] == nil else { throw ConfigError.invalid(name, "names \(key) twice") }
            var limit = ProviderLimit(key: key)
            let settings = entry[entry.index(after: colon)...].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard !settings.isEmpty, settings.allSatisfy({ !$0.isEmpty }) else { throw ConfigError.invalid(name, "\(key): \(grammar)") }
            for setting in settings {
                let kv = setting.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard kv.count == 2 else { throw ConfigError.invalid(name, "\(key): '\(setting.prefix(40))' is not setting=value") }
                let value = kv[1]
                func positive(_ max: Double) throws -> Double {
                    guard let v = Double(value), v > 0, v <= max, v.isFinite else {
                        throw ConfigError.invalid(name, "\(key): \(kv[0]) must be a number above 0 and at most \(ProviderLimit.number(max))")
                    }
                    return v
                }
                switch kv[0].lowercased() {
                case "rps": limit.requestsPerSecond = try positive(10_000)
                case "rpm": limit.requestsPerSecond = try positive(600_000) / 60
                case "units_per_minute", "upm": limit.unitsPerMinute = try positive(1e12)
                case "concurrent":
                    guard let c = Int(value), (1...10_000).contains(c) else { throw ConfigError.invalid(name, "\(key): concurrent must be a whole number from 1 to 10000") }
                    limit.concurrent = c
                case "failures":
                    guard let f = Int(value), (1...1000).contains(f) else { throw ConfigError.invalid(name, "\(key): failures must be a whole number from 1 to 1000") }
                    limit.breakerFailures = f
                case "cooldown":
                    let d = try RetryPolicy.parseDuration(value, name: name)
                    guard d >= .milliseconds(100), d <= .seconds(3600) else { throw ConfigError.invalid(name, "\(key): cooldown must be from 100ms to 1h") }
                    limit.breakerCooldown = d
                default:
                    throw ConfigError.invalid(name, "\(key): unknown setting '\(kv[0].prefix(30))' (rps, rpm, units_per_minute, concurrent, failures, cooldown)")
                }
            }
            limits[key] = limit
        }
        self.limits = limits
    }

    /// The limit of a call: the model's entry, else the provider's, else an unconfigured one under the provider's name.
    public func limit(provider: String, model: String?) -> ProviderLimit {
        if let model, let l = limits[Self.key(provider + "/" + model)] { return l }
        return limits[Self.key(provider)] ?? .unconfigured(Self.key(provider))
    }

    static func key(_ text: String) -> String {
        guard let slash = text.firstIndex(of: "/") else { return text.lowercased() }
        return text[..<slash].lowercased() + text[slash...]
    }

    /// A provider name of letters, digits, '-', '_' and '.', with a model of printable characters after '/'.
    static func isValidKey(_ key: String) -> Bool {
        let parts = key.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let name = parts.first, !name.isEmpty, name.count <= 64,
              name.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0) }) else { return false }
        if parts.count == 2 {
            return !parts[1].isEmpty && parts[1].count <= 128 && parts[1].unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F }
        }
        return true
    }
}

/// One provider call to be admitted: which provider (and model), and how many billed units it will use (an
/// estimate where the answer decides, e.g. tokens of a completion).
public struct ProviderCall: Sendable, Hashable {
    public var provider: String
    public var model: String?
    public var units: Double

    public init(provider: String, model: String? = nil, units: Double = 0) {
        self.provider = provider; self.model = model; self.units = max(0, units)
    }
}
