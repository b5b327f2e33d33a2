import Foundation
import Synchronization

/// Where the fleet's provider limits keep their shared state: one `ProviderState` per provider (or model) key,
/// changed only by compare-and-set on `rev`, so that every worker process and host sees one state (MongoDB
/// collection `provider_limits`; in memory for a single process).
public protocol ProviderStates: Sendable {
    /// The state of `key`, or nil before the first call of that provider.
    func providerState(_ key: String) async throws -> ProviderState?
    /// Stores `state` if the stored one's `rev` is `state.rev - 1` (or none is stored and `state.rev` is 1).
    /// Returns false when another writer came first: the caller reads again and decides again.
    func swapProviderState(_ state: ProviderState) async throws -> Bool
    /// Every stored state, by key.
    func providerStates() async throws -> [ProviderState]
}

/// Provider states of one process.
public final class MemoryProviderStates: ProviderStates {
    private let states = Mutex<[String: ProviderState]>([:])

    public init() {}

    public func providerState(_ key: String) async throws -> ProviderState? { states.withLock { $0[key] } }

    public func swapProviderState(_ state: ProviderState) async throws -> Bool {
        states.withLock { all in
            guard (all[state.key]?.rev ?? 0) == state.rev - 1 else { return false }
            all[state.key] = state
            return true
        }
    }

    public func providerStates() async throws -> [ProviderState] { states.withLock { $0.values.sorted { $0.key < $1.key } } }
}
