import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Shared

/// `/v1/dead-letters` and `/v1/pipeline`: parked messages grouped by cause, replayed (with edits) or purged
/// through `Operations` and the queue's own parking API.
struct DeadLetterRoutes: Sendable {
    let operations: Operations
    var queue: any WorkQueue { operations.queue }
    var store: any JobStore { operations.store }

    /// Replays are sent at most this often (a large group does not flood the stage's queue at once).
    static let replayPause: Duration = .milliseconds(20)

    func add(to group: RouterGroup<ApiContext>) {
        group.get("dead-letters") { _, _ in try await list() }
        group.post("dead-letters/replay") { request, _ in try await replay(request) }
        group.post("dead-letters/purge") { request, _ in try await purge(request) }
        group.get("pipeline") { _, _ in try await pipeline() }
    }

    /// A group's key: the stage, the kind and the cause (the reason with what differs between messages of one
    /// cause masked: ids, numbers, quoted values).
    struct Group {
        var id: String
        var stage: Stage
        var kind: String
        var cause: String
        var count = 0
        var first: String?
        var last: String?
        var jobIDs: [String] = []
    }

    static func cause(_ reason: String) -> String {
        var s = reason
        for pattern in [#"\b(idea|job)_[A-Za-z0-9_-]+"#, #"'[^']*'"#, #""[^"]*""#, #"\b\d+(\.\d+)?\b"#] {
            let replacement = pattern.hasPrefix(#"\b(idea"#) ? "$1_…" : pattern.hasPrefix("'") ? "'…'" : pattern.hasPrefix("\"") ? "\"…\"" : "N"
            s = s.replacingOccurrences(of: pattern, with: replacement, options: .regularExpression)
        }
        return String(s.prefix(300))
    }

    static func groupID(stage: Stage, kind: String, cause: String) -> String {
        SHA256.hash(data: Data("\(stage.rawValue)\u{0}\(kind)\u{0}\(cause)".utf8)).prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    static func groupID(of m: ParkedMessage) -> String { groupID(stage: m.stage, kind: m.reasonKind, cause: cause(m.reason)) }

    func groups() async throws -> [Group] {
        var groups: [String: Group] = [:]
        for m in try await queue.parked(stage: nil, limit: 100_000) {
            let cause = Self.cause(m.reason)
            let id = Self.groupID(stage: m.stage, kind: m.reasonKind, cause: cause)
            var g = groups[id] ?? Group(id: id, stage: m.stage, kind: m.reasonKind, cause: cause)
            g.count += 1
            if let at = m.headers[MessageHeader.parkedAt] {
                if g.first.map({ at < $0 }) ?? true { g.first = at }
                if g.last.map({ at > $0 }) ?? true { g.last = at }
            }
            if let job = m.jobID, Identifier.isValid(job), !g.jobIDs.contains(job) { g.jobIDs.append(job) }
            groups[id] = g
        }
        return groups.values.sorted { ($0.last ?? "", $0.id) > ($1.last ?? "", $1.id) }
    }

    func list() async throws -> Response {
        let out: [JSONValue] = try await groups().map { g in
            ["group": .string(g.id), "stage": .string(g.stage.rawValue), "kind": .string(g.kind), "cause": .string(Redactor.shared.redact(g.cause)),
             "count": .int(Int64(g.count)), "first_seen": g.first.map { .string($0) } ?? .null, "last_seen": g.last.map { .string($0) } ?? .null,
             "job_ids": .array(g.jobIDs.map { .string($0) })]
        }
        return json(.ok, ["groups": .array(out)])
    }

    /// `{"job_ids": [...]}` or `{"group": G}`: the job ids, checked.
    func jobIDs(_ o: [String: JSONValue], allowed: Set<String>) async throws -> [String] {
        if let unknown = o.keys.first(where: { !allowed.contains($0) }) {
            throw ApiError.invalid("unknown field '\(unknown.prefix(40))' (expected \(allowed.sorted().joined(separator: ", ")))")
        }
        switch (o["job_ids"], o["group"]) {
        case (let ids?, nil):
            guard let list = ids.arrayValue, !list.isEmpty, list.count <= 1_000 else { throw ApiError.invalid("field 'job_ids' must be a list of 1 to 1000 job ids") }
            return try list.map { v in
                guard let s = v.stringValue, Identifier.isValid(s) else { throw ApiError.invalid("field 'job_ids' holds an invalid job id") }
                return s
            }
        case (nil, let g?):
            guard let id = g.stringValue, id.count <= 64 else { throw ApiError.invalid("field 'group' must be a group id") }
            guard let group = try await groups().first(where: { $0.id == id }) else { throw ApiError.notFound("no dead-letter group \(id)") }
            return group.jobIDs
        default:
            throw ApiError.invalid("give either 'job_ids' or 'group'")
        }
    }

    func replay(_ request: Request) async throws -> Response {
        let o = try await VideoRoutes.jsonObject(request, limit: 256 << 10)
        let ids = try await jobIDs(o, allowed: ["job_ids", "group", "edits"])
        let edits = try o["edits"].map(Self.edits) ?? IdeaEdits()
        var replayed: [String] = []
        for id in ids {
            if !edits.isEmpty, let job = try await store.job(id) { try await store.edit(ideaID: job.ideaID, edits, at: Date()) }
            replayed += try await operations.replay(jobID: id)
            try await Task.sleep(for: Self.replayPause)
        }
        return json(.ok, ["replayed": .array(replayed.map { .string($0) })])
    }

    /// What a replay may change, by the message codec's rules for those fields.
    static func edits(_ v: JSONValue) throws -> IdeaEdits {
        guard let o = v.objectValue else { throw ApiError.invalid("field 'edits' must be an object") }
        let allowed: Set<String> = ["background", "footage", "format", "style"]
        if let unknown = o.keys.first(where: { !allowed.contains($0) }) {
            throw ApiError.invalid("edits may change \(allowed.sorted().joined(separator: ", ")), not '\(unknown.prefix(40))'")
        }
        var fields = o
        fields["idea"] = "edits"  // the codec reads the other fields only beside an idea
        let read: JobMessage.NewIdea
        do { read = try JobMessageCodec.idea(fields: fields) } catch { throw ApiError.invalid(error.description) }
        return IdeaEdits(background: read.background, footage: read.footage, format: read.format, style: read.style)
    }

    func purge(_ request: Request) async throws -> Response {
        let o = try await VideoRoutes.jsonObject(request, limit: 256 << 10)
        let purged: Int
        if let g = o["group"]?.stringValue, o.count == 1 {
            // A whole group, also its messages without a job (poison).
            purged = try await queue.takeParked(stage: nil, matching: { Self.groupID(of: $0) == g }, handler: { _ in })
        } else {
            let ids = Set(try await jobIDs(o, allowed: ["job_ids"]))
            purged = try await queue.takeParked(stage: nil, matching: { $0.jobID.map(ids.contains) ?? false }, handler: { _ in })
        }
        return json(.ok, ["purged": .int(Int64(purged))])
    }

    /// Queue depths (stage, delay and parking queues), videos by status and by stage among the newest 500.
    func pipeline() async throws -> Response {
        let depths = (try? await queue.depths()) ?? [:]
        var byStatus: [String: JSONValue] = [:]
        var counts: [Stage: [String: Int]] = [:]
        var durations: [Stage: [Double]] = [:]
        let recent = try await store.ideas(IdeaQuery(limit: 500))
        for s in JobStatus.allCases { byStatus[s.rawValue] = .int(Int64(recent.filter { $0.status == s }.count)) }
        var completedLastHour = 0
        for idea in recent {
            for s in Stage.allCases where idea.isDone(s) {
                counts[s, default: [:]]["done", default: 0] += 1
                if let seconds = idea.artifacts[s]?.seconds { durations[s, default: []].append(seconds) }
            }
            if !idea.status.isFinal, let at = VideoView.stage(of: idea) {
                counts[at, default: [:]][idea.leases[at] != nil ? "running" : "waiting", default: 0] += 1
            }
            if idea.status == .completed, idea.updatedAt > Date().addingTimeInterval(-3600) { completedLastHour += 1 }
        }
        var stages: [String: JSONValue] = [:]
        for s in Stage.allCases {
            let c = counts[s] ?? [:], d = durations[s] ?? []
            stages[s.rawValue] = ["waiting": .int(Int64(c["waiting"] ?? 0)), "running": .int(Int64(c["running"] ?? 0)),
                                  "done": .int(Int64(c["done"] ?? 0)), "runs": .int(Int64(d.count)),
                                  "mean_seconds": d.isEmpty ? .null : .double(((d.reduce(0, +) / Double(d.count)) * 1000).rounded() / 1000)]
        }
        return json(.ok, [
            "queues": .object(depths.mapValues { .int(Int64($0)) }),
            "videos": .object(byStatus),
            "stages": .object(stages),
            "completed_last_hour": .int(Int64(completedLastHour)),
            "sampled": .int(Int64(recent.count)),
        ])
    }
}
