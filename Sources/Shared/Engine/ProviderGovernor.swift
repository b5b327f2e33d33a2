import Foundation
import Logging
import Synchronization

/// Admits provider calls under the fleet's shared limits (`ProviderLimits`, state in `ProviderStates`): a call
/// waits in the worker for its slot and moment while that is near (`maxWait`), and otherwise ends the stage run
/// with a `throttled` failure, which sends the job back through a delay queue without spending an attempt. A 429
/// pauses the provider for the whole fleet and the call is made again after the pause (never an attempt spent); a
/// failure that opens the circuit is also a wait, not a spent attempt.
///
/// The runner installs one per stage run (`ProviderGovernor.current`); provider clients call `perform`.
public final class ProviderGovernor: Sendable {
    public let states: any ProviderStates
    public let limits: ProviderLimits
    public let owner: String
    /// The longest a call waits in the worker before its run goes back to the queue instead.
    public let maxWait: Duration
    /// 429s answered to one call, each waited out, before its run goes back to the queue.
    public let maxThrottledTries: Int
    let logger: Logger
    /// The newest state this process saw of each key (for `/metrics`).
    private let seen = Mutex<[String: ProviderState]>([:])
    /// Waits and in-worker pauses counted for `/metrics`: key → (calls sent back to the queue, 429s waited out).
    private let counters = Mutex<[String: (requeued: Int, throttled: Int)]>([:])
    /// Calls of this process waiting for a slot of a key: woken as soon as a call of this process ends (calls of
    /// other processes are noticed at the next poll).
    private let wakeups = Wakeups()
    /// One store conversation per key at a time in this process.
    private let keyLock = KeyLock()
    /// Keys whose stored limit differed from this process's (warned once each).
    private let disagreed = Mutex<Set<String>>([])

    @TaskLocal public static var current: ProviderGovernor?

    /// One stage run's dealings with providers. Once a call of the run was answered (paid for), and in every run of
    /// a high-priority job, waits stay in the worker (bounded by the stage's timeout) instead of sending the run
    /// back: a run sent back would pay again for the calls it already made, and a high-priority one would queue.
    public final class Run: Sendable {
        public let patient: Bool
        /// Until when the run may wait in the worker: its stage's time limit, less a margin to go back in.
        public let deadline: ContinuousClock.Instant?
        let paid = Mutex(false)
        public init(patient: Bool, deadline: ContinuousClock.Instant? = nil) { self.patient = patient; self.deadline = deadline }
        public var waitsInWorker: Bool { patient || paid.withLock { $0 } }

        /// A run of a stage whose time limit is `limit` (nil: none), starting now.
        public static func starting(patient: Bool, limit: Duration?) -> Run {
            Run(patient: patient, deadline: limit.map { ContinuousClock.now + $0 - min(.seconds(60), $0 / 10) })
        }
    }

    /// The stage run the current task belongs to (installed by the runner with `current`).
    @TaskLocal public static var run: Run?

    /// What the governor tells metrics: a provider's newest state, or a wait (`requeued`: a run sent back to the
    /// queue; `throttled`: a 429 waited out in the worker).
    public enum Observation: Sendable {
        case state(ProviderState, ProviderLimit)
        case wait(key: String, kind: String)
    }
    let observe: @Sendable (Observation) -> Void

    public init(states: any ProviderStates, limits: ProviderLimits, owner: String, maxWait: Duration = .seconds(10),
                maxThrottledTries: Int = 4, logger: Logger, observe: @escaping @Sendable (Observation) -> Void = { _ in }) {
        self.states = states; self.limits = limits; self.owner = owner; self.maxWait = maxWait
        self.maxThrottledTries = max(1, maxThrottledTries); self.logger = logger; self.observe = observe
    }

