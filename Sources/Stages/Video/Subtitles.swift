import Foundation
import Shared

/// A cue with the time it is shown.
public struct TimedCue: Codable, Sendable, Hashable {
    public var index: Int
    public var start: Double
    public var end: Double
    public var lines: [String]
    /// When each of the cue's words (its lines split at spaces, in reading order) starts being spoken, when
    /// known (cues timed from speech); drives the active-word highlight.
    public var wordStarts: [Double]?
    public init(index: Int, start: Double, end: Double, lines: [String], wordStarts: [Double]? = nil) {
        self.index = index; self.start = start; self.end = end; self.lines = lines; self.wordStarts = wordStarts
    }

    /// The word being spoken at `time` (its index among the cue's words), if the cue knows its words' times.
    public func activeWord(at time: Double) -> Int? {
        guard let starts = wordStarts, let first = starts.first, time >= first else { return nil }
        return starts.lastIndex { $0 <= time }
    }
}

public enum SubtitleTiming {
    /// Gives each cue the time of its words. Cue text and timed words are matched by their letters and digits
    /// (not by word counts), so "Let's" or "one hundred" line up however the speech engine split them.
    public static func align(cues: [Cue], words: [WordTiming], duration: Double) -> [TimedCue] {
        func letters(_ s: String) -> [Character] { s.lowercased().filter { $0.isLetter || $0.isNumber } }
        var out: [TimedCue] = []
        var w = 0
        for cue in cues {
            let target = letters(cue.text).count
            guard w < words.count, target > 0 else { continue }
            let first = w
            var covered = 0
            while w < words.count && (covered < target || letters(words[w].word).isEmpty && w == first) {
                covered += letters(words[w].word).count
                w += 1
            }
            let last = max(first, w - 1)
            var end = words[last].end
            end = w < words.count ? max(end, min(words[w].start, end + 0.3)) : max(end, min(duration, end + 0.3))
            // Each cue word starts with the spoken word that holds its first letter.
            var starts: [Double] = [], spoken = first, spokenLetters = 0, cueLetters = 0
            for word in cue.lines.joined(separator: " ").split(separator: " ") {
                while spoken < last && spokenLetters + letters(words[spoken].word).count <= cueLetters {
                    spokenLetters += letters(words[spoken].word).count
                    spoken += 1
                }
                starts.append(max(words[spoken].start, starts.last ?? 0))
                cueLetters += letters(String(word)).count
            }
            out.append(TimedCue(index: out.count + 1, start: words[first].start, end: end, lines: cue.lines, wordStarts: starts))
        }
        for i in out.indices.dropFirst() where out[i].start < out[i - 1].end { out[i - 1].end = out[i].start }
        return out
    }

    /// When each paragraph starts being spoken: the start of the spoken word holding its first letter (matched
    /// by letters and digits, like the cues). One time a paragraph (one without letters, such as `***`, starts
    /// with the next one); empty without words.
    public static func paragraphStarts(_ paragraphs: [String], words: [WordTiming]) -> [Double] {
        func letters(_ s: String) -> Int { s.lowercased().filter { $0.isLetter || $0.isNumber }.count }
        guard !words.isEmpty else { return [] }
        var out: [Double] = [], spoken = 0, spokenLetters = 0, textLetters = 0
        for paragraph in paragraphs {
            let n = letters(paragraph)
            while spoken < words.count - 1 && spokenLetters + letters(words[spoken].word) <= textLetters {
                spokenLetters += letters(words[spoken].word)
                spoken += 1
            }
            out.append(max(words[spoken].start, out.last ?? 0))
            textLetters += n
        }
        return out
    }

    /// Reads SRT (also WebVTT-style `.` decimal marks): numbered blocks of a time line and text lines.
    public static func parseSRT(_ text: String) throws -> [TimedCue] {
        // HOURS:MM:SS[,fraction] in ASCII digits (so never negative, infinite or an exponent), to the millisecond.
        func seconds(_ s: Substring) -> Double? {
            let p = s.trimmingCharacters(in: .whitespaces).split(separator: ":", omittingEmptySubsequences: false)
            guard p.count == 3 else { return nil }
            let sec = p[2].split(maxSplits: 1, omittingEmptySubsequences: false) { $0 == "," || $0 == "." }
            let fields = [p[0], p[1], sec[0]] + sec.dropFirst()
            guard fields.allSatisfy({ (1...9).contains($0.count) && $0.allSatisfy { $0.isASCII && $0.isNumber } }) else { return nil }
            let ms = sec.count == 2 ? Int(String(sec[1].prefix(3)).padding(toLength: 3, withPad: "0", startingAt: 0))! : 0
            return Double(((Int(p[0])! * 60 + Int(p[1])!) * 60 + Int(sec[0])!) * 1000 + ms) / 1000
        }
        var cues: [TimedCue] = []
        // CRLF and a lone CR end lines too: a CR is never part of a cue's text.
        let lf = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        let blocks = lf.components(separatedBy: "\n\n")
        for block in blocks {
            let lines = block.split(separator: "\n", omittingEmptySubsequences: true)
            guard let timeIndex = lines.firstIndex(where: { $0.contains("-->") }) else { continue }
            let parts = lines[timeIndex].components(separatedBy: "-->")
            guard parts.count == 2, let start = seconds(Substring(parts[0])),
                  let end = seconds(Substring(parts[1].split(separator: " ").first ?? "")), end > start else {
                throw StageFailure.permanent("subtitle time line '\(lines[timeIndex])' is not HH:MM:SS,mmm --> HH:MM:SS,mmm")
            }
            let textLines = lines[(timeIndex + 1)...].map(String.init)
            if !textLines.isEmpty { cues.append(TimedCue(index: cues.count + 1, start: start, end: end, lines: textLines)) }
        }
        guard !cues.isEmpty else { throw StageFailure.permanent("no subtitle cue found") }
        return cues
    }

    public static func srt(_ cues: [TimedCue]) -> String {
        cues.map { "\($0.index)\n\(stamp($0.start, ",")) --> \(stamp($0.end, ","))\n\($0.lines.joined(separator: "\n"))\n" }
            .joined(separator: "\n")
    }

    public static func webVTT(_ cues: [TimedCue]) -> String {
        "WEBVTT\n\n" + cues.map { "\(stamp($0.start, ".")) --> \(stamp($0.end, "."))\n\($0.lines.joined(separator: "\n"))\n" }
            .joined(separator: "\n")
    }

    static func stamp(_ t: Double, _ sep: String) -> String {
        let ms = Int((max(0, t) * 1000).rounded())
        return String(format: "%02d:%02d:%02d%@%03d", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, sep, ms % 1000)
    }
}
