import AdaptStage
import ArgumentParser
import Foundation
import Shared
import VideoStage
import WorkerRuntime

struct Render: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render narration with burnt-in subtitles over a background into an MP4 (the video stage, standalone).",
        discussion: "The VideoWorker and 'reelforge make' use the same renderer. Also writes a PNG thumbnail next to the MP4.")

    @Option(help: "The narration (any format libavformat reads).") var audio: String
    @Option(help: "Subtitles as SRT.") var subtitles: String?
    @Option(help: "Word timings (timings.json of the audio stage): cues are made from the words.") var timings: String?
    @Option(help: "#RRGGBB, #TOP:#BOTTOM, an image or a video file; a folder of them or a comma-separated list changes background at paragraph boundaries (see --paragraphs).")
    var background: String?
    @Option(help: "Paragraph start times in seconds, comma-separated, where a folder or list of backgrounds cuts (default: shared out evenly at cue starts).")
    var paragraphs: String?
    @Option(help: "WIDTHxHEIGHT: 1080x1920 (default), 1920x1080, 1080x1080...") var size = "1080x1920"
    @Option(help: "Frames per second.") var fps = 30
    @Option(help: "libx264 preset.") var preset = "veryfast"
    @Option(help: "libx264 CRF.") var crf = 23
    @Option(help: "Encoder threads (0: automatic).") var threads = 0
    @Option(help: "A background clip shorter than the narration is decoded once and replayed from a scratch file beside --out of up to this many MiB (0: decode every loop).")
    var loopSpillMb = 1024
    @Option(help: "Subtitle style JSON file, over the classic style of the frame (docs/configuration.md).") var style: String?
    @Option(help: "Background music (looped, ducked under the voice).") var music: String?
    @Option(help: "Music level in dB (default -20); it drops 12 dB more while the voice speaks.") var musicLevel = -20.0
    @Option(help: "Characters per subtitle line when cues are made from --timings.") var lineLength = 32
    @Option(help: "The MP4 to write.") var out: String

    func validate() throws {
        if (subtitles == nil) == (timings == nil) { throw ValidationError("give --subtitles FILE.srt or --timings FILE.json") }
    }

    func run() async throws {
        var options = RenderOptions()
        do { try options.setSize(size, name: "--size") } catch let e as ConfigError { throw ValidationError(e.description) }
        options.fps = fps; options.preset = preset; options.crf = crf; options.threads = threads
        guard loopSpillMb >= 0 else { throw ValidationError("--loop-spill-mb must be 0 or more") }
        options.loopSpillBytes = loopSpillMb << 20
        if let background { options.background = try BackgroundSource(parsing: background) }
        options.subtitles = SubtitleStyle.preset(.classic, width: options.width, height: options.height)
        if let style {
            do { options.subtitles = try SubtitleStyle.load(style, variable: "--style", width: options.width, height: options.height) }
            catch let e as ConfigError { throw ValidationError(e.description) }
        }
        if let music { options.music = URL(fileURLWithPath: music); options.musicLevelDB = musicLevel }
        let cues: [TimedCue]
        if let subtitles {
            cues = try SubtitleTiming.parseSRT(String(contentsOfFile: subtitles, encoding: .utf8))
        } else {
            let words = try WordTiming.decodeList(Data(contentsOf: URL(fileURLWithPath: timings!)))
            let text = words.map(\.word).joined(separator: " ")
            cues = SubtitleTiming.align(cues: RuleBasedAdapter(maxCharactersPerLine: lineLength).cues(for: text), words: words,
                                        duration: (words.last?.end ?? 0) + 0.5)
        }
        let output = URL(fileURLWithPath: out)
        let thumb = output.deletingPathExtension().appendingPathExtension("png")
        let started = ContinuousClock.now
        var cuts: [ParagraphTiming] = []
        if let paragraphs {
            let times = paragraphs.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard !times.isEmpty, times.allSatisfy({ ($0 ?? -1) >= 0 }) else {
                throw ValidationError("--paragraphs must be start times in seconds separated by commas, e.g. 0,12.5,30")
            }
            cuts = times.map { ParagraphTiming(start: $0!) }
        }
        let result = try await VideoRenderer(options: options).render(audio: URL(fileURLWithPath: audio), cues: cues, paragraphs: cuts,
                                                                      to: output, thumbnail: thumb)
        if result.backgrounds.count > 1 {
            print("backgrounds: " + result.backgrounds.map { String(format: "%.2f s ", $0.start) + $0.source.label }.joined(separator: ", "))
        }
        for w in result.warnings { FileHandle.standardError.write(Data("warning: \(w)\n".utf8)) }
        let seconds = (ContinuousClock.now - started).seconds
        print(String(format: "%@: %d frames, %.2f s of video, %d cues, rendered in %.2f s (%.0f fps); thumbnail %@",
                     out, result.frames, result.duration, cues.count, seconds, Double(result.frames) / max(seconds, 0.001), thumb.path))
    }
}
