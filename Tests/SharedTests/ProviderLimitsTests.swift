import Foundation
import ReelForgeTestKit
import Shared
import Synchronization
import Testing

@Suite("Provider limits: grammar, state machine, governor")
struct ProviderLimitsTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func theGrammarOfTheIssueAndItsErrors() throws {
        let l = try ProviderLimits(parsing: "openai:rps=5,concurrent=2;elevenlabs:concurrent=3,units_per_minute=40000; openrouter/meta-llama/llama-3:8b:rpm=60,failures=3,cooldown=2s")
        #expect(l.limit(provider: "openai", model: "gpt-4o-mini") == ProviderLimit(key: "openai", requestsPerSecond: 5, concurrent: 2))
        #expect(l.limit(provider: "ElevenLabs", model: nil).unitsPerMinute == 40000)
        let model = l.limit(provider: "openrouter", model: "meta-llama/llama-3:8b")
        #expect(model.key == "openrouter/meta-llama/llama-3:8b" && model.requestsPerSecond == 1 && model.breakerFailures == 3 && model.breakerCooldown == .seconds(2))
        #expect(l.limit(provider: "openrouter", model: "other").key == "openrouter" && !l.limit(provider: "openrouter", model: "other").isLimited)
        for bad in ["openai", "openai:", "openai:rps", "openai:rps=0", "openai:rps=-1", "openai:concurrent=1.5", "openai:speed=3",
                    "openai:rps=5;openai:rps=6", "op enai:rps=1", "openai:cooldown=1ms", ":rps=1", "openai:rps=nan"] {
            #expect(throws: ConfigError.self, "\(bad)") { try ProviderLimits(parsing: bad) }
        }
        #expect(try ProviderLimits(parsing: " ; ").limits.isEmpty)
    }

    func admit(_ s: ProviderState, _ limit: ProviderLimit, at now: Date, id: String = UUID().uuidString, units: Double = 0,
               reserve: Duration = .seconds(5)) -> (ProviderState, ProviderState.Admission) {
        let (next, a) = s.admit(ProviderCall(provider: "p", units: units), limit: limit, owner: "w", slotID: id, now: now, hold: .seconds(30),
                                reserveAhead: reserve)
        return (next ?? s, a)
    }

    @Test func callsAreSpacedByTheRateAndHeldToTheConcurrency() {
        let limit = ProviderLimit(key: "p", requestsPerSecond: 5, concurrent: 2)
        var s = ProviderState(key: "p", now: t0)
        var moments: [Date] = []
        for i in 0..<2 {
            let (n, a) = admit(s, limit, at: t0, id: "c\(i)")
            guard case .granted(_, let at, false) = a else { Issue.record("\(a)"); return }
            moments.append(at); s = n
        }
        #expect(moments == [t0, t0.addingTimeInterval(0.2)])
        // A third call waits for a slot (poll), whatever the rate says.
        guard case .wait(_, true, let reason) = admit(s, limit, at: t0).1 else { Issue.record("no wait"); return }
        #expect(reason.contains("2 of 2"))
        // One answers: the next call gets the moment after the second's.
        s = s.finish(slotID: "c0", outcome: .answered, limit: limit, now: t0.addingTimeInterval(0.15))
        guard case .granted(_, let at, _) = admit(s, limit, at: t0.addingTimeInterval(0.16)).1 else { Issue.record("not granted"); return }
        #expect(abs(at.timeIntervalSince(t0) - 0.4) < 1e-6)
        // A fleet that fell behind catches up by one call, never more.
        var lagging = ProviderState(key: "p", now: t0)
        lagging.nextCallAt = t0
        let later = t0.addingTimeInterval(3), rated = ProviderLimit(key: "p", requestsPerSecond: 5)
        var starts: [Double] = []
        for i in 0..<3 {
            let (n, a) = admit(lagging, rated, at: later, id: "l\(i)")
            if case .granted(_, let at, _) = a { starts.append(at.timeIntervalSince(later)) }
            lagging = n
        }
        #expect(starts.map { ($0 * 1000).rounded() } == [0, 0, 200])
        // A slot whose worker died comes back when it expires.
        let late = t0.addingTimeInterval(60)
        #expect(s.slotsInUse(now: late) == 0)
        if case .granted = admit(s, ProviderLimit(key: "p", concurrent: 1), at: late).1 {} else { Issue.record("an expired slot still counts") }
    }

    @Test func unitsPerMinuteKeepAMinutesWorthInFlight() {
        let limit = ProviderLimit(key: "p", unitsPerMinute: 600)
        var s = ProviderState(key: "p", now: t0)
        (s, _) = admit(s, limit, at: t0, units: 400)
        (s, _) = admit(s, limit, at: t0, units: 200)
        guard case .wait(let until, false, _) = admit(s, limit, at: t0, units: 100).1 else { Issue.record("no wait"); return }
        #expect(abs(until.timeIntervalSince(t0) - 10) < 1e-6)  // 700 units at 10 a second end 70 s on: wait until 10 s
        // A single call above a minute's quota still goes when nothing is outstanding.
        if case .granted = admit(ProviderState(key: "p", now: t0), limit, at: t0, units: 5000).1 {} else { Issue.record("a big call never goes") }
    }

    @Test func a429PausesEveryoneAndHalvesTheRateWhichClimbsBack() {
        let limit = ProviderLimit(key: "p", requestsPerSecond: 4, concurrent: 4)
        var s = ProviderState(key: "p", now: t0)
        (s, _) = admit(s, limit, at: t0, id: "a")
        s = s.finish(slotID: "a", outcome: .throttled(retryAfter: .seconds(2)), limit: limit, now: t0)
        #expect(s.factor == 0.5 && s.concurrency(limit) == 2 && s.rate(limit) == 2 && s.throttledCalls == 1)
        guard case .wait(let until, false, _) = admit(s, limit, at: t0.addingTimeInterval(1)).1 else { Issue.record("no pause"); return }
        #expect(until == t0.addingTimeInterval(2))
        for i in 0..<10 {
            (s, _) = admit(s, limit, at: t0.addingTimeInterval(3 + Double(i)), id: "b\(i)")
            s = s.finish(slotID: "b\(i)", outcome: .answered, limit: limit, now: t0.addingTimeInterval(3 + Double(i)))
        }
        #expect(s.factor == 1)
        var low = ProviderState(key: "p", now: t0)
        for _ in 0..<10 { low = low.finish(slotID: "x", outcome: .throttled(retryAfter: nil), limit: limit, now: t0) }
        #expect(low.factor == 0.1 && low.concurrency(limit) == 1)
    }

    @Test func theCircuitOpensProbesAndCloses() {
        let limit = ProviderLimit(key: "p", breakerFailures: 3, breakerCooldown: .seconds(5))
        var s = ProviderState(key: "p", now: t0)
        for i in 0..<3 {
            (s, _) = admit(s, limit, at: t0, id: "f\(i)")
            s = s.finish(slotID: "f\(i)", outcome: .failed, limit: limit, now: t0)
        }
        #expect(s.circuit == .open && s.opened == 1 && s.openUntil == t0.addingTimeInterval(5))
        if case .wait(_, false, let r) = admit(s, limit, at: t0.addingTimeInterval(4)).1 { #expect(r.contains("circuit is open")) } else { Issue.record("open circuit let a call go") }
        // After the cooldown one call probes; the others wait for it.
        let (probing, a) = admit(s, limit, at: t0.addingTimeInterval(5), id: "probe1")
        guard case .granted(_, _, true) = a else { Issue.record("no probe: \(a)"); return }
        #expect(probing.circuit == .halfOpen && probing.probes == 1)
        if case .wait(_, true, _) = admit(probing, limit, at: t0.addingTimeInterval(5.1)).1 {} else { Issue.record("a second call went while probing") }
        // The probe fails: open again for twice as long.
        s = probing.finish(slotID: "probe1", outcome: .failed, limit: limit, now: t0.addingTimeInterval(6))
        #expect(s.circuit == .open && s.cooldownSeconds == 10 && s.openUntil == t0.addingTimeInterval(16))
        // A probe whose worker died frees the circuit for another probe.
        let (dead, _) = admit(s, limit, at: t0.addingTimeInterval(16), id: "probe2")
        guard case .granted(_, _, true) = admit(dead, limit, at: t0.addingTimeInterval(16 + 41), id: "probe3").1 else { Issue.record("dead probe held the circuit"); return }
        // A probe that answers closes it.
        let (p, _) = admit(s, limit, at: t0.addingTimeInterval(16), id: "probe4")
        s = p.finish(slotID: "probe4", outcome: .answered, limit: limit, now: t0.addingTimeInterval(16.2))
        #expect(s.circuit == .closed && s.failuresInARow == 0 && s.cooldownSeconds == 0)
        if case .granted(_, _, false) = admit(s, limit, at: t0.addingTimeInterval(16.3)).1 {} else { Issue.record("closed circuit refused a call") }
    }

    @Test func priorityTurnsServeHighFirstWithoutStarvingBulk() {
        var turns = PriorityTurns()
        var picks: [Priority] = []
        for _ in 0..<26 { picks.append(turns.pick(waiting: Set(Priority.allCases))!) }
        #expect(picks.filter { $0 == .high }.count == 16 && picks.filter { $0 == .normal }.count == 8 && picks.filter { $0 == .bulk }.count == 2)
        // With only bulk waiting it is served; a high arriving is taken at the next pick.
        var t = PriorityTurns()
        for _ in 0..<50 { #expect(t.pick(waiting: [.bulk]) == .bulk) }
        #expect(t.pick(waiting: [.bulk, .high]) == .high)
        #expect(turns.pick(waiting: []) == nil)
    }

    @Test func aThrottledFailureWaitsWithoutSpendingAnAttempt() {
        let settings = RunnerSettings(workerID: "w", retry: RetryPolicy(delays: [.seconds(1), .seconds(4)], maxRetries: 2, jitter: 0, jitterBuckets: 1),
                                      maxProviderWaits: 3)
        var m = JobMessage(jobID: "j", ideaID: "i", stage: .audio, attempt: 2)
        m.priority = .bulk
        let outcome = StageDecision.failed(.throttled("openai circuit open", wait: .seconds(3)), message: m, settings: settings, now: t0)
        guard case .delay(let later, let after, let note) = outcome else { Issue.record("\(outcome)"); return }
        #expect(later.attempt == 2 && later.providerWaits == 1 && later.priority == .bulk && after == .seconds(4) && note.contains("no attempt spent"))
        m.providerWaits = 3
        guard case .park(let kind, _, let failure?) = StageDecision.failed(.throttled("x", wait: .seconds(1)), message: m, settings: settings, now: t0) else {
            Issue.record("not parked after its waits"); return
        }
        #expect(kind == "provider_unavailable" && failure.attempt == 2)
    }

    @Test func priorityAndProviderWaitsTravelInTheMessage() throws {
        let codec = JobMessageCodec()
        var m = JobMessage(jobID: "j", ideaID: "i", stage: .video, attempt: 1)
        m.priority = .high; m.providerWaits = 4
        let (body, headers) = codec.encode(m)
        let back = try codec.decode(body: body, headers: headers)
        #expect(back.priority == .high && back.providerWaits == 4)
        #expect(try codec.decode(body: Array(#"{"job_id":"j","idea_id":"i","stage":"video"}"#.utf8), headers: [:]).priority == .normal)
        #expect(throws: MessageError.self) { try codec.decode(body: Array(#"{"job_id":"j","idea_id":"i","stage":"video","priority":"urgent"}"#.utf8), headers: [:]) }
    }

    // MARK: The governor over shared state

    /// A provider for the governor tests: counts calls in flight and answers with a status of the test's choice.
    final class FakeProvider: Sendable {
        let inFlight = Mutex(0), maxInFlight = Mutex(0), calls = Mutex(0)
        let answer: @Sendable (Int) -> Int
        init(answer: @escaping @Sendable (Int) -> Int = { _ in 200 }) { self.answer = answer }
        func call() async throws -> Int {
            let n = calls.withLock { $0 += 1; return $0 }
            let now = inFlight.withLock { $0 += 1; return $0 }
            maxInFlight.withLock { $0 = max($0, now) }
            try await Task.sleep(for: .milliseconds(20))
            inFlight.withLock { $0 -= 1 }
            return answer(n)
        }
    }

    static func outcome(_ status: Int) -> CallOutcome {
        status == 429 ? .throttled(retryAfter: .milliseconds(100)) : status >= 500 ? .failed : .answered
    }

    @Test func twoGovernorsOnOneStoreNeverExceedTheSharedConcurrency() async throws {
        let states = MemoryProviderStates()
        let limits = try ProviderLimits(parsing: "p:concurrent=2,rps=200")
        let governors = (0..<2).map { ProviderGovernor(states: states, limits: limits, owner: "w\($0)", maxWait: .seconds(120), logger: testLogger()) }
        let provider = FakeProvider()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<16 {
                group.addTask { _ = try await governors[i % 2].perform(ProviderCall(provider: "p"), hold: .seconds(5), { try await provider.call() }, classify: Self.outcome) }
            }
            try await group.waitForAll()
        }
        #expect(provider.calls.withLock { $0 } == 16)
        #expect(provider.maxInFlight.withLock { $0 } == 2)
        let s = try #require(try await states.providerState("p"))
        #expect(s.slots.isEmpty && s.calls == 16 && s.configured == "rps=200,concurrent=2,failures=5,cooldown=5s")
    }

    @Test func a429IsWaitedOutInTheWorkerAndAnOpenCircuitSendsTheRunBack() async throws {
        let states = MemoryProviderStates()
        // Generous waits: a loaded machine may hold a task back for seconds, and this test is not about time.
        let governor = ProviderGovernor(states: states, limits: try ProviderLimits(parsing: "p:failures=2,cooldown=600s"), owner: "w",
                                        maxWait: .seconds(60), logger: testLogger())
        // One 429, then answers: the call is made again after the pause and returns the answer.
        let once = FakeProvider { $0 == 1 ? 429 : 200 }
        let status = try await governor.perform(ProviderCall(provider: "p"), hold: .seconds(5), { try await once.call() }, classify: Self.outcome)
        #expect(status == 200 && once.calls.withLock { $0 } == 2)
        // Failures: the first comes back to the caller as it is; the second opens the circuit and is a wait instead.
        let down = FakeProvider { _ in 503 }
        #expect(try await governor.perform(ProviderCall(provider: "p"), hold: .seconds(5), { try await down.call() }, classify: Self.outcome) == 503)
        do {
            _ = try await governor.perform(ProviderCall(provider: "p"), hold: .seconds(5), { try await down.call() }, classify: Self.outcome)
            Issue.record("the call that opened the circuit did not wait")
        } catch let f as StageFailure {
            guard case .throttled(let wait) = f.kind else { Issue.record("\(f)"); return }
            #expect(wait > .seconds(500) && f.message.contains("circuit open"))
        }
        // While open, a call is not made at all: it waits past maxWait, so its run goes back to the queue.
        await #expect(throws: StageFailure.self) {
            _ = try await governor.perform(ProviderCall(provider: "p"), hold: .seconds(5), { try await down.call() }, classify: Self.outcome)
        }
        #expect(down.calls.withLock { $0 } == 2)
        #expect(try await states.providerState("p")?.circuit == .open)
    }

    @Test func theReportJoinsLimitsStateAndTodaysSpend() throws {
        let limits = try ProviderLimits(parsing: "openai:rps=5,concurrent=2;elevenlabs:concurrent=3")
        var open = ProviderState(key: "anthropic", now: t0)
        open.circuit = .open; open.openUntil = t0.addingTimeInterval(30); open.opened = 1
        var throttledOpenAI = ProviderState(key: "openai", now: t0)
        throttledOpenAI.factor = 0.5; throttledOpenAI.slots = [ProviderSlot(id: "s", owner: "w", until: t0.addingTimeInterval(9))]
        var idea = IdeaRecord(id: "i", idea: "x", language: "en", targetSeconds: 5, now: t0)
        idea.costs = [CostEntry(stage: .script, attempt: 1, provider: "openai:gpt-4o-mini", units: 300, unit: "tokens", costUSD: 0.25, at: t0),
                      CostEntry(stage: .audio, attempt: 1, provider: "openai-tts", units: 90, unit: "characters", costUSD: 0.5, at: t0),
                      CostEntry(stage: .script, attempt: 1, provider: "openai:gpt-4o-mini", units: 300, unit: "tokens", costUSD: 9,
                                at: t0.addingTimeInterval(-86_400)),
                      CostEntry(stage: .audio, attempt: 1, provider: "espeak-ng", units: 90, unit: "characters", costUSD: 0, at: t0)]
        let rows = ProviderReport.rows(limits: limits, states: [open, throttledOpenAI], ideas: [idea], now: t0.addingTimeInterval(1))
        #expect(rows.map(\.provider) == ["anthropic", "elevenlabs", "openai"])
        let openai = try #require(rows.last)
        #expect(openai.spendTodayUSD == 0.75 && openai.effectiveRPS == 2.5 && openai.effectiveConcurrency == 1 && openai.slotsInUse == 1)
        #expect(rows[0].circuit == "open" && rows[0].blocked?.contains("circuit open until") == true && rows[0].limits == nil)
        #expect(rows[1].effectiveConcurrency == 3 && rows[1].calls == 0 && rows[1].blocked == nil)
        // A process without the variable (the CLI on an operator's laptop) shows the limit the workers stored.
        var stored = ProviderState(key: "pexels", now: t0)
        stored.configured = "rps=2,failures=5,cooldown=5s"
        let seen = ProviderReport.rows(limits: .none, states: [stored], ideas: [], now: t0)
        #expect(seen.first?.limits == "rps=2,failures=5,cooldown=5s" && seen.first?.effectiveRPS == 2)
    }

    @Test func aRunThatPaidOrIsHighPriorityWaitsInTheWorkerInsteadOfGoingBack() async throws {
        func governor() throws -> ProviderGovernor {
            ProviderGovernor(states: MemoryProviderStates(), limits: try ProviderLimits(parsing: "p:failures=1,cooldown=1s"), owner: "w",
                             maxWait: .milliseconds(100), logger: testLogger())
        }
        // Answers, then fails once (which opens the circuit), then answers.
        func flaky() -> FakeProvider { FakeProvider { $0 == 2 ? 503 : 200 } }
        let call = ProviderCall(provider: "p")
        // A run that has been answered once: the failure that opens the circuit is waited out, the call made again.
        let paid = try governor(), provider = flaky()
        let status = try await ProviderGovernor.$run.withValue(ProviderGovernor.Run(patient: false)) {
            _ = try await paid.perform(call, hold: .seconds(5), { try await provider.call() }, classify: Self.outcome)
            return try await paid.perform(call, hold: .seconds(5), { try await provider.call() }, classify: Self.outcome)
        }
        #expect(status == 200 && provider.calls.withLock { $0 } == 3)
        #expect(try await paid.states.providerState("p").map { ($0.circuit, $0.probes) } ?? (.open, 0) == (.closed, 1))
        // A high-priority run waits from its first call.
        let patient = try governor(), other = flaky()
        _ = try await patient.perform(call, hold: .seconds(5), { try await other.call() }, classify: Self.outcome)
        let high = try await ProviderGovernor.$run.withValue(ProviderGovernor.Run(patient: true)) {
            try await patient.perform(call, hold: .seconds(5), { try await other.call() }, classify: Self.outcome)
        }
        #expect(high == 200)
        // Waiting in the worker stops short of the stage's time limit: a wait that does not fit goes back to the
        // queue (without spending an attempt) rather than ending in a stage timeout (which would spend one).
        let slow = ProviderGovernor(states: MemoryProviderStates(), limits: try ProviderLimits(parsing: "p:failures=1,cooldown=600s"), owner: "w",
                                    maxWait: .milliseconds(100), logger: testLogger())
        let down = FakeProvider { _ in 503 }
        _ = try? await slow.perform(call, hold: .seconds(5), { try await down.call() }, classify: Self.outcome)  // opens the circuit
        do {
            _ = try await ProviderGovernor.$run.withValue(.starting(patient: true, limit: .seconds(5))) {
                try await slow.perform(call, hold: .seconds(5), { try await down.call() }, classify: Self.outcome)
            }
            Issue.record("a patient run waited past its stage's time")
        } catch let f as StageFailure {
            if case .throttled = f.kind {} else { Issue.record("\(f)") }
        }
        #expect(down.calls.withLock { $0 } == 1)
        // A run that has paid nothing goes back to the queue instead.
        let plain = try governor(), third = flaky()
        try await ProviderGovernor.$run.withValue(ProviderGovernor.Run(patient: false)) {
            _ = try await plain.perform(call, hold: .seconds(5), { try await third.call() }, classify: Self.outcome)
        }
        let fresh = ProviderGovernor.Run(patient: false)
        await #expect(throws: StageFailure.self) {
            try await ProviderGovernor.$run.withValue(fresh) {
                _ = try await plain.perform(call, hold: .seconds(5), { try await third.call() }, classify: Self.outcome)
            }
        }
    }
}
