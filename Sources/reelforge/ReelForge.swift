import AdaptStage
import ArgumentParser
import AudioStage
import Foundation
import Logging
import ScriptStage
import Shared
import VideoStage
import WorkerRuntime

extension StageModule {
    /// The four stages, as `reelforge make` runs them in one process.
    static let pipeline: [StageModule] = [.script, .adapt, .audio, .video]
}

@main
struct ReelForge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reelforge",
        abstract: "Turn ideas into narrated, subtitled short videos, resuming at the exact stage that failed.",
        discussion: """
        Distributed commands talk to RabbitMQ (AMQP_URL) and MongoDB (MONGODB_URI) with the same configuration as the
        workers; see 'reelforge env' for every variable.
        """,
        subcommands: [Make.self, Serve.self, Mcp.self, Render.self, Speak.self, Submit.self, Status.self, DLQ.self, Retry.self, Cancel.self, Providers.self, Media.self, TopologyCommand.self, Env.self])

    static func main() async {
        ProcessSetup.ignoreBrokenPipes()
        await main(nil)
    }
}

/// Shared set-up for commands that use the distributed backends.
struct Distributed {
    let config: ReelForgeConfig
    let backends: DistributedBackends
    let operations: Operations
    let logger: Logger

    /// Connects once, failing within a few seconds with a hint when a service is not there (a worker waits for
    /// its services; a person at a terminal wants to know at once).
    static func connect() async throws -> Distributed {
        let config = try ReelForgeConfig.fromEnvironment()
        LoggingSetup.bootstrap(config)
        let logger = Logger(label: "reelforge")
        TracingSetup.bootstrap(service: "reelforge", logger: logger)
        let backends = try DistributedBackends(config: config, logger: logger, mongoTimeoutMS: 2000)
        do { try await backends.store.prepare() } catch {
            await backends.queue.close()
            throw ServicesUnreachable(service: "MongoDB", address: config.mongoURI, error: error)
        }
        do { try await backends.queue.declareTopology() } catch {
            await backends.queue.close()
            throw ServicesUnreachable(service: "RabbitMQ", address: config.amqpURL, error: error)
        }
        return Distributed(config: config, backends: backends,
                           operations: Operations(queue: backends.queue, store: backends.store, artifacts: backends.artifacts,
                                                 maxRetries: config.retry.maxRetries),
                           logger: logger)
    }

    func close() async {
        await backends.queue.close()
        await TracingSetup.shutdown()
    }
}

/// A distributed command could not reach its services: says which, and what to do about it.
struct ServicesUnreachable: Error, CustomStringConvertible {
    let service: String, address: String, error: any Error

    var description: String {
        let r = Redactor.shared
        return """
        cannot reach \(service) at \(r.redact(address)): \(r.redact(String(describing: error)).prefix(300))
        Start the development services with 'scripts/services start' and load their addresses with \
        'source .services/env' (AMQP_URL, MONGODB_URI), or pass --home DIR to use the embedded store of \
        'reelforge make' (status, dlq list/show, media).
        """
    }
}

func printJSON<T: Encodable>(_ value: T) throws {
    let e = JSONEncoder()
    e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    e.dateEncodingStrategy = .iso8601
    print(String(decoding: try e.encode(value), as: UTF8.self))
}

struct Submit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Store a new idea and enqueue its first stage.")
    @Argument(help: "The idea, e.g. \"why octopuses have three hearts\".") var idea: String
    @Option(help: "Narration language: en or fr.") var lang = "en"
    @Option(parsing: .unconditional, help: "Target length in seconds (5-600).") var duration = 30
    @Option(help: "This video's background: #RRGGBB, #TOP:#BOTTOM, media:NAME, media: (chosen by keywords) or a comma list (default: the video worker's REELFORGE_BACKGROUND).")
    var background: String?
    @Option(help: "This video's frame: \(VideoFormat.choicesText) (default: the video worker's REELFORGE_VIDEO_SIZE, 1080x1920).")
    var format: String?
    @Option(help: "This video's captions: \(SubtitlePreset.choicesText) (default: the video worker's REELFORGE_SUBTITLE_PRESET).")
    var style: String?
    @Option(help: "This video's footage sources, in order from pexels, pixabay, library, generated (default: the video worker's REELFORGE_FOOTAGE).")
    var footage: String?
    @Option(help: "Class of service: high, normal or bulk. Each stage takes high first; a bulk batch never holds a high video back by more than one stage run per worker.")
    var priority = "normal"
    @Flag(help: "Print {\"idea_id\": ..., \"job_id\": ...}.") var json = false

    func validate() throws {
        try validateIdea(idea, lang: lang, duration: duration, background: background)
        _ = try priorityClass(priority)
        _ = try framing(format: format, style: style)
        _ = try footageSources(footage)
    }

    func run() async throws {
        let d = try await Distributed.connect()
        let s: Operations.Submitted
        let (videoFormat, preset) = try framing(format: format, style: style)
        do {
            s = try await d.operations.submit(idea: idea, language: lang, seconds: duration, background: background, format: videoFormat,
                                              style: preset, footage: try footageSources(footage), priority: try priorityClass(priority))
        } catch {
            await d.close()
            throw error
        }
        if json { try printJSON(s) } else { print("idea \(s.ideaID)\njob  \(s.jobID)") }
        await d.close()
    }
}

