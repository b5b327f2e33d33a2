import EmbeddedStore
import Foundation
import Logging
import Shared
import Synchronization

/// `reelforge make`: the whole pipeline in one process on the embedded store (SQLite in `.reelforge/`) and an
/// in-process queue, with the same StageRunner, planner, retry policy, failpoints and checkpoints as the
/// distributed workers. Running it again for the same idea resumes at the stage that did not finish.
public struct LocalMake: Sendable {
    public struct Request: Sendable {
        public var idea: String?
        public var resumeID: String?
        public var language: String
        public var seconds: Int
        public var outDir: URL
        public var home: URL
        /// The frame and captions of a new idea (stored with it, so a resumed run renders the same).
        public var format: VideoFormat?
        public var style: SubtitlePreset?
        public init(idea: String?, resumeID: String?, language: String, seconds: Int, outDir: URL, home: URL) {
            self.idea = idea; self.resumeID = resumeID; self.language = language; self.seconds = seconds
            self.outDir = outDir; self.home = home
        }
    }

    public struct Summary: Codable, Sendable {
        public var ideaID: String
        public var jobID: String
        public var status: String
        public var lastSuccessfulStep: String?
        public var skipped: [String]
        public var ran: [String]
        public var attempts: [String: Int]
        public var video: String?
        public var subtitles: String?
        public var script: String?
        public var thumbnail: String?
        /// credits.txt: the stock footage used, with authors and licences.
        public var credits: String?
        public var durationSeconds: Double?
        /// The voice that read the narration, e.g. `piper en_US-joe-medium` or `espeak-ng`.
        public var voice: String?
        public var error: String?
        enum CodingKeys: String, CodingKey {
            case ideaID = "idea_id", jobID = "job_id", status, lastSuccessfulStep = "last_successful_step", skipped, ran, attempts
            case video, subtitles, script, thumbnail, credits, durationSeconds = "duration_seconds", voice, error
        }
    }

    public let config: ReelForgeConfig
    public let logger: Logger

    /// `config` holds the executors of all four stages (`ReelForgeConfig.fromEnvironment(modules:)`).
    public init(config: ReelForgeConfig, logger: Logger) {
        precondition(Set(config.executors.map(\.stage)) == Set(Stage.allCases), "reelforge make runs every stage")
        self.config = config; self.logger = logger
    }

    public func run(_ request: Request, display: ProgressDisplay) async throws -> Summary {
        try FileManager.default.createDirectory(at: request.home, withIntermediateDirectories: true)
        let lock = try HomeLock(request.home.appendingPathComponent("lock"))
        defer { lock.release() }
        let store = try RecordJobStore.sqlite(path: request.home.appendingPathComponent("store.sqlite").path)
        let artifacts = try DirectoryArtifactStore(root: request.home.appendingPathComponent("artifacts"))
        let queue = MemoryWorkQueue()
        let (idea, job) = try await findOrCreate(request, store: store)

        // This process holds the home lock: a lease left in the store is a crashed run's, not a live one.
        if let lease = job.lease { try await store.release(jobID: job.jobID, stage: lease.stage, owner: lease.owner) }
        let skipped = ResumePlanner.skipped(checkpoint: idea.lastSuccessfulStep)
        guard let first = ResumePlanner.nextStage(after: idea.lastSuccessfulStep) else {
            display.note("\(idea.id): the video already exists; nothing to do")
            if job.status != .completed { try await store.markCompleted(jobID: job.jobID, ideaID: idea.id, at: Date()) }
            return try await finish(ideaID: idea.id, jobID: job.jobID, skipped: skipped, ran: [], store: store, artifacts: artifacts, request: request)
        }
        if idea.lastSuccessfulStep != nil {
            display.note("\(ResumePlanner.describe(checkpoint: idea.lastSuccessfulStep)); skipping \(skipped.map(\.rawValue).joined(separator: ", ")) (already done)")
        }
        if job.status == .failed || job.status == .completed { try await store.reopen(jobID: job.jobID, ideaID: idea.id, stage: first, at: Date()) }

        let done = AsyncStream<RunnerEvent>.makeStream()
        let ran = Mutex<[Stage]>([])
        let runner = StageRunner(
            queue: queue, store: store, artifacts: artifacts,
            executors: config.executors,
            settings: config.runnerSettings(workerID: "local-\(getpid())", providerStates: MemoryProviderStates(), logger: logger),
            logger: logger,
            onEvent: { event in
                display.show(event)
                switch event {
                case .succeeded(_, let stage, _, _): ran.withLock { $0.append(stage) }
                case .completed, .parked: done.continuation.yield(event)
                default: break
                }
            })
        try await queue.publish(JobMessage(jobID: job.jobID, ideaID: idea.id, stage: first, attempt: 1), to: first)
        try await store.markDispatched(jobID: job.jobID, stage: first)
        let serving = Task { try await runner.serve(stages: Stage.allCases, concurrency: 1) }
        var outcome: RunnerEvent?
        for await event in done.stream { outcome = event; break }
        serving.cancel()
        _ = await serving.result
        display.finish()
        var summary = try await finish(ideaID: idea.id, jobID: job.jobID, skipped: skipped, ran: ran.withLock { $0 },
                                       store: store, artifacts: artifacts, request: request)
        if case .parked(_, _, _, let reason) = outcome { summary.error = reason }
        return summary
    }

