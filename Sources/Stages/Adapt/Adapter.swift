import Foundation
import Logging
import Shared

/// One subtitle cue: at most two lines of text, in reading order.
public struct Cue: Codable, Sendable, Hashable {
    public var index: Int
    public var text: String
    public var lines: [String]
    public init(index: Int, text: String, lines: [String]) { self.index = index; self.text = text; self.lines = lines }
}

/// A script rewritten for speech.
public struct AdaptedScript: Codable, Sendable, Hashable {
    /// Plain speakable text (numbers and symbols as words, no markdown, no URLs).
    public var text: String
    /// The same text with pause marks for the chosen speech provider.
    public var speechText: String
    public var cues: [Cue]
    public var language: String
}

/// How pauses are marked for the speech provider.
public enum PauseStyle: String, Sendable { case punctuation, ssml, elevenlabs }

/// The deterministic adapter: English and French rules for numbers, ordinals, decimals, percentages, currencies,
/// years, dates, times, units, abbreviations and symbols; markdown and emojis removed, web addresses spoken as
/// their domain; cues split at sentence and phrase boundaries.
///
/// Adapting already adapted text gives it back unchanged, so a later stage may adapt the stored text again to get
/// another pause style.
public struct RuleBasedAdapter: Sendable {
    public var maxCharactersPerLine: Int
    public var pauseStyle: PauseStyle

    public init(maxCharactersPerLine: Int = 32, pauseStyle: PauseStyle = .punctuation) {
        self.maxCharactersPerLine = max(12, maxCharactersPerLine); self.pauseStyle = pauseStyle
    }

