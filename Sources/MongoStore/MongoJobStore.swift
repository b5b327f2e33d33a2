import Foundation
import Shared

/// The JobStore on MongoDB: collections `ideas` and `video_queue` in the schema dashboards already read.
/// Only standard commands (insert, find, update, findAndModify, createIndexes) are used.
public final class MongoJobStore: JobStore {
    public let client: MongoClient
    let ideas = "ideas"
    let jobs = "video_queue"

    public init(client: MongoClient) { self.client = client }

    public func prepare() async throws {
        // `_id` carries the idea id and the job id (unique by nature); these serve queries and dashboards.
        _ = try await client.command(#"""
        {"createIndexes": "video_queue", "indexes": [
          {"key": {"job_id": 1}, "name": "job_id_1", "unique": true},
          {"key": {"idea_id": 1}, "name": "idea_id_1"},
          {"key": {"status": 1, "updated_at": 1}, "name": "status_1_updated_at_1"}]}
        """#)
        _ = try await client.command(#"""
        {"createIndexes": "ideas", "indexes": [
          {"key": {"status": 1, "updated_at": 1}, "name": "status_1_updated_at_1"},
          {"key": {"created_at": -1}, "name": "created_at_-1"}]}
        """#)
    }

    /// The `ping` command: one round trip to the server (bounded by the URI's server selection timeout).
    public func ping() async throws {
        _ = try await client.command(#"{"ping": 1}"#)
    }

    // MARK: Commands

    private func insert(_ coll: String, _ doc: JSONValue) async throws {
        _ = try await client.command(JSONValue.object(["insert": .string(coll), "documents": [doc]]).jsonText)
    }

    /// Returns the number of documents matched.
    @discardableResult
    private func update(_ coll: String, _ filter: JSONValue, _ update: JSONValue, upsert: Bool = false) async throws -> Int {
        let reply = try await client.command(JSONValue.object([
            "update": .string(coll),
            "updates": [["q": filter, "u": update, "upsert": .bool(upsert)]],
        ]).jsonText)
        return EJSON.int(reply["n"]) ?? 0
    }

    private func find(_ coll: String, _ filter: JSONValue, sort: JSONValue? = nil, limit: Int = 1) async throws -> [JSONValue] {
        var cmd: [String: JSONValue] = ["find": .string(coll), "filter": filter, "limit": .int(Int64(limit)),
                                        "batchSize": .int(Int64(limit)), "singleBatch": true]
        if let sort { cmd["sort"] = sort }
        let reply = try await client.command(JSONValue.object(cmd).jsonText)
        return reply["cursor"]?["firstBatch"]?.arrayValue ?? []
    }

    // MARK: JobStore

    @discardableResult
    public func create(idea: IdeaRecord, job: JobRecord) async throws -> Bool {
        var new = true
        do { try await insert(ideas, Self.document(idea)) } catch StoreError.duplicate {
            // The idea exists (another job of it, a duplicate delivery, or a crash between the two inserts): the
            // job decides.
            new = false
        }
        try await insert(jobs, Self.document(job))
        return new
    }

    public func idea(_ id: String) async throws -> IdeaRecord? {
        try await find(ideas, ["_id": .string(id)]).first.map(Self.idea(from:))
    }

    public func job(_ id: String) async throws -> JobRecord? {
        try await find(jobs, ["_id": .string(id)]).first.map(Self.job(from:))
    }

    public func ideas(limit: Int) async throws -> [IdeaRecord] {
        try await find(ideas, [:], sort: ["created_at": -1, "_id": -1], limit: limit).map(Self.idea(from:))
    }

    public func jobs(ideaID: String) async throws -> [JobRecord] {
        try await find(jobs, ["idea_id": .string(ideaID)], sort: ["created_at": 1], limit: 100).map(Self.job(from:))
    }

    public func claim(jobID: String, stage: Stage, owner: String, until: Date, now: Date) async throws -> ClaimResult {
        // The lease lives on the idea (`leases.<stage>`), so that two jobs of one idea never run a stage at once.
        // Two plain conditional updates instead of one `$or`: each is atomic on its own, and plain filters behave
        // the same on every server that speaks the protocol. A stage's lease is free when there is none or when
        // it expired.
        let field = "leases.\(stage.rawValue)"
        let lease = Lease(stage: stage, owner: owner, expiresAt: until, jobID: jobID)
        for _ in 0..<10 {
            guard let job = try await self.job(jobID) else { return .missing }
            if job.status == .cancelled { return .cancelled }
            let ideaID = job.ideaID
            for condition: JSONValue in [[.init(stringLiteral: field): nil], [.init(stringLiteral: field + ".expires_at"): ["$lt": EJSON.date(now)]]] {
                var query = condition.objectValue ?? [:]
                query["_id"] = .string(ideaID)
                let taken = try await findAndModify(ideas, .object(query), [
                    "$set": [.init(stringLiteral: field): Self.document(lease), "status": "processing",
                             "current_step": .string(stage.rawValue), "updated_at": EJSON.date(now)],
                ])
                guard taken != nil else { continue }
                return try await claimed(jobID: jobID, ideaID: ideaID, lease: lease, now: now)
            }
            guard let idea = try await self.idea(ideaID) else { return .missing }
            if let held = idea.leases[stage] { return .held(held) }
            // The lease was released between the tries: claim again.
        }
        throw StoreError.backend("the lease on \(stage) of job \(jobID) changed too often to claim")
    }

    /// After the idea's lease was taken: the job counts the attempt and shows the lease.
    private func claimed(jobID: String, ideaID: String, lease: Lease, now: Date) async throws -> ClaimResult {
        let doc = try await findAndModify(jobs, ["_id": .string(jobID)], [
            "$set": ["lease": Self.document(lease), "status": "processing", "updated_at": EJSON.date(now)],
            "$inc": [.init(stringLiteral: "attempts.\(lease.stage.rawValue)"): 1],
        ])
        guard let doc else {
            try await releaseLease(jobID: jobID, ideaID: ideaID, stage: lease.stage, owner: lease.owner, at: now)
            return .missing
        }
        return .claimed(try Self.job(from: doc))
    }

    /// One findAndModify returning the changed document, or nil when nothing matched.
    private func findAndModify(_ coll: String, _ query: JSONValue, _ update: JSONValue) async throws -> JSONValue? {
        let reply = try await client.command(JSONValue.object([
            "findAndModify": .string(coll), "query": query, "update": update, "new": true,
        ]).jsonText)
        guard let doc = reply["value"], doc != .null else { return nil }
        guard doc["_id"] == query["_id"] else {
            throw StoreError.backend("findAndModify on \(query["_id"]?.stringValue ?? "?") returned another document: the server ignored the filter")
        }
        return doc
    }

    public func renew(jobID: String, stage: Stage, owner: String, until: Date) async throws -> Bool {
        // A cancelled job's run loses its lease at its next renewal.
        guard let job = try await self.job(jobID), job.status != .cancelled else { return false }
        let ideaID = job.ideaID
        let field = "leases.\(stage.rawValue)"
        guard try await update(ideas, ["_id": .string(ideaID), .init(stringLiteral: field + ".owner"): .string(owner),
                                       .init(stringLiteral: field + ".job_id"): .string(jobID)],
                               ["$set": [.init(stringLiteral: field + ".expires_at"): EJSON.date(until)]]) > 0 else { return false }
        try await update(jobs, ["_id": .string(jobID), "lease.stage": .string(stage.rawValue), "lease.owner": .string(owner)],
                         ["$set": ["lease.expires_at": EJSON.date(until)]])
        return true
    }

    public func checkpoint(_ w: CheckpointWrite) async throws -> Bool {
        let earlier: [JSONValue] = Checkpoint.allCases.filter { $0 < w.stage.checkpoint }.map { .string($0.rawValue) }
        let artifact = try Self.document(w.artifact)
        var advanced = false
        // One conditional update: only while the checkpoint is unset or earlier (it moves forward only), and
        // only on the revision read, since the cost ledger is rewritten whole (no `$push` of documents).
        for _ in 0..<20 {
            guard let doc = try await find(ideas, ["_id": .string(w.ideaID)]).first else { throw StoreError.notFound("idea \(w.ideaID)") }
            let rev = EJSON.int(doc["rev"]) ?? 0
            let costs = (doc["costs"]?.arrayValue ?? []) + w.costs.map(Self.document)
            let matched = try await update(ideas, [
                "_id": .string(w.ideaID),
                "last_successful_step": ["$in": .array([.null] + earlier)],
                "rev": rev == 0 ? ["$in": [0, nil]] : .int(Int64(rev)),
            ], [
                "$set": [
                    "last_successful_step": .string(w.stage.checkpoint.rawValue),
                    "progress_percentage": .int(Int64(w.stage.progressAfter)),
                    .init(stringLiteral: "artifacts.\(w.stage.rawValue)"): artifact,
                    "costs": .array(costs),
                    "rev": .int(Int64(rev + 1)),
                    "current_step": .string((w.stage.next ?? w.stage).rawValue),
                    "updated_at": EJSON.date(w.at),
                ],
            ])
            if matched > 0 { advanced = true; break }
            // Either the checkpoint is already there, or the document changed under us: look again.
            if let step = doc["last_successful_step"]?.stringValue.flatMap(Checkpoint.init(rawValue:)), step >= w.stage.checkpoint { break }
            if let now = try await find(ideas, ["_id": .string(w.ideaID)]).first,
               let step = now["last_successful_step"]?.stringValue.flatMap(Checkpoint.init(rawValue:)), step >= w.stage.checkpoint { break }
        }
        try await releaseLease(jobID: w.jobID, ideaID: w.ideaID, stage: w.stage, owner: w.owner, at: w.at)
        return advanced
    }

    /// Ends the lease `owner` took on `stage` for the job, on the idea and on the job.
    private func releaseLease(jobID: String, ideaID: String, stage: Stage, owner: String, at: Date) async throws {
        let field = "leases.\(stage.rawValue)"
        try await update(ideas, ["_id": .string(ideaID), .init(stringLiteral: field + ".owner"): .string(owner),
                                 .init(stringLiteral: field + ".job_id"): .string(jobID)],
                         ["$set": [.init(stringLiteral: field): nil]])
        try await update(jobs, ["_id": .string(jobID), "lease.stage": .string(stage.rawValue), "lease.owner": .string(owner)],
                         ["$set": ["lease": nil, "updated_at": EJSON.date(at)]])
    }

    public func release(jobID: String, stage: Stage, owner: String) async throws {
        guard let ideaID = try await self.job(jobID)?.ideaID else { return }
        try await releaseLease(jobID: jobID, ideaID: ideaID, stage: stage, owner: owner, at: Date())
    }

    /// Appends to an array of the idea by rewriting it under a revision check (portable: no `$push` of documents).
    private func append(ideaID: String, field: String, _ entry: JSONValue, extra: [String: JSONValue] = [:]) async throws {
        for _ in 0..<20 {
            guard let doc = try await find(ideas, ["_id": .string(ideaID)]).first else { throw StoreError.notFound("idea \(ideaID)") }
            let rev = EJSON.int(doc["rev"]) ?? 0
            let list = (doc[field]?.arrayValue ?? []) + [entry]
            var set = extra
            set[field] = .array(list)
            set["rev"] = .int(Int64(rev + 1))
            let filter: JSONValue = rev == 0
                ? ["_id": .string(ideaID), "rev": ["$in": [0, nil]]]
                : ["_id": .string(ideaID), "rev": .int(Int64(rev))]
            if try await update(ideas, filter, ["$set": .object(set)]) > 0 { return }
        }
        throw StoreError.backend("idea \(ideaID) changed too often to append to \(field)")
    }

    public func recordFailure(jobID: String, ideaID: String, _ entry: ErrorEntry, owner: String, final: Bool, retrying: Bool) async throws {
        // A cancelled job stays cancelled: a failure of its last run is recorded, not its status.
        var final = final
        if final, try await self.job(jobID)?.status == .cancelled { final = false }
        var ideaSet: [String: JSONValue] = ["updated_at": EJSON.date(entry.at)]
        if final { ideaSet["status"] = "failed"; ideaSet["last_error"] = Self.document(entry) }
        try await append(ideaID: ideaID, field: "errors", Self.document(entry), extra: ideaSet)
        var set: [String: JSONValue] = ["last_error": Self.document(entry), "updated_at": EJSON.date(entry.at)]
        if final { set["status"] = "failed" }
        var change: [String: JSONValue] = ["$set": .object(set)]
        if retrying { change["$inc"] = ["retry_count": 1] }
        try await update(jobs, ["_id": .string(jobID)], .object(change))
        try await releaseLease(jobID: jobID, ideaID: ideaID, stage: entry.stage, owner: owner, at: entry.at)
    }

    public func markDispatched(jobID: String, stage: Stage) async throws {
        try await update(jobs, ["_id": .string(jobID)], ["$addToSet": ["dispatched": .string(stage.rawValue)]])
    }

    public func markCompleted(jobID: String, ideaID: String, at: Date) async throws {
        try await update(jobs, ["_id": .string(jobID)],
                         ["$set": ["status": "completed", "lease": nil, "updated_at": EJSON.date(at), "completed_at": EJSON.date(at)]])
        try await update(ideas, ["_id": .string(ideaID)],
                         ["$set": ["status": "completed", "progress_percentage": 100, "current_step": "video",
                                   "updated_at": EJSON.date(at), "completed_at": EJSON.date(at)]])
    }

    public func reopen(jobID: String, ideaID: String, stage: Stage, at: Date) async throws {
        guard try await update(jobs, ["_id": .string(jobID)], [
            "$set": ["status": "queued", "last_error": nil, "updated_at": EJSON.date(at)],
            "$addToSet": ["dispatched": .string(stage.rawValue)],
        ]) > 0 else { throw StoreError.notFound("job \(jobID)") }
        try await update(ideas, ["_id": .string(ideaID)],
                         ["$set": ["status": "queued", "current_step": .string(stage.rawValue), "updated_at": EJSON.date(at)]])
        // Its next end is announced again.
        try await update(ideas, ["_id": .string(ideaID), "webhook.rev": ["$gte": 0]],
                         ["$set": ["webhook.pending": true, "webhook.attempts": 0, "webhook.next_at": nil], "$inc": ["webhook.rev": 1]])
    }

    public func cancel(jobID: String, at: Date) async throws -> Bool {
        guard let job = try await self.job(jobID) else { throw StoreError.notFound("job \(jobID)") }
        let open: JSONValue = ["$in": ["queued", "processing", "failed", "cancelled"]]
        guard try await update(jobs, ["_id": .string(jobID), "status": open],
                               ["$set": ["status": "cancelled", "lease": nil, "updated_at": EJSON.date(at)]]) > 0 else { return false }
        // The job's leases go (its running stage fails its next renewal), then the idea shows the cancellation.
        for stage in Stage.allCases {
            let field = "leases.\(stage.rawValue)"
            try await update(ideas, ["_id": .string(job.ideaID), .init(stringLiteral: field + ".job_id"): .string(jobID)],
                             ["$unset": [.init(stringLiteral: field): ""]])
        }
        try await update(ideas, ["_id": .string(job.ideaID), "status": open],
                         ["$set": ["status": "cancelled", "updated_at": EJSON.date(at)]])
        return true
    }

    public func ideas(_ query: IdeaQuery) async throws -> [IdeaRecord] {
        var filter: [String: JSONValue] = [:]
        if let status = query.status { filter["status"] = .string(status.rawValue) }
        if let after = query.after { filter["created_at"] = ["$lte": EJSON.date(after.createdAt)] }
        var out: [IdeaRecord] = []
        var skip = 0
        // Ideas created in the same millisecond as the cursor and not after it by id are skipped here: plain
        // filters only (no `$or`), as everywhere in this store.
        while out.count < query.limit {
            let batch = try await find(ideas, .object(filter), sort: ["created_at": -1, "_id": -1], limit: query.limit + skip + 50)
            let page = batch.dropFirst(skip)
            for doc in page {
                let idea = try Self.idea(from: doc)
                if query.after?.precedes(idea) ?? true { out.append(idea) }
                if out.count == query.limit { break }
            }
            guard batch.count == query.limit + skip + 50 else { break }
            skip = batch.count
        }
        return out
    }

    public func webhooksDue(limit: Int) async throws -> [IdeaRecord] {
        try await find(ideas, ["webhook.pending": true, "status": ["$in": ["completed", "failed", "cancelled"]]],
                       sort: ["updated_at": 1], limit: limit).map(Self.idea(from:))
    }

    public func updateWebhook(ideaID: String, from rev: Int, to state: WebhookState) async throws -> Bool {
        var next = state
        next.rev = rev + 1
        return try await update(ideas, ["_id": .string(ideaID), "webhook.rev": .int(Int64(rev))], ["$set": ["webhook": Self.document(next)]]) > 0
    }

    public func edit(ideaID: String, _ edits: IdeaEdits, at: Date) async throws {
        var set: [String: JSONValue] = ["updated_at": EJSON.date(at)]
        if let b = edits.background { set["background"] = .string(b) }
        if let f = edits.footage { set["footage"] = .string(f.map(\.rawValue).joined(separator: ",")) }
        if let f = edits.format { set["format"] = .string(f.rawValue) }
        if let s = edits.style { set["style"] = .string(s.rawValue) }
        guard try await update(ideas, ["_id": .string(ideaID)], ["$set": .object(set)]) > 0 else { throw StoreError.notFound("idea \(ideaID)") }
    }

    public func rewind(ideaID: String, toBefore stage: Stage, at: Date) async throws {
        let doneOrLater: [JSONValue] = Checkpoint.allCases.filter { $0 >= stage.checkpoint }.map { .string($0.rawValue) }
        try await update(ideas, ["_id": .string(ideaID), "last_successful_step": ["$in": .array(doneOrLater)]], [
            "$set": ["last_successful_step": stage.previous.map { .string($0.checkpoint.rawValue) } ?? .null,
                     "progress_percentage": .int(Int64(stage.previous?.progressAfter ?? 0)),
                     "updated_at": EJSON.date(at)],
        ])
    }

    // MARK: Mapping

    static func document(_ i: IdeaRecord) -> JSONValue {
        var artifacts: [String: JSONValue] = [:]
        for (stage, a) in i.artifacts { artifacts[stage.rawValue] = (try? document(a)) ?? .null }
        return [
            "_id": .string(i.id), "id": .string(i.id), "idea": .string(i.idea), "language": .string(i.language),
            "target_seconds": .int(Int64(i.targetSeconds)), "background": i.background.map { .string($0) } ?? .null,
            "format": i.format.map { .string($0.rawValue) } ?? .null, "style": i.style.map { .string($0.rawValue) } ?? .null,
            "footage": i.footage.map { .string($0.map(\.rawValue).joined(separator: ",")) } ?? .null,
            "callback_url": i.callbackURL.map { .string($0) } ?? .null,
            "webhook": i.webhook.map(document) ?? .null,
            "status": .string(i.status.rawValue),
            "last_successful_step": i.lastSuccessfulStep.map { .string($0.rawValue) } ?? .null,
            "progress_percentage": .int(Int64(i.progressPercentage)),
            "current_step": i.currentStep.map { .string($0.rawValue) } ?? .null,
            "artifacts": .object(artifacts), "errors": .array(i.errors.map(document)),
            "costs": .array(i.costs.map(document)), "rev": 0,
            "leases": .object(Dictionary(uniqueKeysWithValues: i.leases.map { ($0.key.rawValue, document($0.value)) })),
            "created_at": EJSON.date(i.createdAt), "updated_at": EJSON.date(i.updatedAt),
        ]
    }

    static func idea(from d: JSONValue) throws -> IdeaRecord {
        guard let id = d["_id"]?.stringValue ?? d["id"]?.stringValue else { throw StoreError.backend("idea without id") }
        var i = IdeaRecord(id: id, idea: d["idea"]?.stringValue ?? "", language: d["language"]?.stringValue ?? "en",
                           targetSeconds: EJSON.int(d["target_seconds"]) ?? 30, now: EJSON.readDate(d["created_at"]) ?? Date())
        i.background = d["background"]?.stringValue
        i.format = d["format"]?.stringValue.flatMap(VideoFormat.init(rawValue:))
        i.style = d["style"]?.stringValue.flatMap(SubtitlePreset.init(rawValue:))
        i.footage = d["footage"]?.stringValue.flatMap { try? FootageSource.list($0) }
        i.callbackURL = d["callback_url"]?.stringValue
        i.webhook = d["webhook"].flatMap(webhook(from:))
        i.status = d["status"]?.stringValue.flatMap(JobStatus.init(rawValue:)) ?? .queued
        i.lastSuccessfulStep = d["last_successful_step"]?.stringValue.flatMap(Checkpoint.init(rawValue:))
        i.progressPercentage = EJSON.int(d["progress_percentage"]) ?? 0
        i.currentStep = d["current_step"]?.stringValue.flatMap(Stage.init(rawValue:))
        for (key, value) in d["artifacts"]?.objectValue ?? [:] {
            if let stage = Stage(rawValue: key), let a = artifact(from: value) { i.artifacts[stage] = a }
        }
        i.errors = (d["errors"]?.arrayValue ?? []).compactMap(errorEntry(from:))
        i.costs = (d["costs"]?.arrayValue ?? []).compactMap(costEntry(from:))
        for (key, value) in d["leases"]?.objectValue ?? [:] {
            if let stage = Stage(rawValue: key), let l = lease(from: value) { i.leases[stage] = l }
        }
        i.updatedAt = EJSON.readDate(d["updated_at"]) ?? i.createdAt
        return i
    }

    static func document(_ j: JobRecord) -> JSONValue {
        var attempts: [String: JSONValue] = [:]
        for (s, n) in j.attempts { attempts[s.rawValue] = .int(Int64(n)) }
        return [
            "_id": .string(j.jobID), "job_id": .string(j.jobID), "idea_id": .string(j.ideaID), "status": .string(j.status.rawValue),
            "start_from": .string(j.startFrom.rawValue), "retry_count": .int(Int64(j.retryCount)),
            "max_retries": .int(Int64(j.maxRetries)), "attempts": .object(attempts),
            "lease": j.lease.map(document) ?? .null,
            "dispatched": .array(j.dispatched.sorted().map { .string($0.rawValue) }),
            "last_error": j.lastError.map(document) ?? .null,
            "created_at": EJSON.date(j.createdAt), "updated_at": EJSON.date(j.updatedAt),
            "priority": .string(j.priority.rawValue),
        ]
    }

    static func job(from d: JSONValue) throws -> JobRecord {
        guard let id = d["job_id"]?.stringValue ?? d["_id"]?.stringValue, let idea = d["idea_id"]?.stringValue else {
            throw StoreError.backend("video_queue document without job_id or idea_id")
        }
        var j = JobRecord(jobID: id, ideaID: idea, startFrom: d["start_from"]?.stringValue.flatMap(Stage.init(rawValue:)) ?? .script,
                          maxRetries: EJSON.int(d["max_retries"]) ?? 3, now: EJSON.readDate(d["created_at"]) ?? Date())
        j.status = d["status"]?.stringValue.flatMap(JobStatus.init(rawValue:)) ?? .queued
        j.retryCount = EJSON.int(d["retry_count"]) ?? 0
        for (key, value) in d["attempts"]?.objectValue ?? [:] {
            if let s = Stage(rawValue: key), let n = EJSON.int(value) { j.attempts[s] = n }
        }
        j.lease = d["lease"].flatMap(lease(from:))
        j.dispatched = Set((d["dispatched"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(Stage.init(rawValue:)) })
        j.lastError = d["last_error"].flatMap(errorEntry(from:))
        j.updatedAt = EJSON.readDate(d["updated_at"]) ?? j.createdAt
        j.priority = d["priority"]?.stringValue.flatMap(Priority.init(rawValue:)) ?? .normal
        return j
    }

    static func document(_ l: Lease) -> JSONValue {
        ["stage": .string(l.stage.rawValue), "owner": .string(l.owner), "expires_at": EJSON.date(l.expiresAt),
         "job_id": l.jobID.map { .string($0) } ?? .null]
    }

    static func lease(from l: JSONValue) -> Lease? {
        guard l != .null, let s = l["stage"]?.stringValue.flatMap(Stage.init(rawValue:)), let owner = l["owner"]?.stringValue,
              let exp = EJSON.readDate(l["expires_at"]) else { return nil }
        return Lease(stage: s, owner: owner, expiresAt: exp, jobID: l["job_id"]?.stringValue)
    }

    static func document(_ e: ErrorEntry) -> JSONValue {
        ["stage": .string(e.stage.rawValue), "kind": .string(e.kind), "message": .string(e.message),
         "attempt": .int(Int64(e.attempt)), "at": EJSON.date(e.at), "worker": e.worker.map { .string($0) } ?? .null]
    }

    static func errorEntry(from d: JSONValue) -> ErrorEntry? {
        guard let s = d["stage"]?.stringValue.flatMap(Stage.init(rawValue:)) else { return nil }
        return ErrorEntry(stage: s, kind: d["kind"]?.stringValue ?? "", message: d["message"]?.stringValue ?? "",
                          attempt: EJSON.int(d["attempt"]) ?? 0, at: EJSON.readDate(d["at"]) ?? Date(timeIntervalSince1970: 0),
                          worker: d["worker"]?.stringValue)
    }

    static func document(_ c: CostEntry) -> JSONValue {
        ["stage": .string(c.stage.rawValue), "attempt": .int(Int64(c.attempt)), "provider": .string(c.provider),
         "units": .double(c.units), "unit": .string(c.unit), "cost_usd": .double(c.costUSD), "at": EJSON.date(c.at),
         "units_in": c.unitsIn.map(JSONValue.double) ?? .null, "units_out": c.unitsOut.map(JSONValue.double) ?? .null,
         "calls": .int(Int64(c.calls))]
    }

    static func costEntry(from d: JSONValue) -> CostEntry? {
        guard let s = d["stage"]?.stringValue.flatMap(Stage.init(rawValue:)) else { return nil }
        return CostEntry(stage: s, attempt: EJSON.int(d["attempt"]) ?? 0, provider: d["provider"]?.stringValue ?? "",
                         units: EJSON.double(d["units"]) ?? 0, unit: d["unit"]?.stringValue ?? "",
                         costUSD: EJSON.double(d["cost_usd"]) ?? 0, at: EJSON.readDate(d["at"]) ?? Date(timeIntervalSince1970: 0),
                         unitsIn: EJSON.double(d["units_in"]), unitsOut: EJSON.double(d["units_out"]), calls: EJSON.int(d["calls"]) ?? 1)
    }

    static func document(_ w: WebhookState) -> JSONValue {
        ["pending": .bool(w.pending), "rev": .int(Int64(w.rev)), "attempts": .int(Int64(w.attempts)),
         "next_at": w.nextAt.map(EJSON.date) ?? .null, "sending_until": w.sendingUntil.map(EJSON.date) ?? .null,
         "delivered_at": w.deliveredAt.map(EJSON.date) ?? .null, "last_error": w.lastError.map { .string($0) } ?? .null]
    }

    static func webhook(from d: JSONValue) -> WebhookState? {
        guard d != .null else { return nil }
        var w = WebhookState()
        if case .bool(let p)? = d["pending"] { w.pending = p }
        w.rev = EJSON.int(d["rev"]) ?? 0
        w.attempts = EJSON.int(d["attempts"]) ?? 0
        w.nextAt = EJSON.readDate(d["next_at"]); w.sendingUntil = EJSON.readDate(d["sending_until"])
        w.deliveredAt = EJSON.readDate(d["delivered_at"]); w.lastError = d["last_error"]?.stringValue
        return w
    }

    static func document(_ a: StageArtifact) throws -> JSONValue {
        var files: [String: JSONValue] = [:]
        for (name, r) in a.files {
            files[name] = ["id": .string(r.id), "name": .string(r.name), "content_type": .string(r.contentType), "size": .int(Int64(r.size))]
        }
        return ["data": .object(a.inline), "files": .object(files), "attempt": .int(Int64(a.attempt)), "produced_at": EJSON.date(a.producedAt),
                "seconds": a.seconds.map { .double($0) } ?? .null, "worker": a.worker.map { .string($0) } ?? .null]
    }

    static func artifact(from d: JSONValue) -> StageArtifact? {
        guard d != .null else { return nil }
        var files: [String: ArtifactRef] = [:]
        for (name, f) in d["files"]?.objectValue ?? [:] {
            guard let id = f["id"]?.stringValue else { continue }
            files[name] = ArtifactRef(id: id, name: f["name"]?.stringValue ?? name, contentType: f["content_type"]?.stringValue ?? "",
                                      size: EJSON.int(f["size"]) ?? 0)
        }
        return StageArtifact(inline: normalise(d["data"])?.objectValue ?? [:], files: files, attempt: EJSON.int(d["attempt"]) ?? 0,
                             producedAt: EJSON.readDate(d["produced_at"]) ?? Date(timeIntervalSince1970: 0),
                             seconds: normalise(d["seconds"])?.doubleValue, worker: d["worker"]?.stringValue)
    }

    /// Turns relaxed extended JSON numbers (`{"$numberLong": "3"}`, `{"$numberDouble": "1.5"}`) back into plain ones.
    static func normalise(_ v: JSONValue?) -> JSONValue? {
        guard let v else { return nil }
        switch v {
        case .object(let o):
            if o.count == 1, let s = o["$numberLong"]?.stringValue ?? o["$numberInt"]?.stringValue, let n = Int64(s) { return .int(n) }
            if o.count == 1, let s = o["$numberDouble"]?.stringValue, let n = Double(s) { return .double(n) }
            return .object(o.mapValues { normalise($0) ?? .null })
        case .array(let a): return .array(a.map { normalise($0) ?? .null })
        default: return v
        }
    }
}
