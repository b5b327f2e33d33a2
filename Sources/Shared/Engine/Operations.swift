import Foundation
import Synchronization
import Tracing

/// What the CLI does, over any backends: submit, status, dead letters, retry.
public struct Operations: Sendable {
    public let queue: any WorkQueue
    public let store: any JobStore
    /// Needed by `retry(from:)`, which discards the stored results of the stages it runs again.
    public let artifacts: (any ArtifactStore)?
    public let maxRetries: Int

    /// Publishes go through `TracingWorkQueue`: the message carries the trace context of the span it was sent in.
    public init(queue: any WorkQueue, store: any JobStore, artifacts: (any ArtifactStore)? = nil, maxRetries: Int) {
        self.queue = queue is TracingWorkQueue ? queue : TracingWorkQueue(queue); self.store = store; self.artifacts = artifacts; self.maxRetries = maxRetries
    }

    public struct Submitted: Sendable, Codable, Hashable {
        public var ideaID: String
        public var jobID: String
        enum CodingKeys: String, CodingKey { case ideaID = "idea_id", jobID = "job_id" }
    }

    /// Stores a new idea and its job, then enqueues its first stage; in a `submit` span, where the video's trace
    /// starts (unless the caller is in a span already).
    public func submit(idea text: String, language: String = "en", seconds: Int = 30, background: String? = nil,
                       format: VideoFormat? = nil, style: SubtitlePreset? = nil, footage: [FootageSource]? = nil,
                       priority: Priority = .normal) async throws -> Submitted {
        try await submit(JobMessage.NewIdea(text: text, language: language, targetSeconds: seconds, background: background,
                                            format: format, style: style, footage: footage), priority: priority)
    }

    /// `submit` of an idea read by the message codec's rules, with the ids to use (the API's idempotency keys
    /// make them; `StoreError.duplicate` when that job exists) and where its end is announced.
    public func submit(_ new: JobMessage.NewIdea, ids: (idea: String, job: String)? = nil, callbackURL: String? = nil,
                       priority: Priority = .normal) async throws -> Submitted {
        try await withSpan("submit", ofKind: .producer) { span in
            let (idea, job) = try await create(new, ids: ids, callbackURL: callbackURL, priority: priority)
            span.attributes["idea_id"] = idea.id
            span.attributes["job_id"] = job.jobID
            try await publishFirst(idea: idea, job: job)
            return Submitted(ideaID: idea.id, jobID: job.jobID)
        }
    }

    /// Enqueues the first stage of a stored idea's job (again, harmlessly, when it may not have been sent: a
    /// second message of a stage finds its lease or its checkpoint).
    public func publishFirst(idea: IdeaRecord, job: JobRecord) async throws {
        var message = JobMessage(jobID: job.jobID, ideaID: idea.id, stage: .script, attempt: 1,
                                 newIdea: .init(text: idea.idea, language: idea.language, targetSeconds: idea.targetSeconds,
                                                background: idea.background, format: idea.format, style: idea.style, footage: idea.footage))
        message.priority = job.priority
        try await queue.publish(message, to: .script)
    }

    /// Checks an idea and stores it with its job, without enqueueing anything.
    public func create(idea text: String, language: String = "en", seconds: Int = 30,
                       background: String? = nil, format: VideoFormat? = nil,
                       style: SubtitlePreset? = nil, footage: [FootageSource]? = nil) async throws -> (IdeaRecord, JobRecord) {
        try await create(JobMessage.NewIdea(text: text, language: language, targetSeconds: seconds, background: background,
                                            format: format, style: style, footage: footage))
    }