    private func findOrCreate(_ r: Request, store: RecordJobStore) async throws -> (IdeaRecord, JobRecord) {
        if let id = r.resumeID {
            guard let idea = try await store.idea(id) else { throw ConfigError.invalid("--resume", "names no idea in \(r.home.path)") }
            guard let job = try await store.jobs(ideaID: id).last else { throw ConfigError.invalid("--resume", "idea \(id) has no job") }
            return (idea, job)
        }
        let text = try IdeaText.normalized(r.idea ?? "")
        // The same idea, language, length and framing made before: resume it.
        for idea in try await store.ideas(limit: 10_000) where idea.idea == text && idea.language == r.language && idea.targetSeconds == r.seconds
            && idea.format == r.format && idea.style == r.style {
            if let job = try await store.jobs(ideaID: idea.id).last { return (idea, job) }
        }
        // Stored only: run() enqueues the first stage on its own queue.
        return try await Operations(queue: MemoryWorkQueue(), store: store, maxRetries: config.retry.maxRetries)
            .create(idea: text, language: r.language, seconds: r.seconds, format: r.format, style: r.style)
    }

    /// Copies the video, subtitles and script out of the embedded store and summarises the run.
    private func finish(ideaID: String, jobID: String, skipped: [Stage], ran: [Stage], store: RecordJobStore,
                        artifacts: DirectoryArtifactStore, request: Request) async throws -> Summary {
        let idea = try await store.idea(ideaID)!
        let job = try await store.job(jobID)!
        let dir = request.outDir.appendingPathComponent(Self.folderName(idea: idea.idea, ideaID: ideaID))
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        func export<C: StageContract>(_ file: StageFile<C>) async throws -> String? {
            guard let ref = idea.artifacts[C.stage]?.ref(file) else { return nil }
            let url = dir.appendingPathComponent(file.name)
            try await artifacts.get(id: ref.id, to: url)
            return url.path
        }
        var summary = Summary(ideaID: ideaID, jobID: jobID, status: idea.status.rawValue, lastSuccessfulStep: idea.lastSuccessfulStep?.rawValue,
                              skipped: skipped.map(\.rawValue), ran: ran.map(\.rawValue),
                              attempts: Dictionary(uniqueKeysWithValues: job.attempts.map { ($0.key.rawValue, $0.value) }))
        if let text = try? idea.artifacts[.script]?.output(WrittenScript.self).text, !text.isEmpty {
            let url = dir.appendingPathComponent("script.txt")
            try Data((text + "\n").utf8).write(to: url, options: .atomic)
            summary.script = url.path
        }
        _ = try await export(WrittenScript.json)
        _ = try await export(SpokenNarration.wav)
        summary.subtitles = try await export(RenderedVideo.srt)
        _ = try await export(RenderedVideo.vtt)
        summary.video = try await export(RenderedVideo.mp4)
        summary.thumbnail = try await export(RenderedVideo.thumbnail)
        summary.credits = try await export(RenderedVideo.credits)
        summary.durationSeconds = try? idea.artifacts[.video]?.output(RenderedVideo.self).durationSeconds
        summary.voice = try? idea.artifacts[.audio]?.output(SpokenNarration.self).provider
        if idea.status == .failed { summary.error = idea.errors.last?.message }
        return summary
    }
}

