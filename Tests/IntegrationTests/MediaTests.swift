import AdaptStage
import AudioStage
import Foundation
import ReelForgeTestKit
import Shared
import Testing
import VideoStage

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

    /// Mean luma and the share of bright pixels in a horizontal band of a picture.
    func band(_ p: DecodedPicture, rows: ClosedRange<Int>, columns: Range<Int>? = nil) -> (mean: Double, bright: Double) {
        let cols = columns ?? 0..<p.width
        var sum = 0, bright = 0
        for r in rows { for c in cols { let v = Int(p.y(c, r)); sum += v; if v > 200 { bright += 1 } } }
        let n = Double(rows.count * cols.count)
        return (Double(sum) / n, Double(bright) / n)
    }

    func picture(_ video: URL, at time: Double) throws -> DecodedPicture { try VideoFrames.pictures(in: video, at: [time])[0] }

    /// White text with a dark stroke: bright, colourless pixels, and within 3 px of each of most of them one far
    /// darker than the background.
    func strokedWhiteText(_ p: DecodedPicture, rows: ClosedRange<Int>, background: UInt8) -> (white: Int, stroked: Double) {
        var white = 0, stroked = 0
        for r in stride(from: rows.lowerBound, through: rows.upperBound, by: 2) {
            for c in stride(from: 4, to: p.width - 4, by: 2) where p.y(c, r) > 200 {
                guard abs(Int(p.u(c, r)) - 128) < 24 && abs(Int(p.v(c, r)) - 128) < 24 else { continue }
                white += 1
                let near = (-3...3).contains { dy in (-3...3).contains { dx in
                    let rr = r + dy
                    return rr >= 0 && rr < p.height && Int(p.y(c + dx, rr)) < Int(background) - 6 } }
                if near { stroked += 1 }
            }
        }
        return (white, white == 0 ? 0 : Double(stroked) / Double(white))
    }

    @Test func theMP4HasTheAdvertisedStreamsAndSubtitlesShowDuringTheirCueOnly() async throws {
        let dir = temporaryDirectory("render")
        let (wav, speech) = try await MediaFixtures.narration("This is a short test of the subtitle renderer.", in: dir)
        let out = dir.appendingPathComponent("v.mp4")
        let cue = TimedCue(index: 1, start: 0.5, end: 1.5, lines: ["Subtitle pixels", "are here"])
        var options = RenderOptions()
        options.background = .gradient(top: RGB(r: 40, g: 40, b: 90), bottom: RGB(r: 40, g: 40, b: 90))
        let result = try await VideoRenderer(options: options).render(audio: wav, cues: [cue], to: out)
        #expect(abs(result.duration - speech.duration) < 1.0 / 30 + 1e-6)

        // Stream properties, read back with libavformat.
        let probe = try MediaProbe(url: out)
        let video = try #require(probe.video), audio = try #require(probe.audio)
        #expect(video.codec == "h264" && video.pixelFormat == "yuv420p")
        #expect(video.width == 1080 && video.height == 1920 && abs(video.fps - 30) < 0.01)
        #expect(video.frames == result.frames)
        #expect(audio.codec == "aac" && audio.channels == 1 && audio.sampleRate == speech.sampleRate)
        #expect(abs(video.duration - audio.duration) <= 1.0 / 30 + 0.03, "audio and video end together: \(video.duration) vs \(audio.duration)")
        #expect(abs(video.duration - speech.duration) <= 1.0 / 30 + 1e-6)
        #expect(probe.faststart, "moov before mdat")

        let pictures = try VideoFrames.pictures(in: out, at: [0.1, 1.0, 2.0])
        let (before, during, after) = (pictures[0], pictures[1], pictures[2])
        let backgroundY = RGB(r: 40, g: 40, b: 90).yuv.0
        // The cue's box: above the 120 px bottom margin, two lines of 50 px text, inside the 60 px side margins.
        let textRows = (1920 - 120 - 140)...(1920 - 120)
        let text = strokedWhiteText(during, rows: textRows, background: backgroundY)
        #expect(text.white > 300, "white text in the cue's box while it is spoken")
        #expect(text.stroked > 0.6, "the white text has a dark outline (\(text.stroked))")
        #expect(band(during, rows: textRows, columns: 0..<56).bright == 0 && band(during, rows: textRows, columns: 1024..<1080).bright == 0,
                "nothing inside the side margins")
        #expect(band(during, rows: 0...(1920 - 120 - 160)).bright == 0, "nothing above the box")
        for p in [before, after] {
            #expect(band(p, rows: 0...1919).bright == 0, "no text outside the cue's time (at \(p.time) s)")
            #expect(abs(band(p, rows: textRows).mean - Double(backgroundY)) < 3)
        }
        // Elsewhere the background shows: its colour, no text.
        let top = band(during, rows: 100...300)
        #expect(top.bright == 0 && abs(top.mean - Double(backgroundY)) < 3)
        #expect(abs(Int(during.u(540, 200)) - Int(RGB(r: 40, g: 40, b: 90).yuv.1)) < 4)
    }

    @Test func videoAndImageBackgroundsFillTheFrameAndAThumbnailIsWritten() async throws {
        let dir = temporaryDirectory("backgrounds")
        let clip = dir.appendingPathComponent("clip.mp4"), image = dir.appendingPathComponent("img.png")
        for (args, out) in [(["-f", "lavfi", "-i", "testsrc2=s=640x360:r=25", "-t", "2", "-pix_fmt", "yuv420p"], clip),
                            (["-f", "lavfi", "-i", "testsrc2=s=800x600", "-frames:v", "1"], image)] {
            _ = try await runProgram("/usr/bin/ffmpeg", ["-v", "error", "-y"] + args + [out.path])
        }
        let (wav, speech) = try await MediaFixtures.narration("A short line over a moving background, looped.", in: dir)
        for (bg, size) in [(clip, (1080, 1920)), (image, (1080, 1080))] {
            var options = RenderOptions()
            options.width = size.0; options.height = size.1
            options.background = try BackgroundSource(parsing: bg.path)
            let out = dir.appendingPathComponent("v-\(bg.lastPathComponent).mp4"), thumb = dir.appendingPathComponent("t-\(bg.lastPathComponent).png")
            let cue = TimedCue(index: 1, start: 0.2, end: 1.5, lines: ["Over a background"])
            let result = try await VideoRenderer(options: options).render(audio: wav, cues: [cue], to: out, thumbnail: thumb)
            #expect(abs(result.duration - speech.duration) < 1.0 / 30 + 1e-6)
            let probe = try MediaProbe(url: out)
            #expect(probe.video?.width == size.0 && probe.video?.height == size.1)
            // Longer than the 2 s clip: it loops. The top of the frame shows the (colourful) background.
            let late = try picture(out, at: max(0, result.duration - 0.5))
            #expect(band(late, rows: 100...300).mean > 40, "the background shows at the top of the frame")
            let png = try Data(contentsOf: thumb)
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        }
    }

    @Test func aClipWithNoPictureOrAStoredBackgroundFailsClearlyInsteadOfHanging() async throws {
        let dir = temporaryDirectory("nopicture")
        let (wav, _) = try await MediaFixtures.narration("Nothing to see here.", in: dir)
        // An audio-only file has no video stream; a file that is not media at all cannot be opened.
        let broken = dir.appendingPathComponent("broken.mp4")
        try Data("not a video".utf8).write(to: broken)
        // A clip whose index is whole but whose pictures are cut off: it opens, then has nothing to decode.
        let clip = try await MediaFixtures.clip("testsrc2=s=160x284:r=30", seconds: 1, in: dir)
        _ = try await runProgram("/usr/bin/ffmpeg", ["-v", "error", "-y", "-i", clip.path, "-c", "copy", "-movflags", "+faststart",
                                                     dir.appendingPathComponent("fast.mp4").path])
        var bytes = try Data(contentsOf: dir.appendingPathComponent("fast.mp4"))
        let mdat = try #require(bytes.firstRange(of: Data("mdat".utf8)))
        bytes = bytes.prefix(upTo: mdat.upperBound + 16)
        let truncated = dir.appendingPathComponent("truncated.mp4")
        try bytes.write(to: truncated)
        for source in [BackgroundSource.video(wav), .video(broken), .video(truncated), .stored(name: "x.png"), .stored(name: nil)] {
            var options = RenderOptions()
            options.width = 320; options.height = 568
            options.background = source
            await #expect(throws: (any Error).self, "\(source.label)") {
                try await VideoRenderer(options: options).render(audio: wav, to: dir.appendingPathComponent("v.mp4"))
            }
        }
        // The renderer still works afterwards (its thread is not stuck).
        var options = RenderOptions()
        options.width = 320; options.height = 568
        _ = try await VideoRenderer(options: options).render(audio: wav, to: dir.appendingPathComponent("ok.mp4"))
    }

    /// A clip that loops is decoded once and replayed from the spill file: the frames are exactly those of
    /// decoding it on every loop (checked losslessly: CRF 0, one thread).
    @Test func aLoopingClipReplayedFromItsSpillGivesTheSameFrames() async throws {
        let dir = temporaryDirectory("spill")
        let clip = try await MediaFixtures.clip("testsrc2=s=360x640:r=30", seconds: 1, in: dir)
        let (wav, _) = try await MediaFixtures.narration("The clip loops three times under this line.", in: dir)
        var frames: [[DecodedPicture]] = []
        var decoded: [Int] = []
        for spill in [0, 64 << 20] {
            var options = RenderOptions()
            options.width = 360; options.height = 640
            options.preset = "ultrafast"; options.crf = 0; options.threads = 1
            options.background = .video(clip)
            options.loopSpillBytes = spill
            let out = dir.appendingPathComponent("v\(spill).mp4")
            let result = try await VideoRenderer(options: options).render(audio: wav, cues: [TimedCue(index: 1, start: 1.2, end: 1.8, lines: ["Looped"])], to: out)
            #expect(result.duration > 2.3, "long enough to loop the 1 s clip twice")
            decoded.append(result.backgroundFramesDecoded ?? -1)
            frames.append(try VideoFrames.pictures(in: out, at: stride(from: 0.0, to: result.duration - 0.05, by: 1.0 / 30).map { $0 }))
        }
        #expect(frames[0].count == frames[1].count)
        #expect(decoded[1] <= 31 && decoded[0] >= 2 * 30, "with the spill the clip is decoded once: \(decoded)")
        let same = zip(frames[0], frames[1]).allSatisfy { $0.luma == $1.luma && $0.cb == $1.cb && $0.cr == $1.cr }
        #expect(same, "replayed frames equal decoded ones")
        // And the loop really repeats: the picture one clip-length later is the same background.
        let repeats = frames[1][5].luma == frames[1][65].luma && frames[1][5].luma != frames[1][20].luma
        #expect(repeats, "frame 65 (2.17 s) shows the clip's frame 5 again; frame 20 does not")
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
        let mids = try VideoFrames.pictures(in: out, at: cues.map { ($0.start + $0.end) / 2 })
        for (cue, mid) in zip(cues, mids) {
            #expect(band(mid, rows: rows).bright > 0.005, "cue \(cue.index) shows while its words are spoken")
        }
        if let first = cues.first, first.start > 0.15 {
            #expect(band(try picture(out, at: first.start / 2), rows: rows).bright == 0, "nothing before the first word")
        }
    }

    @Test func theSpokenWordIsHighlightedAsItIsSaid() async throws {
        let text = "Octopuses have three hearts and blue blood."
        let speech = try await EspeakEngine.shared.speak(text, language: "en")
        let cues = SubtitleTiming.align(cues: RuleBasedAdapter().cues(for: text), words: speech.words, duration: speech.duration)
        let cue = try #require(cues.first)
        let starts = try #require(cue.wordStarts)
        #expect(starts.count == cue.lines.joined(separator: " ").split(separator: " ").count)
        #expect(starts.first == cue.start && zip(starts, starts.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(cue.activeWord(at: cue.start - 0.01) == nil && cue.activeWord(at: starts[1]) == 1)

        let dir = temporaryDirectory("highlight")
        let wav = dir.appendingPathComponent("a.wav"), out = dir.appendingPathComponent("v.mp4")
        try WAVFile.write(speech.samples, sampleRate: speech.sampleRate, to: wav)
        var options = RenderOptions()
        options.subtitles.highlightColor = "#FFD700"
        _ = try await VideoRenderer(options: options).render(audio: wav, cues: cues, to: out)
        // Yellow: bright, with Cb far below neutral. Where it is says which word is lit.
        func yellowColumns(_ p: DecodedPicture) -> [Int] {
            var xs: [Int] = []
            for r in stride(from: 1920 - 300, to: 1920 - 100, by: 2) {
                for c in stride(from: 0, to: 1080, by: 2) where p.y(c, r) > 150 && p.u(c, r) < 80 { xs.append(c) }
            }
            return xs
        }
        let times = [(starts[0] + starts[1]) / 2, (starts[1] + starts[2]) / 2]
        let pictures = try VideoFrames.pictures(in: out, at: times)
        let first = yellowColumns(pictures[0]), second = yellowColumns(pictures[1])
        #expect(first.count > 50 && second.count > 50, "the spoken word is yellow")
        let mean = { (xs: [Int]) in Double(xs.reduce(0, +)) / Double(max(1, xs.count)) }
        #expect(mean(second) > mean(first) + 40, "the highlight moves right with the next word: \(mean(first)) → \(mean(second))")
        #expect(strokedWhiteText(pictures[0], rows: (1920 - 300)...(1920 - 100), background: 30).white > 200, "the other words stay white")
    }

    /// The `shorts` captions show a few words at a time: every cue of the adapted text is cut into pieces of at
    /// most 24 characters at word boundaries, none a lone short word, each shown while its own words are spoken.
    @Test func shortsCaptionsShowAFewWordsAtATimeWhileTheyAreSpoken() async throws {
        let text = "Octopuses have three hearts. Two of them pump blood through the gills, and the third one feeds the rest of the body."
        let speech = try await EspeakEngine.shared.speak(text, language: "en")
        let adapted = RuleBasedAdapter().cues(for: text)
        let classic = SubtitleTiming.align(cues: adapted, words: speech.words, duration: speech.duration)
        let limit = try #require(SubtitleStyle.preset(.shorts, width: 1080, height: 1920).cueCharacters)
        let shorts = SubtitleTiming.align(cues: adapted, words: speech.words, duration: speech.duration, maxCharacters: limit)
        let texts = shorts.map { $0.lines.joined(separator: " ") }
        #expect(classic.contains { $0.lines.joined(separator: " ").count > limit }, "the classic cues are longer: \(classic.map(\.lines))")
        #expect(shorts.count > classic.count && texts.allSatisfy { $0.count <= limit }, "\(texts)")
        #expect(texts.joined(separator: " ") == classic.map { $0.lines.joined(separator: " ") }.joined(separator: " "), "every word kept, in order")
        #expect(texts.allSatisfy { $0.split(separator: " ").count >= 2 }, "no piece is a lone word: \(texts)")
        for cue in shorts {
            // Each piece starts when its first word is spoken and is up while its last word is.
            let first = try #require(cue.wordStarts?.first)
            #expect(abs(cue.start - first) < 0.001 || cue.start > first)
            #expect(cue.end > (cue.wordStarts?.last ?? 0))
        }
        #expect(zip(shorts, shorts.dropFirst()).allSatisfy { $0.end <= $1.start + 0.001 }, "one caption at a time")
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
        let samples = try AudioSamples.mono(out, sampleRate: 48_000)
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
