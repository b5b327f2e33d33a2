import ArgumentParser
import Foundation
import Logging
import Shared
import VideoStage
import WorkerRuntime

struct Make: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make a video from an idea on this machine alone (embedded store, no broker, no database server).",
        discussion: """
        Runs script → adapt → audio → video in this process, keeping checkpoints in an SQLite file under --home. \
        Running the same command again (or 'make --resume IDEA_ID') after a crash, kill -9 or Ctrl-C resumes at the \
        stage that did not finish and skips the ones that did.

        The providers are the workers': offline by default (the template script, the Piper voice for English and \
        espeak-ng for French), or those that \
        REELFORGE_SCRIPT_PROVIDER and REELFORGE_TTS_PROVIDER name; the adapter is rule-based and the video is \
        rendered here. REELFORGE_FAILPOINTS, REELFORGE_RETRY_DELAYS, the REELFORGE_VIDEO_* variables and the other \
        settings of 'reelforge env' apply as for the workers.

        Writes OUT/<slug>-<idea-id>/: \(RenderedVideo.mp4.name), \(RenderedVideo.thumbnail.name), \(RenderedVideo.srt.name) \
        and .vtt, script.txt and .json, \(SpokenNarration.wav.name), \(RenderedVideo.credits.name). Usage errors (an invalid option, an idea that is \
        blank, too long, holds control characters or has no word in Latin script) exit with 64, a video not made \
        with 1.
        """)

    @Argument(help: "The idea, e.g. \"why octopuses have three hearts\".") var idea: String?
    @Option(help: "Resume this idea id instead of naming the idea.") var resume: String?
    @Option(help: "Where the MP4, subtitles and script go (a folder per idea).") var out = "out"
    @Option(help: "Narration language: en or fr.") var lang = "en"
    @Option(parsing: .unconditional, help: "Target length in seconds (5-600).") var duration = 30
    @Option(help: "Folder of the embedded store.") var home = ".reelforge"
    @Option(help: "The background, as REELFORGE_BACKGROUND: a colour, #TOP:#BOTTOM, an image, a clip, a folder, media:NAME, media: or a comma list.")
    var background: String?
    @Option(help: "Pictures behind the paragraphs, as REELFORGE_FOOTAGE, in order from pexels, pixabay, library, generated (needs PEXELS_API_KEY / PIXABAY_API_KEY / OPENAI_API_KEY).")
    var footage: String?
    @Option(help: "The frame: \(VideoFormat.choicesText) (1080x1920, 1080x1080, 1920x1080; default: REELFORGE_VIDEO_SIZE, 1080x1920). Kept with the idea: --resume uses it.")
    var format: String?
    @Option(help: "The captions: classic, or shorts (large, the spoken word highlighted, inside the platforms' safe area) (default: REELFORGE_SUBTITLE_PRESET, classic). Kept with the idea.")
    var style: String?
    @Flag(help: "Print a machine-readable summary instead of progress.") var json = false

    func validate() throws {
        if (idea == nil) == (resume == nil) { throw ValidationError("name an idea, or pass --resume IDEA_ID") }
        try validateIdea(idea, lang: lang, duration: duration, background: nil)
        _ = try framing(format: format, style: style)
        if resume != nil && (format != nil || style != nil) { throw ValidationError("--format and --style name a new idea's frame; --resume keeps the stored idea's") }
        if let background {  // make also takes this machine's files and folders
            do { _ = try BackgroundSource(parsing: background) } catch let f as StageFailure { throw ValidationError("--background: \(f.message)") }
        }
        _ = try footageSources(footage)
    }

    func run() async throws {
        var env = ProcessInfo.processInfo.environment
        if env["REELFORGE_LOG_LEVEL"] == nil { env["REELFORGE_LOG_LEVEL"] = "warning" }
        if let background { env["REELFORGE_BACKGROUND"] = background }
        if let footage { env[FootageSource.variable] = footage }
        let config = try ReelForgeConfig.fromEnvironment(env, modules: StageModule.pipeline)
        LoggingSetup.bootstrap(config)
        let display = ProgressDisplay(enabled: !json)
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        var request = LocalMake.Request(idea: idea, resumeID: resume, language: lang, seconds: duration,
                                        outDir: URL(fileURLWithPath: out, relativeTo: cwd).standardizedFileURL,
                                        home: URL(fileURLWithPath: home, relativeTo: cwd).standardizedFileURL)
        (request.format, request.style) = try framing(format: format, style: style)
        let summary: LocalMake.Summary
        do {
            summary = try await LocalMake(config: config, logger: Logger(label: "reelforge")).run(request, display: display)
        } catch let e as ConfigError where resume != nil && e.description.hasPrefix("--resume") {
            throw ValidationError(e.description)  // a usage error: exit 64 like the other argument checks
        }
        if json {
            try printJSON(summary)
        } else if summary.status == JobStatus.completed.rawValue {
            print("""
            Done: \(summary.ideaID)\(summary.skipped.isEmpty ? "" : " (skipped \(summary.skipped.joined(separator: ", ")): already done)")
              video     \(summary.video ?? "-")\(summary.durationSeconds.map { String(format: " (%.1f s)", $0) } ?? "")
              thumbnail \(summary.thumbnail ?? "-")
              subtitles \(summary.subtitles ?? "-")
              script    \(summary.script ?? "-")
              voice     \(summary.voice ?? "-")\(summary.credits.map { "\n  credits   \($0)" } ?? "")
            """)
        } else {
            print("Stopped at \(summary.lastSuccessfulStep ?? "the start"): \(summary.error ?? summary.status)")
            print("Run the same command again to retry from there (or: reelforge make --resume \(summary.ideaID)).")
        }
        if summary.status != JobStatus.completed.rawValue { throw ExitCode(1) }
    }
}
