import Foundation
import Shared

/// The time of every word of a text, from the words a voice reported. Voices do not return the text's words
/// one for one: espeak-ng's word events skip short unstressed words and cut "Let's" to "Let", cloud voices split
/// or merge hyphenated words and elisions ("êtes-vous", "l'homme"), and a provider may add or drop a word. The
/// two word lists are aligned like a diff (edit distance over words compared by their letters and digits, case
/// and accents ignored, a word that starts the other counting as nearly equal); each text word takes the time of
/// the spoken word it lines up with, and words with none share out the time between their aligned neighbours.
/// So every text word gets a time, in order, and one missing word never shifts the words after it.
public struct WordAlignment: Sendable {
    public struct Span: Sendable, Hashable {
        public var start: Double
        public var end: Double
    }

    /// One span per text word, in order: starts never decrease and each end is after its start.
    public let times: [Span]

    public init(text: [String], spoken: [WordTiming]) {
        guard !text.isEmpty else { times = []; return }
        guard !spoken.isEmpty else { times = text.map { _ in Span(start: 0, end: 0.001) }; return }
        let a = text.map(Self.key), b = spoken.map { Self.key($0.word) }
        let matched = Self.match(a, b)
        times = Self.fill(matched, text: a, spoken: spoken)
    }

    /// Letters and digits, lower case, without accents: what two spellings of one spoken word share.
    public static func key(_ word: String) -> String {
        String(word.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil).unicodeScalars
            .filter { $0.properties.isAlphabetic || $0.properties.numericType != nil }.map(Character.init))
    }

    /// 0 for the same word, 1 when one starts the other ("let" / "lets", "etes" / "etesvous"), 2 otherwise.
    static func cost(_ x: String, _ y: String) -> Int32 {
        if x == y { return 0 }
        let (short, long) = x.count < y.count ? (x, y) : (y, x)
        return short.count >= 2 && long.hasPrefix(short) ? 1 : 2
    }

    /// For each text word, the index of the spoken word it lines up with (nil when none). Words without letters
    /// (punctuation, emoji) are skipped at no cost on either side.
    static func match(_ a: [String], _ b: [String]) -> [Int?] {
        let n = a.count, m = b.count, w = m + 1
        var d = [Int32](repeating: 0, count: (n + 1) * w)
        var step = [UInt8](repeating: 0, count: (n + 1) * w)   // 0 diagonal, 1 skip a text word, 2 skip a spoken word
        func gap(_ s: String) -> Int32 { s.isEmpty ? 0 : 1 }
        for i in 1...n { d[i * w] = d[(i - 1) * w] + gap(a[i - 1]); step[i * w] = 1 }
        for j in 1...m { d[j] = d[j - 1] + gap(b[j - 1]); step[j] = 2 }
        for i in 1...n {
            for j in 1...m {
                let diag = a[i - 1].isEmpty || b[j - 1].isEmpty ? Int32.max / 2 : d[(i - 1) * w + j - 1] + cost(a[i - 1], b[j - 1])
                let up = d[(i - 1) * w + j] + gap(a[i - 1]), left = d[i * w + j - 1] + gap(b[j - 1])
                if diag <= up && diag <= left { d[i * w + j] = diag; step[i * w + j] = 0 }
                else if up <= left { d[i * w + j] = up; step[i * w + j] = 1 }
                else { d[i * w + j] = left; step[i * w + j] = 2 }
            }
        }
        var out = [Int?](repeating: nil, count: n)
        var i = n, j = m
        while i > 0 || j > 0 {
            switch step[i * w + j] {
            case 0 where i > 0 && j > 0: out[i - 1] = j - 1; i -= 1; j -= 1
            case 1 where i > 0: i -= 1
            default: if j > 0 { j -= 1 } else { i -= 1 }
            }
        }
        return out
    }

    /// Times for every text word: aligned words take their spoken word's; the others share out, by their length,
    /// the time between the aligned words around them.
    static func fill(_ matched: [Int?], text: [String], spoken: [WordTiming]) -> [Span] {
        var out = matched.map { $0.map { Span(start: spoken[$0].start, end: spoken[$0].end) } }
        var i = 0
        while i < out.count {
            guard out[i] == nil else { i += 1; continue }
            var j = i
            while j < out.count && out[j] == nil { j += 1 }
            let lower = i > 0 ? out[i - 1]!.end : spoken[0].start
            let upper = max(lower, j < out.count ? out[j]!.start : spoken[spoken.count - 1].end)
            let weights = (i..<j).map { Double(max(1, text[$0].count)) }
            let total = weights.reduce(0, +)
            var t = lower
            for (k, weight) in zip(i..<j, weights) {
                let next = t + (upper - lower) * weight / total
                out[k] = Span(start: t, end: next)
                t = next
            }
            i = j
        }
        var spans = out.map { $0! }
        for k in spans.indices {
            if k > 0 { spans[k].start = max(spans[k].start, spans[k - 1].start) }
            spans[k].end = max(spans[k].end, spans[k].start + 0.001)
        }
        return spans
    }
}
