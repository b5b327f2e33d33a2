import Foundation
import EmbeddedStore
import MongoStore
import ReelForgeTestKit
import Shared
import Testing

/// The JobStore contract, written once and run against every store backend.
enum StoreContract {
    static func newJob(_ store: any JobStore, _ n: Int = 1) async throws -> (IdeaRecord, JobRecord) {
        let now = Date()
        let idea = IdeaRecord(id: "idea_\(n)_\(UUID().uuidString.prefix(6))", idea: "idea number \(n)", language: "en", targetSeconds: 20, now: now)
        let job = JobRecord(jobID: "job_\(n)_\(UUID().uuidString.prefix(6))", ideaID: idea.id, maxRetries: 3, now: now)
        try await store.create(idea: idea, job: job)
        return (idea, job)
    }

    static func createAndRead(_ store: any JobStore) async throws {
        try await store.prepare()
        try await store.prepare()  // idempotent
        let (idea, job) = try await newJob(store)
        let i = try #require(try await store.idea(idea.id))
        #expect(i.idea == idea.idea && i.status == .queued && i.lastSuccessfulStep == nil && i.progressPercentage == 0)
        let j = try #require(try await store.job(job.jobID))
        #expect(j.ideaID == idea.id && j.status == .queued && j.maxRetries == 3 && j.attempts.isEmpty && j.lease == nil)
        #expect(try await store.jobs(ideaID: idea.id).map(\.jobID) == [job.jobID])
        #expect(try await store.ideas(limit: 10).contains { $0.id == idea.id })
        #expect(try await store.idea("idea_nope") == nil)
        await #expect(throws: StoreError.self) { try await store.create(idea: idea, job: job) }
    }

    /// Cancelling drops the job's lease (its running stage fails its next renewal), refuses new claims, keeps
    /// the status through a later failure, and does nothing to a completed job.
    static func cancelStopsTheJob(_ store: any JobStore) async throws {
        try await store.prepare()
        let (idea, job) = try await newJob(store, 1)
        let now = Date()
        guard case .claimed = try await store.claim(jobID: job.jobID, stage: .audio, owner: "w1", until: now + 30, now: now) else {
            Issue.record("claim must succeed"); return
        }
        #expect(try await store.cancel(jobID: job.jobID, at: now))
        #expect(try await !store.renew(jobID: job.jobID, stage: .audio, owner: "w1", until: now + 60), "the running stage loses its lease")
        let i = try #require(try await store.idea(idea.id))
        #expect(i.status == .cancelled && i.leases.isEmpty)
        #expect(try await store.job(job.jobID)?.status == .cancelled)
        #expect(try await store.claim(jobID: job.jobID, stage: .video, owner: "w2", until: now + 30, now: now) == .cancelled)
        try await store.recordFailure(jobID: job.jobID, ideaID: idea.id,
                                      ErrorEntry(stage: .audio, kind: "permanent", message: "late", attempt: 1, at: now), owner: "w1", final: true, retrying: false)
        #expect(try await store.job(job.jobID)?.status == .cancelled)
        #expect(try await store.idea(idea.id)?.status == .cancelled)
        #expect(try await store.cancel(jobID: job.jobID, at: now), "cancelling again is fine")
        let (doneIdea, done) = try await newJob(store, 2)
        try await store.markCompleted(jobID: done.jobID, ideaID: doneIdea.id, at: now)
        #expect(try await !store.cancel(jobID: done.jobID, at: now))
        #expect(try await store.idea(doneIdea.id)?.status == .completed)
        await #expect(throws: StoreError.self) { _ = try await store.cancel(jobID: "job_missing", at: now) }
    }

