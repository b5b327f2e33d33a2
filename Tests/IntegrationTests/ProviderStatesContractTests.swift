import Foundation
import MongoStore
import ReelForgeTestKit
import Shared
import Synchronization
import Testing

/// The one contract of `ProviderStates`, run against each backend: compare-and-set on `rev`, a faithful round trip
/// of every field, and two governors (two worker processes) sharing one store never exceeding its concurrency.
enum ProviderStatesContract {
    static func compareAndSet(_ states: any ProviderStates) async throws {
        let key = "openai/gpt-\(UUID().uuidString.prefix(6))"
        #expect(try await states.providerState(key) == nil)
        // Stores keep milliseconds: dates made of whole milliseconds come back equal.
        let base = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
        func at(_ offset: Int64) -> Date { Date(timeIntervalSince1970: Double(base + offset) / 1000) }
        let now = at(0)
        var s = ProviderState(key: key, now: now)
        s.rev = 1
        #expect(try await states.swapProviderState(s))
        #expect(try await !states.swapProviderState(s), "a second first write is refused")
        var next = s
        next.rev = 2
        next.slots = [ProviderSlot(id: "slot-1", owner: "worker-a", until: at(30_000))]
        next.nextCallAt = at(200); next.unitsPaidAt = at(1500)
        next.factor = 0.5; next.pausedUntil = at(2000); next.circuit = .halfOpen; next.failuresInARow = 4
        next.openUntil = at(5000); next.cooldownSeconds = 10; next.probe = "slot-1"
        next.calls = 7; next.throttledCalls = 2; next.failedCalls = 4; next.probes = 1; next.opened = 1
        next.configured = "rps=5,concurrent=2,failures=5,cooldown=5s"
        #expect(try await states.swapProviderState(next))
        var stale = s
        stale.rev = 2
        #expect(try await !states.swapProviderState(stale), "a write from a stale read is refused")
        #expect(try await states.providerState(key) == next)
        #expect(try await states.providerStates().contains(next))
    }

    static func sharedConcurrency(_ states: any ProviderStates) async throws {
        let limits = try ProviderLimits(parsing: "shared:concurrent=2")
        let governors = (0..<2).map { ProviderGovernor(states: states, limits: limits, owner: "w\($0)", maxWait: .seconds(120), logger: testLogger()) }
        let calls = InFlight()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<6 {
                group.addTask {
                    _ = try await governors[i % 2].perform(ProviderCall(provider: "shared"), hold: .seconds(30), {
                        calls.begin()
                        try await Task.sleep(for: .milliseconds(30))
                        calls.end()
                        return 200
                    }, classify: { _ in .answered })
                }
            }
            try await group.waitForAll()
        }
        // Never more than the shared two (how often two overlap depends on the machine's speed, so only the bound).
        #expect((1...2).contains(calls.most))
        let s = try #require(try await states.providerState("shared"))
        #expect(s.calls == 6 && s.slots.isEmpty)
    }
}

/// Calls in flight, and the most at once.
final class InFlight: Sendable {
    private let state = Mutex((now: 0, most: 0))
    func begin() { state.withLock { $0.now += 1; $0.most = max($0.most, $0.now) } }
    func end() { state.withLock { $0.now -= 1 } }
    var most: Int { state.withLock { $0.most } }
}

@Suite("ProviderStates contract: memory")
struct MemoryProviderStatesContractTests {
    @Test func compareAndSet() async throws { try await ProviderStatesContract.compareAndSet(MemoryProviderStates()) }
    @Test func sharedConcurrency() async throws { try await ProviderStatesContract.sharedConcurrency(MemoryProviderStates()) }
}

@Suite("ProviderStates contract: MongoDB", .enabled(if: TestServices.available))
struct MongoProviderStatesContractTests {
    func states() throws -> MongoProviderStates { MongoProviderStates(client: try MongoClient(uri: TestServices.freshMongoURI())) }
    @Test func compareAndSet() async throws { try await ProviderStatesContract.compareAndSet(states()) }
    // sharedConcurrency on MongoDB runs with the fleet suite (FleetLimitsTests.twoGovernorsShareOneMongoStore).
}
