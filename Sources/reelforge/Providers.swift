import ArgumentParser
import Foundation
import Shared
import WorkerRuntime

struct Providers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Each provider's shared limits, effective rate, slots in use, circuit state and spend today.",
        discussion: """
        Limits come from REELFORGE_PROVIDER_LIMITS (the same text for every process of a fleet); the state is the \
        fleet's, kept in MongoDB (provider_limits). With --home (the embedded store) limits are kept by the one \
        process that runs the pipeline, so only the configuration and today's spend are shown.
        """)
    @Flag(help: "Machine-readable output.") var json = false
    @Option(help: "Use the embedded store in this folder (as 'reelforge make --home') instead of MongoDB.") var home: String?

    func run() async throws {
        let config = try ReelForgeConfig.fromEnvironment()
        let now = Date()
        let rows: [ProviderReport]
        if let home {
            let store = try EmbeddedHome.existingStore(home)
            rows = ProviderReport.rows(limits: config.providerLimits, states: [],
                                       ideas: try await ProviderReport.ideasUpdatedToday(in: store, now: now), now: now)
        } else {
            let d = try await Distributed.connect()
            do {
                rows = ProviderReport.rows(limits: d.config.providerLimits, states: try await d.backends.providerStates.providerStates(),
                                           ideas: try await ProviderReport.ideasUpdatedToday(in: d.backends.store, now: now), now: now)
            } catch { await d.close(); throw error }
            await d.close()
        }
        if json { try printJSON(["providers": rows]); return }
        if rows.isEmpty { print("no provider limits configured (\(ProviderLimits.variable)) and no provider calls or spend yet"); return }
        for r in rows {
            let rate = r.effectiveRPS.map { String(format: "%.2f/s", $0) } ?? "unlimited"
            let conc = r.effectiveConcurrency.map { "\(r.slotsInUse)/\($0) in flight" } ?? "\(r.slotsInUse) in flight"
            print("\(r.provider)  circuit \(r.circuit)\(r.blocked.map { " (\($0))" } ?? "")")
            print("    limits \(r.limits ?? "none (429 pause and circuit breaker only)"); rate \(rate) (\(Int((r.rateFactor * 100).rounded()))% of the limit); \(conc)")
            print("    calls \(r.calls), 429s \(r.throttledCalls), failed \(r.failedCalls), probes \(r.probes), circuit opened \(r.circuitOpened) times; spent today $\(String(format: "%.4f", r.spendTodayUSD))")
        }
    }
}
