import Foundation
import Logging
import Shared

/// Speaks text and gives word timings (espeak-ng here; ElevenLabs and OpenAI behind the same protocol).
public protocol SpeechSynthesizer: Sendable {
    var name: String { get }
    func synthesize(_ text: String, language: String, workDir: URL) async throws -> (audio: URL, words: [WordTiming], duration: Double, cost: CostEntry?)
}

/// The offline synthesizer: espeak-ng through libespeak-ng.
public struct EspeakSynthesizer: SpeechSynthesizer {
    public let name = "espeak-ng"
    public var wordsPerMinute: Int

    public init(wordsPerMinute: Int = 165) { self.wordsPerMinute = wordsPerMinute }

    public func synthesize(_ text: String, language: String, workDir: URL) async throws -> (audio: URL, words: [WordTiming], duration: Double, cost: CostEntry?) {
        let speech = try await EspeakEngine.shared.speak(text, language: language, wordsPerMinute: wordsPerMinute)
        guard speech.samples.contains(where: { abs(Int($0)) > 1000 }) else {
            throw StageFailure.permanent("espeak-ng produced silence for this text")
        }
        let url = workDir.appendingPathComponent("narration.wav")
        try WAVFile.write(speech.samples, sampleRate: speech.sampleRate, to: url)
        return (url, speech.words, speech.duration, nil)
    }
}

/// The audio stage: speech for the adapted text, stored with its word timings.
public struct AudioStageExecutor: StageExecutor {
    public let stage = Stage.audio
    let synthesizer: any SpeechSynthesizer

    public init(synthesizer: any SpeechSynthesizer) { self.synthesizer = synthesizer }

    public func run(_ input: StageInput, logger: Logger) async throws -> StageOutput {
        let adapted = try input.inline(of: .adapt)
        guard let text = adapted["speech_text"]?.stringValue ?? adapted["text"]?.stringValue, !text.isEmpty else {
            throw StageFailure.permanent("the adapt artifact has no text")
        }
        let result = try await synthesizer.synthesize(text, language: input.idea.language, workDir: input.workDir)
        let timingsURL = input.workDir.appendingPathComponent("timings.json")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(result.words).write(to: timingsURL)
        logger.info("speech by \(synthesizer.name): \(String(format: "%.1f", result.duration)) s, \(result.words.count) timed words")
        let cost = result.cost ?? CostEntry(stage: .audio, attempt: input.attempt, provider: synthesizer.name,
                                            units: Double(text.count), unit: "characters", costUSD: 0, at: Date())
        return StageOutput(
            inline: ["duration_seconds": .double(result.duration), "words": .int(Int64(result.words.count)),
                     "provider": .string(synthesizer.name)],
            files: ["narration.wav": .init(url: result.audio, contentType: "audio/wav"),
                    "timings.json": .init(url: timingsURL, contentType: "application/json")],
            costs: [cost])
    }
}
