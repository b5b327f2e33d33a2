import Foundation
import Synchronization

/// Reads and writes of whole records inside one transaction of a record backend.
public protocol RecordTransaction {
    func idea(_ id: String) throws -> IdeaRecord?
    func job(_ id: String) throws -> JobRecord?
    func insert(_ idea: IdeaRecord) throws
    func insert(_ job: JobRecord) throws
    func update(_ idea: IdeaRecord) throws
    func update(_ job: JobRecord) throws
    /// Newest first.
    func ideas(limit: Int) throws -> [IdeaRecord]
    func jobs(ideaID: String) throws -> [JobRecord]
}

/// Somewhere records live: memory, or an embedded database. Each transaction is atomic and isolated.
public protocol RecordBackend: Sendable {
    func transaction<T: Sendable>(_ body: @escaping @Sendable (any RecordTransaction) throws -> T) async throws -> T
}

/// The JobStore semantics written once over whole records, for backends without a query language of their
/// own (the in-memory store and the embedded SQLite store). MongoJobStore implements the same contract with
/// MongoDB's atomic updates.
public struct RecordJobStore: JobStore {
    public let backend: any RecordBackend

    public init(backend: any RecordBackend) { self.backend = backend }

    /// A store that lives as long as the process.
    public static func memory() -> RecordJobStore { RecordJobStore(backend: MemoryRecords()) }

    public func prepare() async throws {}

    @discardableResult
    public func create(idea: IdeaRecord, job: JobRecord) async throws -> Bool {
        try await backend.transaction { tx in
            guard try tx.job(job.jobID) == nil else { throw StoreError.duplicate("job \(job.jobID)") }
            let new = try tx.idea(idea.id) == nil
            if new { try tx.insert(idea) }
            try tx.insert(job)
            return new
        }
    }

    public func idea(_ id: String) async throws -> IdeaRecord? { try await backend.transaction { try $0.idea(id) } }
    public func job(_ id: String) async throws -> JobRecord? { try await backend.transaction { try $0.job(id) } }
    public func ideas(limit: Int) async throws -> [IdeaRecord] { try await backend.transaction { try $0.ideas(limit: limit) } }
    public func jobs(ideaID: String) async throws -> [JobRecord] { try await backend.transaction { try $0.jobs(ideaID: ideaID) } }

    public func claim(jobID: String, stage: Stage, owner: String, until: Date, now: Date) async throws -> ClaimResult {
        try await backend.transaction { tx in
            guard var job = try tx.job(jobID), var idea = try tx.idea(job.ideaID) else { return .missing }
            if job.status == .cancelled { return .cancelled }
            // The lease is the idea's: another job of the same idea may hold this stage.
            if let lease = idea.leases[stage], lease.expiresAt > now { return .held(lease) }
            let lease = Lease(stage: stage, owner: owner, expiresAt: until, jobID: jobID)
            idea.leases[stage] = lease
            idea.status = .processing
            idea.currentStep = stage
            idea.updatedAt = now
            try tx.update(idea)
            job.lease = lease
            job.attempts[stage, default: 0] += 1
            job.status = .processing
            job.updatedAt = now
            try tx.update(job)
            return .claimed(job)
        }
    }

    public func renew(jobID: String, stage: Stage, owner: String, until: Date) async throws -> Bool {
        try await backend.transaction { tx in
            guard var job = try tx.job(jobID), job.status != .cancelled, var idea = try tx.idea(job.ideaID),
                  idea.leases[stage]?.isHeld(by: owner, for: jobID) == true else { return false }
            idea.leases[stage]?.expiresAt = until
            try tx.update(idea)
            job.lease?.expiresAt = until
            try tx.update(job)
            return true
        }
    }

