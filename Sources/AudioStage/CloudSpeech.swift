import Foundation
import ProviderClient
import Shared

/// Settings of a cloud text-to-speech provider.
public struct TTSSettings: Sendable {
    public var provider: SpeechProvider
    public var apiKey: String?
    public var baseURL: URL
    public var voice: String
    public var model: String
    public var stability: Double
    public var similarity: Double
    public var timeout: Duration
    /// USD per 1000 characters, for the cost ledger.
    public var pricePer1K: Double

    public init(provider: SpeechProvider, apiKey: String?, baseURL: URL, voice: String, model: String, stability: Double = 0.5,
                similarity: Double = 0.75, timeout: Duration = .seconds(120), pricePer1K: Double) {
        self.provider = provider; self.apiKey = apiKey; self.baseURL = baseURL; self.voice = voice; self.model = model
        self.stability = stability; self.similarity = similarity; self.timeout = timeout; self.pricePer1K = pricePer1K
        Redactor.shared.register(apiKey)
    }

    /// What `characters` characters cost at this price.
    public func cost(characters: Int) -> Double { Double(characters) / 1000 * pricePer1K }

    /// The key, or a permanent failure naming the variables that give it.
    func key(for name: String, variable: String) throws -> String {
        guard let apiKey, !apiKey.isEmpty else { throw StageFailure.permanent("\(name): no API key (\(variable) or \(variable)_FILE)") }
        return apiKey
    }
}

/// ElevenLabs text-to-speech with timestamps: MP3 audio (base64) and a per-character alignment, turned into word
/// timings.
public struct ElevenLabsSynthesizer: SpeechSynthesizer {
    public let name = "elevenlabs"
    public let chunkLimit = 4_500
    public let pauseStyle = SpeechProvider.elevenlabs.pauseStyle
    public let settings: TTSSettings
    let http: ProviderHTTP

    public init(settings: TTSSettings) { self.settings = settings; http = ProviderHTTP(timeout: settings.timeout) }

    public func cost(characters: Int) -> Double { settings.cost(characters: characters) }

    public func speak(_ text: String, language: String, workDir: URL) async throws -> SpeechPiece {
        let key = try settings.key(for: name, variable: "ELEVENLABS_API_KEY")
        var url = settings.baseURL.appendingPathComponent("v1/text-to-speech/\(settings.voice)/with-timestamps")
        url = URL(string: url.absoluteString + "?output_format=mp3_44100_128")!
        var body: [String: JSONValue] = [
            "text": .string(text), "model_id": .string(settings.model),
            "voice_settings": ["stability": .double(settings.stability), "similarity_boost": .double(settings.similarity)],
        ]
        if settings.model.contains("turbo") || settings.model.contains("flash") { body["language_code"] = .string(language) }
        let r = try await http.postJSON(url, headers: ["xi-api-key": key], body: .object(body),
                                        call: ProviderCall(provider: "elevenlabs", model: settings.model, units: Double(text.count)))
        guard (200..<300).contains(r.status) else { throw ProviderHTTP.failure(r, provider: name) }
        guard let json = try? JSONValue.parse(r.body), let b64 = json["audio_base64"]?.stringValue,
              let audio = Data(base64Encoded: b64), !audio.isEmpty else {
            throw StageFailure.transient("elevenlabs: the answer holds no audio")
        }
        let file = workDir.appendingPathComponent("piece-\(UUID().uuidString.prefix(8)).mp3")
        try audio.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let pcm = try PCM.decode(file: file)
        let alignment = json["alignment"] ?? json["normalized_alignment"]
        let words = Self.words(characters: alignment?["characters"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                               starts: alignment?["character_start_times_seconds"]?.arrayValue?.compactMap(\.doubleValue) ?? [],
                               ends: alignment?["character_end_times_seconds"]?.arrayValue?.compactMap(\.doubleValue) ?? [])
        return SpeechPiece(pcm: pcm, words: words.isEmpty ? TextChunks.estimateTimings(text, span: pcm.speechSpan()) : words)
    }

    /// Groups aligned characters into words (markup such as `<break time="0.4s"/>` is skipped).
    static func words(characters: [String], starts: [Double], ends: [Double]) -> [WordTiming] {
        let n = min(characters.count, starts.count, ends.count)
        var out: [WordTiming] = []
        var word = "", start = 0.0, end = 0.0, inTag = false
        func flush() {
            let w = word.trimmingCharacters(in: .punctuationCharacters)
            if !w.isEmpty { out.append(WordTiming(word: w, start: start, end: end)) }
            word = ""
        }
        for i in 0..<n {
            let c = characters[i]
            if c == "<" { flush(); inTag = true; continue }
            if inTag { if c == ">" { inTag = false }; continue }
            if c.allSatisfy(\.isWhitespace) { flush(); continue }
            if word.isEmpty { start = starts[i] }
            word += c
            end = ends[i]
        }
        flush()
        return out
    }
}

/// OpenAI speech (`/v1/audio/speech`): WAV audio without timings; word timings by aligning it with espeak-ng's
/// reading of the same text (`SpeechAlignment`).
public struct OpenAISpeechSynthesizer: SpeechSynthesizer {
    public let name = "openai-tts"
    public let chunkLimit = 4_000
    public let pauseStyle = SpeechProvider.openai.pauseStyle
    public let settings: TTSSettings
    let http: ProviderHTTP

    public init(settings: TTSSettings) { self.settings = settings; http = ProviderHTTP(timeout: settings.timeout) }

    public func cost(characters: Int) -> Double { settings.cost(characters: characters) }

    public func speak(_ text: String, language: String, workDir: URL) async throws -> SpeechPiece {
        let key = try settings.key(for: name, variable: "OPENAI_API_KEY")
        let url = settings.baseURL.appendingPathComponent("audio/speech")
        let body: JSONValue = ["model": .string(settings.model), "input": .string(text), "voice": .string(settings.voice), "response_format": "wav"]
        let r = try await http.postJSON(url, headers: ["Authorization": "Bearer \(key)"], body: body,
                                        call: ProviderCall(provider: "openai", model: settings.model, units: Double(text.count)))
        guard (200..<300).contains(r.status) else { throw ProviderHTTP.failure(r, provider: name) }
        guard r.body.count > 44 else { throw StageFailure.transient("openai-tts: the answer holds no audio") }
        let file = workDir.appendingPathComponent("piece-\(UUID().uuidString.prefix(8)).wav")
        try r.body.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let pcm = try PCM.decode(file: file)
        let local = try await EspeakEngine.shared.speak(text, language: language)
        let words = try await SpeechAlignment.align(local.words, referenceAudio: PCM.from(local.samples, rate: local.sampleRate), to: pcm)
        return SpeechPiece(pcm: pcm, words: words)
    }
}