/// The argument checks of `submit` and `make` (usage errors: exit 64), by the same rules as the message codec.
func validateIdea(_ idea: String?, lang: String, duration: Int, background: String?) throws {
    if let idea {
        do throws(IdeaText.Problem) { _ = try IdeaText.normalized(idea) } catch { throw ValidationError(error.description) }
    }
    if !IdeaText.languages.contains(lang) { throw ValidationError("--lang must be \(IdeaText.languagesText)") }
    if !IdeaText.seconds.contains(duration) {
        throw ValidationError("--duration must be \(IdeaText.seconds.lowerBound) to \(IdeaText.seconds.upperBound) seconds (got \(duration))")
    }
    if let background, let problem = BackgroundChoice.problem(background) { throw ValidationError("--background \(problem)") }
}

/// `--priority` of `submit` and `retry`: high, normal or bulk (a usage error otherwise: exit 64).
func priorityClass(_ text: String) throws -> Priority {
    guard let p = Priority(parsing: text) else { throw ValidationError("--priority must be high, normal or bulk (got '\(text.prefix(40))')") }
    return p
}

/// `--footage` of `submit` and `make`: sources of the fixed list, in order (a usage error otherwise: exit 64).
func footageSources(_ text: String?) throws -> [FootageSource]? {
    guard let text else { return nil }
    do {
        let list = try FootageSource.list(text, name: "--footage")
        guard !list.isEmpty else { throw ConfigError.invalid("--footage", "names no source") }
        return list
    } catch let e as ConfigError { throw ValidationError(e.description) }
}