    public func checkpoint(_ w: CheckpointWrite) async throws -> Bool {
        try await backend.transaction { tx in
            guard var idea = try tx.idea(w.ideaID) else { throw StoreError.notFound("idea \(w.ideaID)") }
            var advanced = false
            if !idea.isDone(w.stage) {
                idea.lastSuccessfulStep = w.stage.checkpoint
                idea.progressPercentage = w.stage.progressAfter
                idea.artifacts[w.stage] = w.artifact
                idea.costs.append(contentsOf: w.costs)
                idea.currentStep = w.stage.next ?? w.stage
                idea.updatedAt = w.at
                try tx.update(idea)
                advanced = true
            }
            try Self.releaseLease(tx, jobID: w.jobID, stage: w.stage, owner: w.owner, at: w.at)
            return advanced
        }
    }

    public func recordFailure(jobID: String, ideaID: String, _ entry: ErrorEntry, owner: String, final: Bool, retrying: Bool) async throws {
        try await backend.transaction { tx in
            guard var job = try tx.job(jobID), var idea = try tx.idea(ideaID) else { throw StoreError.notFound("job \(jobID)") }
            idea.errors.append(entry)
            idea.updatedAt = entry.at
            job.lastError = entry
            job.updatedAt = entry.at
            if retrying { job.retryCount += 1 }
            if final && job.status != .cancelled { job.status = .failed; idea.status = .failed }
            try tx.update(job)
            try tx.update(idea)
            try Self.releaseLease(tx, jobID: jobID, stage: entry.stage, owner: owner, at: entry.at)
        }
    }

    public func release(jobID: String, stage: Stage, owner: String) async throws {
        try await backend.transaction { tx in try Self.releaseLease(tx, jobID: jobID, stage: stage, owner: owner, at: Date()) }
    }

    /// Ends the lease `owner` holds on `stage` for the job, on the idea and on the job.
    private static func releaseLease(_ tx: any RecordTransaction, jobID: String, stage: Stage, owner: String, at: Date) throws {
        guard var job = try tx.job(jobID) else { return }
        if var idea = try tx.idea(job.ideaID), idea.leases[stage]?.isHeld(by: owner, for: jobID) == true {
            idea.leases[stage] = nil
            try tx.update(idea)
        }
        guard let lease = job.lease, lease.stage == stage, lease.owner == owner else { return }
        job.lease = nil
        job.updatedAt = at
        try tx.update(job)
    }

    public func markDispatched(jobID: String, stage: Stage) async throws {
        try await backend.transaction { tx in
            guard var job = try tx.job(jobID) else { return }
            job.dispatched.insert(stage)
            try tx.update(job)
        }
    }

    public func markCompleted(jobID: String, ideaID: String, at: Date) async throws {
        try await backend.transaction { tx in
            if var job = try tx.job(jobID) {
                job.status = .completed; job.lease = nil; job.updatedAt = at
                try tx.update(job)
            }
            if var idea = try tx.idea(ideaID) {
                idea.status = .completed; idea.progressPercentage = 100; idea.updatedAt = at
                try tx.update(idea)
            }
        }
    }

    public func reopen(jobID: String, ideaID: String, stage: Stage, at: Date) async throws {
        try await backend.transaction { tx in
            guard var job = try tx.job(jobID), var idea = try tx.idea(ideaID) else { throw StoreError.notFound("job \(jobID)") }
            job.status = .queued; job.dispatched.insert(stage); job.lastError = nil; job.updatedAt = at
            idea.status = .queued; idea.currentStep = stage; idea.updatedAt = at
            // Its next end is announced again.
            if var w = idea.webhook { w.pending = true; w.attempts = 0; w.nextAt = nil; w.rev += 1; idea.webhook = w }
            try tx.update(job)
            try tx.update(idea)
        }
    }