    /// Runs `body` (one provider call) under the limit of `call`. `hold`: the longest the call can take (its
    /// timeout); `classify` says how an answer ended. Errors of `body` are classified as failures, except
    /// cancellation (abandoned).
    public func perform<T: Sendable>(_ call: ProviderCall, hold: Duration, _ body: () async throws -> T,
                                     classify: (T) -> CallOutcome) async throws -> T {
        let limit = limits.limit(provider: call.provider, model: call.model)
        let stay = Self.run?.waitsInWorker ?? false
        // A run that waits in the worker may do so until its stage's time is nearly spent; past that it goes back
        // to the queue like the others (a stage timeout would spend its attempt).
        let deadline = stay ? (Self.run?.deadline ?? ContinuousClock.now + .seconds(86_400)) : ContinuousClock.now + maxWait
        var throttled = 0
        while true {
            let (slot, probe) = try await acquire(call, limit: limit, hold: hold + .seconds(10), deadline: deadline)
            let result: Result<T, any Error>
            do { result = .success(try await body()) } catch { result = .failure(error) }
            let outcome: CallOutcome
            switch result {
            case .success(let v): outcome = classify(v)
            case .failure(let e): outcome = e is CancellationError ? .abandoned : .failed
            }
            let after = await finish(limit: limit, slotID: slot, outcome: outcome)
            if probe {
                switch outcome {
                case .answered: logger.notice("\(limit.key): the probe call was answered; the circuit is closed")
                case .throttled: logger.notice("\(limit.key): the probe call was answered 429; the circuit is closed and the fleet pauses")
                case .failed: logger.notice("\(limit.key): the probe call failed; the circuit stays open")
                case .abandoned: logger.notice("\(limit.key): the probe call was given up; another call will probe")
                }
            }
            if outcome == .answered { Self.run?.paid.withLock { $0 = true } }
            switch outcome {
            case .throttled(let retryAfter):
                throttled += 1
                count(limit.key) { $0.throttled += 1 }
                let wait = after.flatMap { $0.pausedUntil?.timeIntervalSinceNow }.map { Duration.milliseconds(Int64(max(0, $0) * 1000)) } ?? retryAfter ?? .seconds(1)
                logger.warning("\(limit.key) answered 429 (over its quota): the fleet pauses it for \(wait.compact) and lowers its rate to \(Int(((after?.factor ?? 1) * 100).rounded()))%")
                let spacing = stay && throttled >= maxThrottledTries
                    ? Duration.milliseconds(Int64(min(30, 0.5 * pow(2, Double(throttled - maxThrottledTries))) * 1000)) : .zero
                if (!stay && throttled >= maxThrottledTries) || ContinuousClock.now + max(wait, spacing) > deadline {
                    count(limit.key) { $0.requeued += 1 }
                    throw StageFailure.throttled("\(limit.key) answered 429 \(throttled) times; waiting \(wait.compact) for its quota", wait: wait)
                }
                // A run waiting in the worker spaces repeated 429s by a growing pause besides the Retry-After.
                if spacing > .zero { try await Task.sleep(for: spacing) }
            case .failed:
                if let after, after.circuit != .closed {
                    let wait = Duration.milliseconds(Int64(max(0, (after.openUntil ?? Date()).timeIntervalSinceNow) * 1000))
                    if !probe { logger.error("\(limit.key): circuit opened after \(after.failuresInARow) failed calls in a row; calls wait \(wait.compact) for a probe") }
                    if stay { continue }  // this run waits in the worker for the circuit to close, then calls again
                    count(limit.key) { $0.requeued += 1 }
                    throw StageFailure.throttled("\(limit.key) is failing (circuit \(after.circuit.rawValue)): \(Self.describe(result))", wait: wait)
                }
                return try result.get()
            case .answered, .abandoned:
                return try result.get()
            }
        }
    }

    /// A slot and the moment to call, waiting for them while that fits before `deadline`.
    private func acquire(_ call: ProviderCall, limit: ProviderLimit, hold: Duration, deadline: ContinuousClock.Instant) async throws -> (String, Bool) {
        let slotID = UUID().uuidString
        var backoff = Backoff(first: .milliseconds(100), cap: .seconds(2))
        while true {
            try await StageSafePoint.check()
            let left = deadline - ContinuousClock.now
            // One conversation with the store per key at a time in this process: its calls do not collide with
            // each other, only with other processes'.
            await keyLock.lock(limit.key)
            let step = await decide(call, limit: limit, slotID: slotID, hold: hold, left: left)
            keyLock.unlock(limit.key)
            switch step {
            case .granted(let at, let probe):
                if probe { logger.notice("\(limit.key): circuit half-open; this call probes the provider") }
                try await sleep(until: at, holding: slotID, limit: limit)
                return (slotID, probe)
            case .collided:
                // Another process changed it first: decide again, a moment later so that they do not collide again.
                try await Task.sleep(for: .milliseconds(Int64.random(in: 5...25)))
            case .unreadable(let error):
                // The shared state cannot be read: calls wait (never past the limits unseen) until it comes back.
                try await pause(backoff.failed(), orThrottle: "the provider limits of \(limit.key) cannot be read: \(Redactor.shared.redact("\(error)"))", left: left)
            case .unwritten(let error):
                do {
                    try await pause(backoff.failed(), orThrottle: "the provider limits of \(limit.key) cannot be written: \(Redactor.shared.redact("\(error)"))", left: left)
                } catch {
                    // The write may have gone through although it reported an error: give the slot back.
                    _ = await finish(limit: limit, slotID: slotID, outcome: .abandoned)
                    throw error
                }
            case .wait(let until, let poll, let reason, let now):
                try await wait(until: until, poll: poll, reason: reason, key: limit.key, now: now, left: left)
            }
        }
    }

