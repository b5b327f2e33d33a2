import Foundation
import ReelForgeTestKit
import Shared
import StageMetrics
import Testing
import WorkerRuntime

/// `/metrics` of an in-process runner: the probes server renders a registry of its own (no process-wide bootstrap),
/// every metric of the documented list (docs/deploy.md, "Metrics") is there with its type and labels, the names
/// of before swift-metrics are all kept, and the counts move as a job runs.
@Suite("Metrics exposition")
struct MetricsExpositionTests {
    /// The metric names the hand-written exposition had: dashboards and alerts rely on them.
    static let namesBefore = [
        "reelforge_stage_started_total", "reelforge_stage_processed_total", "reelforge_stage_failed_total",
        "reelforge_stage_retried_total", "reelforge_stage_parked_total", "reelforge_stage_skipped_done_total",
        "reelforge_stage_lease_waits_total", "reelforge_credits_spent_usd_total", "reelforge_credits_saved_usd_total",
        "reelforge_stage_results_reused_total", "reelforge_stage_duration_seconds",
    ]

    struct Documented: Equatable { var type: String; var labels: [String] }

    /// The table under "## Metrics" in docs/deploy.md: name → type and labels.
    static func documented() throws -> [String: Documented] {
        let doc = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/deploy.md")
        let text = try String(contentsOf: doc, encoding: .utf8)
        let section = try #require(text.components(separatedBy: "\n## Metrics\n").dropFirst().first)
        var list: [String: Documented] = [:]
        for match in section.matches(of: /\n\| `(reelforge_[a-z_]+)` \| (counter|gauge|histogram) \| ([^|]*) \|/) {
            list[String(match.1)] = Documented(type: String(match.2), labels: match.3.matches(of: /`([a-z_]+)`/).map { String($0.1) })
        }
        return list
    }