    public func cancel(jobID: String, at: Date) async throws -> Bool {
        try await backend.transaction { tx in
            guard var job = try tx.job(jobID) else { throw StoreError.notFound("job \(jobID)") }
            guard job.status != .completed else { return false }
            job.status = .cancelled; job.lease = nil; job.updatedAt = at
            try tx.update(job)
            if var idea = try tx.idea(job.ideaID) {
                idea.leases = idea.leases.filter { $0.value.jobID != jobID }
                if idea.status != .completed { idea.status = .cancelled }
                idea.updatedAt = at
                try tx.update(idea)
            }
            return true
        }
    }

    public func ideas(_ query: IdeaQuery) async throws -> [IdeaRecord] {
        try await backend.transaction { tx in
            Array(try tx.ideas(limit: Int.max).lazy.filter { idea in
                (query.status == nil || idea.status == query.status) && (query.after?.precedes(idea) ?? true)
            }.prefix(query.limit))
        }
    }

    public func webhooksDue(limit: Int) async throws -> [IdeaRecord] {
        try await backend.transaction { tx in
            Array(try tx.ideas(limit: Int.max).filter { $0.webhook?.pending == true && $0.status.isFinal }
                .sorted { $0.updatedAt < $1.updatedAt }.prefix(limit))
        }
    }

    public func updateWebhook(ideaID: String, from rev: Int, to state: WebhookState) async throws -> Bool {
        try await backend.transaction { tx in
            guard var idea = try tx.idea(ideaID), let current = idea.webhook, current.rev == rev else { return false }
            var next = state
            next.rev = rev + 1
            idea.webhook = next
            try tx.update(idea)
            return true
        }
    }

    public func edit(ideaID: String, _ edits: IdeaEdits, at: Date) async throws {
        try await backend.transaction { tx in
            guard var idea = try tx.idea(ideaID) else { throw StoreError.notFound("idea \(ideaID)") }
            edits.apply(to: &idea)
            idea.updatedAt = at
            try tx.update(idea)
        }
    }

    public func rewind(ideaID: String, toBefore stage: Stage, at: Date) async throws {
        try await backend.transaction { tx in
            guard var idea = try tx.idea(ideaID) else { throw StoreError.notFound("idea \(ideaID)") }
            guard idea.isDone(stage) else { return }
            idea.lastSuccessfulStep = stage.previous?.checkpoint
            idea.progressPercentage = stage.previous?.progressAfter ?? 0
            idea.updatedAt = at
            try tx.update(idea)
        }
    }
}

/// Records in memory, one transaction at a time.
public final class MemoryRecords: RecordBackend {
    private struct State: Sendable {
        var ideas: [String: IdeaRecord] = [:]
        var jobs: [String: JobRecord] = [:]
    }

    private final class Transaction: RecordTransaction {
        var state: State
        init(_ s: State) { state = s }
        func idea(_ id: String) -> IdeaRecord? { state.ideas[id] }
        func job(_ id: String) -> JobRecord? { state.jobs[id] }
        func insert(_ idea: IdeaRecord) throws {
            guard state.ideas[idea.id] == nil else { throw StoreError.duplicate("idea \(idea.id)") }
            state.ideas[idea.id] = idea
        }
        func insert(_ job: JobRecord) throws {
            guard state.jobs[job.jobID] == nil else { throw StoreError.duplicate("job \(job.jobID)") }
            state.jobs[job.jobID] = job
        }
        func update(_ idea: IdeaRecord) { state.ideas[idea.id] = idea }
        func update(_ job: JobRecord) { state.jobs[job.jobID] = job }
        func ideas(limit: Int) -> [IdeaRecord] {
            Array(state.ideas.values.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }.prefix(limit))
        }
        func jobs(ideaID: String) -> [JobRecord] {
            state.jobs.values.filter { $0.ideaID == ideaID }.sorted { $0.createdAt < $1.createdAt }
        }
    }

    private let state = Mutex(State())

    public init() {}

    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any RecordTransaction) throws -> T) async throws -> T {
        try state.withLock { s in
            let tx = Transaction(s)
            let result = try body(tx)
            s = tx.state  // committed only when the body succeeded
            return result
        }
    }
}
