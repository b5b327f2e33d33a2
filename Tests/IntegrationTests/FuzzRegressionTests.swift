@testable import AdaptStage
import Foundation
import Shared
import Testing
@testable import VideoStage

/// Inputs the fuzz targets (`scripts/fuzz`, docs/fuzzing.md) found, each with what it did and what it does now.
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
    // MARK: SRT (fuzz target srt)

    /// `00:00:-,615` was read as -0.615 s (`Double` took the sign); `inf`, `nan` and exponents were times too, and
    /// writing an infinite time back as SRT trapped.
    @Test(arguments: ["00:00:-,615 --> 00:00:0,1500", "inf:00:00,000 --> inf:00:01,000", "00:00:00,000 --> 1e300:00:00,000",
                      "00:00:00,000 --> nan:00:00,000", "00:00:+1,000 --> 00:00:02,000", "00:00:00,000 --> 00:00:0x1p3",
                      "00:00:00,0001 --> 00:00:00,0004", "0000000000:00:00,000 --> 00:00:01,000"])
    func srtTimesAreDigitsOnly(_ timeLine: String) {
        #expect(throws: StageFailure.self) { try SubtitleTiming.parseSRT("1\n\(timeLine)\nText\n") }
    }

    @Test func srtTimesStillReadAsBefore() throws {
        let cues = try SubtitleTiming.parseSRT("1\n0:00:01.5 --> 0:01:02,25 X1:10\nA\n\n2\n01:00:00,000 --> 01:00:00,0019\nB\n")
        #expect(cues.map(\.start) == [1.5, 3600])
        #expect(cues.map(\.end) == [62.25, 3600.001])
    }

    /// A CR at the end of the file stayed in the cue's last line, and `srt()` then wrote a file that read back
    /// differently; a lone CR ends a line like CRLF.
    @Test func srtCarriageReturnsEndLines() throws {
        let cues = try SubtitleTiming.parseSRT("1\r00:00:00,000 --> 00:00:01,000\rOne\rTwo\r\r2\r\n00:00:01,000 --> 00:00:02,000\r\nEnd\r")
        #expect(cues.map(\.lines) == [["One", "Two"], ["End"]])
        #expect(try SubtitleTiming.parseSRT(SubtitleTiming.srt(cues)) == cues)
    }

    // MARK: Word timings (fuzz target timings)

    /// Timings with times of 1e300 s or below zero were accepted and made cue times that trap when written as SRT.
    @Test(arguments: [#"[{"word":"big","start":1e300,"end":1e301}]"#, #"[{"word":"a","start":-1,"end":0.5}]"#,
                      #"[{"word":"a","start":0,"end":86400.5}]"#, #"{"word":"a"}"#])
    func wordTimingsOutsideADayAreRefused(_ json: String) {
        #expect(throws: StageFailure.self) { try WordTiming.decodeList(Data(json.utf8)) }
    }

    @Test func wordTimingsInRangeAreRead() throws {
        let words = try WordTiming.decodeList(Data(#"[{"word":"Why","start":0,"end":0.2},{"word":"so","start":0.2,"end":86400}]"#.utf8))
        #expect(words == [WordTiming(word: "Why", start: 0, end: 0.2), WordTiming(word: "so", start: 0.2, end: 86_400)])
    }

    // MARK: Subtitle style (fuzz target style)

    /// The default style's overlay was 68 pixels tall in a 64x64 video (`render --size 64x64`), and a large font
    /// or a negative bottom margin placed it past the frame's last row: the blend wrote past the frame's planes.
    @Test(arguments: [(64, 64), (1080, 1920), (1920, 1080)])
    func overlayStaysInsideTheFrame(_ size: (Int, Int)) throws {
        var big = SubtitleStyle()
        big.fontSize = 1000; big.lineSpacing = 10; big.maxLines = 20; big.boxColor = "#000000"; big.boxPadding = 500
        var low = SubtitleStyle()
        low.bottomMargin = -500
        for style in [SubtitleStyle(), big, low] {
            for lines in 1...style.maxLines {
                let box = style.overlayBox(widest: Double(size.0) * 3, lines: lines, frameWidth: size.0, frameHeight: size.1)
                #expect(box.x >= 0 && box.y >= 0 && box.x + box.width <= size.0 && box.y + box.height <= size.1, "\(box)")
                #expect(box.width % 2 == 0 && box.height % 2 == 0 && box.x % 2 == 0 && box.y % 2 == 0)
            }
        }
        // Where it fits, the box is what it always was: centred, `bottom_margin` above the bottom.
        let box = SubtitleStyle().overlayBox(widest: 300, lines: 2, frameWidth: 1080, frameHeight: 1920)
        #expect(box == .init(x: 386, y: 1676, width: 308, height: 128, pad: 4))
    }

    /// `max_lines` 0 trapped in the line wrapping; sizes of 1e300 overflowed to a trap; a full-width hex digit
    /// passed as a colour.
    @Test(arguments: [#"{"max_lines":0}"#, #"{"max_lines":-1}"#, #"{"font_size":1e300}"#, #"{"font_size":0}"#,
                      #"{"stroke_width":1e30}"#, #"{"line_spacing":0}"#, #"{"box_padding":-5}"#, #"{"side_margin":-100}"#,
                      #"{"bottom_margin":-1}"#, ##"{"color":"#ＡＢＣ"}"##])
    func styleOutOfRangeIsRefused(_ json: String) {
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(SubtitleStyle.self, from: Data(json.utf8)) }
    }

    @Test func styleInRangeIsRead() throws {
        let style = try JSONDecoder().decode(SubtitleStyle.self, from: Data(##"{"font_size":1000,"max_lines":20,"color":"#abc","bottom_margin":0}"##.utf8))
        #expect(style.fontSize == 1000 && style.maxLines == 20 && style.color == "#abc" && style.bottomMargin == 0)
    }

    // MARK: Background grammar (fuzz target background)

    /// `--background 302030` (no `#`) and `#+12345` were colours to the renderer and not to a message's check;
    /// `#ＡＢＣＤＥＦ` (full-width digits) passed the message's check and then failed in the video stage.
    @Test(arguments: ["302030", "#+12345", "#-00000", "#ＡＢＣＤＥＦ", "#ABCDE", "navy2", ""])
    func oneColourRule(_ text: String) {
        #expect(RGB(parsing: text) == nil)
        #expect(!BackgroundChoice.isColour(text))
        #expect(BackgroundChoice.problem(text) != nil)
        #expect(throws: StageFailure.self) { try BackgroundSource(choice: text) }
    }

    @Test func coloursStillRead() throws {
        #expect(RGB(parsing: "#0a0B0c") == RGB(r: 10, g: 11, b: 12))
        #expect(RGB(parsing: "NAVY") == RGB(r: 16, g: 24, b: 64))
        for (name, value) in BackgroundChoice.namedColours {
            #expect(RGB(parsing: name) == RGB(r: UInt8(value >> 16), g: UInt8(value >> 8 & 0xFF), b: UInt8(value & 0xFF)))
        }
    }

    /// `navy  ` passed a message's check and the video stage read it, but `--background "navy "` was a missing file.
    @Test(arguments: ["navy  ", " #102030:#405060", " media:reef.mp4 ", "black , media:a.png"])
    func spacesAroundABackgroundAreIgnoredEverywhere(_ text: String) throws {
        #expect(BackgroundChoice.problem(text) == nil)
        #expect(try BackgroundSource(parsing: text) == BackgroundSource(choice: text))
    }

    /// A stray line break inside a cue is a word for the highlight (which splits at spaces): the cue still has one
    /// word start for each of its words (fuzz-timings, seed corpus).
    @Test func aLineBreakInACueStillGetsAWordStart() throws {
        let json = #"[{"word":"L'eau","start":0,"end":0.4},{"word":"est-elle","start":0.4,"end":0.9},{"word":"bleue ?","start":0.9,"end":1.4},{"word":"\n","start":1.4,"end":1.4},{"word":"100 %","start":1.5,"end":2}]"#
        let words = try WordTiming.decodeList(Data(json.utf8))
        let cues = RuleBasedAdapter().cues(for: words.map(\.word).joined(separator: " "))
        for cue in SubtitleTiming.align(cues: cues, words: words, duration: 2.5) {
            #expect(cue.wordStarts?.count == cue.lines.joined(separator: " ").split(separator: " ").count, "\(cue)")
        }
    }
}
