import AdaptStage
import AudioStage
import Foundation
import ReelForgeTestKit
import Shared
import Testing
import VideoStage

/// Where a narration is silent, measured on the audio itself (not on any word timing): 10 ms windows quieter than
/// -40 dBFS RMS, as ffmpeg's `silencedetect=noise=-40dB` would find them.
struct SpeechSilence {
    /// The first and last sound.
    var speechStart: Double, speechEnd: Double
    /// Silences of at least `minimum` seconds between the first and the last sound.
    var pauses: [(start: Double, end: Double)]

    init(samples: [Float], rate: Int, minimum: Double = 0.3) {
        let window = rate / 100
        let threshold = Float(pow(10, -40.0 / 20))
        let loud = stride(from: 0, to: samples.count, by: window).map { from -> Bool in
            let chunk = samples[from..<min(samples.count, from + window)]
            let rms = (chunk.reduce(Float(0)) { $0 + $1 * $1 } / Float(chunk.count)).squareRoot()
            return rms >= threshold
        }
        let first = loud.firstIndex(of: true) ?? 0, last = loud.lastIndex(of: true) ?? 0
        speechStart = Double(first) / 100
        speechEnd = Double(last + 1) / 100
        var pauses: [(start: Double, end: Double)] = []
        var i = first
        while i <= last {
            guard !loud[i] else { i += 1; continue }
            var j = i
            while j <= last && !loud[j] { j += 1 }
            if Double(j - i) / 100 >= minimum { pauses.append((Double(i) / 100, Double(j) / 100)) }
            i = j
        }
        self.pauses = pauses
    }
}

/// The checks of "subtitles follow the voice", from the narration itself.
enum CaptionSync {
    static func words(_ s: String) -> [String] {
        s.split(whereSeparator: \.isWhitespace).map { WordAlignment.key(String($0)) }.filter { !$0.isEmpty }
    }

    /// Problems found, empty when the cues follow the speech.
    static func problems(text: String, cues: [TimedCue], silence: SpeechSilence, duration: Double) -> [String] {
        var out: [String] = []
        let spoken = words(text), shown = words(cues.flatMap(\.lines).joined(separator: " "))
        if spoken != shown { out.append("cue words differ from the text:\n  text: \(spoken.joined(separator: " "))\n  cues: \(shown.joined(separator: " "))") }
        guard let last = cues.last else { return out + ["no cue"] }
        if abs(last.end - silence.speechEnd) > 0.3 { out.append("last cue ends at \(last.end), speech at \(silence.speechEnd)") }
        if last.end > duration + 0.001 { out.append("last cue ends at \(last.end), after the video (\(duration))") }
        for (a, b) in zip(cues, cues.dropFirst()) where b.start < a.start || a.end > b.start + 0.001 {
            out.append("cues out of order: \(a.start)-\(a.end) then \(b.start)-\(b.end)")
        }
        let boundaries = cues.flatMap { [$0.start, $0.end] }
        for p in silence.pauses where !boundaries.contains(where: { $0 >= p.start - 0.3 && $0 <= p.end + 0.3 }) {
            let around = cues.first { $0.start <= p.start && $0.end >= p.end }.map { $0.lines.joined(separator: " ") } ?? "-"
            out.append("pause \(p.start)-\(p.end) s has no cue boundary within 0.3 s (cue: \(around))")
        }
        return out
    }
}

@Suite("Subtitles follow the voice")
struct CaptionSyncTests {
    static let texts: [(String, String)] = [
        ("en", "Let's start with the basics. The octopus, of course, has three hearts! Isn't that strange? It's true: two pump blood to the gills, and one pumps it to the body. Scientists have studied this for more than 100 years, and they're still amazed."),
        ("en", "Why do cats purr? Nobody knows for sure.\n\nSome think it heals bones; others say it's just a signal of trust. Either way, it's the sound of a happy cat."),
        ("fr", "L'homme n'est pas là. Êtes-vous prêts ? Aujourd'hui, c'est l'heure : qu'est-ce qu'on attend ? Les pieuvres ont trois cœurs, et c'est peut-être la clé de leur survie."),
        ("fr", "Pourquoi le ciel est-il bleu ? C'est une question de lumière.\n\nLa lumière du soleil contient toutes les couleurs, mais l'air diffuse surtout le bleu."),
        ("en", "Coffee ☕ is the world's favourite drink! 🎉 Drink it slowly, and enjoy it."),
        ("en", "The word 你好 means hello in Chinese. It is said with two tones."),
    ]

