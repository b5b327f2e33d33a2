import CEspeak
import Foundation
import Shared

/// espeak-ng as the phonemiser of the Piper voices (the same IPA Piper's own phonemiser writes), on the espeak
/// thread: the library is one global engine.
extension EspeakEngine {
    /// The sentences of a paragraph as clauses of IPA, and each word's phonemes said alone. `words`: the
    /// paragraph's words (the subtitles' words); a word with letters of another script is not said.
    func phonemize(_ words: [String], voice: String) async throws -> (sentences: [[PhonemeClause]], alone: [String]) {
        try await pool.run {
            try Self.start()
            guard espeak_SetVoiceByName(voice) == EE_OK else { throw StageFailure.permanent("espeak-ng has no voice '\(voice)'") }
            let said = words.map { SpeechMarkup.speakableInLatin($0) ? $0 : "" }
            let alone = said.map { $0.isEmpty ? "" : Self.clauses(of: $0, words: [$0]).map(\.phonemes).joined(separator: " ") }
            var sentences: [[PhonemeClause]] = [], current: [PhonemeClause] = []
            for clause in Self.clauses(of: said.joined(separator: " "), words: said) {
                current.append(clause)
                if let t = clause.terminator, ".?!".contains(t) { sentences.append(current); current = [] }
            }
            if !current.isEmpty { sentences.append(current) }
            return (sentences, alone)
        }
    }

    /// espeak_TextToPhonemes clause by clause over `text` (the words joined by single spaces); a clause covers
    /// the words that start inside it.
    private static func clauses(of text: String, words: [String]) -> [PhonemeClause] {
        var starts: [Int] = [], offset = 0
        for w in words { starts.append(offset); offset += w.utf8.count + 1 }
        let bytes = Array(text.utf8)
        return text.withCString { base -> [PhonemeClause] in
            var clauses: [PhonemeClause] = []
            var pointer: UnsafeRawPointer? = UnsafeRawPointer(base)
            var firstWord = 0
            while let before = pointer, before.assumingMemoryBound(to: CChar.self).pointee != 0 {
                let from = before - UnsafeRawPointer(base)
                let ipa = espeak_TextToPhonemes(&pointer, espeakCHARS_UTF8, Int32(espeakPHONEMES_IPA)).map { String(cString: $0) } ?? ""
                // libespeak-ng 1.51 leaves the pointer one character past the clause: step back over it.
                var end = bytes.count
                if let p = pointer {
                    end = p - UnsafeRawPointer(base) - 1
                    while end > from && bytes[end] & 0xC0 == 0x80 { end -= 1 }
                }
                if pointer != nil && end <= from { break }  // no progress: never loop
                let lastWord = starts.lastIndex { $0 < end } ?? (firstWord - 1)
                clauses.append(PhonemeClause(phonemes: withoutLanguageFlags(ipa), terminator: terminator(bytes[from..<end]),
                                             words: firstWord..<max(firstWord, lastWord + 1)))
                firstWord = max(firstWord, lastWord + 1)
            }
            return clauses
        }
    }

    /// The punctuation that ends a clause (looking back over closing quotes and brackets), if any.
    private static func terminator(_ clause: ArraySlice<UInt8>) -> Character? {
        for b in clause.reversed() {
            if ".?!,:;".utf8.contains(b) { return Character(Unicode.Scalar(b)) }
            if !" \n\"')".utf8.contains(b) { return nil }
        }
        return nil
    }

    /// espeak-ng marks a word read in another language's voice with "(en)"; Piper's phonemiser drops those.
    private static func withoutLanguageFlags(_ ipa: String) -> String {
        var out = "", inFlag = false
        for c in ipa {
            if c == "(" { inFlag = true } else if c == ")" { inFlag = false } else if !inFlag { out.append(c) }
        }
        return out
    }
}