    /// The exposition as `# TYPE` lines (name → type) and samples (`name{labels}` → value).
    static func parse(_ text: String) -> (types: [String: String], samples: [String: Double]) {
        var types: [String: String] = [:], samples: [String: Double] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if line.hasPrefix("# TYPE "), parts.count == 4 { types[String(parts[2])] = String(parts[3]) }
            else if !line.hasPrefix("#"), parts.count == 2 { samples[String(parts[0])] = Double(parts[1]) }
        }
        return (types, samples)
    }

    static func labelNames(_ sample: String) -> (name: String, labels: [String]) {
        guard let brace = sample.firstIndex(of: "{") else { return (sample, []) }
        return (String(sample[..<brace]), sample[brace...].matches(of: /([a-z_]+)="/).map { String($0.1) })
    }

    @Test func theDocumentedListKeepsEveryNameOfBefore() throws {
        let list = try Self.documented()
        #expect(list.count >= 14)
        for name in Self.namesBefore { #expect(list[name] != nil, "\(name) is not documented") }
        #expect(list["reelforge_stage_duration_seconds"] == Documented(type: "histogram", labels: ["stage"]))
    }

    @Test func metricsShowEveryDocumentedMetricAndCountAJob() async throws {
        let exposed = WorkerMetrics()
        let pipeline = try MeteredPipeline(metrics: exposed)
        let server = ProbeServer(.fixed(0), metrics: exposed, readiness: Readiness(checks: []), logger: testLogger())
        let serving = Task { try await server.run() }
        defer { serving.cancel() }
        let port = try await server.port()
        let before = Self.parse(try #require(await probe(port, "/metrics", timeout: .seconds(20))).body)
        #expect(before.samples["reelforge_stage_processed_total{stage=\"audio\"}"] == 0)
        #expect(before.types["reelforge_stage_duration_seconds"] == "histogram")

        pipeline.executor(.audio).failNext([.transient("the speech service is busy")])
        try await pipeline.runOneJob()
        let answer = try #require(await probe(port, "/metrics", timeout: .seconds(20)))
        #expect(answer.status == 200)
        let after = Self.parse(answer.body)
        try Self.checkAgainstTheList(after)
        for stage in Stage.allCases {
            let s = "{stage=\"\(stage.rawValue)\"}"
            #expect(after.samples["reelforge_stage_processed_total\(s)"] == 1, "\(stage)")
            #expect(after.samples["reelforge_stage_duration_seconds_count\(s)"] == 1, "\(stage)")
            #expect(after.samples["reelforge_provider_runs_in_progress\(s)"] == 0, "\(stage)")
            #expect(after.samples["reelforge_provider_calls_total{stage=\"\(stage.rawValue)\",provider=\"counting\"}"] == 1)
            #expect(abs((after.samples["reelforge_credits_spent_usd_total\(s)"] ?? 0) - 0.01) < 1e-9, "\(stage)")
            #expect(after.samples["reelforge_stage_started_total\(s)"] == (stage == .audio ? 2 : 1), "\(stage)")
            #expect(after.samples["reelforge_stage_retried_total\(s)"] == (stage == .audio ? 1 : 0), "\(stage)")
        }
        #expect(after.samples["reelforge_provider_run_duration_seconds_count{stage=\"audio\",outcome=\"transient\"}"] == 1)
        #expect(after.samples["reelforge_provider_run_duration_seconds_count{stage=\"audio\",outcome=\"succeeded\"}"] == 1)
        #expect(after.samples["reelforge_stage_duration_seconds_bucket{stage=\"video\",le=\"600.0\"}"] == 1)
    }

    /// Every documented metric has its `# TYPE` line and only its documented labels; nothing undocumented shows.
    static func checkAgainstTheList(_ exposition: (types: [String: String], samples: [String: Double])) throws {
        let list = try documented()
        for (name, doc) in list { #expect(exposition.types[name] == doc.type, "# TYPE \(name) \(doc.type)") }
        for name in exposition.types.keys where name.hasPrefix("reelforge_") { #expect(list[name] != nil, "\(name) is not documented") }
        for sample in exposition.samples.keys where sample.hasPrefix("reelforge_") {
            let (series, labels) = labelNames(sample)
            let family = list[series] != nil ? series : series.replacing(/_(bucket|sum|count)$/, with: "")
            let doc = try #require(list[family], "\(sample) belongs to no documented metric")
            let expected = series.hasSuffix("_bucket") && doc.type == "histogram" ? doc.labels + ["le"] : doc.labels
            #expect(labels == expected, "\(sample)")
        }
    }
}

/// A StageRunner on the memory backends with counting executors, its events and executors feeding RunnerMetrics
/// on an explicit factory, as WorkerMain wires them.
struct MeteredPipeline {
    let queue = MemoryWorkQueue()
    let store = RecordJobStore.memory()
    let counting = Stage.allCases.map { CountingExecutor($0) }
    let runner: StageRunner
    /// The provider limits' side of the metrics, wired as WorkerMain wires them.
    let governor: ProviderGovernor

    init(metrics exposed: WorkerMetrics) throws {
        let metrics = RunnerMetrics(stages: Stage.allCases, factory: exposed.factory)
        governor = ProviderGovernor(states: MemoryProviderStates(), limits: try ProviderLimits(parsing: "counting:rps=100,concurrent=1"), owner: "w",
                                    maxWait: .zero, logger: testLogger(), observe: { metrics.record($0) })
        runner = StageRunner(queue: queue, store: store, artifacts: try DirectoryArtifactStore(root: temporaryDirectory("metrics-artifacts")),
                             executors: metrics.instrument(counting),
                             settings: RunnerSettings(workerID: "w", retry: RetryPolicy(delays: [.milliseconds(20)], maxRetries: 3, jitter: 0, jitterBuckets: 1),
                                                      workRoot: temporaryDirectory("metrics-work")),
                             logger: testLogger(), onEvent: { metrics.record($0) })
    }

    func executor(_ stage: Stage) -> CountingExecutor { counting[stage.index] }

    func runOneJob() async throws {
        let serving = Task { [runner] in try await runner.serve(stages: Stage.allCases, concurrency: 1) }
        defer { serving.cancel() }
        let s = try await Operations(queue: queue, store: store, maxRetries: 3).submit(idea: "why the sea is salty")
        let done = try await eventually(timeout: .seconds(60)) { try await store.idea(s.ideaID)?.status == .completed }
        #expect(done, "the job should complete")
        // One provider call answered 429: the limit's state is seen, the 429 is waited for, and (no time to wait
        // here) the run would go back to the queue.
        await #expect(throws: StageFailure.self) {
            try await governor.perform(ProviderCall(provider: "counting"), hold: .seconds(5), { 429 },
                                       classify: { _ in .throttled(retryAfter: .milliseconds(50)) })
        }
    }
}
