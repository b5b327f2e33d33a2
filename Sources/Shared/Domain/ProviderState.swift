import Foundation

/// The circuit of a provider: closed (calls go), open (calls wait until `openUntil`), half-open (one probe call is
/// testing the provider; the others wait for its answer).
public enum CircuitState: String, Sendable, Hashable, CaseIterable {
    case closed
    case open
    case halfOpen = "half_open"

    /// For the `/metrics` gauge: 0 closed, 1 open, 2 half-open.
    public var gauge: Int { self == .closed ? 0 : self == .open ? 1 : 2 }
}

/// A call in flight: held until its answer, or until `until` when its worker died (it then comes back by itself).
public struct ProviderSlot: Sendable, Hashable {
    public var id: String
    public var owner: String
    public var until: Date
    public init(id: String, owner: String, until: Date) { self.id = id; self.owner = owner; self.until = until }
}

/// How a governed call ended, as the limits see it.
public enum CallOutcome: Sendable, Hashable {
    /// The provider answered (2xx, or a 4xx other than 429: it is up and within quota).
    case answered
    /// 429: over the provider's quota; `retryAfter` from its header.
    case throttled(retryAfter: Duration?)
    /// 5xx, 408, a timeout or an unreachable host: counts toward opening the circuit.
    case failed
    /// Given up by the caller before an answer (its run was stopped): no verdict on the provider.
    case abandoned
}

/// The shared state of one provider (or model) limit: one document per key in the store, changed only by
/// compare-and-set on `rev` (`ProviderStates.swap`). Every rule that changes it is here, as pure functions of the
/// state, the limit and the time: rate and units by GCRA (a call reserves the next free moment), concurrency by
/// slots that expire, an adaptive factor (halved by a 429, climbing back by 5% of the limit per answer), a fleet-wide
/// pause until a `Retry-After`, and the circuit breaker.
public struct ProviderState: Sendable, Hashable {
    public var key: String
    public var rev: Int = 0
    /// The next moment a call may start under the request rate (GCRA's theoretical arrival time).
    public var nextCallAt: Date?
    /// The same for units: the moment the units reserved so far are paid off.
    public var unitsPaidAt: Date?
    public var slots: [ProviderSlot] = []
    /// The share of the configured rate and concurrency in use: 1 normally, lowered by 429s (0.1 at least).
    public var factor: Double = 1
    /// No call of this provider starts before this (a `Retry-After` seen by any worker).
    public var pausedUntil: Date?
    public var circuit: CircuitState = .closed
    /// Failed calls in a row across the fleet (reset by any answer).
    public var failuresInARow: Int = 0
    public var openUntil: Date?
    /// The length of the current (or last) open period, seconds; 0 when the circuit has been closed since.
    public var cooldownSeconds: Double = 0
    /// The slot of the probe call while half-open.
    public var probe: String?
    // Counters since the state was created, for `reelforge providers` and tests.
    public var calls: Int = 0
    public var throttledCalls: Int = 0
    public var failedCalls: Int = 0
    public var probes: Int = 0
    public var opened: Int = 0
    /// The limit (`ProviderLimit.summary`) of the process that last admitted a call: processes of one fleet that
    /// disagree notice it.
    public var configured: String?
    public var updatedAt: Date

    public init(key: String, now: Date) { self.key = key; self.updatedAt = now }

    /// The answer to a call asking to start.
    public enum Admission: Sendable, Hashable {
        /// Go at `at` (now or a moment reserved for it) holding `slot`; `probe`: this call tests an open circuit.
        case granted(slot: ProviderSlot, at: Date, probe: Bool)
        /// Not now. `until`: when asking again may succeed; `poll`: that moment is a bound, not a promise (a slot
        /// may free before it), so ask again shortly.
        case wait(until: Date, poll: Bool, reason: String)
    }

    /// The slots and probe left after those whose holder died (expired) are dropped.
    func pruned(now: Date) -> ProviderState {
        var s = self
        s.slots.removeAll { $0.until <= now }
        if s.circuit == .halfOpen, let p = s.probe, !s.slots.contains(where: { $0.id == p }) {
            // The probe's worker died: another call may probe at once.
            s.circuit = .open; s.probe = nil; s.openUntil = now
        }
        return s
    }

    /// Effective calls in flight allowed now.
    public func concurrency(_ limit: ProviderLimit) -> Int? {
        limit.concurrent.map { max(1, Int((Double($0) * factor).rounded(.down))) }
    }

    /// Effective requests a second now.
    public func rate(_ limit: ProviderLimit) -> Double? { limit.requestsPerSecond.map { $0 * factor } }