/// `--format` and `--style` of `submit` and `make`, checked against the fixed lists (usage errors: exit 64).
func framing(format: String?, style: String?) throws -> (VideoFormat?, SubtitlePreset?) {
    var f: VideoFormat?, p: SubtitlePreset?
    if let format {
        guard let v = VideoFormat(rawValue: format) else { throw ValidationError("--format must be \(VideoFormat.choicesText) (got '\(format.prefix(40))')") }
        f = v
    }
    if let style {
        guard let v = SubtitlePreset(rawValue: style) else { throw ValidationError("--style must be \(SubtitlePreset.choicesText) (got '\(style.prefix(40))')") }
        p = v
    }
    return (f, p)
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Progress, step, attempts per stage and last error of ideas.")
    @Argument(help: "An idea id; without it, the 20 newest ideas.") var ideaID: String?
    @Flag(help: "Machine-readable output.") var json = false
    @Option(help: "Use the embedded store in this folder (as 'reelforge make --home', e.g. .reelforge) instead of MongoDB.")
    var home: String?

    struct View: Encodable {
        var idea_id: String, idea: String, status: String, last_successful_step: String?, progress_percentage: Int
        var current_step: String?, job_id: String?, job_status: String?, attempts: [String: Int], retry_count: Int
        var last_error: String?, artifacts: [String: [String: String]], cost_usd: Double
    }

    func run() async throws {
        let views: [View]
        if let home {
            views = try await Self.views(of: ideaID, in: try EmbeddedHome.existingStore(home))
        } else {
            let d = try await Distributed.connect()
            do {
                views = try await Self.views(of: ideaID, in: d.backends.store)
                // A provider that makes calls wait (open circuit, 429 pause) explains why videos are not moving.
                if !json {
                    let now = Date()
                    for s in try await d.backends.providerStates.providerStates() { if let why = s.blocked(now: now) { print("provider \(s.key): \(why)") } }
                }
            } catch { await d.close(); throw error }
            await d.close()
        }
        if json { try printJSON(ideaID == nil ? AnyEncodable(views) : AnyEncodable(views[0])); return }
        for v in views {
            let attempts = Stage.allCases.compactMap { s in v.attempts[s.rawValue].map { "\(s.rawValue) \($0)" } }.joined(separator: ", ")
            print("\(v.idea_id)  \(v.status.padding(toLength: 10, withPad: " ", startingAt: 0)) \(String(v.progress_percentage).leftPad(3))%  \(v.last_successful_step ?? "-")")
            print("    \(v.idea.prefix(70))")
            print("    job \(v.job_id ?? "-") (\(v.job_status ?? "-")); attempts: \(attempts.isEmpty ? "none" : attempts)")
            if let e = v.last_error { print("    last error: \(e)") }
        }
        if views.isEmpty { print(home == nil ? "no ideas yet: reelforge submit \"your idea\"" : "no ideas yet: reelforge make \"your idea\"") }
    }

    /// One idea's view, or the 20 newest ideas'.
    static func views(of ideaID: String?, in store: any JobStore) async throws -> [View] {
        let ideas: [IdeaRecord]
        if let ideaID {
            guard let idea = try await store.idea(ideaID) else { throw ValidationError("no idea \(ideaID)") }
            ideas = [idea]
        } else {
            ideas = try await store.ideas(limit: 20)
        }
        var views: [View] = []
        for i in ideas {
            let job = try await store.jobs(ideaID: i.id).last
            var artifacts: [String: [String: String]] = [:]
            for (stage, a) in i.artifacts { artifacts[stage.rawValue] = a.files.mapValues(\.id) }
            views.append(View(idea_id: i.id, idea: i.idea, status: i.status.rawValue, last_successful_step: i.lastSuccessfulStep?.rawValue,
                              progress_percentage: i.progressPercentage, current_step: i.currentStep?.rawValue, job_id: job?.jobID,
                              job_status: job?.status.rawValue,
                              attempts: Dictionary(uniqueKeysWithValues: (job?.attempts ?? [:]).map { ($0.key.rawValue, $0.value) }),
                              retry_count: job?.retryCount ?? 0, last_error: (job?.lastError ?? i.errors.last)?.message,
                              artifacts: artifacts, cost_usd: i.costs.reduce(0) { $0 + $1.costUSD }))
        }
        return views
    }
}

struct AnyEncodable: Encodable {
    let value: any Encodable
    init(_ v: any Encodable) { value = v }
    func encode(to encoder: Encoder) throws { try value.encode(to: encoder) }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}

