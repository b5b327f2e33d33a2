import Foundation

/// Exponential backoff over fixed delay levels with jitter, and a retry budget per stage.
///
/// Delays are served by delay queues whose TTL is fixed (a per-message TTL blocks at the head of a queue), so
/// jitter is made of buckets: each level has `jitterBuckets` queues spread over ±`jitter` of its delay, and a retry
/// picks one at random.
public struct RetryPolicy: Sendable, Hashable {
    public var delays: [Duration]
    public var maxRetries: Int
    public var jitter: Double
    public var jitterBuckets: Int

    public init(delays: [Duration] = [.seconds(10), .seconds(60), .seconds(300)], maxRetries: Int = 3,
                jitter: Double = 0.2, jitterBuckets: Int = 3) {
        precondition(!delays.isEmpty, "at least one retry delay")
        self.delays = delays; self.maxRetries = max(0, maxRetries)
        self.jitter = min(max(jitter, 0), 0.9); self.jitterBuckets = max(1, jitterBuckets)
    }

    public enum Decision: Sendable, Hashable {
        case retry(nextAttempt: Int, after: Duration)
        case park(reasonKind: String)
    }

    /// What to do after attempt `attempt` (1-based) of a stage failed with `failure`.
    public func decide(_ failure: StageFailure, attempt: Int, random: Double = Double.random(in: 0..<1)) -> Decision {
        switch failure.kind {
        case .permanent:
            return .park(reasonKind: "permanent")
        case .throttled(let wait):
            // Not a failure of the attempt: the same attempt goes again after the wait (StageDecision.failed).
            return .retry(nextAttempt: attempt, after: delay(afterAttempt: 1, retryAfter: wait, random: random))
        case .transient(let retryAfter):
            guard attempt <= maxRetries else { return .park(reasonKind: "exhausted") }
            return .retry(nextAttempt: attempt + 1, after: delay(afterAttempt: attempt, retryAfter: retryAfter, random: random))
        }
    }

    /// The delay before retry number `attempt` (1 after the first failure), as one of `allDelays`.
    public func delay(afterAttempt attempt: Int, retryAfter: Duration? = nil, random: Double) -> Duration {
        let level = min(max(attempt - 1, 0), delays.count - 1)
        let bucket = min(Int(random * Double(jitterBuckets)), jitterBuckets - 1)
        var chosen = bucketDelay(level: level, bucket: bucket)
        if let retryAfter, retryAfter > chosen {
            // Honour Retry-After: the shortest delay queue that waits at least that long (or the longest).
            chosen = allDelays.first(where: { $0 >= retryAfter }) ?? allDelays.last!
        }
        return chosen
    }

    /// Every distinct delay a retry may use, ascending: one delay queue per value and stage.
    public var allDelays: [Duration] {
        var set = Set<Duration>()
        for level in delays.indices { for b in 0..<jitterBuckets { set.insert(bucketDelay(level: level, bucket: b)) } }
        return set.sorted()
    }

    private func bucketDelay(level: Int, bucket: Int) -> Duration {
        let base = delays[level].milliseconds
        let factor = jitterBuckets == 1 ? 1 : (1 - jitter) + 2 * jitter * Double(bucket) / Double(jitterBuckets - 1)
        return .milliseconds(max(1, Int64((Double(base) * factor).rounded())))
    }

    /// Parses `10s,1m,5m` (units ms, s, m, h; a bare number is seconds).
    public static func parseDelays(_ text: String) throws -> [Duration] {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !parts.isEmpty else { throw ConfigError.invalid("REELFORGE_RETRY_DELAYS", "is empty") }
        return try parts.map { try parseDuration($0, name: "REELFORGE_RETRY_DELAYS") }
    }

    public static func parseDuration(_ p: String, name: String) throws -> Duration {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, scale) in units where p.hasSuffix(suffix) {
            if let v = Double(p.dropLast(suffix.count)), v > 0 { return .milliseconds(Int64(v * scale * 1000)) }
        }
        if let v = Double(p), v > 0 { return .milliseconds(Int64(v * 1000)) }
        throw ConfigError.invalid(name, "'\(p)' is not a duration like 500ms, 10s, 1m or 2h")
    }
}

extension Duration {
    public var milliseconds: Int64 {
        let (s, a) = components
        return s * 1000 + a / 1_000_000_000_000_000
    }
    public var seconds: Double { Double(milliseconds) / 1000 }

    /// `10s`, `1m`, `1.5s`, `250ms`.
    public var compact: String {
        let ms = milliseconds
        if ms % 60_000 == 0 { return "\(ms / 60_000)m" }
        if ms % 1000 == 0 { return "\(ms / 1000)s" }
        if ms >= 1000 { return String(format: "%.1fs", Double(ms) / 1000) }
        return "\(ms)ms"
    }
}