    public func adapt(_ text: String, language: String) -> AdaptedScript {
        let fr = language.lowercased().hasPrefix("fr")
        var t = normalize(text)
        t = stripMarkdown(t)
        t = speakAddresses(t, fr: fr)
        t = replace(t, #"[0-9#*]\x{FE0F}?\x{20E3}"#) { _ in "" }  // keycaps (1️⃣) before the numbers are read
        t = expandAbbreviations(t, fr: fr)
        t = numbers(t, fr: fr)
        t = expandSymbols(t, fr: fr)
        // The subtitles keep the emojis; the voice does not read them.
        let display = tidy(t, fr: fr)
        t = tidy(removeEmoji(t), fr: fr)

        let speech: String
        switch pauseStyle {
        case .punctuation: speech = t
        case .ssml:
            let escaped = t.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;")
            speech = "<speak>" + escaped.replacingOccurrences(of: "\n\n", with: " <break time=\"400ms\"/> ") + "</speak>"
        case .elevenlabs: speech = t.replacingOccurrences(of: "\n\n", with: " <break time=\"0.4s\"/> ")
        }
        return AdaptedScript(text: t, speechText: speech, cues: cues(for: display), language: language)
    }

    // MARK: - Cues

    /// Splits text into cues of at most two lines, preferring sentence, then phrase, then word boundaries.
    public func cues(for text: String) -> [Cue] {
        let maxCue = maxCharactersPerLine * 2
        var phrases: [String] = []
        for sentence in splitKeeping(text.replacingOccurrences(of: "\n\n", with: " "), at: ".!?…") {
            if sentence.count <= maxCue { phrases.append(sentence); continue }
            for phrase in splitKeeping(sentence, at: ",;:") {
                if phrase.count <= maxCue { phrases.append(phrase); continue }
                // Too long for one cue: cut into the fewest pieces that fit, of about equal length.
                let words = phrase.split(separator: " ").map(String.init)
                let pieces = Int((Double(phrase.count) / Double(maxCue)).rounded(.up))
                let goal = Double(phrase.count) / Double(pieces)
                var current = ""
                for word in words {
                    let next = current.isEmpty ? word : current + " " + word
                    if !current.isEmpty && (next.count > maxCue || Double(current.count) >= goal) {
                        phrases.append(current); current = word
                    } else { current = next }
                }
                if !current.isEmpty { phrases.append(current) }
            }
        }
        // Merge short neighbours when they still fit in one cue; a phrase with nothing to say (a lone "?", an
        // emoji) always joins the one before it.
        var merged: [String] = []
        for p in phrases {
            if let last = merged.last, !p.contains(where: { $0.isLetter || $0.isNumber }) {
                merged[merged.count - 1] = last + " " + p
            } else if let last = merged.last, last.count + 1 + p.count <= maxCharactersPerLine, !endsSentence(last) {
                merged[merged.count - 1] = last + " " + p
            } else { merged.append(p) }
        }
        // A piece whose words cannot make two lines that fit is cut again, line by line.
        var fitted: [String] = []
        for piece in merged {
            if wrap(piece).allSatisfy({ fits($0) }) { fitted.append(piece); continue }
            var lines: [String] = [], line = ""
            for word in piece.split(separator: " ").map(String.init) {
                let next = line.isEmpty ? word : line + " " + word
                if !line.isEmpty && next.count > maxCharactersPerLine { lines.append(line); line = word } else { line = next }
            }
            if !line.isEmpty { lines.append(line) }
            for i in stride(from: 0, to: lines.count, by: 2) { fitted.append(lines[i..<min(i + 2, lines.count)].joined(separator: " ")) }
        }
        return fitted.enumerated().map { i, text in Cue(index: i + 1, text: text, lines: wrap(text)) }
    }

    /// True when `phrase` ends a sentence (its end mark may be followed by closing quotes or brackets, or an emoji):
    /// the voice pauses there, so the next phrase starts a new cue.
    private func endsSentence(_ phrase: String) -> Bool {
        guard let mark = phrase.last(where: { $0.isLetter || $0.isNumber || ".!?…".contains($0) }) else { return false }
        return ".!?…".contains(mark)
    }

    /// A line fits when it is within the limit or is a single word longer than the limit.
    private func fits(_ line: String) -> Bool { line.count <= maxCharactersPerLine || !line.contains(" ") }

    func wrap(_ text: String) -> [String] {
        guard text.count > maxCharactersPerLine else { return [text] }
        let words = text.split(separator: " ").map(String.init)
        // The split that balances the two lines best, preferring to break after a phrase (a comma, a semicolon).
        var best = (cost: Int.max, lines: [text])
        for i in 1..<max(2, words.count) where i < words.count {
            let a = words[..<i].joined(separator: " "), b = words[i...].joined(separator: " ")
            let over = [a, b].map { fits($0) ? 0 : $0.count - maxCharactersPerLine }.reduce(0, +)
            let phrase = a.last.map { ",;:".contains($0) } == true ? maxCharactersPerLine / 2 : 0
            let cost = over * 1000 + abs(a.count - b.count) - phrase
            if cost < best.cost { best = (cost, [a, b]) }
        }
        return best.lines
    }

    /// Splits after a mark that ends a sentence or phrase: the mark (with any marks and closing quotes after it)
    /// must be followed by a space or the end, so "..." and "?!" stay whole and "»" stays with its sentence.
    private func splitKeeping(_ text: String, at marks: String) -> [String] {
        var out: [String] = [], current = ""
        let chars = Array(text), closing: Set<Character> = ["\"", "”", "’", "'", ")", "]", "»"]
        var i = 0
        while i < chars.count {
            current.append(chars[i])
            if marks.contains(chars[i]) {
                var j = i + 1
                while j < chars.count, marks.contains(chars[j]) || closing.contains(chars[j]) { current.append(chars[j]); j += 1 }
                // French closing guillemet after a space: « Salut ! »
                if j + 1 < chars.count, chars[j] == " ", chars[j + 1] == "»" { current += " »"; j += 2 }
                i = j
                if i >= chars.count || chars[i].isWhitespace {
                    let s = current.trimmingCharacters(in: .whitespaces)
                    if !s.isEmpty { out.append(s) }
                    current = ""
                }
                continue
            }
            i += 1
        }
        let s = current.trimmingCharacters(in: .whitespaces)
        if !s.isEmpty { out.append(s) }
        return out
    }

    // MARK: - Text clean-up

    private func normalize(_ text: String) -> String {
        var out = ""
        for ch in text.replacingOccurrences(of: "\r\n", with: "\n") {
            switch ch {
            case "\r": out.append("\n")
            case "\t": out.append(" ")
            case "ᵉ": out.append("e")
            case "ʳ": out.append("r")
            case "ˢ": out.append("s")
            case "ᵈ": out.append("d")
            case "º": out.append("°")
            case "\u{2212}": out.append("-")  // minus sign
            case "\u{2009}", "\u{2007}": out.append("\u{202F}")  // thin and figure spaces: like the narrow no-break space
            case "\u{00AD}", "\u{200B}", "\u{2060}", "\u{FEFF}": break  // soft hyphen, zero-width characters
            default: out.append(ch)
            }
        }
        // Three dots are one ellipsis.
        return out.replacingOccurrences(of: "...", with: "…")
    }

    private func stripMarkdown(_ text: String) -> String {
        var t = text
        t = replace(t, #"(?m)^[ \t]*(```|~~~).*$"#) { _ in "" }
        t = replace(t, #"!\[([^\]\n]*)\]\([^)\n]*\)"#) { _ in "" }
        t = replace(t, #"\[([^\]\n]+)\]\([^)\n]*\)"#) { $0[1] }
        t = replace(t, #"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>\n]*)?/?>"#) { _ in " " }
        t = replace(t, #"(?m)^[ \t]*([-*_])(?:[ \t]*\1){2,}[ \t]*$"#) { _ in "" }
        t = replace(t, #"(?m)^[ \t]*#{1,6}[ \t]+(.+?)[ \t#]*$"#) { self.endSentence($0[1]) }
        t = replace(t, #"(?m)^[ \t]*(?:>[ \t]?)+"#) { _ in "" }
        t = replace(t, #"(?m)^[ \t]*(?:[-*+•‣▪◦]|\d{1,2}[.)])[ \t]+(.+)$"#) { self.endSentence($0[1]) }
        t = replace(t, #"\*\*(?=\S)(.+?)\*\*|__(?=\S)(.+?)__"#) { $0[1] + $0[2] }
        t = replace(t, #"(?<![\p{L}\d*])\*(?=\S)([^*\n]+?)\*(?![\p{L}\d*])"#) { $0[1] }
        t = replace(t, #"(?<![\p{L}\d_])_(?=\S)([^_\n]+?)_(?![\p{L}\d_])"#) { $0[1] }
        t = replace(t, #"~~(?=\S)(.+?)~~"#) { $0[1] }
        t = replace(t, #"`+([^`\n]*)`+"#) { $0[1] }
        // Table rows: each row is read as one sentence, its cells separated by commas.
        t = replace(t, #"(?m)^[ \t]*\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)*\|?[ \t]*$"#) { _ in "" }
        t = replace(t, #"(?m)^[ \t]*\|(.*)\|[ \t]*$"#) { m in
            self.endSentence(m[1].split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: ", "))
        }
        return t
    }

    /// A heading or list item read on its own ends with a full stop, so the voice pauses after it.
    private func endSentence(_ s: String) -> String {
        let trimmed = s.trimmingCharacters(in: .whitespaces)
        guard let last = trimmed.last else { return trimmed }
        return ".!?…:;,".contains(last) ? trimmed : trimmed + "."
    }

    /// Web and e-mail addresses are spoken by their domain: https://www.example.com/page → example dot com.
    private func speakAddresses(_ text: String, fr: Bool) -> String {
        let dot = fr ? " point " : " dot "
        func spoken(_ host: String) -> String {
            host.split(separator: ".").joined(separator: dot)
        }
        var t = text
        t = replace(t, capitalizing: true, #"(?<![\w.+-])([A-Za-z0-9][\w.+-]*)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})(?![\w-])"#) { m in
            spoken(m[1]) + (fr ? " arobase " : " at ") + spoken(m[2])
        }
        let tail = #"(?:[/?#:][^\s<>"'()\[\]«»]*[^\s<>"'()\[\]«».,;:!?])?"#
        t = replace(t, capitalizing: true, #"(?i)\b(?:https?://|www\.)(?:www\.)?([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)"# + tail) { spoken($0[1].lowercased()) }
        let tlds = "com|org|net|io|dev|app|ai|tv|fr|co\\.uk|uk|eu|de|ch|be|ca|info|edu|gov"
        t = replace(t, capitalizing: true, #"(?<![\w@.-])((?:[a-z0-9-]+\.)+(?:"# + tlds + #"))(?![\w-])"# + tail) { spoken($0[1]) }
        return t
    }

    private func removeEmoji(_ text: String) -> String {
        let kept = text.unicodeScalars.filter { s in
            let v = s.value
            if v == 0x200D || v == 0x20E3 || (0xFE00...0xFE0F).contains(v) || (0xE0020...0xE007F).contains(v) { return false }
            return !(v == 0xA9 || v == 0xAE || Self.isEmoji(s))
        }
        return String(String.UnicodeScalarView(kept))
    }

    /// An emoji picture (not a digit or a # that may start an emoji sequence).
    static func isEmoji(_ s: Unicode.Scalar) -> Bool {
        s.properties.isEmojiPresentation || (s.properties.isEmoji && s.value >= 0x2000)
    }

    // MARK: - Abbreviations

    private struct Abbreviation {
        let pattern: String
        let words: String
        /// When the abbreviation's own full stop may also end the sentence (etc. at the end of a sentence).
        var endsSentence = false
    }

    private func expandAbbreviations(_ text: String, fr: Bool) -> String {
        let table: [Abbreviation] = fr ? [
            .init(pattern: #"\bav\.\s?J\.-C\."#, words: "avant Jésus-Christ", endsSentence: true),
            .init(pattern: #"\bapr\.\s?J\.-C\."#, words: "après Jésus-Christ", endsSentence: true),
            .init(pattern: #"\bJ\.-C\."#, words: "Jésus-Christ", endsSentence: true),
            .init(pattern: #"\bMM\.(?=\s+\p{Lu})"#, words: "messieurs"),
            .init(pattern: #"\bM\.(?=\s+\p{Lu})"#, words: "monsieur"),
            .init(pattern: #"\bMr\.?(?=\s+\p{Lu})"#, words: "monsieur"),
            .init(pattern: #"\bMmes\b"#, words: "mesdames"),
            .init(pattern: #"\bMme\b"#, words: "madame"),
            .init(pattern: #"\bMlles\b"#, words: "mesdemoiselles"),
            .init(pattern: #"\bMlle\b"#, words: "mademoiselle"),
            .init(pattern: #"\bDr\.?(?=\s+\p{Lu})"#, words: "docteur"),
            .init(pattern: #"\bDre\.?(?=\s+\p{Lu})"#, words: "docteure"),
            .init(pattern: #"\bPr\.?(?=\s+\p{Lu})"#, words: "professeur"),
            .init(pattern: #"\bMgr\b"#, words: "monseigneur"),
            .init(pattern: #"\bSte-(?=\p{Lu})"#, words: "Sainte-"),
            .init(pattern: #"\bSt-(?=\p{Lu})"#, words: "Saint-"),
            .init(pattern: #"\bSte\.?(?=\s+\p{Lu})"#, words: "sainte"),
            .init(pattern: #"\bSt\.?(?=\s+\p{Lu})"#, words: "saint"),
            .init(pattern: #"\betc\."#, words: "et cetera", endsSentence: true),
            .init(pattern: #"\betc\b"#, words: "et cetera"),
            .init(pattern: #"\bp\.\s?ex\."#, words: "par exemple"),
            .init(pattern: #"\bex\.(?=\s)"#, words: "par exemple"),
            .init(pattern: #"\bc\.-à-d\.|\bc-à-d\b"#, words: "c'est-à-dire"),
            .init(pattern: #"\bcf\."#, words: "voir"),
            .init(pattern: #"\benv\.(?=\s)"#, words: "environ"),
            .init(pattern: #"\bvs\.?(?=\s)"#, words: "contre"),
            .init(pattern: #"\b[nN]°\s?(?=\d)"#, words: "numéro "),
            .init(pattern: #"\bhab\."#, words: "habitants", endsSentence: true),
            .init(pattern: #"\bqqn\b"#, words: "quelqu'un"),
            .init(pattern: #"\bqqch\b"#, words: "quelque chose"),
            .init(pattern: #"\b(?:svp|SVP|Svp)\b"#, words: "s'il vous plaît"),
            .init(pattern: #"\btél\.(?=\s)"#, words: "téléphone"),
            .init(pattern: #"\bchap\.(?=\s)"#, words: "chapitre"),
            .init(pattern: #"\bbd\b(?=\s)"#, words: "boulevard"),
            .init(pattern: #"\bav\.(?=\s)"#, words: "avenue"),
            .init(pattern: #"\bpp\.\s?(?=\d)"#, words: "pages "),
            .init(pattern: #"\bp\.\s?(?=\d)"#, words: "page "),
            .init(pattern: #"\bCie\b"#, words: "compagnie"),
        ] : [
            .init(pattern: #"\bDr\.?(?=\s+\p{Lu})"#, words: "Doctor"),
            .init(pattern: #"\bMr\.(?=\s)|\bMr(?=\s+\p{Lu})"#, words: "Mister"),
            .init(pattern: #"\bMrs\.(?=\s)|\bMrs(?=\s+\p{Lu})"#, words: "Missus"),
            .init(pattern: #"\bMs\.(?=\s)|\bMs(?=\s+\p{Lu})"#, words: "Miz"),
            .init(pattern: #"\bProf\.(?=\s+\p{Lu})"#, words: "Professor"),
            .init(pattern: #"\bMt\.(?=\s+\p{Lu})"#, words: "Mount"),
            .init(pattern: #"\bFt\.(?=\s+\p{Lu})"#, words: "Fort"),
            .init(pattern: #"\bJr\."#, words: "Junior", endsSentence: true),
            .init(pattern: #"\bSr\."#, words: "Senior", endsSentence: true),
            .init(pattern: #"\bAve\."#, words: "Avenue", endsSentence: true),
            .init(pattern: #"\bBlvd\."#, words: "Boulevard", endsSentence: true),
            .init(pattern: #"\b[Nn]o\.\s?(?=\d)"#, words: "number "),
            .init(pattern: #"\bFig\.\s?(?=\d)"#, words: "Figure "),
            .init(pattern: #"\bvs\.?(?=\s)"#, words: "versus"),
            .init(pattern: #"\betc\."#, words: "et cetera", endsSentence: true),
            .init(pattern: #"\betc\b"#, words: "et cetera"),
            .init(pattern: #"\b[eE]\.g\.|\beg\.(?=,)"#, words: "for example"),
            .init(pattern: #"\b[iI]\.e\."#, words: "that is"),
            .init(pattern: #"\ba\.k\.a\."#, words: "also known as"),
            .init(pattern: #"\bapprox\."#, words: "approximately", endsSentence: true),
            .init(pattern: #"\bca\.\s?(?=\d)"#, words: "circa "),
            .init(pattern: #"\bInc\."#, words: "Incorporated", endsSentence: true),
            .init(pattern: #"\bLtd\."#, words: "Limited", endsSentence: true),
            .init(pattern: #"\bw/o\b"#, words: "without"),
            .init(pattern: #"\bw/(?=\s)"#, words: "with"),
            .init(pattern: #"\bU\.S\.A\."#, words: "USA", endsSentence: true),
            .init(pattern: #"\bU\.S\."#, words: "US", endsSentence: true),
            .init(pattern: #"\bU\.K\."#, words: "UK", endsSentence: true),
        ]
        var t = text
        // English "St.": Saint in front of a name (St. Louis), Street after one (Baker St.).
        if !fr {
            t = replace(t, capitalizing: true, #"\bSt\.(\s+\p{Lu})?"#) { m in
                let afterName = self.previousWordInfo(m).map { $0.word.first?.isUppercase == true && !self.atSentenceStart($0.location, m.ns) } ?? false
                if afterName { return "Street" + (self.periodEndsSentence(m) ? "." : "") + m[1] }
                return m[1].isEmpty ? m[0] : "Saint" + m[1]
            }
        }
        for a in table {
            t = replace(t, capitalizing: true, a.pattern) { m in
                var words = a.words
                if a.endsSentence && self.periodEndsSentence(m) { words += "." }
                return words
            }
        }
        return t
    }

    /// Whether the full stop that closes this match also closes the sentence: nothing but closing marks follow
    /// before the end, a line break or a capital letter.
    private func periodEndsSentence(_ m: Match) -> Bool {
        let rest = m.after(12)
        return matches(rest, #"^(?:[\s"”’»)\]]*$|\s*\n|\s+[«"“(]?\p{Lu})"#)
    }

    // MARK: - Numbers

    /// The ways a number is written: thousands grouped (1,500 in English; 1 500 with a space, no-break space or
    /// narrow no-break space in French, and in English as SI writes it) and an optional decimal part (3.5; 3,5).
    private func numberPattern(_ fr: Bool) -> String {
        fr ? #"\d{1,3}(?:[ \x{A0}\x{202F}]\d{3})+(?:,\d+)?(?!\d)|\d+(?:[,.]\d+)?"#
            : #"\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\d)|\d{1,3}(?:[ \x{A0}\x{202F}]\d{3})+(?:\.\d+)?(?!\d)|\d+(?:\.\d+)?"#
    }

    /// A written number split into its integer digits and its decimal digits.
    private struct Written {
        var int: String
        var frac: String?
        var value: Double { Double(int + "." + (frac ?? "0")) ?? 0 }
        var isInteger: Bool { frac == nil }
        var intValue: Int? { int.count <= 15 ? Int(int) : nil }
    }

    private func parse(_ raw: String, _ fr: Bool) -> Written {
        var s = raw.filter { !" \u{A0}\u{202F}".contains($0) }
        s = fr ? s.replacingOccurrences(of: ",", with: ".") : s.replacingOccurrences(of: ",", with: "")
        let parts = s.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let int = parts[0].isEmpty ? "0" : String(parts[0])
        return Written(int: int, frac: parts.count > 1 && !parts[1].isEmpty ? String(parts[1]) : nil)
    }

    private func digitWords(_ digits: some StringProtocol, _ fr: Bool) -> String {
        digits.compactMap { $0.wholeNumberValue }.map { fr ? NumberWords.french($0) : NumberWords.english($0) }.joined(separator: " ")
    }

    /// Integer digits as words; with leading zeros (007) or too long for a number, digit by digit.
    private func cardinal(_ digits: String, _ fr: Bool, feminine: Bool = false) -> String {
        if (digits.count > 1 && digits.hasPrefix("0")) || digits.count > 15 { return digitWords(digits, fr) }
        let n = Int(digits) ?? 0
        return fr ? (feminine ? NumberWords.frenchFeminine(n) : NumberWords.french(n)) : NumberWords.english(n)
    }

    /// A number with its decimal part: three point one four; trois virgule quatorze, trois virgule zéro cinq.
    private func decimal(_ w: Written, _ fr: Bool, feminine: Bool = false) -> String {
        var s = cardinal(w.int, fr, feminine: feminine && w.isInteger)
        guard let f = w.frac else { return s }
        if fr {
            let zeros = f.prefix { $0 == "0" }.count, rest = f.dropFirst(zeros)
            var parts = Array(repeating: "zéro", count: zeros)
            if !rest.isEmpty { parts.append(rest.count <= 3 ? NumberWords.french(Int(rest) ?? 0) : digitWords(rest, true)) }
            s += " virgule " + parts.joined(separator: " ")
        } else {
            s += " point " + digitWords(f, false)
        }
        return s
    }

    private static let frenchMonths = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
                                       "septembre", "octobre", "novembre", "décembre"]
    private static let englishMonths = ["January", "February", "March", "April", "May", "June", "July", "August",
                                        "September", "October", "November", "December"]

    /// Feminine French nouns often counted in narration: "1 heure" is "une heure", "21 fois" "vingt et une fois".
    private static let feminineNouns: Set<String> = [
        "heure", "minute", "seconde", "fois", "semaine", "année", "journée", "nuit", "soirée", "matinée", "personne",
        "espèce", "tonne", "étoile", "planète", "ville", "femme", "fille", "page", "place", "chose", "idée", "raison",
        "étape", "question", "réponse", "vidéo", "photo", "image", "voiture", "maison", "langue", "lettre",
        "victoire", "défaite", "patte", "dent", "cellule", "calorie", "vie", "saison", "série", "règle", "erreur",
        "famille", "équipe", "école", "entreprise", "pièce", "partie", "tête", "main", "jambe", "aile",
        "couleur", "forme", "histoire", "décennie", "génération", "méthode", "astuce", "leçon", "chance", "manière",
        "façon", "île", "montagne", "rivière", "mer", "plante", "fleur", "graine",
    ]

    /// Whether a French noun is feminine: from the list, or by an ending that is (almost) always feminine.
    private func isFeminine(_ noun: String) -> Bool {
        let w = singular(noun)
        if Self.feminineNouns.contains(w) { return true }
        if ["silence", "bastion", "comité", "cimetière", "squelette", "mercure", "murmure"].contains(w) { return false }
        return ["tion", "sion", "ette", "ienne", "euse", "trice", "ance", "ence", "ière", "ité", "ure", "aison"].contains { w.hasSuffix($0) }
    }

    private func numbers(_ text: String, fr: Bool) -> String {
        let num = numberPattern(fr)
        var t = text

        // Dates: ISO (2024-05-01), day/month/year in French and month/day/year in English.
        t = replace(t, capitalizing: true, #"(?<![\d/.-])(\d{4})-(\d{2})-(\d{2})(?![\d/-])"#) { m in
            self.date(day: Int(m[3]) ?? 0, month: Int(m[2]) ?? 0, year: m[1], fr)
        }
        t = replace(t, capitalizing: true, #"(?<![\d/.])(\d{1,2})/(\d{1,2})/(\d{4})(?![\d/])"#) { m in
            let a = Int(m[1]) ?? 0, b = Int(m[2]) ?? 0
            let dayFirst = fr || a > 12
            return self.date(day: dayFirst ? a : b, month: dayFirst ? b : a, year: m[3], fr)
        }
        if fr {
            // "1 mai" is "premier mai"; the other days are cardinals.
            t = replace(t, capitalizing: true, #"(?<![\d.,])1(?:er)?(?=\s+(?:"# + Self.frenchMonths.joined(separator: "|") + #")\b)"#) { _ in "premier" }
        } else {
            let month = #"(January|February|March|April|May|June|July|August|September|October|November|December|Jan\.|Feb\.|Mar\.|Apr\.|Jun\.|Jul\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\.)"#
            // May 5, 2024 → May fifth, twenty twenty-four.
            t = replace(t, capitalizing: true, month + #"\s(\d{1,2})(?:st|nd|rd|th)?(?![\d:.,]\d)(?![\p{L}\d])(?:(,?)\s(\d{4})(?!\d))?"#) { m in
                guard let d = Int(m[2]), (1...31).contains(d) else { return nil }
                let name = self.fullMonth(m[1])
                return name + " " + NumberWords.englishOrdinal(d) + (m[4].isEmpty ? "" : (m[3].isEmpty ? " " : ", ") + NumberWords.englishYear(Int(m[4]) ?? 0))
            }
            // 5 May 2024 → the fifth of May twenty twenty-four.
            t = replace(t, capitalizing: true, #"(?<![\d.,])(\d{1,2})(?:st|nd|rd|th)?\s"# + month + #"(?:\s(\d{4})(?!\d))?"#) { m in
                guard let d = Int(m[1]), (1...31).contains(d) else { return nil }
                return "the " + NumberWords.englishOrdinal(d) + " of " + self.fullMonth(m[2]) + (m[3].isEmpty ? "" : " " + NumberWords.englishYear(Int(m[3]) ?? 0))
            }
        }

        // Ranges: 10-20, 1939–1945, 9h-17h, 10 – 20; a hyphen with spaces around it subtracts.
        t = replace(t, capitalizing: true, #"(?<=\d|\d[h%])(?:[-–]|[ \x{A0}\x{202F}]–[ \x{A0}\x{202F}])(?=[$€£]?\d)"#) { _ in fr ? " à " : " to " }
        t = replace(t, capitalizing: true, #"(?<=\d) - (?=\d)"#) { _ in fr ? " moins " : " minus " }
        // A minus sign: -5 °C.
        t = replace(t, capitalizing: true, #"(?<![\p{L}\d.,])-(?=[$€£]?\d)"#) { _ in fr ? "moins " : "minus " }

        // Times.
        if fr {
            // 14h30, 14 h 30, 14:30, 9h → quatorze heures trente, neuf heures.
            t = replace(t, capitalizing: true, #"(?<![\d.,:])(\d{1,2})[ \x{A0}\x{202F}]?(?:h|:)[ \x{A0}\x{202F}]?(\d{2})(?![\d:])|(?<![\d.,:])(\d{1,2})[ \x{A0}\x{202F}]?h(?![\p{L}\d])"#) { m in
                let h = Int(m[1].isEmpty ? m[3] : m[1]) ?? 99, min = Int(m[2]) ?? 0
                guard h < 24 || (h == 24 && min == 0), min < 60 else { return nil }
                return NumberWords.frenchFeminine(h) + (h < 2 ? " heure" : " heures") + (min == 0 ? "" : " " + NumberWords.frenchFeminine(min))
            }
        } else {
            // 3:30 pm, 3pm, 14:30 → three thirty PM, three PM, two thirty PM.
            t = replace(t, capitalizing: true, #"(?<![\d.,:])(\d{1,2})(?::(\d{2}))?(?:\s?([AaPp])\.?\s?[Mm]\b(\.?))(?!\p{L})|(?<![\d.,:])(\d{1,2}):(\d{2})(?![\d:])"#) { m in
                let hasMeridiem = !m[3].isEmpty
                let h = Int(hasMeridiem ? m[1] : m[5]) ?? 99, min = Int(hasMeridiem ? m[2] : m[6]) ?? 0
                if !hasMeridiem && h == 24 && min == 0 { return "midnight" }
                guard min < 60, hasMeridiem ? (1...12).contains(h) : h < 24 else { return nil }
                var meridiem = hasMeridiem ? (m[3].lowercased() == "a" ? "AM" : "PM") : ""
                var hour = h
                if !hasMeridiem && (h == 0 || h > 12) { meridiem = h == 0 ? "AM" : "PM"; hour = h == 0 ? 12 : h - 12 }
                var s = NumberWords.english(hour)
                if min == 0 { s += meridiem.isEmpty ? " o'clock" : "" } else { s += " " + (min < 10 ? "oh " : "") + NumberWords.english(min) }
                if !meridiem.isEmpty { s += " " + meridiem }
                // "p.m." that ends the sentence keeps its full stop.
                if !m[4].isEmpty && self.periodEndsSentence(m) { s += "." }
                return s
            }
        }

        // Money: $5, 5 $, €5, 5€, 1 500 €, 2.50 €, $1.5 million, 5 M€.
        let scale = fr ? #"millions?|milliards?|k|M|Mds?|Mrds?"# : #"million|billion|trillion|bn|k|M|B"#
        let symbols = #"US\$|\$|€|£|¥"#
        t = replace(t, capitalizing: true, #"(?<![\p{L}\d])("# + symbols + #")[ \x{A0}\x{202F}]?("# + num + #")(?:[ \x{A0}\x{202F}]?("# + scale + #")(?![\p{L}]))?"#) { m in
            self.money(m[2], scale: m[3], currency: m[1], fr)
        }
        t = replace(t, capitalizing: true, #"(?<![\p{L}\d.,])("# + num + #")(?:[ \x{A0}\x{202F}]?("# + scale + #"))?[ \x{A0}\x{202F}]?("# + symbols + #"|USD|EUR|GBP|CHF|JPY)(?![\p{L}])"#) { m in
            self.money(m[1], scale: m[2], currency: m[3], fr)
        }

        // Percentages: 25%, 25 %, 3.5%.
        t = replace(t, capitalizing: true, #"(?<![\p{L}\d.,])("# + num + #")[ \x{A0}\x{202F}]?%"#) { m in
            self.decimal(self.parse(m[1], fr), fr) + (fr ? " pour cent" : " percent")
        }

        // Decades: 1990s, the '90s, her 20s.
        if !fr {
            t = replace(t, capitalizing: true, #"(?<![\p{L}\d.,'’])(['’]?)(\d{2}|\d{4})['’]?s(?![\p{L}\d])"#) { m in
                guard let n = Int(m[2]), n % 10 == 0 else { return nil }
                if m[2].count == 2 {
                    guard n >= 20 || !m[1].isEmpty, n >= 10 else { return nil }
                    return self.plural(NumberWords.english(n))
                }
                return self.plural(NumberWords.englishYear(n))
            }
        }

        // Units and degrees: 5 km, 2.5 kg, 90 km/h, 20 °C.
        t = replace(t, capitalizing: true, #"(?<![\p{L}\d.,])("# + num + #")[ \x{A0}\x{202F}]?("# + unitPattern(fr) + #")(?![\p{L}\d])"#) { m in
            let key = m[2].replacingOccurrences(of: " ", with: "").replacingOccurrences(of: "\u{A0}", with: "").replacingOccurrences(of: "\u{202F}", with: "")
            guard let unit = (fr ? Self.frenchUnits : Self.englishUnits)[key] else { return nil }
            let w = self.parse(m[1], fr)
            let singular = fr ? w.value < 2 : (w.isInteger && w.int == "1")
            if fr, key == "m", let f = w.frac, f.count == 2, !f.hasPrefix("0") {
                // A height: 1,80 m → un mètre quatre-vingts.
                return self.cardinal(w.int, fr) + " " + (singular ? unit.one : unit.many) + " " + NumberWords.french(Int(f) ?? 0)
            }
            return self.decimal(w, fr, feminine: unit.feminine) + " " + (singular ? unit.one : unit.many)
        }

        // Ordinals: 1st, 2nd, 21st; 1er, 1re, 2e, 2ème, 2nde; XIXe, Ier.
        if fr {
            t = replace(t, capitalizing: true, #"(?<![\p{L}\d.,])(\d+)(ers|er|res|re|ères|ère|èmes|ème|emes|eme|es|e|è|ndes|nde|nds|nd|des|de|ds|d)(?![\p{L}\d])"#) { m in
                guard let n = Int(m[1]) else { return nil }
                return self.frenchOrdinal(n, suffix: m[2])
            }
            t = replace(t, capitalizing: true, #"(?<![\p{L}\d])([IVX]+)(ers|er|res|re|ères|ère|èmes|ème|emes|eme|es|e|è)(?![\p{L}\d])"#) { m in
                guard let n = self.roman(m[1]) else { return nil }
                return self.frenchOrdinal(n, suffix: m[2])
            }
        } else {
            t = replace(t, capitalizing: true, #"(?<![\p{L}\d.,])(\d+)(st|nd|rd|th|ST|ND|RD|TH)(?![\p{L}\d])"#) { m in
                guard let n = Int(m[1]) else { return nil }
                return NumberWords.englishOrdinal(n)
            }
        }
        // Roman numerals after a name or a title word: Louis XIV, World War II, chapitre IV.
        t = replace(t, capitalizing: true, #"(?<![\p{L}\d])(\p{L}[\p{L}'’-]*)[ \x{A0}]([IVX]{2,})(?![\p{L}\d])"#) { m in
            guard let n = self.roman(m[2]) else { return nil }
            let word = m[1], lower = word.lowercased()
            let titles: Set<String> = fr
                ? ["chapitre", "tome", "acte", "partie", "saison", "volume", "livre", "titre", "article", "épisode", "scène", "phase", "type", "niveau", "guerre", "mondiale"]
                : ["war", "part", "chapter", "act", "volume", "vol", "episode", "book", "season", "phase", "type", "level", "stage", "class", "grade", "apollo", "title", "section", "article", "round", "step", "mark", "gen", "generation"]
            let functionWords: Set<String> = fr
                ? ["le", "la", "les", "un", "une", "des", "de", "du", "et", "ou", "en", "au", "aux", "à", "ce", "cette", "il", "elle"]
                : ["the", "a", "an", "and", "or", "of", "in", "on", "at", "to", "by", "for", "with", "is", "was", "i", "it", "this", "that"]
            if titles.contains(lower) {
                let words = fr ? NumberWords.french(n) : NumberWords.english(n)
                return word + " " + (fr ? words : self.capitalizedWords(words))
            }
            guard word.first?.isUppercase == true, !functionWords.contains(lower) else { return nil }
            // Regnal numbers: Louis quatorze, François premier; Louis the Fourteenth, Elizabeth the Second.
            return word + " " + (fr ? NumberWords.french(n) : "the " + self.capitalizedWords(NumberWords.englishOrdinal(n)))
        }

        // Vulgar fractions: 1½ → one and a half, ¾ → three quarters.
        t = replace(t, capitalizing: true, #"(?<![\d.,])(\d+)?[ \x{A0}]?([½¼¾])"#) { m in
            let index = ["½": 0, "¼": 1, "¾": 2][m[2]] ?? 0
            if m[1].isEmpty {
                return (fr ? ["un demi", "un quart", "trois quarts"] : ["one half", "one quarter", "three quarters"])[index]
            }
            return self.cardinal(m[1], fr) + (fr ? [" et demi", " et quart", " trois quarts"] : [" and a half", " and a quarter", " and three quarters"])[index]
        }
        // Day and month: 25/12 and 12/03 in French, 12/25 and 03/12 in English; a score such as 10/10 is not a date.
        t = replace(t, capitalizing: true, #"(?<![\p{L}\d/.,])(\d{2})/(\d{2})(?![\d/])"#) { m in
            guard let a = Int(m[1]), let b = Int(m[2]) else { return nil }
            let (day, month) = fr ? (a, b) : (b, a)
            guard (1...12).contains(month), (1...31).contains(day), m[1].hasPrefix("0") || m[2].hasPrefix("0") || day > month else { return nil }
            return fr ? (day == 1 ? "premier" : NumberWords.french(day)) + " " + Self.frenchMonths[month - 1]
                : Self.englishMonths[month - 1] + " " + NumberWords.englishOrdinal(day)
        }
        // Fractions and ratios: 1/2, 3/4, 24/7, 9/10; a rate: 5 €/mois, $5/month.
        t = replace(t, capitalizing: true, #"(?<![\p{L}\d/.,])(\d{1,3})/(\d{1,3})(?![\d/])"#) { m in
            guard let a = Int(m[1]), let b = Int(m[2]) else { return nil }
            return self.fraction(a, b, fr)
        }
        t = replace(t, fr ? #"(?<=\p{L}|\d)[ ]?/[ ]?(?=(?:an|mois|jour|semaine|heure|minute|seconde|personne|habitant|tête|nuit|litre|kg|km|m²)\b)"#
                          : #"(?<=\p{L}|\d)[ ]?/[ ]?(?=(?:year|month|day|week|hour|minute|second|person|capita|night|liter|litre|gallon|kg|km|mile|unit)\b)"#) { _ in
            fr ? " par " : " per "
        }
        // A hyphen between a word and a number: COVID-19.
        t = replace(t, #"(?<=\p{L})-(?=\d)"#) { _ in " " }
        // Emergency numbers are read digit by digit: call 911.
        if !fr {
            t = replace(t, #"(?<=\b(?:[Cc]all|[Dd]ial|[Cc]alled|[Dd]ialed|[Cc]alling|[Dd]ialing) )(\d{3})(?!\d)"#) { self.digitWords($0[1], false) }
        }
        // Multiplication and dimensions: 3 × 4, 1920x1080, 10x faster.
        t = replace(t, capitalizing: true, #"(?<=\d)[ \x{A0}]?×[ \x{A0}]?(?=\d)"#) { _ in fr ? " fois " : " times " }
        t = replace(t, capitalizing: true, #"(?<=\d)[ \x{A0}]?x[ \x{A0}]?(?=\d)"#) { _ in fr ? " par " : " by " }
        t = replace(t, capitalizing: true, #"(?<![\p{L}\d.,])("# + num + #")[ \x{A0}]?[x×](?![\p{L}\d])"#) { m in
            self.decimal(self.parse(m[1], fr), fr) + (fr ? " fois" : " times")
        }
        // Version numbers: 2.1.3 → two point one point three.
        t = replace(t, capitalizing: true, #"(?<![\d.,])\d+(?:\.\d+){2,}(?![\d.]|\.\d)"#) { m in
            m[0].split(separator: ".").map { self.cardinal(String($0), fr) }.joined(separator: fr ? " point " : " point ")
        }
        // "#1" is "number one".
        t = replace(t, capitalizing: true, #"(?<![\p{L}\d&])#\s?(?=\d)"#) { _ in fr ? "numéro " : "number " }

        // A decimal without its zero: .5 → point five.
        if !fr { t = replace(t, capitalizing: true, #"(?<![\p{L}\d.,])\.(\d+)"#) { "point " + self.digitWords($0[1], false) } }
        // Every other number: years in English, thousands, decimals, 10k.
        t = replace(t, capitalizing: true, #"(?<!\d)("# + num + #")(k\b)?"#) { m in
            let w = self.parse(m[1], fr)
            var s: String
            if !m[2].isEmpty {
                s = self.decimal(w, fr) + (fr ? " mille" : " thousand")
            } else if !fr, w.isInteger, m[1].count == 4, let n = w.intValue, (1010...2099).contains(n), self.readsAsYear(m) {
                s = NumberWords.englishYear(n)
            } else if fr, w.isInteger, let next = self.nextWord(m), self.isFeminine(next) {
                s = self.decimal(w, fr, feminine: true)
            } else if fr, w.isInteger, self.previousWord(m)?.lowercased() == "années" {
                // "les années 80": the decade reads like an ordinal, without the plural s.
                s = self.decimal(w, fr)
                if s.hasSuffix("vingts") || s.hasSuffix("cents") { s.removeLast() }
            } else {
                s = self.decimal(w, fr)
            }
            // Keep words apart from letters the number was written against: MP3, 5G.
            let before = m.before(1), after = m.after(1)
            if let c = before.last, c.isLetter { s = " " + s }
            if let c = after.first, c.isLetter { s += " " }
            return s
        }
        return t
    }

    private func fullMonth(_ s: String) -> String {
        let key = s.replacingOccurrences(of: ".", with: "")
        return Self.englishMonths.first { $0.hasPrefix(key) } ?? s
    }

    private func date(day: Int, month: Int, year: String, _ fr: Bool) -> String? {
        guard (1...12).contains(month), (1...31).contains(day), let y = Int(year) else { return nil }
        if fr {
            return (day == 1 ? "premier" : NumberWords.french(day)) + " " + Self.frenchMonths[month - 1] + " " + NumberWords.french(y)
        }
        return Self.englishMonths[month - 1] + " " + NumberWords.englishOrdinal(day) + ", " + NumberWords.englishYear(y)
    }

    /// English reads a bare four-digit number from 1010 to 2099 as a year, unless the words around it say it
    /// counts something: "over 1500 species", "1999 people".
    private func readsAsYear(_ m: Match) -> Bool {
        let quantity: Set<String> = ["over", "nearly", "almost", "than", "only", "just", "exactly", "roughly", "approximately",
                                     "some", "all", "those", "these", "has", "have", "had", "with", "about", "total", "costs",
                                     "weighs", "top", "sold", "hit", "reached", "up"]
        let yearWords: Set<String> = ["in", "since", "by", "from", "until", "till", "year", "around", "circa", "before",
                                      "after", "during", "between", "and", "to", "the", "early", "late", "mid", "summer",
                                      "winter", "spring", "autumn", "fall"]
        let previous = previousWord(m)?.lowercased()
        if let p = previous, yearWords.contains(p) || Self.englishMonths.contains(where: { $0.lowercased() == p }) { return true }
        if let p = previous, quantity.contains(p) { return false }
        if let next = nextWord(m), next.first?.isLowercase == true {
            let verbs: Set<String> = ["was", "is", "saw", "has", "had", "brought", "marked", "began", "ended", "changed",
                                      "will", "would", "could", "and", "or", "to", "when", "as"]
            return verbs.contains(next)
        }
        return true
    }

    private func plural(_ words: String) -> String {
        if words.hasSuffix("y") { return words.dropLast() + "ies" }
        if words.hasSuffix("x") { return words + "es" }
        return words + "s"
    }

    private func singular(_ word: String) -> String {
        let w = word.lowercased()
        return w.hasSuffix("s") && w != "fois" ? String(w.dropLast()) : w
    }

    private func capitalizedWords(_ s: String) -> String {
        s.split(separator: " ").map { w in w.split(separator: "-", omittingEmptySubsequences: false).map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: "-") }
            .joined(separator: " ")
    }

    private func frenchOrdinal(_ n: Int, suffix: String) -> String? {
        let plural = suffix.hasSuffix("s")
        let s = plural ? String(suffix.dropLast()) : suffix
        switch s {
        case "er": return n == 1 ? "premier" + (plural ? "s" : "") : nil
        case "re", "ère": return n == 1 ? "première" + (plural ? "s" : "") : nil
        case "nd": return n == 2 ? "second" + (plural ? "s" : "") : nil
        case "nde", "de": return n == 2 ? "seconde" + (plural ? "s" : "") : nil
        case "d": return n == 2 ? "second" + (plural ? "s" : "") : nil
        default: return n == 0 ? nil : (n == 1 ? "premier" : NumberWords.frenchOrdinal(n)) + (plural ? "s" : "")
        }
    }

    /// A Roman numeral up to 39 (centuries, regnal numbers, chapters), in its standard form only.
    private func roman(_ s: String) -> Int? {
        guard matches(s, #"^X{0,3}(IX|IV|V?I{0,3})$"#), !s.isEmpty else { return nil }
        let values: [Character: Int] = ["I": 1, "V": 5, "X": 10]
        var total = 0, previous = 0
        for ch in s.reversed() {
            let v = values[ch]!
            if v < previous { total -= v } else { total += v; previous = v }
        }
        return total
    }

    private func fraction(_ a: Int, _ b: Int, _ fr: Bool) -> String {
        if a == 24 && b == 7 { return fr ? "vingt-quatre heures sur vingt-quatre, sept jours sur sept" : "twenty-four seven" }
        if a == 50 && b == 50 { return fr ? "cinquante-cinquante" : "fifty-fifty" }
        if a == 9 && b == 11 && !fr { return "nine eleven" }
        if fr {
            switch (a, b) {
            case (1, 2): return "un demi"
            case (1, 3): return "un tiers"
            case (2, 3): return "deux tiers"
            case (1, 4): return "un quart"
            case (3, 4): return "trois quarts"
            default: return NumberWords.french(a) + " sur " + NumberWords.french(b)
            }
        }
        switch (a, b) {
        case (1, 2): return "one half"
        case (1, 3): return "one third"
        case (2, 3): return "two thirds"
        case (1, 4): return "one quarter"
        case (3, 4): return "three quarters"
        default: return NumberWords.english(a) + " out of " + NumberWords.english(b)
        }
    }

    // MARK: - Money

    private struct Currency {
        let one: String, many: String, centOne: String, centMany: String
        var feminine = false
        var hasCents = true
    }

    private func currency(_ symbol: String, _ fr: Bool) -> Currency {
        switch symbol {
        case "€", "EUR": return fr ? Currency(one: "euro", many: "euros", centOne: "centime", centMany: "centimes")
            : Currency(one: "euro", many: "euros", centOne: "cent", centMany: "cents")
        case "£", "GBP": return fr ? Currency(one: "livre", many: "livres", centOne: "penny", centMany: "pence", feminine: true)
            : Currency(one: "pound", many: "pounds", centOne: "penny", centMany: "pence")
        case "¥", "JPY": return fr ? Currency(one: "yen", many: "yens", centOne: "", centMany: "", hasCents: false)
            : Currency(one: "yen", many: "yen", centOne: "", centMany: "", hasCents: false)
        case "CHF": return fr ? Currency(one: "franc suisse", many: "francs suisses", centOne: "centime", centMany: "centimes")
            : Currency(one: "Swiss franc", many: "Swiss francs", centOne: "centime", centMany: "centimes")
        default: return Currency(one: "dollar", many: "dollars", centOne: "cent", centMany: "cents")
        }
    }

    private func money(_ raw: String, scale: String, currency symbol: String, _ fr: Bool) -> String {
        let c = currency(symbol, fr)
        let w = parse(raw, fr)
        if !scale.isEmpty {
            let big: String
            switch scale {
            case "k": big = fr ? "mille" : "thousand"
            case "M", "million", "millions": big = fr ? (w.value >= 2 ? "millions" : "million") : "million"
            case "trillion": big = "trillion"
            default: big = fr ? (w.value >= 2 ? "milliards" : "milliard") : "billion"
            }
            let amount = decimal(w, fr) + " " + big
            if fr && big != "mille" { return amount + (c.many.first.map { "aeiouyéè".contains($0) } == true ? " d'" : " de ") + c.many }
            return amount + " " + c.many
        }
        let cents: Int? = c.hasCents ? w.frac.flatMap { $0.count <= 2 ? Int($0.count == 1 ? $0 + "0" : $0) : nil } : nil
        if w.frac != nil && cents == nil {
            // More decimals than cents: read as a decimal number.
            return decimal(w, fr) + " " + c.many
        }
        let units = w.intValue ?? 0
        var main = cardinal(w.int, fr, feminine: c.feminine) + " " + (fr ? (units < 2 ? c.one : c.many) : (units == 1 ? c.one : c.many))
        if fr, main.hasSuffix("million " + c.many) || main.hasSuffix("millions " + c.many) || main.hasSuffix("milliard " + c.many) || main.hasSuffix("milliards " + c.many) {
            let cut = main.index(main.endIndex, offsetBy: -(c.many.count + 1))
            main = String(main[..<cut]) + (c.many.first.map { "aeiouyéè".contains($0) } == true ? " d'" : " de ") + c.many
        }
        guard let cents, cents > 0 else { return main }
        if fr {
            if units == 0 { return NumberWords.french(cents) + " " + (cents < 2 ? c.centOne : c.centMany) }
            return main + " " + NumberWords.french(cents)
        }
        let centWords = NumberWords.english(cents) + " " + (cents == 1 ? c.centOne : c.centMany)
        return units == 0 ? centWords : main + " and " + centWords
    }

    // MARK: - Units

    private struct Unit {
        let one: String, many: String
        var feminine = false
    }

    private func unitPattern(_ fr: Bool) -> String {
        let keys = (fr ? Self.frenchUnits : Self.englishUnits).keys.sorted { $0.count > $1.count }
        return keys.map { key in
            NSRegularExpression.escapedPattern(for: key).replacingOccurrences(of: "°", with: "°[ \\x{A0}\\x{202F}]?")
        }.joined(separator: "|")
    }

    private static let englishUnits: [String: Unit] = [
        "km/h": .init(one: "kilometer per hour", many: "kilometers per hour"),
        "mph": .init(one: "mile per hour", many: "miles per hour"),
        "m/s": .init(one: "meter per second", many: "meters per second"),
        "km/s": .init(one: "kilometer per second", many: "kilometers per second"),
        "km²": .init(one: "square kilometer", many: "square kilometers"),
        "m²": .init(one: "square meter", many: "square meters"),
        "m³": .init(one: "cubic meter", many: "cubic meters"),
        "km": .init(one: "kilometer", many: "kilometers"),
        "m": .init(one: "meter", many: "meters"),
        "cm": .init(one: "centimeter", many: "centimeters"),
        "mm": .init(one: "millimeter", many: "millimeters"),
        "kg": .init(one: "kilogram", many: "kilograms"),
        "g": .init(one: "gram", many: "grams"),
        "mg": .init(one: "milligram", many: "milligrams"),
        "lb": .init(one: "pound", many: "pounds"),
        "lbs": .init(one: "pound", many: "pounds"),
        "oz": .init(one: "ounce", many: "ounces"),
        "ft": .init(one: "foot", many: "feet"),
        "mi": .init(one: "mile", many: "miles"),
        "L": .init(one: "liter", many: "liters"),
        "l": .init(one: "liter", many: "liters"),
        "ml": .init(one: "milliliter", many: "milliliters"),
        "mL": .init(one: "milliliter", many: "milliliters"),
        "h": .init(one: "hour", many: "hours"),
        "hr": .init(one: "hour", many: "hours"),
        "hrs": .init(one: "hour", many: "hours"),
        "min": .init(one: "minute", many: "minutes"),
        "ms": .init(one: "millisecond", many: "milliseconds"),
        "s": .init(one: "second", many: "seconds"),
        "sec": .init(one: "second", many: "seconds"),
        "kWh": .init(one: "kilowatt hour", many: "kilowatt hours"),
        "kW": .init(one: "kilowatt", many: "kilowatts"),
        "W": .init(one: "watt", many: "watts"),
        "GB": .init(one: "gigabyte", many: "gigabytes"),
        "MB": .init(one: "megabyte", many: "megabytes"),
        "TB": .init(one: "terabyte", many: "terabytes"),
        "KB": .init(one: "kilobyte", many: "kilobytes"),
        "°C": .init(one: "degree Celsius", many: "degrees Celsius"),
        "°F": .init(one: "degree Fahrenheit", many: "degrees Fahrenheit"),
        "°": .init(one: "degree", many: "degrees"),
    ]

    private static let frenchUnits: [String: Unit] = [
        "km/h": .init(one: "kilomètre par heure", many: "kilomètres par heure"),
        "m/s": .init(one: "mètre par seconde", many: "mètres par seconde"),
        "km/s": .init(one: "kilomètre par seconde", many: "kilomètres par seconde"),
        "km²": .init(one: "kilomètre carré", many: "kilomètres carrés"),
        "m²": .init(one: "mètre carré", many: "mètres carrés"),
        "m³": .init(one: "mètre cube", many: "mètres cubes"),
        "km": .init(one: "kilomètre", many: "kilomètres"),
        "m": .init(one: "mètre", many: "mètres"),
        "cm": .init(one: "centimètre", many: "centimètres"),
        "mm": .init(one: "millimètre", many: "millimètres"),
        "kg": .init(one: "kilogramme", many: "kilogrammes"),
        "g": .init(one: "gramme", many: "grammes"),
        "mg": .init(one: "milligramme", many: "milligrammes"),
        "t": .init(one: "tonne", many: "tonnes", feminine: true),
        "L": .init(one: "litre", many: "litres"),
        "l": .init(one: "litre", many: "litres"),
        "ml": .init(one: "millilitre", many: "millilitres"),
        "mL": .init(one: "millilitre", many: "millilitres"),
        "ha": .init(one: "hectare", many: "hectares"),
        "h": .init(one: "heure", many: "heures", feminine: true),
        "min": .init(one: "minute", many: "minutes", feminine: true),
        "ms": .init(one: "milliseconde", many: "millisecondes", feminine: true),
        "s": .init(one: "seconde", many: "secondes", feminine: true),
        "kWh": .init(one: "kilowattheure", many: "kilowattheures"),
        "kW": .init(one: "kilowatt", many: "kilowatts"),
        "W": .init(one: "watt", many: "watts"),
        "Go": .init(one: "gigaoctet", many: "gigaoctets"),
        "Mo": .init(one: "mégaoctet", many: "mégaoctets"),
        "To": .init(one: "téraoctet", many: "téraoctets"),
        "Ko": .init(one: "kilooctet", many: "kilooctets"),
        "°C": .init(one: "degré Celsius", many: "degrés Celsius"),
        "°F": .init(one: "degré Fahrenheit", many: "degrés Fahrenheit"),
        "°": .init(one: "degré", many: "degrés"),
    ]

    // MARK: - Symbols and tidying

    private func expandSymbols(_ text: String, fr: Bool) -> String {
        var t = text
        let words: [(String, String)] = fr ? [
            (#"\s*&\s*"#, " et "), (#"\s*\+\s*"#, " plus "), (#"\s*=\s*"#, " égale "), (#"\s*≈\s*|~\s*"#, " environ "),
            (#"\s*×\s*"#, " fois "), (#"\s*≤\s*"#, " inférieur ou égal à "), (#"\s*≥\s*"#, " supérieur ou égal à "),
            (#"\s+<\s+"#, " inférieur à "), (#"\s+>\s+"#, " supérieur à "), (#"\s*%"#, " pour cent"), (#"§\s*"#, "paragraphe "),
            (#"\s+@\s+"#, " arobase "), (#"\bet/ou\b"#, "et ou"), (#"(?<=\b\p{L})/(?=\p{L}\b)"#, " "), (#"(?<=\p{L})/(?=\p{L})"#, " ou "), (#"\s*°C\b"#, " degrés Celsius"),
            (#"\s*°"#, " degrés"),
        ] : [
            (#"\s*&\s*"#, " and "), (#"\s*\+\s*"#, " plus "), (#"\s*=\s*"#, " equals "), (#"\s*≈\s*|~\s*"#, " about "),
            (#"\s*×\s*"#, " times "), (#"\s*≤\s*"#, " less than or equal to "), (#"\s*≥\s*"#, " greater than or equal to "),
            (#"\s+<\s+"#, " less than "), (#"\s+>\s+"#, " greater than "), (#"\s*%"#, " percent"), (#"§\s*"#, "section "),
            (#"\s+@\s+"#, " at "), (#"\band/or\b"#, "and or"), (#"(?<=\b\p{L})/(?=\p{L}\b)"#, " "), (#"(?<=\p{L})/(?=\p{L})"#, " or "), (#"\s*°C\b"#, " degrees Celsius"),
            (#"\s*°"#, " degrees"),
        ]
        for (pattern, replacement) in words { t = replace(t, pattern) { _ in replacement } }
        // Handles and hashtags are read as their word; other marks and symbols are not read at all.
        t = replace(t, #"(?<![\p{L}\d])[@#](?=[\p{L}\d])"#) { _ in "" }
        t = replace(t, #"[#*_`|^<>\[\]{}\\←→↑↓⇒⟶]"#) { _ in " " }
        // Emojis stay for the subtitles (the voice's text drops them later).
        t = String(String.UnicodeScalarView(t.unicodeScalars.filter { $0.properties.generalCategory != .otherSymbol || Self.isEmoji($0) }))
        return t
    }

    /// Marks a word the adapter put at the start of a sentence.
    private static let sentenceStart: Character = "\u{E000}"

    /// Capitalizes the marked words that start a sentence with an end mark: "He won. 3 times!" → "He won. Three
    /// times!", while a fragment such as "3 hearts" stays "three hearts".
    private func capitalizeSentenceStarts(_ text: String) -> String {
        guard text.contains(Self.sentenceStart) else { return text }
        let chars = Array(text)
        var out = "", pending = false
        for (i, ch) in chars.enumerated() {
            if ch == Self.sentenceStart {
                pending = chars[(i + 1)...].prefix { $0 != "\n" }.contains { ".!?…".contains($0) }
                continue
            }
            if pending && ch.isLetter { out += ch.uppercased(); pending = false } else { out.append(ch) }
        }
        return out
    }

    private func tidy(_ text: String, fr: Bool) -> String {
        var t = capitalizeSentenceStarts(text).replacingOccurrences(of: "\u{A0}", with: " ").replacingOccurrences(of: "\u{202F}", with: " ")
        t = replace(t, #"[ ]{2,}"#) { _ in " " }
        t = replace(t, #"\(\s*\)|\[\s*\]"#) { _ in "" }
        t = replace(t, #"([(\[«“])\s+"#) { m in m[1] == "«" ? "« " : m[1] }
        t = replace(t, fr ? #" +([,.)\]…])"# : #" +([,.!?;:)\]…])"#) { $0[1] }
        t = replace(t, #"([,;:])(?:\s*[,;:])+"#) { $0[1] }
        t = replace(t, #"(?<=\p{L})([,;:])(?=\p{L})"#) { $0[1] + " " }
        t = replace(t, #"[,;:]\s*([.!?…])"#) { $0[1] }
        t = replace(t, #"(?<![.…])\.\.(?!\.)"#) { _ in "." }
        t = replace(t, #"(?m)^[ ]*[,;:.][ ]*"#) { _ in "" }
        return t.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: "\n\n")
    }

    // MARK: - Matching

    /// One regular-expression match, with its groups and the text around it.
    private struct Match {
        let groups: [String]
        let range: NSRange
        let ns: NSString
        subscript(_ i: Int) -> String { i < groups.count ? groups[i] : "" }
        func before(_ n: Int) -> String {
            let start = max(0, range.location - n)
            return ns.substring(with: NSRange(location: start, length: range.location - start))
        }
        func after(_ n: Int) -> String {
            let start = range.location + range.length
            return ns.substring(with: NSRange(location: start, length: min(n, ns.length - start)))
        }
    }

    /// The word just before the match (with only spaces between) and where it starts.
    private func previousWordInfo(_ m: Match) -> (word: String, location: Int)? {
        let start = max(0, m.range.location - 40)
        let before = m.ns.substring(with: NSRange(location: start, length: m.range.location - start)) as NSString
        guard let re = try? NSRegularExpression(pattern: #"(\p{L}[\p{L}'’-]*)[ \x{A0}]+$"#),
              let r = re.firstMatch(in: before as String, range: NSRange(location: 0, length: before.length)) else { return nil }
        return (before.substring(with: r.range(at: 1)), start + r.range(at: 1).location)
    }

    private func previousWord(_ m: Match) -> String? { previousWordInfo(m)?.word }

    private func nextWord(_ m: Match) -> String? {
        let after = m.after(40)
        guard let r = after.range(of: #"^[ \x{A0}\x{202F}]+\p{L}+"#, options: .regularExpression) else { return nil }
        return String(after[r]).trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "\u{A0}\u{202F}")))
    }

    /// Whether the text at this offset starts a sentence: the start of the text or a line, or after . ! ? …
    private func atSentenceStart(_ location: Int, _ ns: NSString) -> Bool {
        var i = location - 1
        while i >= 0, let scalar = Unicode.Scalar(ns.character(at: i)),
              scalar == " " || scalar == "\u{A0}" || scalar == "\u{E000}" || "\"“«([".unicodeScalars.contains(scalar) { i -= 1 }
        guard i >= 0, let scalar = Unicode.Scalar(ns.character(at: i)) else { return true }
        return ".!?…\n".unicodeScalars.contains(scalar)
    }

    private func matches(_ s: String, _ pattern: String) -> Bool {
        s.range(of: pattern, options: .regularExpression) != nil
    }

    /// Replaces every match of `pattern` by what `transform` returns; nil leaves the match as it is.
    /// `capitalizing` marks words put at the start of a sentence, for `tidy` to capitalize.
    private func replace(_ text: String, capitalizing: Bool = false, _ pattern: String, _ transform: (Match) -> String?) -> String {
        guard let re = try? NSRegularExpression(pattern: pattern) else { assertionFailure("bad pattern \(pattern)"); return text }
        let ns = text as NSString
        var out = "", last = 0
        for m in re.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
            out += ns.substring(with: NSRange(location: last, length: m.range.location - last))
            let groups = (0..<m.numberOfRanges).map { m.range(at: $0).location == NSNotFound ? "" : ns.substring(with: m.range(at: $0)) }
            let match = Match(groups: groups, range: m.range, ns: ns)
            var replacement = transform(match) ?? groups[0]
            if capitalizing, replacement != groups[0], replacement.first?.isLowercase == true, atSentenceStart(m.range.location, ns) {
                replacement = String(Self.sentenceStart) + replacement
            }
            out += replacement
            last = m.range.location + m.range.length
        }
        return out + ns.substring(from: last)
    }
}

/// The adapt stage: rewrites the script for speech and stores the adapted text and the cues.
public struct AdaptStageExecutor: StageExecutor {
    public let stage = Stage.adapt
    let adapter: RuleBasedAdapter

    public init(adapter: RuleBasedAdapter = RuleBasedAdapter()) { self.adapter = adapter }

    public func run(_ input: StageInput, logger: Logger) async throws -> StageOutput {
        let script = try input.inline(of: .script)
        guard let text = script["text"]?.stringValue, !text.isEmpty else {
            throw StageFailure.permanent("the script artifact has no text")
        }
        let adapted = adapter.adapt(text, language: input.idea.language)
        let file = input.workDir.appendingPathComponent("adapted.json")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(adapted).write(to: file)
        logger.info("adapted for speech: \(adapted.text.count) characters, \(adapted.cues.count) cues")
        return StageOutput(
            inline: ["text": .string(adapted.text), "speech_text": .string(adapted.speechText),
                     "pause_style": .string(adapter.pauseStyle.rawValue),
                     "cues": try JSONValue.encoding(adapted.cues), "adapter": "rules"],
            files: ["adapted.json": .init(url: file, contentType: "application/json")],
            costs: [CostEntry(stage: .adapt, attempt: input.attempt, provider: "rules", units: Double(adapted.text.count),
                              unit: "characters", costUSD: 0, at: Date())])
    }
}
