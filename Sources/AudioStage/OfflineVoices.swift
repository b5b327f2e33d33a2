import Foundation
import Shared

/// The voices that need no network: the Piper voice reads English when it is installed (or asked for), espeak-ng
/// every other language and English without it. Which one spoke is in the audio stage's log line and in the
/// narration's `provider`.
public struct OfflineVoices: SpeechSynthesizer {
    public let name = "offline"
    public let chunkLimit = 20_000
    public let pauseStyle = SpeechProvider.offline.pauseStyle
    public let piper: PiperSynthesizer?
    public let espeak: EspeakSynthesizer
    /// Why English is not read by Piper, when it is not (for the start-up line).
    public let note: String?

    public init(piper: PiperSynthesizer?, espeak: EspeakSynthesizer, note: String? = nil) {
        self.piper = piper; self.espeak = espeak; self.note = note
    }

    public static let defaultPiperVoice = "/usr/local/share/reelforge/voices/en_US-joe-medium"

    /// From the settings: `offline` takes the Piper voice when its folder holds one, `piper` requires it,
    /// `espeak` leaves it out.
    public init(_ settings: SettingsReader) throws {
        let provider = try SpeechProvider.configured(settings)
        let espeak = EspeakSynthesizer(wordsPerMinute: try settings.integer("REELFORGE_ESPEAK_WPM", 165, 80...450))
        let folder = URL(fileURLWithPath: settings.text("REELFORGE_PIPER_VOICE", default: Self.defaultPiperVoice))
        guard provider != .espeak else { self.init(piper: nil, espeak: espeak); return }
        guard PiperVoice.isVoice(folder) else {
            if provider == .piper || settings.text("REELFORGE_PIPER_VOICE") != nil {
                throw ConfigError.invalid("REELFORGE_PIPER_VOICE", "holds no Piper voice (model.onnx and tokens.txt): \(folder.path) (scripts/install installs one)")
            }
            self.init(piper: nil, espeak: espeak, note: "no Piper voice at \(folder.path)")
            return
        }
        let voice = PiperVoice(folder: folder, threads: try settings.integer("REELFORGE_PIPER_THREADS", 2, 1...16))
        let piper = PiperSynthesizer(voice: voice, speed: try settings.number("REELFORGE_PIPER_SPEED", 1, 0.5...2),
                                     sentencePause: Double(try settings.integer("REELFORGE_SENTENCE_PAUSE_MS", 300, 0...3000)) / 1000)
        self.init(piper: piper, espeak: espeak)
    }

    /// The start-up line's account of the voices.
    public var summary: String {
        let english = piper.map { "\($0.name) for English, " } ?? ""
        return "\(english)espeak-ng \(espeak.wordsPerMinute) wpm\(piper == nil ? "" : " otherwise")\(note.map { " (\($0))" } ?? "")"
    }

    public func voice(for language: String) -> any SpeechSynthesizer {
        if language == "en", let piper { return piper }
        return espeak
    }

    public func speak(_ text: String, language: String, workDir: URL) async throws -> SpeechPiece {
        try await voice(for: language).speak(text, language: language, workDir: workDir)
    }

    public func cost(characters: Int) -> Double { 0 }
}
