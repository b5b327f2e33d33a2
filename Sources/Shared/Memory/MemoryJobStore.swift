import Foundation

/// An in-process JobStore: the reference semantics of the store contract suite.
public actor MemoryJobStore: JobStore {
    var ideasByID: [String: IdeaRecord] = [:]
    var jobsByID: [String: JobRecord] = [:]

    public init() {}

    public func prepare() async throws {}

    public func create(idea: IdeaRecord, job: JobRecord) async throws {
        guard ideasByID[idea.id] == nil else { throw StoreError.duplicate("idea \(idea.id)") }
        guard jobsByID[job.jobID] == nil else { throw StoreError.duplicate("job \(job.jobID)") }
        ideasByID[idea.id] = idea
        jobsByID[job.jobID] = job
    }

    public func idea(_ id: String) async throws -> IdeaRecord? { ideasByID[id] }
    public func job(_ id: String) async throws -> JobRecord? { jobsByID[id] }

    public func ideas(limit: Int) async throws -> [IdeaRecord] {
        Array(ideasByID.values.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }.prefix(limit))
    }

    public func jobs(ideaID: String) async throws -> [JobRecord] {
        jobsByID.values.filter { $0.ideaID == ideaID }.sorted { $0.createdAt < $1.createdAt }
    }

    public func claim(jobID: String, stage: Stage, owner: String, until: Date, now: Date) async throws -> ClaimResult {
        guard var job = jobsByID[jobID] else { return .missing }
        if let lease = job.lease, lease.stage == stage, lease.expiresAt > now { return .held(lease) }
        job.lease = Lease(stage: stage, owner: owner, expiresAt: until)
        job.attempts[stage, default: 0] += 1
        job.status = .processing
        job.updatedAt = now
        jobsByID[jobID] = job
        if var idea = ideasByID[job.ideaID] {
            idea.status = .processing
            idea.currentStep = stage
            idea.updatedAt = now
            ideasByID[idea.id] = idea
        }
        return .claimed(job)
    }

    public func renew(jobID: String, stage: Stage, owner: String, until: Date) async throws -> Bool {
        guard var job = jobsByID[jobID], let lease = job.lease, lease.stage == stage, lease.owner == owner else { return false }
        job.lease?.expiresAt = until
        jobsByID[jobID] = job
        return true
    }

    public func checkpoint(_ w: CheckpointWrite) async throws -> Bool {
        guard var idea = ideasByID[w.ideaID] else { throw StoreError.notFound("idea \(w.ideaID)") }
        var advanced = false
        if !idea.isDone(w.stage) {
            idea.lastSuccessfulStep = w.stage.checkpoint
            idea.progressPercentage = w.stage.progressAfter
            idea.artifacts[w.stage] = w.artifact
            idea.currentStep = w.stage.next ?? w.stage
            idea.updatedAt = w.at
            ideasByID[idea.id] = idea
            advanced = true
        }
        releaseLease(jobID: w.jobID, stage: w.stage, owner: w.owner, at: w.at)
        return advanced
    }

    public func recordCost(ideaID: String, _ entry: CostEntry) async throws {
        guard ideasByID[ideaID] != nil else { throw StoreError.notFound("idea \(ideaID)") }
        ideasByID[ideaID]!.costs.append(entry)
    }

    public func recordFailure(jobID: String, ideaID: String, _ entry: ErrorEntry, owner: String, final: Bool, retrying: Bool) async throws {
        guard var job = jobsByID[jobID], var idea = ideasByID[ideaID] else { throw StoreError.notFound("job \(jobID)") }
        idea.errors.append(entry)
        idea.updatedAt = entry.at
        job.lastError = entry
        job.updatedAt = entry.at
        if retrying { job.retryCount += 1 }
        if final { job.status = .failed; idea.status = .failed }
        if let lease = job.lease, lease.owner == owner, lease.stage == entry.stage { job.lease = nil }
        jobsByID[jobID] = job
        ideasByID[ideaID] = idea
    }

    public func release(jobID: String, stage: Stage, owner: String) async throws {
        releaseLease(jobID: jobID, stage: stage, owner: owner, at: Date())
    }

    private func releaseLease(jobID: String, stage: Stage, owner: String, at: Date) {
        guard var job = jobsByID[jobID], let lease = job.lease, lease.stage == stage, lease.owner == owner else { return }
        job.lease = nil
        job.updatedAt = at
        jobsByID[jobID] = job
    }

    public func markDispatched(jobID: String, stage: Stage) async throws {
        jobsByID[jobID]?.dispatched.insert(stage)
    }

    public func markCompleted(jobID: String, ideaID: String, at: Date) async throws {
        jobsByID[jobID]?.status = .completed
        jobsByID[jobID]?.lease = nil
        jobsByID[jobID]?.updatedAt = at
        ideasByID[ideaID]?.status = .completed
        ideasByID[ideaID]?.progressPercentage = 100
        ideasByID[ideaID]?.updatedAt = at
    }

    public func reopen(jobID: String, ideaID: String, stage: Stage, at: Date) async throws {
        guard jobsByID[jobID] != nil, ideasByID[ideaID] != nil else { throw StoreError.notFound("job \(jobID)") }
        jobsByID[jobID]!.status = .queued
        jobsByID[jobID]!.dispatched.insert(stage)
        jobsByID[jobID]!.updatedAt = at
        ideasByID[ideaID]!.status = .queued
        ideasByID[ideaID]!.currentStep = stage
        ideasByID[ideaID]!.updatedAt = at
    }

    public func rewind(ideaID: String, toBefore stage: Stage, at: Date) async throws {
        guard var idea = ideasByID[ideaID] else { throw StoreError.notFound("idea \(ideaID)") }
        if idea.isDone(stage) {
            idea.lastSuccessfulStep = stage.previous?.checkpoint
            idea.progressPercentage = stage.previous?.progressAfter ?? 0
            idea.updatedAt = at
            ideasByID[ideaID] = idea
        }
    }
}

/// An in-process ArtifactStore keeping files in a folder.
public final class DirectoryArtifactStore: ArtifactStore {
    public let root: URL

    public init(root: URL) throws {
        self.root = root
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    private func path(_ id: String) -> URL { root.appendingPathComponent(SafeName.file(id)) }

    public func put(id: String, name: String, contentType: String, from file: URL) async throws -> ArtifactRef {
        let target = path(id)
        let partial = root.appendingPathComponent(".\(SafeName.file(id)).partial")
        try? FileManager.default.removeItem(at: partial)
        try FileManager.default.copyItem(at: file, to: partial)
        // Atomic replace: a crash leaves either the old file or the new one.
        if rename(partial.path, target.path) != 0 { throw StoreError.backend("cannot store artifact \(id)") }
        let size = (try FileManager.default.attributesOfItem(atPath: target.path)[.size] as? Int) ?? 0
        return ArtifactRef(id: id, name: name, contentType: contentType, size: size)
    }

    public func get(id: String, to file: URL) async throws {
        let source = path(id)
        guard FileManager.default.fileExists(atPath: source.path) else { throw StoreError.notFound("artifact \(id)") }
        try? FileManager.default.removeItem(at: file)
        try FileManager.default.copyItem(at: source, to: file)
    }

    public func delete(id: String) async throws { try? FileManager.default.removeItem(at: path(id)) }

    public func list(ideaID: String) async throws -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.filter { $0.hasPrefix(SafeName.file(ideaID) + ".") }.sorted()
    }
}