    func create(_ new: JobMessage.NewIdea, ids: (idea: String, job: String)? = nil, callbackURL: String? = nil,
                priority: Priority = .normal) async throws -> (IdeaRecord, JobRecord) {
        let trimmed = try IdeaText.normalized(new.text)
        guard IdeaText.languages.contains(new.language) else { throw ConfigError.invalid("--lang", "must be \(IdeaText.languagesText)") }
        guard IdeaText.seconds.contains(new.targetSeconds) else {
            throw ConfigError.invalid("--duration", "must be \(IdeaText.seconds.lowerBound) to \(IdeaText.seconds.upperBound) seconds")
        }
        if let background = new.background, let problem = BackgroundChoice.problem(background) { throw ConfigError.invalid("--background", problem) }
        let now = Date()
        var idea = IdeaRecord(id: ids?.idea ?? Identifier.make("idea"), idea: trimmed, language: new.language, targetSeconds: new.targetSeconds, now: now)
        idea.background = new.background
        idea.format = new.format; idea.style = new.style; idea.footage = new.footage
        idea.callbackURL = callbackURL
        var job = JobRecord(jobID: ids?.job ?? Identifier.make("job"), ideaID: idea.id, startFrom: .script, maxRetries: maxRetries, now: now)
        job.priority = priority
        try await store.create(idea: idea, job: job)
        return (idea, job)
    }

    /// Sends parked jobs back to the stage that failed, with a fresh retry budget for that stage.
    /// Earlier stages keep their checkpoints and counts and are not run again. Returns the replayed job ids.
    @discardableResult
    public func replay(jobID: String?, stage: Stage? = nil) async throws -> [String] {
        let store = self.store, queue = self.queue
        let codec = JobMessageCodec()
        let replayed = Mutex<[String]>([])
        // Only job messages of existing jobs can be replayed; poison stays parked for inspection and `dlq purge`.
        var replayableJobs = Set<String>()
        for m in try await queue.parked(stage: stage, limit: 1_000_000) where jobID == nil || m.jobID == jobID {
            if let message = try? codec.decode(body: m.body, headers: [:]), try await store.job(message.jobID) != nil {
                replayableJobs.insert(message.jobID)
            }
        }
        let wanted = replayableJobs
        let replayable: @Sendable (ParkedMessage) -> Bool = { m in
            (try? codec.decode(body: m.body, headers: [:])).map { wanted.contains($0.jobID) } ?? false
        }
        _ = try await queue.takeParked(stage: stage, matching: replayable) { parked in
            let message = try codec.decode(body: parked.body, headers: [:])
            try await store.reopen(jobID: message.jobID, ideaID: message.ideaID, stage: parked.stage, at: Date())
            var again = JobMessage(jobID: message.jobID, ideaID: message.ideaID, stage: parked.stage, attempt: 1)
            again.priority = message.priority
            try await queue.publish(again, to: parked.stage)
            replayed.withLock { $0.append(message.jobID) }
        }
        return replayed.withLock { $0 }
    }

    /// Cancels an idea's job: no new stage starts, a waiting retry is dropped when it comes back, a running stage
    /// stops at its next lease renewal (within a third of the lease) without storing its result, and a parked
    /// message of the job is removed. False when the video was already complete.
    @discardableResult
    public func cancel(ideaID: String) async throws -> Bool {
        guard let job = try await store.jobs(ideaID: ideaID).last else { throw StoreError.notFound("job of idea \(ideaID)") }
        guard try await store.cancel(jobID: job.jobID, at: Date()) else { return false }
        _ = try await queue.takeParked(stage: nil, matching: { $0.jobID == job.jobID }, handler: { _ in })
        return true
    }

    /// Which ideas a bulk re-run takes: listed ids, or those of a status created in a window (all given filters apply).
    public struct Selection: Sendable, Hashable {
        public var ids: [String]?
        public var status: JobStatus?
        public var createdAfter: Date?
        public var createdBefore: Date?
        public init(ids: [String]? = nil, status: JobStatus? = nil, createdAfter: Date? = nil, createdBefore: Date? = nil) {
            self.ids = ids; self.status = status; self.createdAfter = createdAfter; self.createdBefore = createdBefore
        }
    }