    /// Pages of ideas newest first, by status, each idea once; edits change what a replay will use.
    static func pagesAndEdits(_ store: any JobStore) async throws {
        try await store.prepare()
        let tag = UUID().uuidString.prefix(6)
        var made: [String] = []
        for n in 0..<7 {
            let idea = IdeaRecord(id: "idea_page_\(tag)_\(n)", idea: "page \(n)", language: "en", targetSeconds: 20,
                                  now: Date(timeIntervalSince1970: 2_000_000_000 + Double(n / 2)))  // pairs share a moment
            try await store.create(idea: idea, job: JobRecord(jobID: "job_page_\(tag)_\(n)", ideaID: idea.id, maxRetries: 3, now: idea.createdAt))
            made.append(idea.id)
        }
        try await store.markCompleted(jobID: "job_page_\(tag)_3", ideaID: made[3], at: Date())
        var seen: [String] = []
        var cursor: IdeaQuery.Cursor?
        while true {
            let page = try await store.ideas(IdeaQuery(after: cursor, limit: 3)).filter { $0.id.hasPrefix("idea_page_\(tag)") }
            guard let last = page.last else { break }
            seen += page.map(\.id)
            cursor = IdeaQuery.Cursor(createdAt: last.createdAt, id: last.id)
        }
        #expect(seen == made.reversed(), "newest first, ties by id, each once: \(seen)")
        #expect(try await store.ideas(IdeaQuery(status: .completed, limit: 50)).contains { $0.id == made[3] })
        #expect(try await !store.ideas(IdeaQuery(status: .queued, limit: 50)).contains { $0.id == made[3] })
        try await store.edit(ideaID: made[0], IdeaEdits(background: "#102030", footage: [.pexels], format: .square, style: .shorts), at: Date())
        let edited = try #require(try await store.idea(made[0]))
        #expect(edited.background == "#102030" && edited.footage == [.pexels] && edited.format == .square && edited.style == .shorts)
        #expect(edited.idea == "page 0")
    }

    /// An ended idea with a callback is due until its webhook state says delivered; changes are compare-and-set;
    /// a reopened job is announced again.
    static func webhooks(_ store: any JobStore) async throws {
        try await store.prepare()
        let now = Date()
        var idea = IdeaRecord(id: "idea_hook_\(UUID().uuidString.prefix(6))", idea: "hook", language: "en", targetSeconds: 20, now: now)
        idea.callbackURL = "https://example.test/hook"
        let job = JobRecord(jobID: "job_hook_\(UUID().uuidString.prefix(6))", ideaID: idea.id, maxRetries: 3, now: now)
        try await store.create(idea: idea, job: job)
        #expect(try await !store.webhooksDue(limit: 1000).contains { $0.id == idea.id }, "not before it ends")
        try await store.markCompleted(jobID: job.jobID, ideaID: idea.id, at: now)
        let due = try #require(try await store.webhooksDue(limit: 1000).first { $0.id == idea.id })
        var state = try #require(due.webhook)
        #expect(state.pending && state.rev == 0 && due.callbackURL == "https://example.test/hook")
        state.sendingUntil = now + 30
        #expect(try await store.updateWebhook(ideaID: idea.id, from: 0, to: state))
        #expect(try await !store.updateWebhook(ideaID: idea.id, from: 0, to: state), "a second taker loses")
        state.pending = false; state.attempts = 1; state.deliveredAt = now
        #expect(try await store.updateWebhook(ideaID: idea.id, from: 1, to: state))
        #expect(try await !store.webhooksDue(limit: 1000).contains { $0.id == idea.id })
        let stored = try #require(try await store.idea(idea.id)?.webhook)
        #expect(stored.rev == 2 && !stored.pending && stored.attempts == 1 && stored.deliveredAt != nil)
        try await store.reopen(jobID: job.jobID, ideaID: idea.id, stage: .video, at: now)
        try await store.markCompleted(jobID: job.jobID, ideaID: idea.id, at: now)
        #expect(try await store.webhooksDue(limit: 1000).first { $0.id == idea.id }?.webhook?.pending == true, "announced again")
    }