    /// What one look at the shared state decided.
    enum Step {
        case granted(at: Date, probe: Bool)
        case collided
        case unreadable(any Error)
        case unwritten(any Error)
        case wait(until: Date, poll: Bool, reason: String, now: Date)
    }

    /// Reads the key's state, decides, and stores the grant (compare-and-set).
    private func decide(_ call: ProviderCall, limit: ProviderLimit, slotID: String, hold: Duration, left: Duration) async -> Step {
        let now = Date()
        let current: ProviderState?
        do { current = try await states.providerState(limit.key) } catch { return .unreadable(error) }
        if let mine = current?.slots.first(where: { $0.id == slotID }) {
            // A write reported as failed went through: the slot is this call's already.
            return .granted(at: mine.until.addingTimeInterval(-hold.seconds), probe: current?.probe == slotID)
        }
        if let other = current?.configured, other != limit.summary { warnDisagreement(limit, other: other) }
        let base = current ?? ProviderState(key: limit.key, now: now)
        let (granted, admission) = base.admit(call, limit: limit, owner: owner, slotID: slotID, now: now, hold: hold,
                                              reserveAhead: min(left, .seconds(5)))
        switch admission {
        case .granted(_, let at, let probe):
            var next = granted!
            next.rev = base.rev + 1
            do {
                guard try await states.swapProviderState(next) else { return .collided }
            } catch { return .unwritten(error) }
            note(next, limit)
            return .granted(at: at, probe: probe)
        case .wait(let until, let poll, let reason):
            if let current { note(current, limit) }
            return .wait(until: until, poll: poll, reason: reason, now: now)
        }
    }

    /// Sleeps until the moment reserved for a granted call; a run stopped meanwhile gives its slot back.
    private func sleep(until at: Date, holding slotID: String, limit: ProviderLimit) async throws {
        let delay = at.timeIntervalSinceNow
        guard delay > 0.001 else { return }
        do { try await Task.sleep(for: .milliseconds(Int64(delay * 1000))) } catch {
            _ = await finish(limit: limit, slotID: slotID, outcome: .abandoned)
            throw error
        }
    }

    /// Waits before asking again (`poll`: shortly, since a slot may free before its bound; jittered so that waiting
    /// workers spread), or throws `throttled` when the wait does not fit in `left`: the run goes back to the queue.
    private func wait(until: Date, poll: Bool, reason: String, key: String, now: Date, left: Duration) async throws {
        let wait = Duration.milliseconds(Int64(max(0, until.timeIntervalSince(now)) * 1000))
        let step = poll ? min(wait, .milliseconds(Int64.random(in: 40...120))) : wait
        if poll ? step > left : wait > left {
            count(key) { $0.requeued += 1 }
            throw StageFailure.throttled(reason, wait: wait)
        }
        if poll {
            await wakeups.sleep(key: key, for: max(step, .milliseconds(5)))
            try Task.checkCancellation()
        } else {
            try await Task.sleep(for: max(step, .milliseconds(5)))
        }
    }

    private func pause(_ seconds: Double, orThrottle reason: String, left: Duration) async throws {
        let step = Duration.milliseconds(Int64(seconds * 1000))
        guard step < left else { throw StageFailure.throttled(reason, wait: .seconds(5)) }
        logger.warning("\(reason); trying again in \(step.compact)")
        try await Task.sleep(for: step)
    }