extension LocalMake {
    /// `out/<slug>-<idea-id>`: the idea's first words in lower-case ASCII letters and digits joined by '-' (at most
    /// 40 characters; accents dropped, other scripts left out), then the id that keeps the folder unique.
    public static func folderName(idea: String, ideaID: String) -> String {
        var words: [String] = [], word = ""
        for c in idea.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: nil) {
            if c.isASCII && (c.isLetter || c.isNumber) { word.append(contentsOf: c.lowercased()); continue }
            if !word.isEmpty { words.append(word); word = "" }
        }
        if !word.isEmpty { words.append(word) }
        var slug = ""
        for w in words {
            if slug.count + w.count + 1 > 40 { break }
            slug += (slug.isEmpty ? "" : "-") + w
        }
        let id = SafeName.file(ideaID)
        return slug.isEmpty ? id : "\(slug)-\(id)"
    }
}

/// One `reelforge make` at a time per home folder (flock): two runs would fight over the same job.
final class HomeLock: Sendable {
    let fd: Int32
    init(_ url: URL) throws {
        fd = open(url.path, O_CREAT | O_RDWR, 0o644)
        guard fd >= 0 else { throw ConfigError.invalid("home", "cannot create \(url.path)") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw ConfigError.invalid("home", "\(url.deletingLastPathComponent().path) is in use by another 'reelforge make'")
        }
    }
    func release() { flock(fd, LOCK_UN); close(fd) }
}

/// What a person sees while `make` works: one line per stage, a live bar for long stages on a terminal.
public final class ProgressDisplay: Sendable {
    let enabled: Bool
    let tty: Bool
    private let state = Mutex<(stage: Stage?, started: ContinuousClock.Instant, lineOpen: Bool)>((nil, .now, false))

    public init(enabled: Bool) {
        self.enabled = enabled
        self.tty = isatty(STDERR_FILENO) != 0
    }

    func write(_ s: String) { if enabled { FileHandle.standardError.write(Data(s.utf8)) } }

    public func note(_ text: String) {
        closeLine()
        write("• \(text)\n")
    }

    func closeLine() {
        let open = state.withLock { s in defer { s.lineOpen = false }; return s.lineOpen }
        if open { write("\n") }
    }

    public func show(_ event: RunnerEvent) {
        switch event {
        case .started(_, let stage, let attempt):
            closeLine()
            state.withLock { $0.stage = stage; $0.started = .now }
            write("▶ \(stage.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)) \(Self.what(stage))\(attempt > 1 ? " (attempt \(attempt))" : "")…\n")
        case .progress(_, let stage, let fraction, let detail):
            guard tty else { return }
            let elapsed = state.withLock { ContinuousClock.now - $0.started }.seconds
            let eta = fraction > 0.02 ? max(0, elapsed / fraction - elapsed) : nil
            let width = 24, filled = Int((fraction * Double(width)).rounded())
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            write("\r  \(stage.rawValue) [\(bar)] \(Int(fraction * 100))%  \(detail)\(eta.map { String(format: "  ETA %.0fs", $0) } ?? "")   ")
            state.withLock { $0.lineOpen = true }
        case .succeeded(_, let stage, _, let seconds):
            closeLine()
            write("✔ \(stage.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)) \(stage.checkpoint.rawValue) (\(String(format: "%.1f", seconds)) s)\n")
        case .skipped(_, let stage):
            closeLine()
            write("↷ \(stage.rawValue) skipped (already done)\n")
        case .retryScheduled(_, let stage, let attempt, let delay, let reason):
            closeLine()
            write("↻ \(stage.rawValue) failed: \(reason); attempt \(attempt) in \(delay.compact)\n")
        case .parked(_, let stage, let kind, let reason):
            closeLine()
            write("✘ \(stage.rawValue) \(kind): \(reason)\n")
        case .completed, .leaseHeld, .credits, .cancelled:
            break
        }
    }

    public func finish() { closeLine() }

    static func what(_ s: Stage) -> String {
        switch s {
        case .script: return "writing the script"
        case .adapt: return "adapting it for speech"
        case .audio: return "speaking it"
        case .video: return "rendering the video"
        }
    }
}