    static func claimsAreExclusiveAndExpire(_ store: any JobStore) async throws {
        try await store.prepare()
        let (_, a) = try await newJob(store, 1)
        let (_, b) = try await newJob(store, 2)
        let now = Date()
        guard case .claimed(let ja) = try await store.claim(jobID: a.jobID, stage: .script, owner: "w1", until: now + 30, now: now) else {
            Issue.record("first claim must succeed"); return
        }
        #expect(ja.attempts[.script] == 1 && ja.lease?.owner == "w1")
        // Held, even for the same owner (two deliveries in one worker), until it expires.
        #expect(try await store.claim(jobID: a.jobID, stage: .script, owner: "w2", until: now + 30, now: now) == .held(ja.lease!))
        if case .claimed = try await store.claim(jobID: a.jobID, stage: .script, owner: "w1", until: now + 30, now: now) {
            Issue.record("a held lease must not be claimed again")
        }
        // Another job is untouched by claims on this one.
        guard case .claimed(let jb) = try await store.claim(jobID: b.jobID, stage: .script, owner: "w2", until: now + 30, now: now) else {
            Issue.record("claim of another job must succeed"); return
        }
        #expect(jb.jobID == b.jobID && jb.attempts[.script] == 1)
        #expect(try await store.job(a.jobID)?.attempts[.script] == 1)
        // An expired lease can be taken over.
        let later = now + 120
        guard case .claimed(let again) = try await store.claim(jobID: a.jobID, stage: .script, owner: "w3", until: later + 30, now: later) else {
            Issue.record("an expired lease must be claimable"); return
        }
        #expect(again.attempts[.script] == 2 && again.lease?.owner == "w3")
        #expect(try await store.renew(jobID: a.jobID, stage: .script, owner: "w3", until: later + 60))
        #expect(try await !store.renew(jobID: a.jobID, stage: .script, owner: "w1", until: later + 60))
        #expect(try await store.claim(jobID: "job_missing", stage: .script, owner: "w1", until: now + 30, now: now) == .missing)
    }

