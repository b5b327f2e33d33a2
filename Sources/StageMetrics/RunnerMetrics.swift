import Foundation
import Logging
import Metrics
import Shared

/// A worker's stage metrics, emitted through swift-metrics: counters, a duration timer and a gauge per stage, fed
/// by the StageRunner's events. Which backend receives them is the process's choice: the factory passed here
/// (tests, or an executable that wires its own), else the one the executable bootstrapped `MetricsSystem` with.
/// A library never bootstraps. The names and labels are listed in docs/deploy.md ("Metrics"); a test checks
/// `/metrics` against that list.
public final class RunnerMetrics: Sendable {
    /// Buckets of the duration timers: stage runs take from a tenth of a second to ten minutes. An exposition
    /// that buckets timers (Prometheus) is configured with these for `timerLabels`.
    public static let durationBuckets: [Duration] =
        [100, 500, 1_000, 2_000, 5_000, 10_000, 30_000, 60_000, 120_000, 300_000, 600_000].map { .milliseconds($0) }
    public static let timerLabels = ["reelforge_stage_duration_seconds", "reelforge_provider_run_duration_seconds"]

    /// The handles of one stage, made once: their series exist (at zero) before the first event.
    struct Instruments: Sendable {
        let started, processed, failed, retried, parked, skippedDone, leaseWaits, reused: Counter
        let spent, saved: FloatingPointCounter
        let duration: Metrics.Timer
        let inProgress: Meter

        init(_ stage: Stage, factory: any MetricsFactory) {
            let d = [("stage", stage.rawValue)]
            func counter(_ name: String) -> Counter { Counter(label: "reelforge_stage_\(name)_total", dimensions: d, factory: factory) }
            started = counter("started"); processed = counter("processed"); failed = counter("failed")
            retried = counter("retried"); parked = counter("parked"); skippedDone = counter("skipped_done")
            leaseWaits = counter("lease_waits"); reused = counter("results_reused")
            spent = FloatingPointCounter(label: "reelforge_credits_spent_usd_total", dimensions: d, factory: factory)
            saved = FloatingPointCounter(label: "reelforge_credits_saved_usd_total", dimensions: d, factory: factory)
            duration = Metrics.Timer(label: "reelforge_stage_duration_seconds", dimensions: d, preferredDisplayUnit: .seconds, factory: factory)
            inProgress = Meter(label: "reelforge_provider_runs_in_progress", dimensions: d, factory: factory)
        }
    }

    let factory: any MetricsFactory
    private let instruments: [Stage: Instruments]

    /// `stages`: the stages this process serves, whose series are made at once.
    public init(stages: [Stage] = Stage.allCases, factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
        instruments = Dictionary(uniqueKeysWithValues: stages.map { ($0, Instruments($0, factory: factory)) })
    }

    func instruments(_ stage: Stage) -> Instruments { instruments[stage] ?? Instruments(stage, factory: factory) }

    /// The provider limits as this process last saw them (`reelforge_provider_*`, labelled by provider key), and
    /// the waits they made.
    public func record(_ observation: ProviderGovernor.Observation) {
        switch observation {
        case .state(let s, let limit):
            let d = [("provider", s.key)]
            let now = Date()
            let circuit = s.blocked(now: now) == nil && s.circuit == .open ? CircuitState.halfOpen : s.circuit
            Gauge(label: "reelforge_provider_circuit_state", dimensions: d, factory: factory).record(circuit.gauge)
            Gauge(label: "reelforge_provider_slots_in_use", dimensions: d, factory: factory).record(s.slotsInUse(now: now))
            Gauge(label: "reelforge_provider_rate_factor", dimensions: d, factory: factory).record(s.factor)
            if let r = s.rate(limit) { Gauge(label: "reelforge_provider_effective_rps", dimensions: d, factory: factory).record(r) }
            Gauge(label: "reelforge_provider_paused", dimensions: d, factory: factory).record((s.pausedUntil ?? .distantPast) > now ? 1 : 0)
        case .wait(let key, let kind):
            Counter(label: "reelforge_provider_waits_total", dimensions: [("provider", key), ("kind", kind)], factory: factory).increment()
        }
    }

    public func record(_ event: RunnerEvent) {
        switch event {
        case .started(_, let stage, _):
            instruments(stage).started.increment()
        case .succeeded(_, let stage, _, let seconds):
            let m = instruments(stage)
            m.processed.increment()
            m.duration.record(duration: .milliseconds(max(0, seconds) * 1000))
        case .retryScheduled(_, let stage, _, _, _):
            let m = instruments(stage)
            m.failed.increment(); m.retried.increment()
        case .parked(_, let stage, _, _):
            let m = instruments(stage)
            m.failed.increment(); m.parked.increment()
        case .skipped(_, let stage):
            instruments(stage).skippedDone.increment()
        case .leaseHeld(_, let stage):
            instruments(stage).leaseWaits.increment()
        case .credits(let stage, let usd, let saved):
            let m = instruments(stage)
            (saved ? m.saved : m.spent).increment(by: max(0, usd))
            if saved { m.reused.increment() }
        case .completed, .progress, .cancelled:
            break
        }
    }

    /// The executors, each reporting its provider work (see `MeteredExecutor`) to this object's factory.
    public func instrument(_ executors: [any StageExecutor]) -> [any StageExecutor] {
        executors.map { MeteredExecutor($0, metrics: self) }
    }
}

/// A stage executor that reports the provider work it wraps, checkpointed or not: runs in progress, how long each
/// run took by how it ended (`outcome`: succeeded, transient, permanent, cancelled, error), and the provider calls
/// a successful run paid for (`provider` as its cost entries name it).
public struct MeteredExecutor: StageExecutor {
    let inner: any StageExecutor
    let metrics: RunnerMetrics

    public init(_ inner: any StageExecutor, metrics: RunnerMetrics) { self.inner = inner; self.metrics = metrics }

    public var stage: Stage { inner.stage }

    public func run(_ input: StageInput, logger: Logger) async throws -> StageOutput {
        let gauge = metrics.instruments(stage).inProgress
        gauge.increment()
        defer { gauge.decrement() }
        let start = ContinuousClock.now
        do {
            let output = try await inner.run(input, logger: logger)
            finished("succeeded", since: start)
            for cost in output.costs where cost.calls > 0 {
                Counter(label: "reelforge_provider_calls_total",
                        dimensions: [("stage", stage.rawValue), ("provider", cost.provider)], factory: metrics.factory)
                    .increment(by: cost.calls)
            }
            return output
        } catch {
            finished(Self.outcome(of: error), since: start)
            throw error
        }
    }

    private func finished(_ outcome: String, since start: ContinuousClock.Instant) {
        Metrics.Timer(label: "reelforge_provider_run_duration_seconds",
                      dimensions: [("stage", stage.rawValue), ("outcome", outcome)], preferredDisplayUnit: .seconds,
                      factory: metrics.factory)
            .record(duration: ContinuousClock.now - start)
    }

    static func outcome(of error: any Error) -> String {
        if let failure = error as? StageFailure { return failure.kind.label }
        return error is CancellationError ? "cancelled" : "error"
    }
}