    /// Asks to start `call` now. `hold`: how long the slot is held at most (the call's timeout and a margin);
    /// `reserveAhead`: how far ahead a moment may be reserved under the rate. Returns the new state when granted.
    public func admit(_ call: ProviderCall, limit: ProviderLimit, owner: String, slotID: String, now: Date,
                      hold: Duration, reserveAhead: Duration) -> (ProviderState?, Admission) {
        var s = pruned(now: now)
        if let p = s.pausedUntil, p > now {
            return (nil, .wait(until: p, poll: false, reason: "\(key) asked to wait (429, Retry-After) until \(Timestamp.iso(p))"))
        }
        var probe = false
        switch s.circuit {
        case .open:
            if let u = s.openUntil, u > now {
                return (nil, .wait(until: u, poll: false, reason: "\(key) circuit is open after \(s.failuresInARow) failed calls; next probe at \(Timestamp.iso(u))"))
            }
            probe = true
        case .halfOpen:
            let bound = s.slots.first(where: { $0.id == s.probe })?.until ?? now
            return (nil, .wait(until: min(bound, now.addingTimeInterval(max(1, s.cooldownSeconds))), poll: true,
                               reason: "\(key) circuit is half-open: a probe call is testing it"))
        case .closed:
            break
        }
        if let c = s.concurrency(limit), s.slots.count >= c {
            let first = s.slots.map(\.until).min() ?? now
            return (nil, .wait(until: first, poll: true, reason: "\(key) has \(s.slots.count) of \(c) concurrent calls in flight"))
        }
        var at = now
        if let r = s.rate(limit), r > 0 {
            let interval = 1 / r
            let scheduled = s.nextCallAt ?? now
            if scheduled.timeIntervalSince(now) > reserveAhead.seconds {
                return (nil, .wait(until: scheduled.addingTimeInterval(-reserveAhead.seconds), poll: false,
                                   reason: "\(key) is at its rate of \(ProviderLimit.number((r * 100).rounded() / 100))/s"))
            }
            // GCRA with a tolerance of one interval: a call goes at its scheduled moment, or now if that has passed;
            // a fleet that fell behind its schedule may catch up by one call (a bucket of two), never more.
            at = max(now, scheduled)
            s.nextCallAt = max(scheduled, now.addingTimeInterval(-interval)).addingTimeInterval(interval)
        }
        if let upm = limit.unitsPerMinute, call.units > 0 {
            let perSecond = upm * s.factor / 60
            let paid = max(now, s.unitsPaidAt ?? now)
            let after = paid.addingTimeInterval(call.units / perSecond)
            // Within a minute's worth of units, or nothing outstanding (a call larger than a minute's quota still goes).
            if after.timeIntervalSince(now) > 60, paid > now {
                return (nil, .wait(until: after.addingTimeInterval(-60), poll: false,
                                   reason: "\(key) is at its \(ProviderLimit.number(upm * s.factor)) units a minute"))
            }
            s.unitsPaidAt = after
        }
        let slot = ProviderSlot(id: slotID, owner: owner, until: at.addingTimeInterval(hold.seconds))
        s.slots.append(slot)
        s.calls += 1
        s.configured = limit.summary
        if probe {
            s.circuit = .halfOpen; s.probe = slotID; s.probes += 1
        }
        s.updatedAt = now
        return (s, .granted(slot: slot, at: at, probe: probe))
    }

    /// Records how the call holding `slotID` ended.
    public func finish(slotID: String, outcome: CallOutcome, limit: ProviderLimit, now: Date) -> ProviderState {
        var s = pruned(now: now)
        let wasProbe = s.probe == slotID && s.circuit == .halfOpen
        s.slots.removeAll { $0.id == slotID }
        switch outcome {
        case .answered:
            s.failuresInARow = 0
            if wasProbe || s.circuit != .closed { s.circuit = .closed; s.probe = nil; s.openUntil = nil; s.cooldownSeconds = 0 }
            s.factor = min(1, s.factor + 0.05)
        case .throttled(let retryAfter):
            s.throttledCalls += 1
            s.failuresInARow = 0
            if wasProbe { s.circuit = .closed; s.probe = nil; s.openUntil = nil; s.cooldownSeconds = 0 }
            s.factor = max(0.1, s.factor / 2)
            let until = now.addingTimeInterval(max(0.05, (retryAfter ?? .seconds(1)).seconds))
            s.pausedUntil = max(s.pausedUntil ?? until, until)
            // The calls reserved before the 429 start no earlier than the pause's end either.
            if let n = s.nextCallAt, n < until { s.nextCallAt = until }
        case .failed:
            s.failedCalls += 1
            s.failuresInARow += 1
            if wasProbe {
                s.open(cooldown: min(limit.breakerCooldown.seconds * 8, max(limit.breakerCooldown.seconds, s.cooldownSeconds * 2)), now: now)
            } else if s.circuit == .closed && s.failuresInARow >= limit.breakerFailures {
                s.open(cooldown: limit.breakerCooldown.seconds, now: now)
            }
        case .abandoned:
            if wasProbe { s.circuit = .open; s.probe = nil; s.openUntil = now }
        }
        s.updatedAt = now
        return s
    }

    private mutating func open(cooldown: Double, now: Date) {
        circuit = .open; probe = nil; cooldownSeconds = cooldown; opened += 1
        openUntil = now.addingTimeInterval(cooldown)
    }

    /// Whether calls would have to wait now, and why (for `reelforge providers` and status).
    public func blocked(now: Date) -> String? {
        if let p = pausedUntil, p > now { return "paused until \(Timestamp.iso(p))" }
        switch circuit {
        case .open: return openUntil.map { $0 > now ? "circuit open until \(Timestamp.iso($0))" : "circuit open, probing next" }
        case .halfOpen: return "circuit half-open (probing)"
        case .closed: return nil
        }
    }

    public func slotsInUse(now: Date) -> Int { slots.filter { $0.until > now }.count }
}