    static func checkpointsOnlyMoveForward(_ store: any JobStore) async throws {
        try await store.prepare()
        let (idea, job) = try await newJob(store)
        let now = Date()
        _ = try await store.claim(jobID: job.jobID, stage: .script, owner: "w1", until: now + 30, now: now)
        let artifact = StageArtifact(inline: ["text": "hello", "n": 3, "nested": ["a": [1, 2]]],
                                     files: ["f.txt": ArtifactRef(id: "x.script.f.txt", name: "f.txt", contentType: "text/plain", size: 5)],
                                     attempt: 1, producedAt: now)
        let paid = CostEntry(stage: .script, attempt: 1, provider: "llm", units: 900, unit: "tokens", costUSD: 0.002, at: now)
        #expect(try await store.checkpoint(CheckpointWrite(jobID: job.jobID, ideaID: idea.id, stage: .script, artifact: artifact,
                                                           costs: [paid], owner: "w1", at: now)))
        var i = try #require(try await store.idea(idea.id))
        #expect(i.lastSuccessfulStep == .scriptGenerated && i.progressPercentage == 25 && i.currentStep == .adapt)
        #expect(i.artifacts[.script]?.inline == artifact.inline)
        #expect(i.artifacts[.script]?.files == artifact.files)
        #expect(try await store.job(job.jobID)?.lease == nil)  // released
        // A second success of the same stage does not move it (nor overwrite the artifact).
        let other = StageArtifact(inline: ["text": "other"], attempt: 2, producedAt: now)
        #expect(try await !store.checkpoint(CheckpointWrite(jobID: job.jobID, ideaID: idea.id, stage: .script, artifact: other,
                                                            costs: [paid], owner: "w2", at: now)))
        i = try #require(try await store.idea(idea.id))
        #expect(i.artifacts[.script]?.inline["text"] == "hello")
        #expect(i.costs.map(\.provider) == ["llm"], "the ledger gets the costs of the checkpoint that counted, once")
        for stage in [Stage.adapt, .audio, .video] {
            #expect(try await store.checkpoint(CheckpointWrite(jobID: job.jobID, ideaID: idea.id, stage: stage, artifact: artifact, owner: "w1", at: now)))
        }
        i = try #require(try await store.idea(idea.id))
        #expect(i.lastSuccessfulStep == .videoGenerated && i.progressPercentage == 100)
        // Rewind for an explicit re-run of audio.
        try await store.rewind(ideaID: idea.id, toBefore: .audio, at: now)
        i = try #require(try await store.idea(idea.id))
        #expect(i.lastSuccessfulStep == .scriptAdapted && i.progressPercentage == 50)
    }

    static func failuresCostsAndStatus(_ store: any JobStore) async throws {
        try await store.prepare()
        let (idea, job) = try await newJob(store)
        let now = Date()
        _ = try await store.claim(jobID: job.jobID, stage: .video, owner: "w1", until: now + 30, now: now)
        let e1 = ErrorEntry(stage: .video, kind: "transient", message: "boom", attempt: 1, at: now)
        try await store.recordFailure(jobID: job.jobID, ideaID: idea.id, e1, owner: "w1", final: false, retrying: true)
        var j = try #require(try await store.job(job.jobID))
        #expect(j.retryCount == 1 && j.lease == nil && j.status != .failed && j.lastError?.message == "boom")
        let e2 = ErrorEntry(stage: .video, kind: "exhausted", message: "gave up", attempt: 4, at: now)
        try await store.recordFailure(jobID: job.jobID, ideaID: idea.id, e2, owner: "w1", final: true, retrying: false)
        j = try #require(try await store.job(job.jobID))
        #expect(j.status == .failed && j.retryCount == 1)
        var i = try #require(try await store.idea(idea.id))
        #expect(i.status == .failed && i.errors.map(\.message) == ["boom", "gave up"] && i.errors.map(\.attempt) == [1, 4])
        try await store.reopen(jobID: job.jobID, ideaID: idea.id, stage: .video, at: now)
        try await store.markDispatched(jobID: job.jobID, stage: .audio)
        j = try #require(try await store.job(job.jobID))
        #expect(j.status == .queued && j.dispatched.isSuperset(of: [.video, .audio]))
        try await store.markCompleted(jobID: job.jobID, ideaID: idea.id, at: now)
        j = try #require(try await store.job(job.jobID))
        i = try #require(try await store.idea(idea.id))
        #expect(j.status == .completed && i.status == .completed && i.progressPercentage == 100)
    }

    /// Leases belong to an idea's stage, not to a job: a second job of the same idea (a message with the same
    /// idea id and a new job id) waits for the first on that stage, and creating it keeps the stored idea.
    static func leasesArePerIdeaAndStage(_ store: any JobStore) async throws {
        try await store.prepare()
        let (idea, a) = try await newJob(store, 1)
        let now = Date()
        let b = JobRecord(jobID: "job_twin_\(UUID().uuidString.prefix(6))", ideaID: idea.id, maxRetries: 3, now: now)
        var rewritten = idea
        rewritten.idea = "another text under the same id"
        #expect(try await !store.create(idea: rewritten, job: b), "a new job of an existing idea reports the idea as not new")
        #expect(try await store.idea(idea.id)?.idea == idea.idea, "the stored idea is kept")
        #expect(Set(try await store.jobs(ideaID: idea.id).map(\.jobID)) == [a.jobID, b.jobID])
        guard case .claimed(let ja) = try await store.claim(jobID: a.jobID, stage: .audio, owner: "w1", until: now + 30, now: now) else {
            Issue.record("first claim must succeed"); return
        }
        let lease = try #require(ja.lease)
        #expect(lease.jobID == a.jobID)
        // The twin job cannot take the stage, from another worker or from the same one.
        #expect(try await store.claim(jobID: b.jobID, stage: .audio, owner: "w2", until: now + 30, now: now) == .held(lease))
        #expect(try await store.claim(jobID: b.jobID, stage: .audio, owner: "w1", until: now + 30, now: now) == .held(lease))
        #expect(try await store.job(b.jobID)?.attempts[.audio] == nil, "a refused claim counts no attempt")
        #expect(try await !store.renew(jobID: b.jobID, stage: .audio, owner: "w1", until: now + 60), "the twin never held it")
        try await store.release(jobID: b.jobID, stage: .audio, owner: "w1")
        #expect(try await store.claim(jobID: b.jobID, stage: .audio, owner: "w2", until: now + 30, now: now) == .held(lease),
                "the twin's release does not free the holder's lease")
        // Another stage of the idea is free.
        guard case .claimed = try await store.claim(jobID: b.jobID, stage: .video, owner: "w2", until: now + 30, now: now) else {
            Issue.record("another stage of the idea must be claimable"); return
        }
        // Once the holder's lease expires, the twin takes the stage over and the old holder cannot renew it.
        let later = now + 120
        guard case .claimed(let jb) = try await store.claim(jobID: b.jobID, stage: .audio, owner: "w2", until: later + 30, now: later) else {
            Issue.record("an expired lease must be claimable by the twin"); return
        }
        #expect(jb.attempts[.audio] == 1 && jb.lease?.jobID == b.jobID)
        #expect(try await !store.renew(jobID: a.jobID, stage: .audio, owner: "w1", until: later + 60))
        try await store.release(jobID: a.jobID, stage: .audio, owner: "w1")
        #expect(try await store.claim(jobID: a.jobID, stage: .audio, owner: "w3", until: later + 30, now: later) == .held(jb.lease!))
        // The holder's checkpoint releases it for the next claim.
        let artifact = StageArtifact(inline: ["text": "spoken"], attempt: 1, producedAt: later)
        #expect(try await store.checkpoint(CheckpointWrite(jobID: b.jobID, ideaID: idea.id, stage: .audio, artifact: artifact, owner: "w2", at: later)))
        #expect(try await store.job(b.jobID)?.lease?.stage != .audio)
        guard case .claimed = try await store.claim(jobID: a.jobID, stage: .audio, owner: "w3", until: later + 30, now: later) else {
            Issue.record("a released lease must be claimable"); return
        }
    }

    /// Ids from `ArtifactKey`: an idea's files and the media library are separate namespaces, and an idea named
    /// like the library (`media`) or a media file named like an idea's file cannot reach the other.
    static func artifacts(_ store: any ArtifactStore) async throws {
        let dir = temporaryDirectory()
        let file = dir.appendingPathComponent("in.bin")
        let payload = Data((0..<600_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })  // several GridFS chunks
        try payload.write(to: file)
        let prefix = "idea_\(UUID().uuidString.prefix(6))"
        let narration = ArtifactKey.artifact(ideaID: prefix, stage: .audio, name: "narration.wav")
        let ref = try await store.put(id: narration, name: "narration.wav", contentType: "audio/wav", from: file)
        #expect(ref.size == payload.count)
        let out = dir.appendingPathComponent("out.bin")
        try await store.get(id: ref.id, to: out)
        #expect(try Data(contentsOf: out) == payload)
        // The same id again replaces: no duplicate.
        try Data("second".utf8).write(to: file)
        _ = try await store.put(id: ref.id, name: "narration.wav", contentType: "audio/wav", from: file)
        try await store.get(id: ref.id, to: out)
        #expect(try Data(contentsOf: out) == Data("second".utf8))
        let video = ArtifactKey.artifact(ideaID: prefix, stage: .video, name: "video.mp4")
        _ = try await store.put(id: video, name: "video.mp4", contentType: "video/mp4", from: file)
        #expect(try await store.list(ideaID: prefix) == [narration, video])
        try await store.delete(id: ref.id)
        #expect(try await store.list(ideaID: prefix) == [video])
        await #expect(throws: (any Error).self) { try await store.get(id: ref.id, to: out) }
        try await namespaces(store, dir: dir)
    }

    static func namespaces(_ store: any ArtifactStore, dir: URL) async throws {
        func put(_ id: String, _ text: String) async throws {
            let file = dir.appendingPathComponent("put.bin")
            try Data(text.utf8).write(to: file)
            _ = try await store.put(id: id, name: "f", contentType: "application/octet-stream", from: file)
        }
        func read(_ id: String) async throws -> String {
            let file = dir.appendingPathComponent("read.bin")
            try await store.get(id: id, to: file)
            return String(decoding: try Data(contentsOf: file), as: UTF8.self)
        }
        let ideaVideo = ArtifactKey.artifact(ideaID: "media", stage: .video, name: "video.mp4")
        let mediaVideo = ArtifactKey.media("video.video.mp4")
        try await put(ideaVideo, "the video of the idea called media")
        try await put(mediaVideo, "a library clip")
        try await put(ArtifactKey.artifact(ideaID: "media_video", stage: .video, name: "video.mp4"), "a neighbour idea")
        let footageClip = ArtifactKey.footage("pexels-11.mp4")
        try await put(footageClip, "a stock clip")
        try await put(ArtifactKey.artifact(ideaID: "footage", stage: .video, name: "pexels-11.mp4"), "an idea called footage")
        #expect(try await store.list(.media) == [mediaVideo], "the media library lists its own files only")
        #expect(try await store.list(.footage) == [footageClip], "downloaded footage is a namespace of its own")
        #expect(try await read(footageClip) == "a stock clip")
        #expect(try await store.list(ideaID: "media") == [ideaVideo], "an idea lists its own files only")
        #expect(try await read(ideaVideo) == "the video of the idea called media")
        #expect(try await read(mediaVideo) == "a library clip")
        // Ids of the old flat scheme (`<idea>.<stage>.<name>`, `media.<name>`) are in no namespace: never written.
        for old in ["media.video.video.mp4", "media.video.mp4", "\(UUID().uuidString.prefix(6)).video.video.mp4", "idea/../media/x.png",
                    "media/a/b.png", "idea/x/nostage/f.txt", "footage/a/b.mp4", "footage/../media/x.png"] {
            await #expect(throws: StoreError.self, "\(old) must not be writable") { try await put(old, "x") }
        }
        #expect(try await store.list(.media) == [mediaVideo])
        try await store.delete(id: mediaVideo)
        #expect(try await store.list(.media) == [])
        #expect(try await read(ideaVideo) == "the video of the idea called media")
    }
}

