import Foundation

// The typed outputs of the stages: what each stage stores inline on the idea (`artifacts.<stage>.data`, see
// docs/schema.md) and the names of the files it stores, stated once for the stage that writes them and the
// stages, the CLI and `reelforge make` that read them. The coding keys are the stored names: ideas stored by
// earlier versions decode, fields added later are optional.

/// The typed output of one stage, decoded from and encoded to the stage's inline values.
public protocol StageContract: Codable, Sendable {
    /// The stage that produces it.
    static var stage: Stage { get }
}

/// A file a stage stores in the artifact store: its name (the key under `artifacts.<stage>.files`, and the GridFS
/// file name) and its content type.
public struct StageFile<Contract: StageContract>: Sendable, Hashable {
    public let name: String
    public let contentType: String
    public init(_ name: String, contentType: String) { self.name = name; self.contentType = contentType }
}

/// A structured narration script.
public struct Script: Codable, Sendable, Hashable {
    public var title: String
    public var hook: String
    /// Paragraphs of narration; the first is the hook.
    public var paragraphs: [String]
    public var hashtags: [String]
    /// Visual keywords per paragraph, for backgrounds.
    public var keywords: [[String]]
    public var language: String
    /// What a generated picture behind each paragraph shows (one per paragraph, or nil: scripts of earlier
    /// versions and writers that give none; the footage step then describes the paragraph by its keywords).
    public var imagePrompts: [String]?

    public var narration: String { paragraphs.joined(separator: "\n\n") }
    public var wordCount: Int { narration.split(whereSeparator: { $0 == " " || $0 == "\n" }).count }

    enum CodingKeys: String, CodingKey { case title, hook, paragraphs, hashtags, keywords, language, imagePrompts = "image_prompts" }

    public init(title: String, hook: String, paragraphs: [String], hashtags: [String], keywords: [[String]], language: String,
                imagePrompts: [String]? = nil) {
        self.title = title; self.hook = hook; self.paragraphs = paragraphs; self.hashtags = hashtags
        self.keywords = keywords; self.language = language
        self.imagePrompts = imagePrompts.flatMap { $0.count == paragraphs.count && $0.allSatisfy { !$0.isEmpty } ? $0 : nil }
    }
}

/// The script stage's output: the structured script, its title and narration text, who wrote it.
public struct WrittenScript: StageContract, Hashable {
    public static let stage = Stage.script
    /// The structured script; nil when a stored one does not decode (the text is what the next stage needs).
    public var script: Script?
    public var title: String?
    /// The narration: the paragraphs separated by blank lines. Empty when missing.
    public var text: String
    public var writer: String?
    /// The visual keywords per paragraph (`script.keywords`), read on their own so that a partial script keeps
    /// them. Not stored twice: encoding writes the script only.
    public var keywords: [[String]]

    enum CodingKeys: String, CodingKey { case script, title, text, writer }
    private enum ScriptKeys: String, CodingKey { case keywords }

    public init(script: Script, writer: String) {
        self.script = script; self.title = script.title; self.text = script.narration; self.writer = writer
        self.keywords = script.keywords
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        script = try? c.decodeIfPresent(Script.self, forKey: .script)
        let partial = try? c.nestedContainer(keyedBy: ScriptKeys.self, forKey: .script)
        keywords = script?.keywords ?? (try? partial?.decodeIfPresent([[String]].self, forKey: .keywords)) ?? []
        title = try c.decodeIfPresent(String.self, forKey: .title)
        text = try c.decodeIfPresent(String.self, forKey: .text) ?? ""
        writer = try c.decodeIfPresent(String.self, forKey: .writer)
    }
}

extension WrittenScript {
    /// The structured script as pretty JSON.
    public static let json = StageFile<WrittenScript>("script.json", contentType: "application/json")
}

/// One subtitle cue: at most two lines of text, in reading order.
public struct Cue: Codable, Sendable, Hashable {
    public var index: Int
    public var text: String
    public var lines: [String]
    public init(index: Int, text: String, lines: [String]) { self.index = index; self.text = text; self.lines = lines }
}

/// How the speech text marks pauses: punctuation only, or ElevenLabs' `<break/>` tags. (espeak-ng gets SSML with
/// word marks that the audio stage writes itself.)
public enum PauseStyle: String, Sendable, Codable { case punctuation, elevenlabs }