    /// Adapt, speak with espeak-ng, time the cues, and hold them against the silences of the audio.
    @Test(arguments: texts)
    func cuesFollowEspeakSpeech(_ language: String, _ script: String) async throws {
        let adapted = RuleBasedAdapter().adapt(script, language: language)
        let speech = try await EspeakSynthesizer().speak(adapted.speechText, language: language, workDir: temporaryDirectory("sync"))
        var pcm = speech.pcm
        pcm.normalise(to: -16)
        let cues = SubtitleTiming.align(cues: adapted.cues, words: speech.words, duration: pcm.duration)
        let silence = SpeechSilence(samples: pcm.samples, rate: PCM.rate)
        #expect(!silence.pauses.isEmpty, "the narration has pauses to check against")
        let problems = CaptionSync.problems(text: adapted.text, cues: cues, silence: silence, duration: pcm.duration)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))\n\(SubtitleTiming.srt(cues))")
    }

    /// The en and fr voices cannot read Chinese: they skip the word (the subtitles still show it) instead of
    /// spelling it out as "Chinese letter …", and the word keeps a time inside the speech.
    @Test func wordsTheVoiceCannotReadAreSkippedNotSpelled() async throws {
        let dir = temporaryDirectory("skip")
        let with = try await EspeakSynthesizer().speak("The word 你好你好 means hello.", language: "en", workDir: dir)
        let without = try await EspeakSynthesizer().speak("The word means hello.", language: "en", workDir: dir)
        #expect(abs(with.pcm.duration - without.pcm.duration) < 0.25, "\(with.pcm.duration) s against \(without.pcm.duration) s")
        let timed = try #require(with.words.first { $0.word == "你好你好" })
        #expect(timed.start > 0 && timed.start < with.pcm.duration)
    }

    /// espeak-ng's pauses are gaps between its words' timings too, in both languages.
    @Test(arguments: [("en", "Once you notice it, you start seeing it everywhere. At first, the pattern looks random, but it is not. Look closely, and you will find it in shells, in flowers, and in storms."),
                      ("fr", "Une fois qu'on le remarque, on le voit partout. Au début, le motif semble aléatoire, mais il ne l'est pas. Regardez bien, et vous le trouverez dans les coquillages, les fleurs et les tempêtes.")])
    func everyEspeakPauseIsAGapBetweenWords(_ language: String, _ text: String) async throws {
        let found = PauseGaps.misses(try await EspeakSynthesizer().speak(text, language: language, workDir: temporaryDirectory("espeak")))
        #expect(found.pauses >= 1, "a full stop is heard as a pause (espeak-ng's are near 0.33 s, so not every one counts)")
        #expect(found.misses.isEmpty, "\(found.misses.joined(separator: "\n"))")
    }

    /// Whatever words a voice returns (dropped, merged, split, cut short, a stray one), every word of the text is
    /// shown, in order, and the cues keep to the speech around them.
    @Test func everyWordIsShownWhateverTheVoiceReturned() {
        let text = "Let's start with the basics. Êtes-vous prêts ? L'homme est là."
        let cues = RuleBasedAdapter().cues(for: text)
        let said: [(String, Double)] = [("Let", 0.0), ("start", 0.3), ("with", 0.6), ("basics", 0.9), ("\n", 1.3), ("Êtes", 2.0),
                                        ("vous", 2.3), ("prêts", 2.6), ("Lhomme", 3.5), ("est", 3.9), ("là", 4.1)]
        let words = said.map { WordTiming(word: $0.0, start: $0.1, end: $0.1 + 0.25) }
        let timed = SubtitleTiming.align(cues: cues, words: words, duration: 5)
        #expect(CaptionSync.words(timed.flatMap(\.lines).joined(separator: " ")) == CaptionSync.words(text))
        #expect(timed.last!.end >= 4.35 && timed.last!.end <= 5)
        let second = try! #require(timed.first { $0.lines.joined(separator: " ").contains("Êtes") })
        #expect(abs(second.start - 2.0) < 0.01, "a split word keeps its time: \(SubtitleTiming.srt(timed))")
        let third = try! #require(timed.first { $0.lines.joined(separator: " ").contains("homme") })
        #expect(abs(third.start - 3.5) < 0.01, "a merged elision keeps its time: \(SubtitleTiming.srt(timed))")
    }

    /// `reelforge make` in English and French: the subtitle file and the narration of the finished video.
    @Test(arguments: [("en", "why octopuses have three hearts"), ("fr", "pourquoi les pieuvres ont trois cœurs")])
    func madeVideosHaveSubtitlesThatFollowTheNarration(_ language: String, _ idea: String) async throws {
        let dir = temporaryDirectory("sync-make")
        let (output, status) = try await Proc.run("reelforge", [
            "make", idea, "--lang", language, "--duration", "25", "--json",
            "--home", dir.appendingPathComponent(".reelforge").path, "--out", dir.appendingPathComponent("out").path,
        ], env: ["REELFORGE_WORK_DIR": dir.appendingPathComponent("work").path, "REELFORGE_VIDEO_SIZE": "360x640",
                 // The default voices, as a user gets them: the neural Piper voice in English, espeak-ng in French.
                 "REELFORGE_TTS_PROVIDER": "offline"], logDir: dir)
        #expect(status == 0, "\(output)")
        let summary = try JSONValue.parse(Data(output[try #require(output.firstIndex(of: "{"))...].utf8))
        let video = URL(fileURLWithPath: try #require(summary["video"]?.stringValue))
        #expect(summary["voice"]?.stringValue == (language == "en" ? "piper en_US-joe-medium" : "espeak-ng"))
        let srt = try String(contentsOfFile: try #require(summary["subtitles"]?.stringValue), encoding: .utf8)
        let script = try String(contentsOfFile: try #require(summary["script"]?.stringValue), encoding: .utf8)
        let cues = try SubtitleTiming.parseSRT(srt)
        let audio = try AudioSamples.mono(video)
        let probe = try MediaProbe(url: video)
        // Measured on the MP4's AAC track, not on the narration the cues were timed on: the encoder's round trip
        // moves a pause's edges by a window or two, so pauses at the rule's 0.3 s are judged from 0.33 s.
        let silence = SpeechSilence(samples: audio, rate: 48_000, minimum: SubtitleTiming.pauseSplit + 0.03)
        let text = RuleBasedAdapter().adapt(script, language: language).text
        let problems = CaptionSync.problems(text: text, cues: cues, silence: silence, duration: try #require(probe.video?.duration))
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))\n\(srt)")
        #expect(silence.pauses.count >= 4, "a 25 s narration has sentence pauses")
    }
}
