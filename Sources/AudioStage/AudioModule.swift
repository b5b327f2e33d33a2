import Foundation
import ProviderClient
import Shared

extension StageModule {
    /// The audio stage: the offline voices (Piper for English when installed, espeak-ng otherwise), or the cloud
    /// voice REELFORGE_TTS_PROVIDER names; normalised to the loudness target.
    public static let audio = StageModule(stage: .audio, variables: TTSSettings.variables + OfflineVoices.variables) { settings in
        let loudness = Double(try settings.integer("REELFORGE_LOUDNESS_LUFS", -16, -40 ... -5))
        let synthesizer: any SpeechSynthesizer
        let voice: String
        if let tts = try TTSSettings(settings) {
            synthesizer = tts.synthesizer
            voice = "\(tts.provider.rawValue) \(tts.model) \(tts.voice)"
        } else {
            let offline = try OfflineVoices(settings)
            synthesizer = offline
            voice = offline.summary
        }
        return Built(executor: AudioStageExecutor(synthesizer: synthesizer, loudnessTarget: loudness),
                     summary: "speech=\(voice) loudness=\(Int(loudness)) LUFS")
    }
}

extension TTSSettings {
    static let variables: [StageModule.Variable] = [
        (SpeechProvider.variable, "offline (default: the Piper voice for English when installed, espeak-ng otherwise), piper, espeak, elevenlabs or openai"),
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
        ("REELFORGE_LOUDNESS_LUFS", "integrated loudness target of the narration (default -16)"),
    ]

    /// The synthesizer of this cloud voice.
    public var synthesizer: any SpeechSynthesizer {
        provider == .elevenlabs ? ElevenLabsSynthesizer(settings: self) : OpenAISpeechSynthesizer(settings: self)
    }

    /// The cloud voice the settings name; nil for the offline voices.
    public init?(_ settings: SettingsReader) throws {
        let provider = try SpeechProvider.configured(settings)
        guard provider == .elevenlabs || provider == .openai else { return nil }
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

extension OfflineVoices {
    static let variables: [StageModule.Variable] = [
        ("REELFORGE_PIPER_VOICE", "folder of the Piper voice for English (default \(OfflineVoices.defaultPiperVoice), installed by scripts/install)"),
        ("REELFORGE_PIPER_SPEED", "Piper speaking speed, 0.5 to 2 (default 1)"),
        ("REELFORGE_PIPER_THREADS", "threads of the Piper voice (default 2)"),
        ("REELFORGE_SENTENCE_PAUSE_MS", "pause between sentences of the Piper voice, twice that between paragraphs (default 300)"),
        ("REELFORGE_ESPEAK_WPM", "espeak-ng speaking rate in words per minute (default 165)"),
    ]
}
