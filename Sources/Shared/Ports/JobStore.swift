import Foundation

public enum StoreError: Error, Sendable, CustomStringConvertible {
    case duplicate(String)
    case notFound(String)
    case backend(String)
    /// A request no store can carry out (an artifact id outside the namespaces of `ArtifactKey`).
    case invalid(String)

    public var description: String {
        switch self {
        case .duplicate(let s): return "already exists: \(s)"
        case .notFound(let s): return "not found: \(s)"
        case .backend(let s): return "store: \(s)"
        case .invalid(let s): return "invalid: \(s)"
        }
    }
}

/// The outcome of claiming a stage of a job.
public enum ClaimResult: Sendable, Hashable {
    case claimed(JobRecord)
    /// The job was cancelled: no stage of it starts.
    case cancelled
    /// Another worker holds an unexpired lease on this stage.
    case held(Lease)
    case missing
}

/// A stage's success, written as one update of the idea (checkpoint, progress, artifact, the provider calls
/// it paid for) plus the job.
public struct CheckpointWrite: Sendable {
    public var jobID: String
    public var ideaID: String
    public var stage: Stage
    public var artifact: StageArtifact
    public var costs: [CostEntry]
    public var owner: String
    public var at: Date
    public init(jobID: String, ideaID: String, stage: Stage, artifact: StageArtifact, costs: [CostEntry] = [], owner: String, at: Date) {
        self.jobID = jobID; self.ideaID = ideaID; self.stage = stage; self.artifact = artifact; self.costs = costs
        self.owner = owner; self.at = at
    }
}

/// Durable ideas, jobs and checkpoints (MongoDB `ideas` and `video_queue`, or the embedded store).
public protocol JobStore: Sendable {
    /// Creates indexes (idempotent).
    func prepare() async throws
    /// A cheap round trip that throws when the store cannot be used now (readiness probes). Embedded and
    /// in-memory stores are always there.
    func ping() async throws
    /// Inserts a job, and its idea unless an idea with that id exists (then that idea is kept as it is: a new
    /// job of an existing idea). `StoreError.duplicate` when the job id exists. Returns whether the idea was new.
    @discardableResult
    func create(idea: IdeaRecord, job: JobRecord) async throws -> Bool
    func idea(_ id: String) async throws -> IdeaRecord?
    func job(_ id: String) async throws -> JobRecord?
    /// Newest first.
    func ideas(limit: Int) async throws -> [IdeaRecord]
    func jobs(ideaID: String) async throws -> [JobRecord]

    /// Claims `stage` of a job's idea with a lease until `until`, counting one attempt for the job. Fails with
    /// `.held` while a lease on the same stage of the same idea has not expired at `now`, whichever job holds it
    /// (another job of the idea, or this owner: two deliveries in one worker). Leases on other stages or other
    /// ideas do not matter.
    func claim(jobID: String, stage: Stage, owner: String, until: Date, now: Date) async throws -> ClaimResult
    /// Extends the lease this owner took for this job; false if it no longer holds it (it expired and another
    /// claim took it, or it was released).
    func renew(jobID: String, stage: Stage, owner: String, until: Date) async throws -> Bool
    /// Records a success and appends its costs to the ledger, in one update. The idea's `last_successful_step`
    /// only moves forward; returns false (and records nothing) when the checkpoint was already at or past this
    /// stage (another run got there first).
    func checkpoint(_ write: CheckpointWrite) async throws -> Bool
    /// Records a failure in the idea's error history and the job, releases this owner's lease; `final` marks
    /// job and idea `failed`, `retrying` counts a retry.
    func recordFailure(jobID: String, ideaID: String, _ entry: ErrorEntry, owner: String, final: Bool, retrying: Bool) async throws
    /// Releases this owner's lease without other change.
    func release(jobID: String, stage: Stage, owner: String) async throws
    /// Notes that `stage`'s message was published and confirmed.
    func markDispatched(jobID: String, stage: Stage) async throws
    /// Marks job and idea completed.
    func markCompleted(jobID: String, ideaID: String, at: Date) async throws
    /// Before a replay or retry: job and idea back to `queued`, `stage` dispatched.
    func reopen(jobID: String, ideaID: String, stage: Stage, at: Date) async throws
    /// Moves the idea's checkpoint back so that `stage` runs again (an explicit re-run).
    func rewind(ideaID: String, toBefore stage: Stage, at: Date) async throws
    /// Marks job and idea `cancelled` and drops the leases the job holds, so that a running stage loses its lease
    /// (its next renewal fails) and no message of the job starts a stage again. False when the job had
    /// completed (nothing to cancel); `StoreError.notFound` when there is no such job.
    func cancel(jobID: String, at: Date) async throws -> Bool
    /// Ideas newest first (by creation, then id), after `query.after`, of `query.status` when given.
    func ideas(_ query: IdeaQuery) async throws -> [IdeaRecord]
    /// Changes what an idea asks of the stages not yet done (before a replay): background, footage, frame, captions.
    func edit(ideaID: String, _ edits: IdeaEdits, at: Date) async throws
    /// Ideas that ended (completed, failed, cancelled) whose announcement is pending, oldest change first.
    func webhooksDue(limit: Int) async throws -> [IdeaRecord]
    /// Sets an idea's webhook state to `state` (its `rev` one more than `rev`) if it is still at `rev`.
    func updateWebhook(ideaID: String, from rev: Int, to state: WebhookState) async throws -> Bool
}

