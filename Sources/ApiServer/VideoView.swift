import Foundation
import Shared

/// A video as the API shows it (docs/api.md, VIDEO): the idea and its latest job, with the timeline of every
/// attempt, the errors and the cost ledger in the detailed form.
enum VideoView {
    static func date(_ d: Date) -> JSONValue { .string(Timestamp.iso(d)) }
    static func text(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }

    /// The stage a video is at: the one running or next, nil once complete. The list filter, the pipeline view
    /// and the VIDEO's `stage` all use this one rule.
    static func stage(of idea: IdeaRecord) -> Stage? {
        idea.status == .completed ? nil : idea.currentStep ?? ResumePlanner.nextStage(after: idea.lastSuccessfulStep)
    }

    static func summary(_ idea: IdeaRecord, job: JobRecord?) -> [String: JSONValue] {
        var attempts: [String: JSONValue] = [:]
        for (stage, n) in job?.attempts ?? [:] { attempts[stage.rawValue] = .int(Int64(n)) }
        var files: [String: JSONValue] = [:]
        for stage in Stage.allCases {
            for (name, ref) in idea.artifacts[stage]?.files ?? [:] {
                files[name] = ["size": .int(Int64(ref.size)), "content_type": .string(ref.contentType),
                               "url": .string("/v1/videos/\(idea.id)/files/\(name)")]
            }
        }
        let stage = stage(of: idea)
        return [
            "id": .string(idea.id), "job_id": text(job?.jobID), "idea": .string(idea.idea), "language": .string(idea.language),
            "duration_seconds": .int(Int64(idea.targetSeconds)), "background": text(idea.background),
            "footage": text(idea.footage.map { $0.map(\.rawValue).joined(separator: ",") }),
            "format": text(idea.format?.rawValue), "style": text(idea.style?.rawValue), "callback_url": text(idea.callbackURL),
            "status": .string(idea.status.rawValue), "checkpoint": text(idea.lastSuccessfulStep?.rawValue),
            "stage": text(stage?.rawValue), "progress": .int(Int64(idea.progressPercentage)),
            "attempts": .object(attempts), "cost_usd": .double(idea.costs.reduce(0) { $0 + $1.costUSD }),
            "files": .object(files), "created_at": date(idea.createdAt), "updated_at": date(idea.updatedAt),
        ]
    }

    static func detail(_ idea: IdeaRecord, job: JobRecord?) -> JSONValue {
        var out = summary(idea, job: job)
        out["errors"] = .array(idea.errors.map { e in
            ["stage": .string(e.stage.rawValue), "kind": .string(e.kind), "message": .string(e.message), "attempt": .int(Int64(e.attempt)),
             "at": date(e.at)]
        })
        out["costs"] = .array(idea.costs.map { c in
            ["stage": .string(c.stage.rawValue), "provider": .string(c.provider), "units": .double(c.units), "unit": .string(c.unit),
             "usd": .double(c.costUSD), "attempt": .int(Int64(c.attempt)), "calls": .int(Int64(c.calls)), "at": date(c.at)]
        })
        out["timeline"] = .array(timeline(idea, job: job))
        out["resume_saved_usd"] = .double(resumeSaved(idea))
        return .object(out)
    }

    /// What resuming saved: every failure was retried (or replayed) at its own stage, so the stages before it,
    /// and what they cost, were not paid again; starting over would have paid them once more each time.
    static func resumeSaved(_ idea: IdeaRecord) -> Double {
        idea.errors.reduce(0) { sum, e in sum + idea.costs.filter { $0.stage < e.stage }.reduce(0) { $0 + $1.costUSD } }
    }

    /// Every attempt that ended (a failure, or the success that wrote a checkpoint) and the one running now,
    /// oldest first.
    static func timeline(_ idea: IdeaRecord, job: JobRecord?) -> [JSONValue] {
        var rows: [(Date, JSONValue)] = idea.errors.map { e in
            var row: [String: JSONValue] = ["stage": .string(e.stage.rawValue), "attempt": .int(Int64(e.attempt)), "outcome": .string(e.kind),
                                            "at": date(e.at), "message": .string(e.message)]
            if let w = e.worker { row["worker"] = .string(w) }
            return (e.at, .object(row))
        }
        for (stage, artifact) in idea.artifacts {
            var row: [String: JSONValue] = ["stage": .string(stage.rawValue), "attempt": .int(Int64(artifact.attempt)),
                                            "outcome": "succeeded", "at": date(artifact.producedAt)]
            if let w = artifact.worker { row["worker"] = .string(w) }
            if let s = artifact.seconds {
                row["seconds"] = .double((s * 1000).rounded() / 1000)
                row["started_at"] = date(artifact.producedAt.addingTimeInterval(-s))
            }
            rows.append((artifact.producedAt, .object(row)))
        }
        if let lease = job?.lease, lease.expiresAt > Date() {
            rows.append((Date(), ["stage": .string(lease.stage.rawValue), "attempt": .int(Int64(job?.attempts[lease.stage] ?? 1)),
                                  "outcome": "running", "worker": .string(lease.owner), "at": .null]))
        }
        return rows.sorted { $0.0 < $1.0 }.map(\.1)
    }
}
