import AudioStage
import Foundation
import ReelForgeTestKit
import Shared
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Word timings for speech that comes without them, by aligning it with espeak-ng's reading of the same text.
@Suite("Speech alignment")
struct SpeechAlignmentTests {
    static let text = "Octopuses have three hearts and blue blood. Two hearts push blood through the gills, while a third heart feeds the body. When an octopus swims, that third heart stops beating, which explains why these animals prefer crawling along the seabed."

    static func errors(_ found: [WordTiming], _ truth: [Double]) -> (median: Double, worst: Double) {
        let e = zip(found.map(\.start), truth).map { abs($0 - $1) }.sorted()
        return e.isEmpty ? (1, 1) : (e[e.count / 2], e.last!)
    }

    /// espeak-ng at 230 words a minute, aligned with espeak-ng at its usual 165: the truth is its own marks.
    @Test func fasterSpeechIsPlacedOnItsWords() async throws {
        let fast = try await EspeakEngine.shared.speak(Self.text, language: "en", wordsPerMinute: 230)
        let local = try await EspeakEngine.shared.speak(Self.text, language: "en")
        let aligned = try await SpeechAlignment.align(local.words, referenceAudio: PCM.from(local.samples, rate: local.sampleRate),
                                            to: PCM.from(fast.samples, rate: fast.sampleRate))
        #expect(aligned.count == fast.words.count)
        let (median, worst) = Self.errors(aligned, fast.words.map(\.start))
        #expect(median <= 0.1, "median \(median) s, worst \(worst) s")
        #expect(aligned.map(\.word) == local.words.map(\.word))
    }

    /// The OpenAI-format stand-in speaks with another voice and rate (the Piper voice through piper-tts, 15% faster)
    /// and returns no timings; ReelForge's timings are within 100 ms of that audio's truth at the median.
    @Test func openAISpeechGetsAlignedWordTimings() async throws {
        let base = try #require(ProcessInfo.processInfo.environment["REELFORGE_TEST_PROVIDERS_URL"], "run through scripts/test")
        let scope = "\(base)/voice/\(UUID().uuidString.prefix(8))/v1"
        var request = URLRequest(url: URL(string: "\(scope)/audio/speech")!)
        request.httpMethod = "POST"
        request.setValue("Bearer test-key", forHTTPHeaderField: "Authorization")
        request.setValue("1", forHTTPHeaderField: "X-Reelforge-Truth")
        request.httpBody = try JSONSerialization.data(withJSONObject: ["model": "gpt-4o-mini-tts", "input": Self.text, "voice": "alloy"])
        let (data, _) = try await URLSession.shared.data(for: request)
        let truth = try #require(JSONValue.parse(data)["starts"]?.arrayValue).compactMap(\.doubleValue)
        #expect(truth.count == 40, "one phoneme group a word")
        let settings = TTSSettings(provider: .openai, apiKey: "test-key", baseURL: URL(string: scope)!, voice: "alloy",
                                   model: "gpt-4o-mini-tts", pricePer1K: 0.015)
        let piece = try await OpenAISpeechSynthesizer(settings: settings).speak(Self.text, language: "en", workDir: temporaryDirectory("align"))
        #expect(piece.words.count == 40)
        let (median, worst) = Self.errors(piece.words, truth)
        // What the words' times were before: shared out evenly over the spoken span.
        let even = Self.errors(TextChunks.estimateTimings(Self.text, span: piece.pcm.speechSpan()), truth)
        print(String(format: "OpenAI-format speech aligned: median %.0f ms, worst %.0f ms over %d words (spread evenly: median %.0f ms, worst %.0f ms)",
                     median * 1000, worst * 1000, truth.count, even.median * 1000, even.worst * 1000))
        #expect(median <= 0.1, "median \(median) s, worst \(worst) s")
        #expect(median < even.median)
    }
}