struct Retry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send an idea's job back to the stage after its checkpoint (earlier stages are not run again); or re-run many from a stage.",
        discussion: """
        One idea: reelforge retry IDEA_ID [--from STAGE].
        Many (a bulk re-run, e.g. after a style change): reelforge retry --from video --status completed \
        [--created-after 2026-11-01] [--created-before 2026-12-01] | --ids-file FILE  [--rate 5] [--dry-run]. \
        Only the stages from --from on run again, so a re-render pays no script or voice; --dry-run prints \
        what would run and what those stages cost the last time.
        """)
    @Argument(help: "The idea id (omit it to select many with the options below).") var ideaID: String?
    @Option(help: "Run this stage and the ones after it again (script, adapt, audio, video).") var from: String?
    @Option(help: "Many: the ideas of this status (completed, failed, cancelled).") var status: String?
    @Option(help: "Many: created at or after this date (YYYY-MM-DD or ISO 8601).") var createdAfter: String?
    @Option(help: "Many: created before this date (YYYY-MM-DD or ISO 8601).") var createdBefore: String?
    @Option(help: "Many: the idea ids in this file, one a line.") var idsFile: String?
    @Option(help: "Many: ideas sent a second (default 5).") var rate: Double = 5
    @Option(help: "Class of service of the re-run: high, normal or bulk (default: the job's own; bulk suits a large re-run).") var priority: String?
    @Flag(help: "Many: print what would run and its estimated cost, send nothing.") var dryRun = false
    @Flag(help: "Many: print a JSON summary.") var json = false

    var isBulk: Bool { ideaID == nil }

    func validate() throws {
        if let from, Stage(parsing: from) == nil { throw ValidationError("--from must be script, adapt, audio or video") }
        if let status, JobStatus(rawValue: status) == nil { throw ValidationError("--status must be one of \(JobStatus.allCases.map(\.rawValue).joined(separator: ", "))") }
        for (name, value) in [("--created-after", createdAfter), ("--created-before", createdBefore)] {
            if let value, Self.date(value) == nil { throw ValidationError("\(name) must be a date, YYYY-MM-DD or ISO 8601") }
        }
        guard (0.01...1000).contains(rate) else { throw ValidationError("--rate must be 0.01 to 1000") }
        if let priority { _ = try priorityClass(priority) }
        if isBulk {
            guard from != nil else { throw ValidationError("name an idea, or give --from STAGE with a selection (--status, --created-after/-before, --ids-file)") }
            guard status != nil || createdAfter != nil || createdBefore != nil || idsFile != nil else {
                throw ValidationError("a bulk re-run needs a selection: --status, --created-after, --created-before or --ids-file")
            }
        } else if status != nil || createdAfter != nil || createdBefore != nil || idsFile != nil || dryRun {
            throw ValidationError("--status, --created-after/-before, --ids-file and --dry-run select many ideas: leave out IDEA_ID")
        }
    }

    static func date(_ text: String) -> Date? { Timestamp.parse(text) ?? Timestamp.parse(text + "T00:00:00Z") }

    func run() async throws {
        let d = try await Distributed.connect()
        do { try await run(d) } catch {
            await d.close()
            throw error
        }
        await d.close()
    }

    func run(_ d: Distributed) async throws {
        let fromStage = from.flatMap(Stage.init(parsing:))
        let priorityClass = try priority.map(priorityClass)
        guard isBulk, let fromStage else {
            let stage = try await d.operations.retry(ideaID: ideaID!, from: fromStage, priority: priorityClass)
            if let stage { print("idea \(ideaID!): enqueued \(stage)") } else { print("idea \(ideaID!) already has its video: nothing to do") }
            return
        }
        var ids: [String]?
        if let idsFile {
            guard let text = try? String(contentsOfFile: idsFile, encoding: .utf8) else { throw ValidationError("--ids-file: cannot read \(idsFile)") }
            ids = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
        }
        let selection = Operations.Selection(ids: ids, status: status.flatMap(JobStatus.init(rawValue:)),
                                             createdAfter: createdAfter.flatMap(Self.date), createdBefore: createdBefore.flatMap(Self.date))
        let plan = try await d.operations.plan(selection, from: fromStage)
        let stages = Stage.allCases.filter { $0 >= fromStage }.map(\.rawValue).joined(separator: ", ")
        if dryRun {
            if json {
                try printJSON(["ideas": "\(plan.ideas.count)", "from": fromStage.rawValue, "estimated_usd": String(format: "%.4f", plan.estimatedUSD)])
            } else {
                for idea in plan.ideas { print("\(idea.id)  \(idea.status.rawValue)  \(idea.idea.prefix(60))") }
                print("would re-run \(plan.ideas.count) idea(s) from \(fromStage) (\(stages)); those stages cost $\(String(format: "%.4f", plan.estimatedUSD)) the last time; earlier stages are not run again")
            }
            return
        }
        let sent = try await d.operations.retryAll(plan, from: fromStage, perSecond: rate, priority: priorityClass) { idea in
            if !json { print("\(idea.id): enqueued \(fromStage)") }
        }
        if json { try printJSON(["sent": "\(sent)", "from": fromStage.rawValue]) } else { print("re-running \(sent) idea(s) from \(fromStage) (\(stages))") }
    }
}

struct Cancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cancel an idea's job: no new stage starts, a waiting retry is dropped, a running stage stops at its next lease renewal.")
    @Argument(help: "The idea id.") var ideaID: String

    func run() async throws {
        let d = try await Distributed.connect()
        let cancelled = try await d.operations.cancel(ideaID: ideaID)
        await d.close()
        print(cancelled ? "idea \(ideaID): cancelled" : "idea \(ideaID) already has its video: nothing to cancel")
    }
}

struct TopologyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "topology", abstract: "RabbitMQ exchanges and queues.",
                                                    subcommands: [Declare.self])
    struct Declare: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Declare every exchange and queue (idempotent).")
        func run() async throws {
            let d = try await Distributed.connect()
            let t = d.backends.queue.topology
            await d.close()
            print("declared exchanges \(t.workExchange), \(t.delayExchange), \(t.parkedExchange)")
            for q in t.allQueues { print("  queue \(q)") }
        }
    }
}

struct Env: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the environment variables ReelForge reads.")
    func run() throws {
        for v in ReelForgeConfig.variables(with: StageModule.pipeline) { print("\(v.name.padding(toLength: max(36, v.name.count + 1), withPad: " ", startingAt: 0)) \(v.meaning)") }
    }
}