/// A page of ideas: newest first, those created before the cursor (or at the same moment with a smaller id).
public struct IdeaQuery: Sendable, Hashable {
    public var status: JobStatus?
    public var after: Cursor?
    public var limit: Int

    /// Where the previous page ended.
    public struct Cursor: Sendable, Hashable {
        public var createdAt: Date
        public var id: String
        public init(createdAt: Date, id: String) { self.createdAt = createdAt; self.id = id }

        /// Whether an idea comes after this cursor, newest first.
        public func precedes(_ idea: IdeaRecord) -> Bool {
            idea.createdAt < createdAt || (idea.createdAt == createdAt && idea.id < id)
        }
    }

    public init(status: JobStatus? = nil, after: Cursor? = nil, limit: Int) { self.status = status; self.after = after; self.limit = limit }
}

/// What a replay with edits may change of an idea; nil leaves a field as it is.
public struct IdeaEdits: Sendable, Hashable {
    public var background: String?
    public var footage: [FootageSource]?
    public var format: VideoFormat?
    public var style: SubtitlePreset?
    public init(background: String? = nil, footage: [FootageSource]? = nil, format: VideoFormat? = nil, style: SubtitlePreset? = nil) {
        self.background = background; self.footage = footage; self.format = format; self.style = style
    }
    public var isEmpty: Bool { background == nil && footage == nil && format == nil && style == nil }

    func apply(to idea: inout IdeaRecord) {
        if let background { idea.background = background }
        if let footage { idea.footage = footage }
        if let format { idea.format = format }
        if let style { idea.style = style }
    }
}

extension JobStore {
    public func ping() async throws {}
}

/// Binary artifacts (GridFS bucket, or files of the embedded store). Ids are made by `ArtifactKey` (an idea's
/// files and the media library in separate namespaces), deterministic per idea, stage and name, so a re-run
/// replaces rather than duplicates.
public protocol ArtifactStore: Sendable {
    /// Stores a file; `StoreError.invalid` for an id `ArtifactKey` did not make.
    func put(id: String, name: String, contentType: String, from file: URL) async throws -> ArtifactRef
    func get(id: String, to file: URL) async throws
    func delete(id: String) async throws
    /// Ids of the files stored in one namespace (an idea's, or the media library), sorted; never an id of
    /// another namespace nor one from before `ArtifactKey`.
    func list(_ scope: ArtifactScope) async throws -> [String]
}

extension ArtifactStore {
    /// Ids of the files stored for an idea, sorted.
    public func list(ideaID: String) async throws -> [String] { try await list(.idea(ideaID)) }
}
