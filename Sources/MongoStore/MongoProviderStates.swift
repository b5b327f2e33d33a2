import Foundation
import Shared

/// The fleet's provider limits on MongoDB: one document per provider (or model) key in `provider_limits`,
/// `{_id: key, rev, next_call_at, units_paid_at, slots: [{id, owner, until}], factor, paused_until, circuit,
/// failures_in_a_row, open_until, cooldown_seconds, probe, calls, throttled_calls, failed_calls, probes, opened,
/// configured, updated_at}`. Every change is a compare-and-set: a `findAndModify` whose query holds the `rev` the writer read
/// (an `insert` for the first one, refused as a duplicate if another came first). Standard commands only.
public final class MongoProviderStates: ProviderStates {
    public let client: MongoClient
    let collection = "provider_limits"

    public init(client: MongoClient) { self.client = client }

    public func providerState(_ key: String) async throws -> ProviderState? {
        let reply = try await client.command(JSONValue.object([
            "find": .string(collection), "filter": ["_id": .string(key)], "limit": 1, "singleBatch": true,
        ]).jsonText)
        return reply["cursor"]?["firstBatch"]?.arrayValue?.first.flatMap(Self.state(from:))
    }

    public func swapProviderState(_ state: ProviderState) async throws -> Bool {
        let doc = Self.document(state)
        if state.rev <= 1 {
            do {
                _ = try await client.command(JSONValue.object(["insert": .string(collection), "documents": [doc]]).jsonText)
                return true
            } catch StoreError.duplicate { return false }
        }
        var fields = doc.objectValue ?? [:]
        fields["_id"] = nil
        let reply = try await client.command(JSONValue.object([
            "findAndModify": .string(collection), "query": ["_id": .string(state.key), "rev": .int(Int64(state.rev - 1))],
            "update": ["$set": .object(fields)], "new": true,
        ]).jsonText)
        guard let value = reply["value"], value != .null else { return false }
        guard value["_id"]?.stringValue == state.key else {
            throw StoreError.backend("findAndModify on \(state.key) returned another document: the server ignored the filter")
        }
        return true
    }

    public func providerStates() async throws -> [ProviderState] {
        let reply = try await client.command(JSONValue.object([
            "find": .string(collection), "filter": .object([:]), "sort": ["_id": 1], "limit": 1000, "batchSize": 1000, "singleBatch": true,
        ]).jsonText)
        return (reply["cursor"]?["firstBatch"]?.arrayValue ?? []).compactMap(Self.state(from:))
    }

    static func document(_ s: ProviderState) -> JSONValue {
        func date(_ d: Date?) -> JSONValue { d.map(EJSON.date) ?? .null }
        return [
            "_id": .string(s.key), "rev": .int(Int64(s.rev)), "next_call_at": date(s.nextCallAt), "units_paid_at": date(s.unitsPaidAt),
            "slots": .array(s.slots.map { ["id": .string($0.id), "owner": .string($0.owner), "until": EJSON.date($0.until)] }),
            "factor": .double(s.factor), "paused_until": date(s.pausedUntil), "circuit": .string(s.circuit.rawValue),
            "failures_in_a_row": .int(Int64(s.failuresInARow)), "open_until": date(s.openUntil), "cooldown_seconds": .double(s.cooldownSeconds),
            "probe": s.probe.map { .string($0) } ?? .null, "calls": .int(Int64(s.calls)), "throttled_calls": .int(Int64(s.throttledCalls)),
            "failed_calls": .int(Int64(s.failedCalls)), "probes": .int(Int64(s.probes)), "opened": .int(Int64(s.opened)),
            "configured": s.configured.map { .string($0) } ?? .null, "updated_at": EJSON.date(s.updatedAt),
        ]
    }

    static func state(from d: JSONValue) -> ProviderState? {
        guard let key = d["_id"]?.stringValue else { return nil }
        var s = ProviderState(key: key, now: EJSON.readDate(d["updated_at"]) ?? Date())
        s.rev = EJSON.int(d["rev"]) ?? 0
        s.nextCallAt = EJSON.readDate(d["next_call_at"]); s.unitsPaidAt = EJSON.readDate(d["units_paid_at"])
        s.slots = (d["slots"]?.arrayValue ?? []).compactMap { v in
            guard let id = v["id"]?.stringValue, let until = EJSON.readDate(v["until"]) else { return nil }
            return ProviderSlot(id: id, owner: v["owner"]?.stringValue ?? "", until: until)
        }
        s.factor = EJSON.double(d["factor"]) ?? 1
        s.pausedUntil = EJSON.readDate(d["paused_until"])
        s.circuit = d["circuit"]?.stringValue.flatMap(CircuitState.init(rawValue:)) ?? .closed
        s.failuresInARow = EJSON.int(d["failures_in_a_row"]) ?? 0
        s.openUntil = EJSON.readDate(d["open_until"])
        s.cooldownSeconds = EJSON.double(d["cooldown_seconds"]) ?? 0
        s.probe = d["probe"]?.stringValue
        s.calls = EJSON.int(d["calls"]) ?? 0; s.throttledCalls = EJSON.int(d["throttled_calls"]) ?? 0
        s.configured = d["configured"]?.stringValue
        s.failedCalls = EJSON.int(d["failed_calls"]) ?? 0; s.probes = EJSON.int(d["probes"]) ?? 0; s.opened = EJSON.int(d["opened"]) ?? 0
        return s
    }
}
