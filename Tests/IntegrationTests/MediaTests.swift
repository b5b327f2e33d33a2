import Foundation
import ReelForgeTestKit
import Shared
import Stages
import Testing

/// espeak-ng speech with word timings, and the renderer's output read back frame by frame.
@Suite("Media: speech and render")
struct MediaTests {
    @Test(arguments: [("en", "Octopuses have three hearts. Two pump blood to the gills, and one to the body."),
                      ("fr", "Les pieuvres ont trois cœurs. Deux envoient le sang aux branchies, et un au corps.")])
    func espeakGivesOrderedWordTimingsCoveringTheAudio(_ language: String, _ text: String) async throws {
        let speech = try await EspeakEngine.shared.speak(text, language: language)
        #expect(speech.sampleRate > 0 && speech.duration > 2)
        #expect(speech.samples.contains { abs(Int($0)) > 3000 }, "speech must not be silence")
        let words = speech.words
        #expect(words.count >= text.split(separator: " ").count - 2)
        for (a, b) in zip(words, words.dropFirst()) { #expect(a.end <= b.start + 1e-9 && a.start < b.start) }
        #expect(words.allSatisfy { $0.end > $0.start })
        let last = try #require(words.last)
        #expect(abs(speech.duration - last.end) < 0.3 || last.end <= speech.duration, "last word ends at \(last.end), audio at \(speech.duration)")
        #expect(speech.duration - last.end < 0.3)
        #expect(words.first?.word.lowercased().hasPrefix(language == "en" ? "octopus" : "les") == true)
    }

    /// Mean luma and the share of bright pixels in a horizontal band of the frame at `time`.
    func band(_ video: URL, at time: Double, rows: ClosedRange<Int>, width: Int = 1080, height: Int = 1920) async throws -> (mean: Double, bright: Double) {
        let (data, _) = try await runProgram("/usr/bin/ffmpeg", ["-v", "error", "-ss", String(time), "-i", video.path, "-frames:v", "1",
                                                                 "-f", "rawvideo", "-pix_fmt", "gray", "-"])
        #expect(data.count == width * height)
        var sum = 0, bright = 0
        for r in rows { for c in 0..<width { let v = Int(data[r * width + c]); sum += v; if v > 200 { bright += 1 } } }
        let n = Double(rows.count * width)
        return (Double(sum) / n, Double(bright) / n)
    }

    @Test func subtitlesShowDuringTheirCueOnlyOverTheBackground() async throws {
        let dir = temporaryDirectory("render")
        let speech = try await EspeakEngine.shared.speak("This is a short test of the subtitle renderer.", language: "en")
        let wav = dir.appendingPathComponent("a.wav")
        try WAVFile.write(speech.samples, sampleRate: speech.sampleRate, to: wav)
        let out = dir.appendingPathComponent("v.mp4")
        let cue = TimedCue(index: 1, start: 0.5, end: 1.5, lines: ["Subtitle pixels", "are here"])
        let result = try await VideoRenderer().render(audio: wav, cues: [cue], to: out)
        #expect(abs(result.duration - speech.duration) < 1.0 / 30 + 1e-6)
        // The cue's box is above the bottom margin (120 px) and two lines of 50 px text.
        let textRows = (1920 - 120 - 140)...(1920 - 120)
        let during = try await band(out, at: 1.0, rows: textRows)
        let after = try await band(out, at: 2.0, rows: textRows)
        let before = try await band(out, at: 0.1, rows: textRows)
        #expect(during.bright > 0.01, "white text in the cue's box while it is spoken")
        #expect(after.bright < 0.0005 && before.bright < 0.0005, "no text outside the cue's time")
        // Elsewhere the background shows: dark gradient, no text.
        let top = try await band(out, at: 1.0, rows: 100...300)
        #expect(top.bright == 0 && top.mean > 16 && top.mean < 60)
        // The outline is dark: next to white text there are pixels darker than the background.
        let darkest = try await band(out, at: 1.0, rows: textRows)
        #expect(darkest.mean > after.mean, "text raises the band's mean")
    }

    @Test func videoAndImageBackgroundsFillTheFrameAndAThumbnailIsWritten() async throws {
        let dir = temporaryDirectory("backgrounds")
        let clip = dir.appendingPathComponent("clip.mp4"), image = dir.appendingPathComponent("img.png")
        for (args, out) in [(["-f", "lavfi", "-i", "testsrc2=s=640x360:r=25", "-t", "2", "-pix_fmt", "yuv420p"], clip),
                            (["-f", "lavfi", "-i", "testsrc2=s=800x600", "-frames:v", "1"], image)] {
            _ = try await runProgram("/usr/bin/ffmpeg", ["-v", "error", "-y"] + args + [out.path])
        }
        let speech = try await EspeakEngine.shared.speak("A short line over a moving background, looped.", language: "en")
        let wav = dir.appendingPathComponent("a.wav")
        try WAVFile.write(speech.samples, sampleRate: speech.sampleRate, to: wav)
        for (bg, size) in [(clip, (1080, 1920)), (image, (1080, 1080))] {
            var options = RenderOptions()
            options.width = size.0; options.height = size.1
            options.background = try BackgroundSource(parsing: bg.path)
            let out = dir.appendingPathComponent("v-\(bg.lastPathComponent).mp4"), thumb = dir.appendingPathComponent("t-\(bg.lastPathComponent).png")
            let cue = TimedCue(index: 1, start: 0.2, end: 1.5, lines: ["Over a background"])
            let result = try await VideoRenderer(options: options).render(audio: wav, cues: [cue], to: out, thumbnail: thumb)
            #expect(abs(result.duration - speech.duration) < 1.0 / 30 + 1e-6)
            // Longer than the 2 s clip: it loops. The top of the frame shows the (colourful) background.
            let top = try await band(out, at: max(0, result.duration - 0.5), rows: 100...300, width: size.0, height: size.1)
            #expect(top.mean > 40, "the background shows at the top of the frame")
            let png = try Data(contentsOf: thumb)
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        }
    }

    @Test func srtFilesAreRead() throws {
        let cues = try SubtitleTiming.parseSRT("1\r\n00:00:01,000 --> 00:00:02,500\r\nHello\r\nthere\r\n\r\n2\n00:00:03.000 --> 00:00:04.000\nBye\n")
        #expect(cues == [TimedCue(index: 1, start: 1, end: 2.5, lines: ["Hello", "there"]), TimedCue(index: 2, start: 3, end: 4, lines: ["Bye"])])
        #expect(throws: StageFailure.self) { try SubtitleTiming.parseSRT("1\n00:00:05,000 --> 00:00:01,000\nbackwards\n") }
    }

    @Test func cuesTimedFromSpeechShowWhileTheirWordsAreSpoken() async throws {
        let text = "Octopuses have three hearts. Two of them pump blood through the gills, and the third one feeds the body."
        let speech = try await EspeakEngine.shared.speak(text, language: "en")
        let cues = SubtitleTiming.align(cues: RuleBasedAdapter().cues(for: text), words: speech.words, duration: speech.duration)
        #expect(cues.count >= 3)
        // Each cue starts when its first word is spoken.
        let firstWords = cues.map { $0.lines.joined(separator: " ").split(separator: " ").first.map(String.init) ?? "" }
        for (cue, first) in zip(cues, firstWords) {
            let spoken = try #require(speech.words.first { abs($0.start - cue.start) < 0.001 })
            #expect(spoken.word.lowercased() == first.lowercased().trimmingCharacters(in: .punctuationCharacters))
        }
        let dir = temporaryDirectory("timed")
        let wav = dir.appendingPathComponent("a.wav"), out = dir.appendingPathComponent("v.mp4")
        try WAVFile.write(speech.samples, sampleRate: speech.sampleRate, to: wav)
        _ = try await VideoRenderer().render(audio: wav, cues: cues, to: out)
        let rows = (1920 - 120 - 140)...(1920 - 120)
        for cue in cues {
            let mid = try await band(out, at: (cue.start + cue.end) / 2, rows: rows)
            #expect(mid.bright > 0.005, "cue \(cue.index) shows while its words are spoken")
        }
        if let first = cues.first, first.start > 0.15 {
            #expect(try await band(out, at: first.start / 2, rows: rows).bright < 0.0005, "nothing before the first word")
        }
    }

    @Test func musicPlaysUnderTheVoiceAndDucksWhileItSpeaks() async throws {
        let dir = temporaryDirectory("music")
        // Voice: one second of silence, speech, one second of silence. Music: a 6 kHz tone, far above speech.
        let speech = try await EspeakEngine.shared.speak("The music should step back while I speak.", language: "en")
        let pad = [Int16](repeating: 0, count: speech.sampleRate)
        let voice = dir.appendingPathComponent("voice.wav"), music = dir.appendingPathComponent("music.wav")
        try WAVFile.write(pad + speech.samples + pad, sampleRate: speech.sampleRate, to: voice)
        let sine = (0..<(48_000 * 2)).map { Int16(12_000 * sin(2 * Double.pi * 6000 * Double($0) / 48_000)) }
        try WAVFile.write(sine, sampleRate: 48_000, to: music)  // shorter than the video: it must loop
        var options = RenderOptions()
        options.width = 320; options.height = 568
        options.music = music
        let out = dir.appendingPathComponent("v.mp4")
        _ = try await VideoRenderer(options: options).render(audio: voice, to: out)
        // Decode the mix and measure the 6 kHz tone in the silent lead-in and in the middle of the speech.
        let (data, _) = try await runProgram("/usr/bin/ffmpeg", ["-v", "error", "-i", out.path, "-f", "f32le", "-ac", "1", "-ar", "48000", "-"])
        let samples = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        func tone(at t: Double) -> Double {  // Goertzel over 50 ms
            let n = 2400, start = Int(t * 48_000)
            let k = 2 * cos(2 * Double.pi * 6000 / 48_000)
            var s1 = 0.0, s2 = 0.0
            for i in start..<(start + n) { let s = Double(samples[i]) + k * s1 - s2; s2 = s1; s1 = s }
            return sqrt(s1 * s1 + s2 * s2 - k * s1 * s2) / Double(n)
        }
        let alone = tone(at: 0.5), underVoice = tone(at: 1.0 + speech.duration / 2)
        let late = tone(at: 1.0 + speech.duration + 0.8)
        #expect(alone > 0.01, "music plays before the voice")
        #expect(late > 0.01, "and comes back after it (looped past its 2 s)")
        #expect(20 * log10(underVoice / alone) < -6, "ducked under the voice: \(20 * log10(underVoice / alone)) dB")
    }
}
