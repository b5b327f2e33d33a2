import Foundation

/// What `reelforge providers` shows of each provider: its configured limits, the fleet's shared state (effective
/// rate and concurrency, slots in use, pause, circuit) and what the cost ledger says was spent today (UTC).
public struct ProviderReport: Sendable, Encodable, Hashable {
    public var provider: String
    public var limits: String?
    public var effectiveRPS: Double?
    public var effectiveConcurrency: Int?
    public var rateFactor: Double
    public var slotsInUse: Int
    public var circuit: String
    public var blocked: String?
    public var calls: Int
    public var throttledCalls: Int
    public var failedCalls: Int
    public var probes: Int
    public var circuitOpened: Int
    public var spendTodayUSD: Double

    enum CodingKeys: String, CodingKey {
        case provider, limits, effectiveRPS = "effective_rps", effectiveConcurrency = "effective_concurrency", rateFactor = "rate_factor"
        case slotsInUse = "slots_in_use", circuit, blocked, calls, throttledCalls = "throttled_calls", failedCalls = "failed_calls", probes
        case circuitOpened = "circuit_opened", spendTodayUSD = "spend_today_usd"
    }

    /// Midnight (UTC) of the day of `now`: where "today" starts for the spend.
    static func startOfDay(_ now: Date) -> Date {
        Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400)
    }

    /// The provider whose quota a ledger entry was paid under: `openai:gpt-4o-mini`, `openai-tts` and
    /// `images:gpt-image-1` are OpenAI's; `anthropic:…` Anthropic's; other names as they are.
    public static func key(ofLedger provider: String) -> String {
        let name = provider.split(separator: ":", maxSplits: 1).first.map { $0.lowercased() } ?? provider.lowercased()
        switch name {
        case "openai-tts", "images": return "openai"
        default: return name
        }
    }

    /// One row per provider key that is configured, has shared state, or spent today.
    public static func rows(limits: ProviderLimits, states: [ProviderState], ideas: [IdeaRecord], now: Date) -> [ProviderReport] {
        let startOfDay = Self.startOfDay(now)
        var spend: [String: Double] = [:]
        for idea in ideas { for c in idea.costs where c.at >= startOfDay && c.costUSD > 0 { spend[key(ofLedger: c.provider), default: 0] += c.costUSD } }
        let byKey = Dictionary(states.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        let keys = Set(limits.limits.keys).union(byKey.keys).union(spend.keys).sorted()
        return keys.map { key in
            let s = byKey[key] ?? ProviderState(key: key, now: now)
            // This process's configuration, else the one the fleet's workers stored (the CLI may have none).
            let configured = limits.limits[key] ?? s.configured.flatMap { try? ProviderLimits(parsing: "\(key):\($0)").limits[key] }
            let limit = configured ?? .unconfigured(key)
            return ProviderReport(provider: key, limits: configured?.summary, effectiveRPS: s.rate(limit), effectiveConcurrency: s.concurrency(limit),
                                  rateFactor: s.factor, slotsInUse: s.slotsInUse(now: now), circuit: s.circuit.rawValue, blocked: s.blocked(now: now),
                                  calls: s.calls, throttledCalls: s.throttledCalls, failedCalls: s.failedCalls, probes: s.probes,
                                  circuitOpened: s.opened, spendTodayUSD: spend[key] ?? 0)
        }
    }

    /// The ideas whose ledgers may hold today's spend: those updated today, newest first, read by pages (at most
    /// `cap` ideas).
    public static func ideasUpdatedToday(in store: any JobStore, now: Date, cap: Int = 20_000) async throws -> [IdeaRecord] {
        let startOfDay = Self.startOfDay(now)
        var out: [IdeaRecord] = [], cursor: IdeaQuery.Cursor?, read = 0
        while read < cap {
            let page = try await store.ideas(IdeaQuery(after: cursor, limit: 500))
            read += page.count
            out += page.filter { $0.updatedAt >= startOfDay }
            guard let last = page.last, page.count == 500 else { break }
            cursor = IdeaQuery.Cursor(createdAt: last.createdAt, id: last.id)
        }
        return out
    }
}
