import Foundation
import Synchronization

/// Counters and stage-duration histograms of a worker, fed by the StageRunner's events and rendered in the
/// Prometheus text format.
public final class RunnerMetrics: Sendable {
    private struct State {
        var counters: [String: Double] = [:]          // "name{labels}" → value
        var buckets: [Stage: [Int]] = [:]
        var sums: [Stage: Double] = [:]
        var counts: [Stage: Int] = [:]
    }

    public static let durationBuckets: [Double] = [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600]
    private let state = Mutex(State())

    public init() {}

    private func add(_ name: String, _ stage: Stage, _ value: Double = 1) {
        state.withLock { $0.counters["\(name){stage=\"\(stage.rawValue)\"}", default: 0] += value }
    }

    public func record(_ event: RunnerEvent) {
        switch event {
        case .succeeded(_, let stage, _, let seconds):
            add("reelforge_stage_processed_total", stage)
            state.withLock { s in
                s.sums[stage, default: 0] += seconds
                s.counts[stage, default: 0] += 1
                var b = s.buckets[stage] ?? Array(repeating: 0, count: Self.durationBuckets.count)
                for (i, le) in Self.durationBuckets.enumerated() where seconds <= le { b[i] += 1 }
                s.buckets[stage] = b
            }
        case .retryScheduled(_, let stage, _, _, _):
            add("reelforge_stage_failed_total", stage)
            add("reelforge_stage_retried_total", stage)
        case .parked(_, let stage, _, _):
            add("reelforge_stage_failed_total", stage)
            add("reelforge_stage_parked_total", stage)
        case .skipped(_, let stage):
            add("reelforge_stage_skipped_done_total", stage)
        case .started(_, let stage, _):
            add("reelforge_stage_started_total", stage)
        case .leaseHeld(_, let stage):
            add("reelforge_stage_lease_waits_total", stage)
        case .credits(let stage, let usd, let saved):
            add(saved ? "reelforge_credits_saved_usd_total" : "reelforge_credits_spent_usd_total", stage, usd)
            if saved { add("reelforge_stage_results_reused_total", stage) }
        case .completed, .progress:
            break
        }
    }


    public func prometheusText() -> String {
        state.withLock { s in
            var lines: [String] = []
            let help: [String: String] = [
                "reelforge_stage_started_total": "Stage runs started.",
                "reelforge_stage_processed_total": "Stage runs that succeeded and wrote their checkpoint.",
                "reelforge_stage_failed_total": "Stage runs that failed (retried or parked).",
                "reelforge_stage_retried_total": "Failed stage runs sent to a delay queue.",
                "reelforge_stage_parked_total": "Messages parked (exhausted, permanent, poison, crash loop).",
                "reelforge_stage_skipped_done_total": "Deliveries skipped because their stage was already done.",
                "reelforge_stage_lease_waits_total": "Deliveries put back because another worker held the stage.",
                "reelforge_credits_spent_usd_total": "Estimated provider cost of checkpointed stage runs.",
                "reelforge_credits_saved_usd_total": "Estimated provider cost not paid again: stored results reused after a crash.",
                "reelforge_stage_results_reused_total": "Stage runs finished from a result an earlier, crashed run stored.",
            ]
            for name in help.keys.sorted() {
                lines.append("# HELP \(name) \(help[name]!)")
                lines.append("# TYPE \(name) counter")
                for (key, value) in s.counters.sorted(by: { $0.key < $1.key }) where key.hasPrefix(name + "{") {
                    lines.append("\(key) \(value)")
                }
            }
            lines.append("# HELP reelforge_stage_duration_seconds Time of successful stage runs.")
            lines.append("# TYPE reelforge_stage_duration_seconds histogram")
            for stage in Stage.allCases {
                guard let b = s.buckets[stage] else { continue }
                for (i, le) in Self.durationBuckets.enumerated() {
                    lines.append("reelforge_stage_duration_seconds_bucket{stage=\"\(stage.rawValue)\",le=\"\(le)\"} \(b[i])")
                }
                lines.append("reelforge_stage_duration_seconds_bucket{stage=\"\(stage.rawValue)\",le=\"+Inf\"} \(s.counts[stage] ?? 0)")
                lines.append("reelforge_stage_duration_seconds_sum{stage=\"\(stage.rawValue)\"} \(s.sums[stage] ?? 0)")
                lines.append("reelforge_stage_duration_seconds_count{stage=\"\(stage.rawValue)\"} \(s.counts[stage] ?? 0)")
            }
            return lines.joined(separator: "\n") + "\n"
        }
    }
}