/// The adapt stage's output: the script rewritten for speech, and the subtitle cues.
public struct AdaptedText: StageContract, Hashable {
    public static let stage = Stage.adapt
    /// Plain speakable text (numbers and symbols as words, no markdown, no URLs). Empty when missing.
    public var text: String
    /// The same text with pause marks in `pauseStyle`; absent from ideas adapted before pause styles.
    public var speechText: String?
    /// Nil when absent or a style this version does not know.
    public var pauseStyle: PauseStyle?
    public var cues: [Cue]
    public var adapter: String?

    enum CodingKeys: String, CodingKey {
        case text, speechText = "speech_text", pauseStyle = "pause_style", cues, adapter
    }

    public init(text: String, speechText: String?, pauseStyle: PauseStyle?, cues: [Cue], adapter: String?) {
        self.text = text; self.speechText = speechText; self.pauseStyle = pauseStyle; self.cues = cues; self.adapter = adapter
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        text = try c.decodeIfPresent(String.self, forKey: .text) ?? ""
        speechText = try c.decodeIfPresent(String.self, forKey: .speechText)
        pauseStyle = try c.decodeIfPresent(String.self, forKey: .pauseStyle).flatMap(PauseStyle.init(rawValue:))
        cues = try c.decodeIfPresent([Cue].self, forKey: .cues) ?? []
        adapter = try c.decodeIfPresent(String.self, forKey: .adapter)
    }
}

extension AdaptedText {
    /// The adapter's whole result (text, speech text, cues, language) as pretty JSON.
    public static let json = StageFile<AdaptedText>("adapted.json", contentType: "application/json")
}

/// The audio stage's output: what the narration is; the audio and its word timings are files.
public struct SpokenNarration: StageContract, Hashable {
    public static let stage = Stage.audio
    public var durationSeconds: Double
    /// How many words are timed in `timings`.
    public var words: Int
    public var provider: String
    public var sampleRate: Int?
    public var loudnessLUFS: Double?
    /// How many requests the text was spoken in.
    public var pieces: Int?

    enum CodingKeys: String, CodingKey {
        case durationSeconds = "duration_seconds", words, provider, sampleRate = "sample_rate"
        case loudnessLUFS = "loudness_lufs", pieces
    }

    public init(durationSeconds: Double, words: Int, provider: String, sampleRate: Int?, loudnessLUFS: Double?, pieces: Int?) {
        self.durationSeconds = durationSeconds; self.words = words; self.provider = provider
        self.sampleRate = sampleRate; self.loudnessLUFS = loudnessLUFS; self.pieces = pieces
    }
}

extension SpokenNarration {
    /// The narration, 48 kHz WAV.
    public static let wav = StageFile<SpokenNarration>("narration.wav", contentType: "audio/wav")
    /// The word timings: a JSON array of `WordTiming`.
    public static let timings = StageFile<SpokenNarration>("timings.json", contentType: "application/json")
}

/// The video stage's output: what was rendered; the video, subtitles and thumbnail are files.
public struct RenderedVideo: StageContract, Hashable {
    public static let stage = Stage.video
    public var durationSeconds: Double
    public var frames: Int
    public var width: Int
    public var height: Int
    public var fps: Int
    /// How many subtitle cues were burnt in.
    public var cues: Int
    public var renderSeconds: Double

    enum CodingKeys: String, CodingKey {
        case durationSeconds = "duration_seconds", frames, width, height, fps, cues, renderSeconds = "render_seconds"
    }

    public init(durationSeconds: Double, frames: Int, width: Int, height: Int, fps: Int, cues: Int, renderSeconds: Double) {
        self.durationSeconds = durationSeconds; self.frames = frames; self.width = width; self.height = height
        self.fps = fps; self.cues = cues; self.renderSeconds = renderSeconds
    }
}

extension RenderedVideo {
    public static let mp4 = StageFile<RenderedVideo>("video.mp4", contentType: "video/mp4")
    public static let srt = StageFile<RenderedVideo>("subtitles.srt", contentType: "application/x-subrip")
    public static let vtt = StageFile<RenderedVideo>("subtitles.vtt", contentType: "text/vtt")
    public static let thumbnail = StageFile<RenderedVideo>("thumbnail.png", contentType: "image/png")
    /// Every stock clip and photo in the video, with author, page and licence (`FootagePlan.credits`).
    public static let credits = StageFile<RenderedVideo>("credits.txt", contentType: "text/plain")
}
