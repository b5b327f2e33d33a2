import Foundation

/// The rules that make a script speakable, per language, each pattern compiled once: markdown and web addresses,
/// abbreviations, numbers (`NumberReading`), symbols, and the final tidying. `RuleBasedAdapter` runs them in order.
struct SpeechRules: Sendable {
    let fr: Bool
    let addresses: [Rewrite]
    let abbreviations: [Rewrite]
    let numbers: [Rewrite]
    let symbols: [Rewrite]
    let tidying: [Rewrite]

    static let english = SpeechRules(fr: false)
    static let french = SpeechRules(fr: true)

    static func forLanguage(_ language: String) -> SpeechRules { language.lowercased().hasPrefix("fr") ? french : english }

    private init(fr: Bool) {
        self.fr = fr
        addresses = Self.addressRules(fr: fr)
        abbreviations = Self.abbreviationRules(fr: fr)
        numbers = NumberReading(fr: fr).rules
        symbols = Self.symbolRules(fr: fr)
        tidying = Self.tidyRules(fr: fr)
    }

    // MARK: - Markdown and characters

    static func normalize(_ text: String) -> String {
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


    static let keycaps = Rewrite(#"[0-9#*]\x{FE0F}?\x{20E3}"#, to: "")

    /// Markdown read as plain text: headings and list items become sentences, table rows sentences of cells.
    static let markdown: [Rewrite] = [
        Rewrite(#"(?m)^[ \t]*(```|~~~).*$"#, to: ""),
        Rewrite(#"!\[([^\]\n]*)\]\([^)\n]*\)"#, to: ""),
        Rewrite(#"\[([^\]\n]+)\]\([^)\n]*\)"#) { $0[1] },
        Rewrite(#"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>\n]*)?/?>"#, to: " "),
        Rewrite(#"(?m)^[ \t]*([-*_])(?:[ \t]*\1){2,}[ \t]*$"#, to: ""),
        Rewrite(#"(?m)^[ \t]*#{1,6}[ \t]+(.+?)[ \t#]*$"#) { endSentence($0[1]) },
        Rewrite(#"(?m)^[ \t]*(?:>[ \t]?)+"#, to: ""),
        Rewrite(#"(?m)^[ \t]*(?:[-*+•‣▪◦]|\d{1,2}[.)])[ \t]+(.+)$"#) { endSentence($0[1]) },
        Rewrite(#"\*\*(?=\S)(.+?)\*\*|__(?=\S)(.+?)__"#) { $0[1] + $0[2] },
        Rewrite(#"(?<![\p{L}\d*])\*(?=\S)([^*\n]+?)\*(?![\p{L}\d*])"#) { $0[1] },
        Rewrite(#"(?<![\p{L}\d_])_(?=\S)([^_\n]+?)_(?![\p{L}\d_])"#) { $0[1] },
        Rewrite(#"~~(?=\S)(.+?)~~"#) { $0[1] },
        Rewrite(#"`+([^`\n]*)`+"#) { $0[1] },
        // Table rows: each row is read as one sentence, its cells separated by commas.
        Rewrite(#"(?m)^[ \t]*\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)*\|?[ \t]*$"#, to: ""),
        Rewrite(#"(?m)^[ \t]*\|(.*)\|[ \t]*$"#) { m in
            endSentence(m[1].split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: ", "))
        },
    ]

    /// A heading or list item read on its own ends with a full stop, so the voice pauses after it.
    static func endSentence(_ s: String) -> String {
        let trimmed = s.trimmingCharacters(in: .whitespaces)
        guard let last = trimmed.last else { return trimmed }
        return ".!?…:;,".contains(last) ? trimmed : trimmed + "."
    }

    /// Web and e-mail addresses are spoken by their domain: https://www.example.com/page → example dot com.
    static func addressRules(fr: Bool) -> [Rewrite] {
        let dot = fr ? " point " : " dot "
        let spoken: @Sendable (String) -> String = { host in host.split(separator: ".").joined(separator: dot) }
        let tail = #"(?:[/?#:][^\s<>"'()\[\]«»]*[^\s<>"'()\[\]«».,;:!?])?"#
        let tlds = "com|org|net|io|dev|app|ai|tv|fr|co\\.uk|uk|eu|de|ch|be|ca|info|edu|gov"
        return [
            Rewrite(#"(?<![\w.+-])([A-Za-z0-9][\w.+-]*)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})(?![\w-])"#, capitalizing: true) { m in
                spoken(m[1]) + (fr ? " arobase " : " at ") + spoken(m[2])
            },
            Rewrite(#"(?i)\b(?:https?://|www\.)(?:www\.)?([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)"# + tail, capitalizing: true) { spoken($0[1].lowercased()) },
            Rewrite(#"(?<![\w@.-])((?:[a-z0-9-]+\.)+(?:"# + tlds + #"))(?![\w-])"# + tail, capitalizing: true) { spoken($0[1]) },
        ]
    }

    /// Emojis are shown, not read.
    static func removeEmoji(_ text: String) -> String {
        let kept = text.unicodeScalars.filter { s in
            let v = s.value
            if v == 0x200D || v == 0x20E3 || (0xFE00...0xFE0F).contains(v) || (0xE0020...0xE007F).contains(v) { return false }
            return !(v == 0xA9 || v == 0xAE || isEmoji(s))
        }
        return String(String.UnicodeScalarView(kept))
    }

    /// An emoji picture (not a digit or a # that may start an emoji sequence).
    static func isEmoji(_ s: Unicode.Scalar) -> Bool {
        s.properties.isEmojiPresentation || (s.properties.isEmoji && s.value >= 0x2000)
    }

    // MARK: - Abbreviations

    struct Abbreviation {
        let pattern: String
        let words: String
        /// When the abbreviation's own full stop may also end the sentence (etc. at the end of a sentence).
        var endsSentence = false
    }

    static let frenchAbbreviations: [Abbreviation] = [

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
    ]

    static let englishAbbreviations: [Abbreviation] = [

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

    static func abbreviationRules(fr: Bool) -> [Rewrite] {
        // English "St.": Saint in front of a name (St. Louis), Street after one (Baker St.).
        let street = Rewrite(#"\bSt\.(\s+\p{Lu})?"#, capitalizing: true) { m in
            let afterName = m.previousWordInfo.map { $0.word.first?.isUppercase == true && !TextMatch.atSentenceStart($0.location, m.ns) } ?? false
            if afterName { return "Street" + (m.periodEndsSentence ? "." : "") + m[1] }
            return m[1].isEmpty ? m[0] : "Saint" + m[1]
        }
        let table = (fr ? frenchAbbreviations : englishAbbreviations).map { a in
            Rewrite(a.pattern, capitalizing: true) { m in a.words + (a.endsSentence && m.periodEndsSentence ? "." : "") }
        }
        return fr ? table : [street] + table
    }

    // MARK: - Symbols and tidying

    static func symbolRules(fr: Bool) -> [Rewrite] {
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
        return words.map { Rewrite($0.0, to: $0.1) } + [
            // Handles and hashtags are read as their word; other marks and symbols are not read at all.
            Rewrite(#"(?<![\p{L}\d])[@#](?=[\p{L}\d])"#, to: ""),
            Rewrite(#"[#*_`|^<>\[\]{}\\←→↑↓⇒⟶]"#, to: " "),
        ]
    }

    /// Symbols with no words (☆, ✓) are dropped; emojis stay for the subtitles (the voice's text drops them later).
    static func dropSymbols(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.filter { $0.properties.generalCategory != .otherSymbol || isEmoji($0) }))
    }

    static func tidyRules(fr: Bool) -> [Rewrite] {
        [
            Rewrite(#"[ ]{2,}"#, to: " "),
            Rewrite(#"\(\s*\)|\[\s*\]"#, to: ""),
            Rewrite(#"([(\[«“])\s+"#) { m in m[1] == "«" ? "« " : m[1] },
            Rewrite(fr ? #" +([,.)\]…])"# : #" +([,.!?;:)\]…])"#) { $0[1] },
            Rewrite(#"([,;:])(?:\s*[,;:])+"#) { $0[1] },
            Rewrite(#"(?<=\p{L})([,;:])(?=\p{L})"#) { $0[1] + " " },
            Rewrite(#"[,;:]\s*([.!?…])"#) { $0[1] },
            Rewrite(#"(?<![.…])\.\.(?!\.)"#, to: "."),
            Rewrite(#"(?m)^[ ]*[,;:.][ ]*"#, to: ""),
        ]
    }

    /// Capitalizes the marked words that start a sentence with an end mark: "He won. 3 times!" → "He won. Three
    /// times!", while a fragment such as "3 hearts" stays "three hearts".
    static func capitalizeSentenceStarts(_ text: String) -> String {
        guard text.contains(TextMatch.sentenceStart) else { return text }
        let chars = Array(text)
        var out = "", pending = false
        for (i, ch) in chars.enumerated() {
            if ch == TextMatch.sentenceStart {
                pending = chars[(i + 1)...].prefix { $0 != "\n" }.contains { ".!?…".contains($0) }
                continue
            }
            if pending && ch.isLetter { out += ch.uppercased(); pending = false } else { out.append(ch) }
        }
        return out
    }

    /// Spaces and punctuation made regular, sentence starts capitalized, one blank line between paragraphs.
    func tidy(_ text: String) -> String {
        let t = tidying.apply(Self.capitalizeSentenceStarts(text).replacingOccurrences(of: "\u{A0}", with: " ").replacingOccurrences(of: "\u{202F}", with: " "))
        return t.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: "\n\n")
    }
}
