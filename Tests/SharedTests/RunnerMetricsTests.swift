import Foundation
import Logging
import Metrics
import MetricsTestKit
import ReelForgeTestKit
import Shared
import StageMetrics
import Synchronization
import Testing

/// The runner's events and the executors' provider work, as swift-metrics sees them: each test passes its own
/// TestMetrics factory, so nothing bootstraps the process-wide MetricsSystem.
@Suite("Runner metrics")
struct RunnerMetricsTests {
    let test = TestMetrics()

    func total(_ name: String, _ stage: Stage) throws -> Int64 {
        try test.expectCounter(name, [("stage", stage.rawValue)]).totalValue
    }

    @Test func theServedStagesSeriesExistAtZeroBeforeAnyEvent() throws {
        _ = RunnerMetrics(stages: [.audio], factory: test)
        for name in ["started", "processed", "failed", "retried", "parked", "skipped_done", "lease_waits", "results_reused"] {
            #expect(try total("reelforge_stage_\(name)_total", .audio) == 0, "\(name)")
        }
        #expect(test.counters(label: "reelforge_stage_started_total", dimensions: [("stage", "video")]).isEmpty)
        #expect(try test.expectMeter("reelforge_provider_runs_in_progress", [("stage", "audio")]).values.isEmpty)
    }

    @Test func eachEventCountsForItsStage() throws {
        let metrics = RunnerMetrics(stages: [.audio, .video], factory: test)
        let events: [RunnerEvent] = [
            .started(jobID: "j", stage: .audio, attempt: 1),
            .retryScheduled(jobID: "j", stage: .audio, attempt: 2, delay: .seconds(1), reason: "busy"),
            .started(jobID: "j", stage: .audio, attempt: 2),
            .credits(stage: .audio, usd: 3, saved: false),
            .succeeded(jobID: "j", stage: .audio, attempt: 2, seconds: 1.5),
            .skipped(jobID: "j", stage: .audio),
            .leaseHeld(jobID: "j", stage: .video),
            .credits(stage: .video, usd: 2, saved: true),
            .parked(jobID: "j", stage: .video, kind: "permanent", reason: "no"),
            .progress(jobID: "j", stage: .video, fraction: 0.5, detail: "half"),
            .completed(jobID: "j", ideaID: "i"),
        ]
        events.forEach(metrics.record)
        let expected: [(String, Stage, Int64)] = [
            ("started", .audio, 2), ("retried", .audio, 1), ("failed", .audio, 1), ("processed", .audio, 1),
            ("skipped_done", .audio, 1), ("parked", .audio, 0), ("lease_waits", .video, 1), ("results_reused", .video, 1),
            ("failed", .video, 1), ("parked", .video, 1), ("processed", .video, 0), ("credits_spent_usd", .audio, 3),
            ("credits_saved_usd", .video, 2), ("credits_spent_usd", .video, 0),
        ]
        for (name, stage, value) in expected {
            let label = name.hasPrefix("credits") ? "reelforge_\(name)_total" : "reelforge_stage_\(name)_total"
            #expect(try total(label, stage) == value, "\(label){stage=\(stage)}")
        }
        let duration = try test.expectTimer("reelforge_stage_duration_seconds", [("stage", "audio")])
        #expect(duration.values == [1_500_000_000])
    }

    @Test func anEventOfAStageNotServedStillCounts() throws {
        let metrics = RunnerMetrics(stages: [.script], factory: test)
        metrics.record(.parked(jobID: nil, stage: .video, kind: "poison", reason: "bad"))
        #expect(try total("reelforge_stage_parked_total", .video) == 1)
    }

    @Test func aSuccessfulExecutorRunCountsItsProviderCallsAndOutcome() async throws {
        let metrics = RunnerMetrics(stages: [.script], factory: test)
        let test = self.test
        let inner = ProbeExecutor(stage: .script, result: .success([("llm:small", 2), ("rules", 1)]),
                                  gauge: { try? test.expectMeter("reelforge_provider_runs_in_progress", [("stage", "script")]).lastValue })
        let metered = try #require(metrics.instrument([inner]).first)
        _ = try await metered.run(try input(), logger: testLogger())
        #expect(inner.seenInProgress.withLock { $0 } == 1)
        #expect(try test.expectMeter("reelforge_provider_runs_in_progress", [("stage", "script")]).lastValue == 0)
        #expect(try test.expectCounter("reelforge_provider_calls_total", [("stage", "script"), ("provider", "llm:small")]).totalValue == 2)
        #expect(try test.expectCounter("reelforge_provider_calls_total", [("stage", "script"), ("provider", "rules")]).totalValue == 1)
        let timer = try test.expectTimer("reelforge_provider_run_duration_seconds", [("stage", "script"), ("outcome", "succeeded")])
        #expect(timer.values.count == 1)
    }

    @Test(arguments: [(StageFailure.transient("429"), "transient"), (StageFailure.permanent("401"), "permanent")])
    func aFailedExecutorRunIsTimedByItsOutcome(failure: StageFailure, outcome: String) async throws {
        let metrics = RunnerMetrics(stages: [.audio], factory: test)
        let metered = try #require(metrics.instrument([ProbeExecutor(stage: .audio, result: .failure(failure))]).first)
        await #expect(throws: StageFailure.self) { try await metered.run(try input(), logger: testLogger()) }
        #expect(try test.expectTimer("reelforge_provider_run_duration_seconds", [("stage", "audio"), ("outcome", outcome)]).values.count == 1)
        #expect(test.timers(label: "reelforge_provider_run_duration_seconds").count == 1)
        #expect(test.counters(label: "reelforge_provider_calls_total").isEmpty)
        #expect(try test.expectMeter("reelforge_provider_runs_in_progress", [("stage", "audio")]).lastValue == 0)
    }

    func input() throws -> StageInput {
        let idea = IdeaRecord(id: "idea_1", idea: "why cats purr", language: "en", targetSeconds: 30, now: Date())
        return StageInput(idea: idea, jobID: "job_1", attempt: 1, workDir: temporaryDirectory("metrics"),
                          artifacts: try DirectoryArtifactStore(root: temporaryDirectory("metrics-artifacts")))
    }
}

/// Returns costs (provider, calls) or throws; notes the in-progress gauge while it runs.
final class ProbeExecutor: StageExecutor {
    let stage: Stage
    let result: Result<[(String, Int)], StageFailure>
    let seenInProgress = Mutex<Double?>(nil)
    let gauge: @Sendable () -> Double?

    init(stage: Stage, result: Result<[(String, Int)], StageFailure>, gauge: @escaping @Sendable () -> Double? = { nil }) {
        self.stage = stage; self.result = result; self.gauge = gauge
    }

    func run(_ input: StageInput, logger: Logger) async throws -> StageOutput {
        let now = gauge()
        seenInProgress.withLock { $0 = now }
        let costs = try result.get().map {
            CostEntry(stage: stage, attempt: input.attempt, provider: $0.0, units: 1, unit: "calls", costUSD: 0.01, at: Date(), calls: $0.1)
        }
        return StageOutput(costs: costs)
    }
}
