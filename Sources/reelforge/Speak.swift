import AdaptStage
import ArgumentParser
import AudioStage
import Foundation
import Shared

struct Speak: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Speak text into a WAV and its word timings (the audio stage's voices, standalone).",
        discussion: """
        The text is adapted for speech first (numbers, abbreviations, symbols), as in the pipeline. The WAV is 48 kHz \
        mono at the loudness target (REELFORGE_LOUDNESS_LUFS); the timings JSON is what `reelforge render --timings` \
        reads. The voice settings are the environment's (REELFORGE_PIPER_*, REELFORGE_ESPEAK_WPM, and the keys and base \
        URLs of the cloud voices, which are paid calls).
        """)

    @Argument(help: "The text to say.") var text: String
    @Option(help: "Language: en or fr.") var lang = "en"
    @Option(help: "offline (Piper for English when installed, else espeak-ng), piper, espeak, elevenlabs or openai.") var voice = "offline"
    @Option(help: "The WAV to write.") var out: String
    @Option(help: "Where to write the word timings (JSON).") var timings: String?
    @Flag(help: "Print a JSON summary.") var json = false

    struct Summary: Codable {
        var voice: String
        var words: Int
        var seconds: Double
        var loadSeconds: Double
        var synthesisSeconds: Double
        var realTimeFactor: Double
        enum CodingKeys: String, CodingKey {
            case voice, words, seconds, loadSeconds = "load_seconds", synthesisSeconds = "synthesis_seconds", realTimeFactor = "real_time_factor"
        }
    }

    func validate() throws {
        guard SpeechProvider(rawValue: voice) != nil else {
            throw ValidationError("--voice must be \(SpeechProvider.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard IdeaText.languages.contains(lang) else { throw ValidationError("--lang must be \(IdeaText.languagesText)") }
    }

    func run() async throws {
        var env = ProcessInfo.processInfo.environment
        env[SpeechProvider.variable] = voice
        let settings = SettingsReader(env)
        let synthesizer = try TTSSettings(settings)?.synthesizer ?? OfflineVoices(settings).voice(for: lang)
        let adapted = RuleBasedAdapter().adapt(text, language: lang).text
        let loading = ContinuousClock.now
        if let piper = synthesizer as? PiperSynthesizer { _ = try await piper.voice.sampleRate() }  // loads the model
        let load = (ContinuousClock.now - loading).seconds
        let started = ContinuousClock.now
        let piece = try await synthesizer.speak(adapted, language: lang, workDir: FileManager.default.temporaryDirectory)
        let took = (ContinuousClock.now - started).seconds
        var audio = piece.pcm
        audio.normalise(to: Double(try settings.integer("REELFORGE_LOUDNESS_LUFS", -16, -40 ... -5)))
        try audio.writeWAV(to: URL(fileURLWithPath: out))
        if let timings {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try encoder.encode(piece.words).write(to: URL(fileURLWithPath: timings))
        }
        let summary = Summary(voice: synthesizer.name, words: piece.words.count, seconds: audio.duration, loadSeconds: load, synthesisSeconds: took,
                              realTimeFactor: took / max(audio.duration, 0.001))
        if json { try printJSON(summary) } else {
            print(String(format: "%@: %d words, %.2f s of speech by %@ in %.2f s (real-time factor %.3f; voice loaded in %.2f s)",
                         out, summary.words, summary.seconds, summary.voice, took, summary.realTimeFactor, load))
        }
    }
}