    /// What a bulk re-run from `from` would do: the ideas, and what their stages from `from` on cost the last time
    /// (the stages before it are not run again, so they cost nothing).
    public struct BulkPlan: Sendable {
        public var ideas: [IdeaRecord]
        public var estimatedUSD: Double
    }

    /// The ideas of a selection (newest first; unknown ids are skipped) and the estimate of re-running them from `from`.
    public func plan(_ selection: Selection, from: Stage) async throws -> BulkPlan {
        var ideas: [IdeaRecord] = []
        if let ids = selection.ids {
            for id in ids where Identifier.isValid(id) {
                if let idea = try await store.idea(id) { ideas.append(idea) }
            }
        } else {
            var cursor: IdeaQuery.Cursor?
            while true {
                let page = try await store.ideas(IdeaQuery(status: selection.status, after: cursor, limit: 500))
                ideas += page
                guard let last = page.last, page.count == 500 else { break }
                cursor = IdeaQuery.Cursor(createdAt: last.createdAt, id: last.id)
            }
        }
        ideas = ideas.filter { idea in
            (selection.status == nil || idea.status == selection.status)
                && (selection.createdAfter.map { idea.createdAt >= $0 } ?? true) && (selection.createdBefore.map { idea.createdAt < $0 } ?? true)
                && !(idea.status == .queued || idea.status == .processing)  // a running video is not started twice
        }
        let estimate = ideas.reduce(0) { sum, idea in sum + idea.costs.filter { $0.stage >= from }.reduce(0) { $0 + $1.costUSD } }
        return BulkPlan(ideas: ideas, estimatedUSD: estimate)
    }

    /// Re-runs every idea of a plan from `from`, at most `perSecond` a second; `each` hears of every idea sent.
    @discardableResult
    public func retryAll(_ plan: BulkPlan, from: Stage, perSecond: Double, priority: Priority? = nil,
                         each: @Sendable (IdeaRecord) -> Void = { _ in }) async throws -> Int {
        let pause = Duration.milliseconds(Int64(1000 / max(0.01, perSecond)))
        var sent = 0
        for idea in plan.ideas {
            if sent > 0 { try await Task.sleep(for: pause) }
            if try await retry(ideaID: idea.id, from: from, priority: priority) != nil { sent += 1; each(idea) }
        }
        return sent
    }

    /// Retries an idea's job from the stage after its checkpoint (or from `from`, running that stage and the
    /// ones after it again). Its parked messages are removed. Its stages run in `priority`'s queues (default: the
    /// job's class). Returns the stage it starts at, nil when complete.
    public func retry(ideaID: String, from: Stage? = nil, priority: Priority? = nil) async throws -> Stage? {
        guard let job = try await store.jobs(ideaID: ideaID).last else { throw StoreError.notFound("job of idea \(ideaID)") }
        if let from {
            guard let artifacts else { throw ConfigError.invalid("retry --from", "needs the artifact store") }
            // An explicit re-run must call the providers again: drop the results kept for crash recovery.
            for stage in Stage.allCases where stage >= from {
                try await artifacts.delete(id: StagedResult.id(ideaID: ideaID, stage: stage))
            }
            try await store.rewind(ideaID: ideaID, toBefore: from, at: Date())
        }
        guard let idea = try await store.idea(ideaID) else { throw StoreError.notFound("idea \(ideaID)") }
        guard let stage = ResumePlanner.nextStage(after: idea.lastSuccessfulStep) else { return nil }
        _ = try await queue.takeParked(stage: nil, matching: { $0.jobID == job.jobID }, handler: { _ in })
        try await store.reopen(jobID: job.jobID, ideaID: ideaID, stage: stage, at: Date())
        var message = JobMessage(jobID: job.jobID, ideaID: ideaID, stage: stage, attempt: 1)
        message.priority = priority ?? job.priority
        try await queue.publish(message, to: stage)
        return stage
    }
}