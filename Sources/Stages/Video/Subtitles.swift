import Foundation

/// A cue with the time it is shown.
public struct TimedCue: Codable, Sendable, Hashable {
    public var index: Int
    public var start: Double
    public var end: Double
    public var lines: [String]
    public init(index: Int, start: Double, end: Double, lines: [String]) {
        self.index = index; self.start = start; self.end = end; self.lines = lines
    }
}

public enum SubtitleTiming {
    /// Gives each cue the time of its words: a cue of N words covers the next N timed words.
    public static func align(cues: [Cue], words: [WordTiming], duration: Double) -> [TimedCue] {
        var out: [TimedCue] = []
        var w = 0
        for cue in cues {
            let n = max(1, cue.text.split(whereSeparator: { $0 == " " || $0 == "-" || $0 == "'" || $0 == "’" }).count)
            guard w < words.count else { break }
            let first = words[w]
            let lastIndex = min(words.count - 1, w + n - 1)
            var end = words[lastIndex].end
            w = lastIndex + 1
            if w < words.count { end = max(end, min(words[w].start, end + 0.3)) } else { end = max(end, min(duration, end + 0.3)) }
            out.append(TimedCue(index: out.count + 1, start: first.start, end: end, lines: cue.lines))
        }
        // Cues never overlap.
        for i in out.indices.dropFirst() where out[i].start < out[i - 1].end { out[i - 1].end = out[i].start }
        return out
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
