import Foundation
import Shared

/// One clause as espeak-ng phonemises it for a Piper voice: its IPA, the punctuation that ends it (which the voice
/// reads as a pause), and the words of the text it covers (indices into the sentence's words).
struct PhonemeClause: Sendable, Hashable {
    var phonemes: String
    var terminator: Character?
    var words: Range<Int>
}

/// Word starts from a Piper voice's own durations: the voice says the phoneme codepoints of a sentence, and its
/// duration predictor gives the frames of every token (`^ _ (p _)* $`: a start, a pad after each codepoint, an
/// end); a word starts at its first phoneme. Which phonemes belong to which word comes from aligning the
/// sentence's phonemes with each word's phonemes said alone (espeak-ng joins "do not" into one group and splits
/// "ReelForge" in two, so the groups are not the words).
enum PhonemeTiming {
    /// The codepoints a Piper voice reads for these clauses, as Piper's own phonemiser writes them: the clause's
    /// phonemes, its terminator, and a space after `,` `:` `;`. `owner[i]`: the word (index) codepoint `i` was
    /// aligned to, nil for punctuation and spaces.
    static func codepoints(_ clauses: [PhonemeClause], wordPhonemes: [String]) -> (codepoints: [Int32], owner: [Int?]) {
        var codepoints: [Int32] = [], owner: [Int?] = []
        for clause in clauses {
            let said = Array(clause.phonemes.unicodeScalars)
            let mine = align(said, words: clause.words.map { (index: $0, phonemes: Array(wordPhonemes[$0].unicodeScalars)) })
            codepoints += said.map { Int32($0.value) }
            owner += mine
            if let t = clause.terminator {
                codepoints.append(Int32(t.unicodeScalars.first!.value)); owner.append(nil)
                if ",:;".contains(t) { codepoints.append(0x20); owner.append(nil) }
            }
        }
        return (codepoints, owner)
    }

    /// For each scalar of `said`, the word whose phonemes (said alone) it lines up with in an edit-distance
    /// alignment; nil for spaces and for what lines up with nothing.
    static func align(_ said: [Unicode.Scalar], words: [(index: Int, phonemes: [Unicode.Scalar])]) -> [Int?] {
        let alone = words.flatMap { w in w.phonemes.map { (w.index, $0) } }
        let n = said.count, m = alone.count
        guard n > 0, m > 0 else { return [Int?](repeating: words.first?.index, count: n) }
        // cost[i][j]: aligning said[..<i] with alone[..<j]; a match costs 0, a substitution 1, a gap 1.
        var cost = [[Int32]](repeating: [Int32](repeating: 0, count: m + 1), count: n + 1)
        for i in 0...n { cost[i][0] = Int32(i) }
        for j in 0...m { cost[0][j] = Int32(j) }
        for i in 1...n {
            for j in 1...m {
                let sub = cost[i - 1][j - 1] + (said[i - 1] == alone[j - 1].1 ? 0 : 1)
                cost[i][j] = min(sub, cost[i - 1][j] + 1, cost[i][j - 1] + 1)
            }
        }
        var owner = [Int?](repeating: nil, count: n)
        var i = n, j = m
        while i > 0 && j > 0 {
            let sub = cost[i - 1][j - 1] + (said[i - 1] == alone[j - 1].1 ? 0 : 1)
            if cost[i][j] == sub { owner[i - 1] = alone[j - 1].0; i -= 1; j -= 1 }
            else if cost[i][j] == cost[i - 1][j] + 1 { i -= 1 }
            else { j -= 1 }
        }
        // What lined up with nothing belongs to the word before it (or after it, at the start); spaces to none.
        var last: Int? = nil
        for k in 0..<n { if let o = owner[k] { last = o } else { owner[k] = last } }
        var next: Int? = nil
        for k in (0..<n).reversed() { if owner[k] == nil { owner[k] = next } else { next = owner[k] } }
        for k in 0..<n where said[k] == " " { owner[k] = nil }
        return owner
    }

    /// Each word's span (seconds from the sentence's start) from the tokens' frame counts: codepoint `i` is
    /// token `2 + 2i`, followed by its pad; a word lasts from its first phoneme to the pad after its last, so a
    /// pause (the tokens of `,` or `.`) falls between words. Words the voice says nothing of get nil.
    static func spans(owner: [Int?], frames: [Float], wordCount: Int, secondsPerFrame: Double) -> [(start: Double, end: Double)?] {
        var spans = [(start: Double, end: Double)?](repeating: nil, count: wordCount)
        var elapsed = 0.0
        for (t, f) in frames.enumerated() {
            let end = (elapsed + Double(f)) * secondsPerFrame
            let codepoint = (t - 2) / 2
            if t >= 2, codepoint < owner.count, let w = owner[codepoint], w < wordCount {
                spans[w] = (spans[w]?.start ?? elapsed * secondsPerFrame, end)
            }
            elapsed += Double(f)
        }
        return spans
    }
}
