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
    /// A pause in the speech this long or longer between two words of one cue splits the cue there: the caption
    /// changes when the voice stops, not a moment later.
    public static let pauseSplit = WordTiming.pause
    /// How long a cue stays up after its last word when the next one does not start sooner.
    public static let linger = 0.3

    /// Gives each cue the time of its words. Every word of every cue is kept and shown in order, whatever the
    /// voice returned: cue words are aligned with the spoken words (`WordAlignment`), words the voice dropped
    /// or merged take the times around them, a cue spanning a pause is split at it, and the last cue lasts to the
    /// end of the speech (never past `duration`). With `maxCharacters` (the `shorts` captions) a cue longer than
    /// that is cut at word boundaries into pieces of about equal length, each shown while its words are spoken.
    public static func align(cues: [Cue], words: [WordTiming], duration: Double, maxCharacters: Int? = nil) -> [TimedCue] {
        // A cue's words as the highlight counts them (split at spaces).
        let cueWords = cues.map { $0.lines.joined(separator: " ").split(separator: " ").map(String.init) }
        let flat = cueWords.flatMap { $0 }
        guard !flat.isEmpty, !words.isEmpty else { return [] }
        let times = WordAlignment(text: flat, spoken: words).times
        var out: [TimedCue] = [], k = 0
        for (cue, list) in zip(cues, cueWords) where !list.isEmpty {
            let span = Array(times[k..<(k + list.count)])
            k += list.count
            let width = max(12, cue.lines.map(\.count).max() ?? 12)
            for piece in splitAtPauses(list, span).flatMap({ shorten($0, maxCharacters: maxCharacters) }) {
                let lines = piece.words.count == list.count ? cue.lines : wrap(piece.words, width: width)
                out.append(TimedCue(index: out.count + 1, start: piece.times[0].start, end: piece.times.last!.end,
                                    lines: lines, wordStarts: piece.times.map(\.start)))
            }
        }
        return settle(out, speechEnd: min(duration, max(words.last!.end, out.last!.end)), duration: duration)
    }

    /// Cut a cue's words where the speech pauses.
    static func splitAtPauses(_ words: [String], _ times: [WordAlignment.Span]) -> [(words: [String], times: [WordAlignment.Span])] {
        var out: [(words: [String], times: [WordAlignment.Span])] = [([words[0]], [times[0]])]
        for i in 1..<words.count {
            if times[i].start - times[i - 1].end >= pauseSplit { out.append(([], [])) }
            out[out.count - 1].words.append(words[i])
            out[out.count - 1].times.append(times[i])
        }
        return out
    }

    /// A piece of a cue cut into the fewest pieces of at most `maxCharacters` (a longer single word stands
    /// alone), their lengths as even as the words allow: "one two three four five" at 14 is "one two three" and
    /// "four five", not a lone last word.
    static func shorten(_ piece: (words: [String], times: [WordAlignment.Span]), maxCharacters: Int?) -> [(words: [String], times: [WordAlignment.Span])] {
        guard let limit = maxCharacters, limit > 0 else { return [piece] }
        let length = piece.words.reduce(-1) { $0 + $1.count + 1 }
        guard length > limit else { return [piece] }
        let count = Int((Double(length) / Double(limit)).rounded(.up))
        let target = Double(length) / Double(count)
        var out: [(words: [String], times: [WordAlignment.Span])] = [([], [])]
        var used = -1
        for (w, t) in zip(piece.words, piece.times) {
            let next = used + 1 + w.count
            // Start a new piece when this word would pass the limit, or when the piece has reached its even share
            // and stopping before the word lands nearer that share than taking it.
            if !out[out.count - 1].words.isEmpty,
               next > limit || (out.count < count && Double(next) - target > target - Double(used)) {
                out.append(([], [])); used = -1
            }
            out[out.count - 1].words.append(w); out[out.count - 1].times.append(t)
            used += 1 + w.count
        }
        return out
    }

    /// Ends each cue a little after its last word unless the next starts sooner, and the last one at the end of
    /// the speech; every cue keeps a visible length and stays within `duration`.
    static func settle(_ cues: [TimedCue], speechEnd: Double, duration: Double) -> [TimedCue] {
        var out = cues
        for i in out.indices {
            if i > 0 { out[i].start = max(out[i].start, out[i - 1].end) }
            out[i].start = min(out[i].start, duration - 0.05)
            let last = i + 1 == out.count
            out[i].end = last ? max(out[i].end, speechEnd) : min(out[i + 1].start, out[i].end + linger)
            out[i].end = min(max(out[i].end, out[i].start + 0.05), duration)
        }
        return out
    }

    /// Greedy line wrap at `width` characters (a longer single word stands alone).
    static func wrap(_ words: [String], width: Int) -> [String] {
        var lines: [String] = [], line = ""
        for w in words {
            if !line.isEmpty && line.count + 1 + w.count > width { lines.append(line); line = w } else { line += line.isEmpty ? w : " " + w }
        }
        return line.isEmpty ? lines : lines + [line]
    }

    /// When each paragraph starts being spoken: the time of its first word with letters or digits, aligned like
    /// the cues' words. One time a paragraph (one without such words, like `***`, starts with the next one);
    /// empty without spoken words.
    public static func paragraphStarts(_ paragraphs: [String], words: [WordTiming]) -> [Double] {
        guard !words.isEmpty else { return [] }
        let lists = paragraphs.map { $0.split(whereSeparator: \.isWhitespace).map(String.init) }
        let times = WordAlignment(text: lists.flatMap { $0 }, spoken: words).times
        var starts: [Double?] = [], k = 0
        for list in lists {
            starts.append(list.firstIndex { !WordAlignment.key($0).isEmpty }.map { times[k + $0].start })
            k += list.count
        }
        var following = words.last!.end
        for i in starts.indices.reversed() { if let s = starts[i] { following = s } else { starts[i] = following } }
        var out: [Double] = []
        for s in starts { out.append(max(s!, out.last ?? 0)) }
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
