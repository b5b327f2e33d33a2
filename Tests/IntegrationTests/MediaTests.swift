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
    func band(_ video: URL, at time: Double, rows: ClosedRange<Int>, width: Int = 1080, height: Int = 1920) throws -> (mean: Double, bright: Double) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        p.arguments = ["-v", "error", "-ss", String(time), "-i", video.path, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray", "-"]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
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
        let during = try band(out, at: 1.0, rows: textRows)
        let after = try band(out, at: 2.0, rows: textRows)
        let before = try band(out, at: 0.1, rows: textRows)
        #expect(during.bright > 0.01, "white text in the cue's box while it is spoken")
        #expect(after.bright < 0.0005 && before.bright < 0.0005, "no text outside the cue's time")
        // Elsewhere the background shows: dark gradient, no text.
        let top = try band(out, at: 1.0, rows: 100...300)
        #expect(top.bright == 0 && top.mean > 16 && top.mean < 60)
        // The outline is dark: next to white text there are pixels darker than the background.
        let darkest = try band(out, at: 1.0, rows: textRows)
        #expect(darkest.mean > after.mean, "text raises the band's mean")
    }
}
