import AudioStage
import Foundation
import ReelForgeTestKit
import Shared
import Testing

/// The cloud speech providers against a local server speaking the ElevenLabs and OpenAI formats
/// (scripts/fake-providers): real audio (MP3 in base64 with a character alignment; WAV), and 429, 500, timeout,
/// 401 and quota cases, each ending in the right job state and attempt count.
@Suite("Speech providers", .enabled(if: ProcessInfo.processInfo.environment["REELFORGE_TEST_PROVIDERS_URL"] != nil))
struct SpeechProviderTests {
    static let base = ProcessInfo.processInfo.environment["REELFORGE_TEST_PROVIDERS_URL"] ?? "http://127.0.0.1:1"

    static let cases: [(String, String, Int?)] = ["elevenlabs", "openai"].flatMap { p in [
        (p, "ok", 1), (p, "429", 2), (p, "500", 2), (p, "hang", 2), (p, "401", nil), (p, "quota", nil),
    ] as [(String, String, Int?)] }

    func synthesizer(_ provider: String, _ behaviour: String, timeout: Duration = .seconds(2)) -> any SpeechSynthesizer {
        let scope = "\(behaviour)/\(UUID().uuidString.prefix(8))"
        let settings = TTSSettings(provider: SpeechProvider(rawValue: provider)!, apiKey: "test-key",
                                   baseURL: URL(string: provider == "openai" ? "\(Self.base)/\(scope)/v1" : "\(Self.base)/\(scope)")!,
                                   voice: provider == "openai" ? "alloy" : "21m00Tcm4TlvDq8ikWAM",
                                   model: provider == "openai" ? "gpt-4o-mini-tts" : "eleven_multilingual_v2",
                                   timeout: timeout, pricePer1K: 0.3)
        return provider == "openai" ? OpenAISpeechSynthesizer(settings: settings) : ElevenLabsSynthesizer(settings: settings)
    }

    @Test(arguments: cases)
    func endsInTheRightState(_ provider: String, _ behaviour: String, _ attempts: Int?) async throws {
        let r = try await PipelineRun.run(idea: "why octopuses have three hearts. They pump blue blood.", real: [AudioStageExecutor(synthesizer: synthesizer(provider, behaviour, timeout: behaviour == "hang" ? .seconds(5) : .seconds(15)))],
                                          retry: RetryPolicy(delays: [.milliseconds(100), .seconds(1)], maxRetries: 3, jitter: 0, jitterBuckets: 1),
                                          timeout: .seconds(90))
        #expect(r.settled)
        let idea = r.idea, job = r.job, artifacts = r.artifacts
        guard let attempts else {
            #expect(idea.status == .failed && idea.errors.last?.kind == "permanent" && job.attempts[.audio] == 1, "\(idea.errors)")
            #expect(!(idea.errors.last?.message.contains("test-key") ?? true))
            return
        }
        #expect(idea.status == .completed, "\(idea.errors.map(\.message))")
        #expect(job.attempts[.audio] == attempts)
        // The stored narration: 48 kHz, normalised, and word timings that cover it in order.
        let dir = temporaryDirectory()
        let wav = dir.appendingPathComponent("n.wav"), json = dir.appendingPathComponent("t.json")
        try await artifacts.get(id: try #require(idea.artifacts[.audio]?.files["narration.wav"]).id, to: wav)
        try await artifacts.get(id: try #require(idea.artifacts[.audio]?.files["timings.json"]).id, to: json)
        let pcm = try PCM.decode(file: wav)
        let words = try JSONDecoder().decode([WordTiming].self, from: Data(contentsOf: json))
        let spoken = try #require(idea.artifacts[.adapt]?.inline["text"]?.stringValue)
        // Every word of the text, in order (ElevenLabs' alignment gives them without their punctuation).
        #expect(words.map { $0.word.trimmingCharacters(in: .punctuationCharacters) }
                == spoken.split(separator: " ").map { $0.trimmingCharacters(in: .punctuationCharacters) })
        for (a, b) in zip(words, words.dropFirst()) { #expect(a.end <= b.start && a.start < b.start) }
        #expect(words.allSatisfy { $0.end > $0.start })
        #expect(pcm.duration - (words.last?.end ?? 0) < 0.5)
        #expect(abs((pcm.integratedLoudness() ?? 0) + 16) < 1.0)
        let cost = try #require(idea.costs.first { $0.stage == .audio })
        #expect(cost.unit == "characters" && cost.units == Double(spoken.count) && cost.costUSD > 0)
    }

    @Test func longNarrationIsSplitAtSentencesAndJoinedWithOffsetTimings() async throws {
        let sentence = "Octopuses have three hearts and blue blood. "
        let text = String(repeating: sentence, count: 130)  // over ElevenLabs' 4500-character limit
        let chunks = TextChunks.split(text, limit: 4500)
        #expect(chunks.count == 2 && chunks.allSatisfy { $0.count <= 4500 && $0.hasSuffix(".") })
        let synth = synthesizer("elevenlabs", "ok", timeout: .seconds(60))
        let pieces = try await chunks.asyncMap { try await synth.speak($0, language: "en", workDir: temporaryDirectory()) }
        let (joined, offsets) = PCM.join(pieces.map(\.pcm))
        #expect(offsets.count == 2 && abs(offsets[1] - pieces[0].pcm.duration - 0.12) < 0.001)
        #expect(abs(joined.duration - pieces.map(\.pcm.duration).reduce(0, +) - 0.12) < 0.001)
        // No click: the samples around the join are near silence.
        let j = Int(offsets[1] * Double(PCM.rate))
        #expect(joined.samples[(j - 10)..<(j + 10)].allSatisfy { abs($0) < 0.05 })
    }
}

extension Array {
    func asyncMap<T>(_ f: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for e in self { out.append(try await f(e)) }
        return out
    }
}
