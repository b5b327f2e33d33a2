import Foundation
import ProviderClient
import Shared

extension StageModule {
    /// The audio stage: espeak-ng, or the cloud voice REELFORGE_TTS_PROVIDER names, normalised to the loudness target.
    public static let audio = StageModule(stage: .audio, variables: TTSSettings.variables) { settings in
        let wordsPerMinute = try settings.integer("REELFORGE_ESPEAK_WPM", 165, 80...450)
        let loudness = Double(try settings.integer("REELFORGE_LOUDNESS_LUFS", -16, -40 ... -5))
        let tts = try TTSSettings(settings)
        let synthesizer: any SpeechSynthesizer = switch tts?.provider {
        case nil: EspeakSynthesizer(wordsPerMinute: wordsPerMinute)
        case .elevenlabs: ElevenLabsSynthesizer(settings: tts!)
        default: OpenAISpeechSynthesizer(settings: tts!)
        }
        let voice = tts.map { "\($0.provider.rawValue) \($0.model) \($0.voice)" } ?? "espeak-ng \(wordsPerMinute) wpm"
        return Built(executor: AudioStageExecutor(synthesizer: synthesizer, loudnessTarget: loudness),
                     summary: "speech=\(voice) loudness=\(Int(loudness)) LUFS")
    }
}

extension TTSSettings {
    static let variables: [StageModule.Variable] = [
        (SpeechProvider.variable, "espeak (offline, default), elevenlabs or openai"),
        ("ELEVENLABS_API_KEY", "key for REELFORGE_TTS_PROVIDER=elevenlabs (or ELEVENLABS_API_KEY_FILE)"),
        ("ELEVENLABS_API_KEY_FILE", "a file holding ELEVENLABS_API_KEY"),
        ("ELEVENLABS_BASE_URL", "ElevenLabs base URL (default https://api.elevenlabs.io)"),
        ("ELEVENLABS_VOICE_ID", "voice (default 21m00Tcm4TlvDq8ikWAM)"),
        ("ELEVENLABS_MODEL_ID", "model (default eleven_multilingual_v2)"),
        ("ELEVENLABS_STABILITY", "voice stability 0 to 1 (default 0.5)"),
        ("ELEVENLABS_SIMILARITY", "voice similarity boost 0 to 1 (default 0.75)"),
    ] + ProviderAccounts.openAI + [
        ("OPENAI_TTS_MODEL", "OpenAI speech model (default gpt-4o-mini-tts)"),
        ("OPENAI_TTS_VOICE", "OpenAI voice (default alloy)"),
        ("REELFORGE_TTS_TIMEOUT_SECONDS", "how long one speech request may take (default 120)"),
        ("REELFORGE_TTS_PRICE_PER_1K_CHARS", "USD per 1000 characters for the cost ledger (default 0.30 elevenlabs, 0.015 openai)"),
        ("REELFORGE_ESPEAK_WPM", "espeak-ng speaking rate in words per minute (default 165)"),
        ("REELFORGE_LOUDNESS_LUFS", "integrated loudness target of the narration (default -16)"),
    ]

    /// The cloud voice the settings name; nil for espeak-ng.
    public init?(_ settings: SettingsReader) throws {
        let provider = try SpeechProvider.configured(settings)
        guard provider != .espeak else { return nil }
        let eleven = provider == .elevenlabs
        func number(_ name: String, _ d: Double, _ range: ClosedRange<Double>) throws -> Double { try settings.number(name, d, range) }
        self.init(
            provider: provider, apiKey: settings.environment[eleven ? "ELEVENLABS_API_KEY" : "OPENAI_API_KEY"],
            baseURL: try settings.baseURL(eleven ? "ELEVENLABS_BASE_URL" : "OPENAI_BASE_URL",
                                          default: eleven ? "https://api.elevenlabs.io" : ProviderAccounts.openAIBaseURL),
            voice: eleven ? settings.text("ELEVENLABS_VOICE_ID", default: "21m00Tcm4TlvDq8ikWAM") : settings.text("OPENAI_TTS_VOICE", default: "alloy"),
            model: eleven ? settings.text("ELEVENLABS_MODEL_ID", default: "eleven_multilingual_v2") : settings.text("OPENAI_TTS_MODEL", default: "gpt-4o-mini-tts"),
            stability: try number("ELEVENLABS_STABILITY", 0.5, 0...1), similarity: try number("ELEVENLABS_SIMILARITY", 0.75, 0...1),
            timeout: .milliseconds(Int64(try number("REELFORGE_TTS_TIMEOUT_SECONDS", 120, 0.5...1800) * 1000)),
            pricePer1K: try number("REELFORGE_TTS_PRICE_PER_1K_CHARS", eleven ? 0.30 : 0.015, 0...100))
    }
}
