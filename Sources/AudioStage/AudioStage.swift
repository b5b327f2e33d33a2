import AdaptStage
import Foundation
import Logging
import Shared

/// One piece of speech, with the time of each word from the piece's start.
public struct SpeechPiece: Sendable {
    public var pcm: PCM
    public var words: [WordTiming]
    public init(pcm: PCM, words: [WordTiming]) { self.pcm = pcm; self.words = words }
}

/// Speaks text and gives word timings: espeak-ng (offline), ElevenLabs, OpenAI speech.
public protocol SpeechSynthesizer: Sendable {
    var name: String { get }
    /// The longest text one request may carry.
    var chunkLimit: Int { get }
    /// How pauses between paragraphs are written for this provider.
    var pauseStyle: PauseStyle { get }
    func speak(_ text: String, language: String, workDir: URL) async throws -> SpeechPiece
    /// What `characters` characters cost with this provider.
    func cost(characters: Int) -> Double
    /// The voice that reads `language` (a provider with several voices picks one; most are one voice).
    func voice(for language: String) -> any SpeechSynthesizer
}

extension SpeechSynthesizer {
    public func voice(for language: String) -> any SpeechSynthesizer { self }
}

/// The offline synthesizer: espeak-ng through libespeak-ng, word timings from its word events.
public struct EspeakSynthesizer: SpeechSynthesizer {
    public let name = "espeak-ng"
    public let chunkLimit = 20_000
    public let pauseStyle = SpeechProvider.espeak.pauseStyle
    public var wordsPerMinute: Int

    public init(wordsPerMinute: Int = 165) { self.wordsPerMinute = wordsPerMinute }

    public func speak(_ text: String, language: String, workDir: URL) async throws -> SpeechPiece {
        let speech = try await EspeakEngine.shared.speak(text, language: language, wordsPerMinute: wordsPerMinute)
        return SpeechPiece(pcm: PCM.from(speech.samples, rate: speech.sampleRate), words: speech.words)
    }

    public func cost(characters: Int) -> Double { 0 }
}

/// The audio stage: speech for the adapted text in pieces under the provider's limit, joined without clicks,
/// normalised to the loudness target, stored as 48 kHz WAV with its word timings.
public struct AudioStageExecutor: StageExecutor {
    public let stage = Stage.audio
    let synthesizer: any SpeechSynthesizer
    let loudnessTarget: Double

    public init(synthesizer: any SpeechSynthesizer, loudnessTarget: Double = -16) {
        self.synthesizer = synthesizer; self.loudnessTarget = loudnessTarget
    }

    public func run(_ input: StageInput, logger: Logger) async throws -> StageOutput {
        let synthesizer = self.synthesizer.voice(for: input.idea.language)
        let adapted = try input.output(AdaptedText.self)
        let plain = adapted.text
        guard !plain.isEmpty else { throw StageFailure.permanent("the adapt artifact has no text") }
        // The speech text carries the provider's pause marks; re-derive it when the adapter wrote another style.
        let text = synthesizer.pauseStyle == .punctuation ? plain
            : (adapted.pauseStyle == synthesizer.pauseStyle ? adapted.speechText : nil)
                ?? RuleBasedAdapter(pauseStyle: synthesizer.pauseStyle).adapt(plain, language: input.idea.language).speechText
        let chunks = TextChunks.split(text, limit: synthesizer.chunkLimit)
        var pieces: [SpeechPiece] = []
        for (i, chunk) in chunks.enumerated() {
            try await input.checkpoint()
            pieces.append(try await synthesizer.speak(chunk, language: input.idea.language, workDir: input.workDir))
            input.progress(Double(i + 1) / Double(chunks.count), "\(i + 1)/\(chunks.count) pieces")
        }
        let name = synthesizer.name, target = loudnessTarget, said = pieces
        let (audio, words, before) = try await Self.signal.run { try Self.finish(said, target: target, voice: name) }
        let url = input.workDir.appendingPathComponent(SpokenNarration.wav.name)
        try audio.writeWAV(to: url)
        let timingsURL = input.workDir.appendingPathComponent(SpokenNarration.timings.name)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(words).write(to: timingsURL)
        logger.info("speech by \(synthesizer.name): \(chunks.count) piece(s), \(String(format: "%.1f", audio.duration)) s, \(words.count) timed words, loudness \(before.map { String(format: "%.1f", $0) } ?? "-") → \(loudnessTarget) LUFS")
        let characters = chunks.reduce(0) { $0 + $1.count }
        return try StageOutput(
            contract: SpokenNarration(durationSeconds: audio.duration, words: words.count, provider: synthesizer.name,
                                sampleRate: PCM.rate, loudnessLUFS: loudnessTarget, pieces: chunks.count),
            files: [SpokenNarration.wav: url, SpokenNarration.timings: timingsURL],
            costs: [CostEntry(stage: .audio, attempt: input.attempt, provider: synthesizer.name, units: Double(characters),
                              unit: "characters", costUSD: synthesizer.cost(characters: characters), at: Date(), calls: chunks.count)])
    }

    /// Joining, loudness and word ends: seconds of arithmetic over a long narration, so on a thread of their own,
    /// never the cooperative pool.
    static let signal = BlockingPool(threads: 1, name: "audio-signal")

    /// The pieces joined, normalised to `target`, with their words in order and ending in sound; and the loudness
    /// before.
    static func finish(_ pieces: [SpeechPiece], target: Double, voice: String) throws -> (PCM, [WordTiming], Double?) {
        var (audio, offsets) = PCM.join(pieces.map(\.pcm))
        guard audio.samples.contains(where: { abs($0) > 0.03 }) else {
            throw StageFailure.permanent("\(voice) produced silence for this text")
        }
        var words: [WordTiming] = []
        for (piece, offset) in zip(pieces, offsets) {
            words += piece.words.map { WordTiming(word: $0.word, start: $0.start + offset, end: $0.end + offset) }
        }
        words = ordered(words, duration: audio.duration)
        let before = audio.integratedLoudness()
        audio.normalise(to: target)
        return (audio, endingInSound(words, audio: audio), before)
    }

    /// A word ends where the narration as stored falls quiet before the next word (-40 dBFS in 10 ms windows), when
    /// that is earlier than the provider said, and one after a pause starts where it is heard: a pause shows in the
    /// subtitles as long as it is heard.
    static func endingInSound(_ words: [WordTiming], audio: PCM) -> [WordTiming] {
        var out = words
        for i in out.indices {
            let limit = min(out[i].end, i + 1 < out.count ? out[i + 1].start : audio.duration)
            let heard = audio.lastSound(from: out[i].start, to: limit)
            if heard > out[i].start + 0.02 && heard < out[i].end { out[i].end = heard }
        }
        // And a word that follows a quiet moment starts where its sound does (at most 0.15 s later than said).
        for i in out.indices.dropFirst() where out[i].start - out[i - 1].end > 0.1 {
            if let onset = audio.firstSound(from: out[i].start, to: min(out[i].end - 0.01, out[i].start + 0.15)), onset > out[i].start {
                out[i].start = onset
            }
        }
        return out
    }

    /// Strictly ordered, positive lengths, within the audio.
    static func ordered(_ words: [WordTiming], duration: Double) -> [WordTiming] {
        var out = words.filter { $0.end > $0.start }.sorted { $0.start < $1.start }
        for i in out.indices {
            out[i].end = min(out[i].end, duration)
            if i + 1 < out.count, out[i].end > out[i + 1].start { out[i].end = out[i + 1].start }
            if out[i].end <= out[i].start { out[i].end = out[i].start + 0.001 }
        }
        return out.filter { $0.start < duration }
    }
}