@Suite("JobStore contract: memory")
struct MemoryStoreContractTests {
    @Test func createAndRead() async throws { try await StoreContract.createAndRead(RecordJobStore.memory()) }
    @Test func claims() async throws { try await StoreContract.claimsAreExclusiveAndExpire(RecordJobStore.memory()) }
    @Test func checkpoints() async throws { try await StoreContract.checkpointsOnlyMoveForward(RecordJobStore.memory()) }
    @Test func failures() async throws { try await StoreContract.failuresCostsAndStatus(RecordJobStore.memory()) }
    @Test func leasesPerIdea() async throws { try await StoreContract.leasesArePerIdeaAndStage(RecordJobStore.memory()) }
    @Test func cancel() async throws { try await StoreContract.cancelStopsTheJob(RecordJobStore.memory()) }
    @Test func webhooks() async throws { try await StoreContract.webhooks(RecordJobStore.memory()) }
    @Test func pagesAndEdits() async throws { try await StoreContract.pagesAndEdits(RecordJobStore.memory()) }
    @Test func artifacts() async throws { try await StoreContract.artifacts(DirectoryArtifactStore(root: temporaryDirectory())) }
}

@Suite("JobStore contract: MongoDB", .enabled(if: TestServices.available))
struct MongoStoreContractTests {
    @Test func createAndRead() async throws { try await StoreContract.createAndRead(TestServices.mongoStore().0) }
    @Test func claims() async throws { try await StoreContract.claimsAreExclusiveAndExpire(TestServices.mongoStore().0) }
    @Test func checkpoints() async throws { try await StoreContract.checkpointsOnlyMoveForward(TestServices.mongoStore().0) }
    @Test func failures() async throws { try await StoreContract.failuresCostsAndStatus(TestServices.mongoStore().0) }
    @Test func leasesPerIdea() async throws { try await StoreContract.leasesArePerIdeaAndStage(TestServices.mongoStore().0) }
    @Test func cancel() async throws { try await StoreContract.cancelStopsTheJob(TestServices.mongoStore().0) }
    @Test func webhooks() async throws { try await StoreContract.webhooks(TestServices.mongoStore().0) }
    @Test func pagesAndEdits() async throws { try await StoreContract.pagesAndEdits(TestServices.mongoStore().0) }
    @Test func artifacts() async throws { try await StoreContract.artifacts(TestServices.mongoStore().1) }
}