    /// Records the end of a call (compare-and-set, tried again on a conflict). A store that cannot be reached is
    /// left alone: the slot comes back by itself when it expires.
    @discardableResult
    private func finish(limit: ProviderLimit, slotID: String, outcome: CallOutcome) async -> ProviderState? {
        var errors = Backoff(first: .milliseconds(100), cap: .seconds(1))
        for _ in 0..<100 {
            do {
                guard let current = try await states.providerState(limit.key) else { return nil }
                var next = current.finish(slotID: slotID, outcome: outcome, limit: limit, now: Date())
                next.rev = current.rev + 1
                if try await states.swapProviderState(next) {
                    wakeups.wakeAll(limit.key)
                    if current.circuit != next.circuit {
                        logger.notice("\(limit.key): circuit \(current.circuit.rawValue) → \(next.circuit.rawValue)")
                    }
                    note(next, limit)
                    return next
                }
                await Self.pauseEvenIfCancelled(.milliseconds(Int64.random(in: 2...10)))  // another writer came first
            } catch {
                guard errors.failures < 5 else {
                    logger.warning("could not record the end of a \(limit.key) call (its slot frees itself when it expires): \(Redactor.shared.redact("\(error)"))")
                    return nil
                }
                // The end of a call is recorded even when its run was stopped.
                await Self.pauseEvenIfCancelled(.milliseconds(Int64(errors.failed() * 1000)))
            }
        }
        return nil
    }

    /// Processes of one fleet must read the same limits: says so once per key when another one's differ.
    private func warnDisagreement(_ limit: ProviderLimit, other: String) {
        guard disagreed.withLock({ $0.insert(limit.key).inserted }) else { return }
        logger.warning("\(limit.key): this process's limit (\(limit.summary)) differs from another process's (\(other)); give every process of the fleet the same \(ProviderLimits.variable)")
    }

    /// A pause that a cancelled task still takes (an unstructured task does not inherit the cancellation).
    static func pauseEvenIfCancelled(_ d: Duration) async {
        await Task { try? await Task.sleep(for: d) }.value
    }

    private func note(_ state: ProviderState, _ limit: ProviderLimit) {
        let newer = seen.withLock { s in
            guard (s[state.key]?.rev ?? -1) < state.rev else { return false }
            s[state.key] = state
            return true
        }
        if newer { observe(.state(state, limit)) }
    }

    private func count(_ key: String, _ change: (inout (requeued: Int, throttled: Int)) -> Void) {
        let (before, after) = counters.withLock { c in
            let old = c[key] ?? (0, 0)
            var v = old; change(&v); c[key] = v
            return (old, v)
        }
        if after.requeued > before.requeued { observe(.wait(key: key, kind: "requeued")) }
        if after.throttled > before.throttled { observe(.wait(key: key, kind: "throttled")) }
    }

    /// The newest state this process saw of each provider key, for metrics.
    public var observed: [ProviderState] { seen.withLock { Array($0.values).sorted { $0.key < $1.key } } }

    /// Runs sent back to the queue to wait, and 429s waited out, per key, since the process started.
    public var waits: [String: (requeued: Int, throttled: Int)] { counters.withLock { $0 } }

    static func describe<T>(_ result: Result<T, any Error>) -> String {
        switch result {
        case .success: return "the provider answered with an error"
        case .failure(let e): return Redactor.shared.redact((e as? StageFailure)?.message ?? "\(e)")
        }
    }
}

/// Sleeps that end early when woken: the waiters of one key, each until its timeout or `wakeAll`.
final class Wakeups: Sendable {
    private let waiting = Mutex<[String: [UUID: CheckedContinuation<Void, Never>]]>([:])

    func sleep(key: String, for duration: Duration) async {
        let id = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                waiting.withLock { $0[key, default: [:]][id] = c }
                Task { try? await Task.sleep(for: duration); self.resume(key, id) }
            }
        } onCancel: {
            resume(key, id)  // a cancellation before the continuation was stored ends at the timeout instead
        }
    }

    func wakeAll(_ key: String) {
        let all = waiting.withLock { w in defer { w[key] = nil }; return Array((w[key] ?? [:]).values) }
        for c in all { c.resume() }
    }

    private func resume(_ key: String, _ id: UUID) {
        if let c = waiting.withLock({ $0[key]?.removeValue(forKey: id) }) { c.resume() }
    }
}

/// A lock per key for async code: `lock` waits its turn (first come, first served), `unlock` hands the key to the
/// next waiter. Held only around one read and one write of the store.
final class KeyLock: Sendable {
    private let state = Mutex<[String: [CheckedContinuation<Void, Never>]]>([:])

    func lock(_ key: String) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let free = state.withLock { s -> Bool in
                guard var queue = s[key] else { s[key] = []; return true }  // present: held; its array: the waiters
                queue.append(c); s[key] = queue
                return false
            }
            if free { c.resume() }
        }
    }

    func unlock(_ key: String) {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard var queue = s[key], !queue.isEmpty else { s[key] = nil; return nil }
            let n = queue.removeFirst(); s[key] = queue
            return n  // still held: handed to the next
        }
        next?.resume()
    }
}
