import AudioStage
import Foundation
import ReelForgeTestKit
import Shared
import Testing
import VideoStage

/// The offline English voice (Piper through sherpa-onnx, installed by scripts/install): its word timings against
/// piper-tts's own phoneme alignments of the same text (scripts/piper-reference, .venv), and its audio.
@Suite("Piper voice")
struct PiperVoiceTests {
    /// About 40 words in three sentences, each word its own phoneme group for espeak-ng (checked below).
    static let text = "Octopuses have three hearts and blue blood. Two hearts push blood through the gills, while a third heart feeds the body. When an octopus swims, that third heart stops beating, which explains why these animals prefer crawling along the seabed."

    /// One voice for the suite (loading one takes a second and a core): without duration noise, as piper-tts is run.
    static let voice = PiperVoice(folder: URL(fileURLWithPath: OfflineVoices.defaultPiperVoice), threads: 1, noise: (0.667, 0))

    static func reference(_ text: String) async throws -> [[Double]] {
        let repo = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let (data, status) = try await runProgram(repo.appendingPathComponent(".venv/bin/python").path,
                                                  [repo.appendingPathComponent("scripts/piper-reference").path, text],
                                                  environment: ProcessInfo.processInfo.environment, withErrors: false)
        try #require(status == 0, "scripts/piper-reference failed (is piper-tts in .venv? run scripts/install)")
        let json = try JSONValue.parse(data)
        return (json.arrayValue ?? []).map { ($0["starts"]?.arrayValue ?? []).compactMap(\.doubleValue) }
    }

    /// Word starts within each sentence, from the voice's own durations, match piper-tts's alignments: median
    /// error ≤ 60 ms, worst ≤ 200 ms (both without duration noise, so both say the same durations).
    @Test func wordStartsMatchPiperTTSAlignments() async throws {
        let piece = try await PiperSynthesizer(voice: Self.voice).speak(Self.text, language: "en", workDir: temporaryDirectory("piper"))
        let reference = try await Self.reference(Self.text)
        let sentenceWords = Self.text.split(separator: ".").map { $0.split(separator: " ").count }.filter { $0 > 0 }
        #expect(reference.map(\.count) == sentenceWords, "espeak-ng groups each word of the text alone")
        #expect(piece.words.count == sentenceWords.reduce(0, +))
        var errors: [Double] = [], first = 0
        for (sentence, starts) in zip(sentenceWords, reference) where sentence == starts.count {
            let ours = piece.words[first..<(first + sentence)].map(\.start)
            for (o, r) in zip(ours, starts) { errors.append(abs((o - ours.first!) - (r - starts.first!))) }
            first += sentence
        }
        errors.sort()
        let median = errors.isEmpty ? 1 : errors[errors.count / 2], worst = errors.last ?? 1
        #expect(errors.count == 40)
        print(String(format: "piper word starts vs piper-tts alignments: median %.0f ms, worst %.0f ms over %d words", median * 1000, worst * 1000, errors.count))
        #expect(median <= 0.060, "median word-start error \(median) s")
        #expect(worst <= 0.200, "worst word-start error \(worst) s")
    }

    /// The audio is speech where the timings say: each sentence's first word starts within 80 ms of the end of
    /// the pause before it (10 ms RMS windows under -40 dBFS), and the narration is about 2.5 to 4 words a second.
    @Test func pausesFallBetweenSentencesWhereTheTimingsSay() async throws {
        let piece = try await PiperSynthesizer(voice: Self.voice, sentencePause: 0.4).speak(Self.text, language: "en", workDir: temporaryDirectory("piper"))
        let window = PCM.rate / 100
        let loud = stride(from: 0, to: piece.pcm.samples.count - window, by: window).map { i -> Bool in
            let w = piece.pcm.samples[i..<(i + window)]
            return 20 * log10(max(1e-9, sqrt(w.reduce(0) { $0 + Double($1 * $1) } / Double(window)))) > -40
        }
        // Ends of pauses of at least 0.3 s.
        var pauseEnds: [Double] = [], quiet = 0
        for (k, l) in loud.enumerated() {
            if !l { quiet += 1 } else { if quiet >= 30 { pauseEnds.append(Double(k) * 0.01) }; quiet = 0 }
        }
        let sentenceStarts = [7, 21].map { piece.words[$0].start }
        for s in sentenceStarts {
            let nearest = pauseEnds.map { abs($0 - s) }.min() ?? 1
            #expect(nearest <= 0.08, "sentence starting at \(s) s: nearest pause end \(nearest) s away; pauses end at \(pauseEnds)")
        }
        let perSecond = Double(piece.words.count) / piece.pcm.duration
        #expect((2.5...4).contains(perSecond), "\(perSecond) words/s")
    }

    /// Every pause in the audio (10 ms RMS windows under -40 dBFS, 0.33 s or longer) is a gap of at least the
    /// subtitles' pause rule between two words' timings, so the captions can change where the voice stops: the
    /// durations count the silent closure of a final "t" or of an opening "b" as speech. Said several times with
    /// the duration noise the product uses, so the pauses vary.
    @Test func everyPauseInTheAudioIsAGapBetweenWords() async throws {
        let noisy = PiperVoice(folder: URL(fileURLWithPath: OfflineVoices.defaultPiperVoice), threads: 1)
        let text = "Once you notice it, you start seeing it everywhere. At first, the pattern looks random, but it is not. Look closely, and you will find it in shells, in flowers, and in storms."
        var misses: [String] = [], pauses = 0
        for round in 0..<4 {
            let piece = try await PiperSynthesizer(voice: noisy).speak(text, language: "en", workDir: temporaryDirectory("piper"))
            let found = PauseGaps.misses(piece)
            pauses += found.pauses
            misses += found.misses.map { "round \(round): \($0)" }
        }
        #expect(pauses >= 4 * 4, "the full stops and most commas are heard as pauses")
        #expect(misses.isEmpty, "\(misses.joined(separator: "\n"))")
    }
}

/// The pauses of a narration that its word timings do not show as a gap of `SubtitleTiming.pauseSplit`.
enum PauseGaps {
    static func misses(_ piece: SpeechPiece) -> (pauses: Int, misses: [String]) {
        let silence = SpeechSilence(samples: piece.pcm.samples, rate: PCM.rate, minimum: SubtitleTiming.pauseSplit + 0.03)
        var misses: [String] = []
        for p in silence.pauses {
            let gap = zip(piece.words, piece.words.dropFirst()).first { a, b in a.end < p.end && b.start > p.start }
            if let (a, b) = gap, b.start - a.end >= SubtitleTiming.pauseSplit { continue }
            let words = gap.map { "\($0.0.word) \($0.0.start)-\($0.0.end), \($0.1.word) \($0.1.start)-\($0.1.end)" } ?? "no gap"
            misses.append("pause \(p.start)-\(p.end) s; \(words)")
        }
        return (silence.pauses.count, misses)
    }
}