@Suite("JobStore contract: embedded SQLite")
struct SQLiteStoreContractTests {
    func store() throws -> RecordJobStore { try .sqlite(path: temporaryDirectory("sqlite").appendingPathComponent("store.sqlite").path) }
    @Test func createAndRead() async throws { try await StoreContract.createAndRead(store()) }
    @Test func claims() async throws { try await StoreContract.claimsAreExclusiveAndExpire(store()) }
    @Test func checkpoints() async throws { try await StoreContract.checkpointsOnlyMoveForward(store()) }
    @Test func failures() async throws { try await StoreContract.failuresCostsAndStatus(store()) }
    @Test func leasesPerIdea() async throws { try await StoreContract.leasesArePerIdeaAndStage(store()) }
    @Test func cancel() async throws { try await StoreContract.cancelStopsTheJob(store()) }
    @Test func webhooks() async throws { try await StoreContract.webhooks(store()) }
    @Test func pagesAndEdits() async throws { try await StoreContract.pagesAndEdits(store()) }

    @Test func survivesReopening() async throws {
        let path = temporaryDirectory("sqlite").appendingPathComponent("store.sqlite").path
        let (idea, job) = try await StoreContract.newJob(try RecordJobStore.sqlite(path: path))
        let reopened = try RecordJobStore.sqlite(path: path)
        #expect(try await reopened.idea(idea.id)?.idea == idea.idea)
        #expect(try await reopened.job(job.jobID)?.ideaID == idea.id)
    }
}
