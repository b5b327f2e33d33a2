import Foundation

/// One rewrite of the adapter: a pattern compiled once (rule tables are built once per language) and what each
/// of its matches becomes; a transform that returns nil leaves the match as it is.
struct Rewrite: Sendable {
    let regex: NSRegularExpression
    /// Marks words put at the start of a sentence, for the tidying pass to capitalize.
    let capitalizing: Bool
    let transform: @Sendable (TextMatch) -> String?

    init(_ pattern: String, capitalizing: Bool = false, _ transform: @escaping @Sendable (TextMatch) -> String?) {
        // The patterns are the program's own: one that does not compile is a programming error found by any test.
        regex = try! NSRegularExpression(pattern: pattern)
        self.capitalizing = capitalizing
        self.transform = transform
    }

    /// A rewrite into fixed text.
    init(_ pattern: String, to replacement: String) {
        self.init(pattern) { _ in replacement }
    }

    func apply(_ text: String) -> String {
        let ns = text as NSString
        var out = "", last = 0
        for m in regex.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
            out += ns.substring(with: NSRange(location: last, length: m.range.location - last))
            let groups = (0..<m.numberOfRanges).map { m.range(at: $0).location == NSNotFound ? "" : ns.substring(with: m.range(at: $0)) }
            var replacement = transform(TextMatch(groups: groups, range: m.range, ns: ns)) ?? groups[0]
            if capitalizing, replacement != groups[0], replacement.first?.isLowercase == true, TextMatch.atSentenceStart(m.range.location, ns) {
                replacement = String(TextMatch.sentenceStart) + replacement
            }
            out += replacement
            last = m.range.location + m.range.length
        }
        return out + ns.substring(from: last)
    }
}

extension Array where Element == Rewrite {
    /// Applies each rewrite in order.
    func apply(_ text: String) -> String { reduce(text) { $1.apply($0) } }
}

/// One match of a rewrite, with its groups and the text around it.
struct TextMatch {
    let groups: [String]
    let range: NSRange
    let ns: NSString

    /// Marks a word the adapter put at the start of a sentence (capitalized when the text is tidied).
    static let sentenceStart: Character = "\u{E000}"

    subscript(_ i: Int) -> String { i < groups.count ? groups[i] : "" }

    func before(_ n: Int) -> String {
        let start = max(0, range.location - n)
        return ns.substring(with: NSRange(location: start, length: range.location - start))
    }

    func after(_ n: Int) -> String {
        let start = range.location + range.length
        return ns.substring(with: NSRange(location: start, length: min(n, ns.length - start)))
    }

    private static let wordBefore = try! NSRegularExpression(pattern: #"(\p{L}[\p{L}'’-]*)[ \x{A0}]+$"#)
    private static let wordAfter = try! NSRegularExpression(pattern: #"^[ \x{A0}\x{202F}]+(\p{L}+)"#)
    private static let sentenceGoesOn = try! NSRegularExpression(pattern: #"^(?:[\s"”’»)\]]*$|\s*\n|\s+[«"“(]?\p{Lu})"#)

    /// The word just before the match (with only spaces between) and where it starts.
    var previousWordInfo: (word: String, location: Int)? {
        let start = max(0, range.location - 40)
        let before = ns.substring(with: NSRange(location: start, length: range.location - start)) as NSString
        guard let r = Self.wordBefore.firstMatch(in: before as String, range: NSRange(location: 0, length: before.length)) else { return nil }
        return (before.substring(with: r.range(at: 1)), start + r.range(at: 1).location)
    }

    var previousWord: String? { previousWordInfo?.word }

    var nextWord: String? {
        let after = self.after(40) as NSString
        guard let r = Self.wordAfter.firstMatch(in: after as String, range: NSRange(location: 0, length: after.length)) else { return nil }
        return after.substring(with: r.range(at: 1))
    }

    /// Whether the full stop that closes this match also closes the sentence: nothing but closing marks follow
    /// before the end, a line break or a capital letter.
    var periodEndsSentence: Bool {
        let rest = after(12)
        return Self.sentenceGoesOn.firstMatch(in: rest, range: NSRange(location: 0, length: (rest as NSString).length)) != nil
    }

    /// Whether the text at this offset starts a sentence: the start of the text or a line, or after . ! ? …
    static func atSentenceStart(_ location: Int, _ ns: NSString) -> Bool {
        var i = location - 1
        while i >= 0, let scalar = Unicode.Scalar(ns.character(at: i)),
              scalar == " " || scalar == "\u{A0}" || scalar == "\u{E000}" || "\"“«([".unicodeScalars.contains(scalar) { i -= 1 }
        guard i >= 0, let scalar = Unicode.Scalar(ns.character(at: i)) else { return true }
        return ".!?…\n".unicodeScalars.contains(scalar)
    }
}
