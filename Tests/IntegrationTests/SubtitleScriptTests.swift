import AdaptStage
import Foundation
import ReelForgeTestKit
import Shared
import Testing
import VideoStage

/// Text in any script the installed fonts cover is drawn: the subtitle font has no CJK or emoji glyphs, so those
/// characters come from fallback fonts (fontconfig), in the same line as the rest.
@Suite("Subtitles in every script")
struct SubtitleScriptTests {
    /// White text pixels (luma over 200, no colour) in the lower third of the frame at `time`.
    func textPixels(_ video: URL, at time: Double) throws -> Int {
        let p = try VideoFrames.pictures(in: video, at: [time])[0]
        var n = 0
        for row in (p.height * 2 / 3)..<p.height { for col in 0..<p.width where p.y(col, row) > 200 { n += 1 } }
        return n
    }

    @Test func chineseJapaneseKoreanAndEmojiAreDrawn() async throws {
        let dir = temporaryDirectory("scripts")
        let (wav, _) = try await MediaFixtures.narration("One, two, three, four, five, six.", in: dir)
        let lines = [["ABCD"], ["你好世界"], ["日本語 한국어"], ["☕ 🎉 🐙"], ["", "\u{200B}"]]
        let cues = lines.enumerated().map { TimedCue(index: $0 + 1, start: Double($0) * 0.5, end: Double($0) * 0.5 + 0.45, lines: $1) }
        var options = RenderOptions()
        options.width = 540; options.height = 960
        options.background = .gradient(top: RGB(r: 30, g: 40, b: 60), bottom: RGB(r: 30, g: 40, b: 60))
        let out = dir.appendingPathComponent("scripts.mp4")
        _ = try await VideoRenderer(options: options).render(audio: wav, cues: cues, to: out)
        let latin = try textPixels(out, at: 0.2)
        #expect(latin > 500, "the Latin cue is drawn: \(latin) white pixels")
        // Emojis come as outline glyphs (MagickWand draws no colour fonts): thinner, but there.
        for (i, name, share) in [(1, "Chinese", 2), (2, "Japanese and Korean", 2), (3, "emoji", 10)] {
            let n = try textPixels(out, at: Double(i) * 0.5 + 0.2)
            #expect(n > latin / share, "the \(name) cue is drawn: \(n) white pixels against \(latin) for ABCD")
        }
        #expect(try textPixels(out, at: 2.2) == 0, "a cue of nothing visible draws nothing")
    }

    /// The voice does not read emojis, but the subtitles show them; a phrase with nothing to say never stands alone.
    @Test(arguments: [("en", "Coffee ☕ is great! 🎉 Drink it slowly 🐙."), ("fr", "Pourquoi les pieuvres ont trois cœurs ? 🐙 ? Voilà 🎉 !")])
    func emojisAreShownNotSpoken(_ language: String, _ script: String) {
        let adapted = RuleBasedAdapter().adapt(script, language: language)
        let shown = adapted.cues.map(\.text).joined(separator: " ")
        for emoji in ["🎉", "🐙"] { #expect(shown.contains(emoji) && !adapted.text.contains(emoji), "\(adapted.cues)") }
        #expect(adapted.cues.allSatisfy { $0.text.contains { $0.isLetter } }, "\(adapted.cues.map(\.text))")
    }
}
