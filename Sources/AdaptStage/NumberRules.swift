import Foundation

/// The number rules of a language, in the order they apply: dates and times before ranges and money, money
/// before percentages and units, ordinals and Roman numerals, fractions, and last every other number. Built
/// once per language (`SpeechRules`), so each pattern is compiled once.
extension NumberReading {
    var rules: [Rewrite] { dates + rangesAndTimes + moneyAndPercentages + unitsAndOrdinals + fractions + others }

    private var dates: [Rewrite] {
        let r = self, fr = self.fr
        let common = [
            Rewrite(#"(?<![\d/.-])(\d{4})-(\d{2})-(\d{2})(?![\d/-])"#, capitalizing: true) { m in
                r.date(day: Int(m[3]) ?? 0, month: Int(m[2]) ?? 0, year: m[1])
            },
            Rewrite(#"(?<![\d/.])(\d{1,2})/(\d{1,2})/(\d{4})(?![\d/])"#, capitalizing: true) { m in
                let a = Int(m[1]) ?? 0, b = Int(m[2]) ?? 0
                let dayFirst = fr || a > 12
                return r.date(day: dayFirst ? a : b, month: dayFirst ? b : a, year: m[3])
            },
        ]
        if fr {
            return common + [Rewrite(#"(?<![\d.,])1(?:er)?(?=\s+(?:"# + NumberReading.frenchMonths.joined(separator: "|") + #")\b)"#, capitalizing: true) { _ in "premier" }]
        }
        let month = #"(January|February|March|April|May|June|July|August|September|October|November|December|Jan\.|Feb\.|Mar\.|Apr\.|Jun\.|Jul\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\.)"#
        return common + [
            // May 5, 2024 → May fifth, twenty twenty-four.
            Rewrite(month + #"\s(\d{1,2})(?:st|nd|rd|th)?(?![\d:.,]\d)(?![\p{L}\d])(?:(,?)\s(\d{4})(?!\d))?"#, capitalizing: true) { m in
                guard let d = Int(m[2]), (1...31).contains(d) else { return nil }
                let name = r.fullMonth(m[1])
                return name + " " + NumberWords.englishOrdinal(d) + (m[4].isEmpty ? "" : (m[3].isEmpty ? " " : ", ") + NumberWords.englishYear(Int(m[4]) ?? 0))
            },
            // 5 May 2024 → the fifth of May twenty twenty-four.
            Rewrite(#"(?<![\d.,])(\d{1,2})(?:st|nd|rd|th)?\s"# + month + #"(?:\s(\d{4})(?!\d))?"#, capitalizing: true) { m in
                guard let d = Int(m[1]), (1...31).contains(d) else { return nil }
                return "the " + NumberWords.englishOrdinal(d) + " of " + r.fullMonth(m[2]) + (m[3].isEmpty ? "" : " " + NumberWords.englishYear(Int(m[3]) ?? 0))
            },
        ]
    }

    /// Ranges (10-20, 1939–1945, 9h-17h; a hyphen with spaces around it subtracts), a minus sign, times.
    private var rangesAndTimes: [Rewrite] {
        let r = self, fr = self.fr
        return [
            Rewrite(#"(?<=\d|\d[h%])(?:[-–]|[ \x{A0}\x{202F}]–[ \x{A0}\x{202F}])(?=[$€£]?\d)"#, capitalizing: true) { _ in fr ? " à " : " to " },
            Rewrite(#"(?<=\d) - (?=\d)"#, capitalizing: true) { _ in fr ? " moins " : " minus " },
            Rewrite(#"(?<![\p{L}\d.,])-(?=[$€£]?\d)"#, capitalizing: true) { _ in fr ? "moins " : "minus " },
            fr ? Rewrite(#"(?<![\d.,:])(\d{1,2})[ \x{A0}\x{202F}]?(?:h|:)[ \x{A0}\x{202F}]?(\d{2})(?![\d:])|(?<![\d.,:])(\d{1,2})[ \x{A0}\x{202F}]?h(?![\p{L}\d])"#, capitalizing: true) { r.frenchTime($0) }
               : Rewrite(#"(?<![\d.,:])(\d{1,2})(?::(\d{2}))?(?:\s?([AaPp])\.?\s?[Mm]\b(\.?))(?!\p{L})|(?<![\d.,:])(\d{1,2}):(\d{2})(?![\d:])"#, capitalizing: true) { r.englishTime($0) },
        ]
    }

    /// Money ($5, 5 $, €5, 5€, 1 500 €, 2.50 €, $1.5 million, 5 M€) and percentages.
    private var moneyAndPercentages: [Rewrite] {
        let r = self, fr = self.fr, num = numberPattern
        let scale = fr ? #"millions?|milliards?|k|M|Mds?|Mrds?"# : #"million|billion|trillion|bn|k|M|B"#
        let symbols = #"US\$|\$|€|£|¥"#
        return [
            Rewrite(#"(?<![\p{L}\d])("# + symbols + #")[ \x{A0}\x{202F}]?("# + num + #")(?:[ \x{A0}\x{202F}]?("# + scale + #")(?![\p{L}]))?"#, capitalizing: true) { m in
                r.money(m[2], scale: m[3], currency: m[1])
            },
            Rewrite(#"(?<![\p{L}\d.,])("# + num + #")(?:[ \x{A0}\x{202F}]?("# + scale + #"))?[ \x{A0}\x{202F}]?("# + symbols + #"|USD|EUR|GBP|CHF|JPY)(?![\p{L}])"#, capitalizing: true) { m in
                r.money(m[1], scale: m[2], currency: m[3])
            },
            Rewrite(#"(?<![\p{L}\d.,])("# + num + #")[ \x{A0}\x{202F}]?%"#, capitalizing: true) { m in
                r.decimal(r.parse(m[1])) + (fr ? " pour cent" : " percent")
            },
        ]
    }

    /// Decades (English), units and degrees, ordinals (1st, 21st; 1er, 2e, XIXe, Ier) and Roman numerals.
    private var unitsAndOrdinals: [Rewrite] {
        let r = self, num = numberPattern
        let ordinals = fr ? [
            Rewrite(#"(?<![\p{L}\d.,])(\d+)(ers|er|res|re|ères|ère|èmes|ème|emes|eme|es|e|è|ndes|nde|nds|nd|des|de|ds|d)(?![\p{L}\d])"#, capitalizing: true) { m in
                guard let n = Int(m[1]) else { return nil }
                return r.frenchOrdinal(n, suffix: m[2])
            },
            Rewrite(#"(?<![\p{L}\d])([IVX]+)(ers|er|res|re|ères|ère|èmes|ème|emes|eme|es|e|è)(?![\p{L}\d])"#, capitalizing: true) { m in
                guard let n = r.roman(m[1]) else { return nil }
                return r.frenchOrdinal(n, suffix: m[2])
            },
        ] : [
            Rewrite(#"(?<![\p{L}\d.,])(\d+)(st|nd|rd|th|ST|ND|RD|TH)(?![\p{L}\d])"#, capitalizing: true) { m in
                guard let n = Int(m[1]) else { return nil }
                return NumberWords.englishOrdinal(n)
            },
        ]
        return (fr ? [] : [Rewrite(#"(?<![\p{L}\d.,'’])(['’]?)(\d{2}|\d{4})['’]?s(?![\p{L}\d])"#, capitalizing: true) { r.decade($0) }]) + [Rewrite(#"(?<![\p{L}\d.,])("# + num + #")[ \x{A0}\x{202F}]?("# + r.unitPattern + #")(?![\p{L}\d])"#, capitalizing: true) { r.amountOfUnit($0) }] + ordinals + [Rewrite(#"(?<![\p{L}\d])(\p{L}[\p{L}'’-]*)[ \x{A0}]([IVX]{2,})(?![\p{L}\d])"#, capitalizing: true) { r.romanAfterWord($0) }]
    }

    /// Vulgar fractions, day and month, fractions and ratios, rates (5 €/mois, $5/month).
    private var fractions: [Rewrite] {
        let r = self, fr = self.fr
        return [
            Rewrite(#"(?<![\d.,])(\d+)?[ \x{A0}]?([½¼¾])"#, capitalizing: true) { r.vulgarFraction($0) },
            Rewrite(#"(?<![\p{L}\d/.,])(\d{2})/(\d{2})(?![\d/])"#, capitalizing: true) { r.dayAndMonth($0) },
            Rewrite(#"(?<![\p{L}\d/.,])(\d{1,3})/(\d{1,3})(?![\d/])"#, capitalizing: true) { m in
                guard let a = Int(m[1]), let b = Int(m[2]) else { return nil }
                return r.fraction(a, b)
            },
            Rewrite(fr ? #"(?<=\p{L}|\d)[ ]?/[ ]?(?=(?:an|mois|jour|semaine|heure|minute|seconde|personne|habitant|tête|nuit|litre|kg|km|m²)\b)"#
                              : #"(?<=\p{L}|\d)[ ]?/[ ]?(?=(?:year|month|day|week|hour|minute|second|person|capita|night|liter|litre|gallon|kg|km|mile|unit)\b)"#) { _ in
                fr ? " par " : " per "
            },
        ]
    }

    /// COVID-19, emergency numbers (call 911), multiplication and dimensions, versions, #1, .5, and every other number.
    private var others: [Rewrite] {
        let r = self, fr = self.fr, num = numberPattern
        let english = fr ? [] : [
            Rewrite(#"(?<=\b(?:[Cc]all|[Dd]ial|[Cc]alled|[Dd]ialed|[Cc]alling|[Dd]ialing) )(\d{3})(?!\d)"#) { r.digitWords($0[1]) },
        ]
        return [Rewrite(#"(?<=\p{L})-(?=\d)"#) { _ in " " }] + english + [
            Rewrite(#"(?<=\d)[ \x{A0}]?×[ \x{A0}]?(?=\d)"#, capitalizing: true) { _ in fr ? " fois " : " times " },
            Rewrite(#"(?<=\d)[ \x{A0}]?x[ \x{A0}]?(?=\d)"#, capitalizing: true) { _ in fr ? " par " : " by " },
            Rewrite(#"(?<![\p{L}\d.,])("# + num + #")[ \x{A0}]?[x×](?![\p{L}\d])"#, capitalizing: true) { m in
                r.decimal(r.parse(m[1])) + (fr ? " fois" : " times")
            },
            Rewrite(#"(?<![\d.,])\d+(?:\.\d+){2,}(?![\d.]|\.\d)"#, capitalizing: true) { m in
                m[0].split(separator: ".").map { r.cardinal(String($0)) }.joined(separator: fr ? " point " : " point ")
            },
            Rewrite(#"(?<![\p{L}\d&])#\s?(?=\d)"#, capitalizing: true) { _ in fr ? "numéro " : "number " },
        ] + (fr ? [] : [Rewrite(#"(?<![\p{L}\d.,])\.(\d+)"#, capitalizing: true) { "point " + r.digitWords($0[1]) }]) + [Rewrite(#"(?<!\d)("# + num + #")(k\b)?"#, capitalizing: true) { r.plainNumber($0) }]
    }
}

extension NumberReading {
    /// A time: 14h30, 14 h 30, 14:30, 9h → quatorze heures trente, neuf heures.
    func frenchTime(_ m: TextMatch) -> String? {
        let h = Int(m[1].isEmpty ? m[3] : m[1]) ?? 99, min = Int(m[2]) ?? 0
        guard h < 24 || (h == 24 && min == 0), min < 60 else { return nil }
        return NumberWords.frenchFeminine(h) + (h < 2 ? " heure" : " heures") + (min == 0 ? "" : " " + NumberWords.frenchFeminine(min))
    }

    /// A time: 3:30 pm, 3pm, 14:30 → three thirty PM, three PM, two thirty PM.
    func englishTime(_ m: TextMatch) -> String? {
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
        if !m[4].isEmpty && m.periodEndsSentence { s += "." }
        return s
    }

    /// A decade: 1990s, the '90s, her 20s.
    func decade(_ m: TextMatch) -> String? {
        guard let n = Int(m[2]), n % 10 == 0 else { return nil }
        if m[2].count == 2 {
            guard n >= 20 || !m[1].isEmpty, n >= 10 else { return nil }
            return plural(NumberWords.english(n))
        }
        return plural(NumberWords.englishYear(n))
    }

    /// An amount with its unit: 5 km, 2.5 kg, 90 km/h, 20 °C.
    func amountOfUnit(_ m: TextMatch) -> String? {
        let key = m[2].replacingOccurrences(of: " ", with: "").replacingOccurrences(of: "\u{A0}", with: "").replacingOccurrences(of: "\u{202F}", with: "")
        guard let unit = units[key] else { return nil }
        let w = parse(m[1])
        let singular = fr ? w.value < 2 : (w.isInteger && w.int == "1")
        if fr, key == "m", let f = w.frac, f.count == 2, !f.hasPrefix("0") {
            // A height: 1,80 m → un mètre quatre-vingts.
            return cardinal(w.int) + " " + (singular ? unit.one : unit.many) + " " + NumberWords.french(Int(f) ?? 0)
        }
        return decimal(w, feminine: unit.feminine) + " " + (singular ? unit.one : unit.many)
    }

    /// A Roman numeral after a name or a title word: Louis XIV, World War II, chapitre IV.
    func romanAfterWord(_ m: TextMatch) -> String? {
        guard let n = roman(m[2]) else { return nil }
        let word = m[1], lower = word.lowercased()
        let titles: Set<String> = fr
            ? ["chapitre", "tome", "acte", "partie", "saison", "volume", "livre", "titre", "article", "épisode", "scène", "phase", "type", "niveau", "guerre", "mondiale"]
            : ["war", "part", "chapter", "act", "volume", "vol", "episode", "book", "season", "phase", "type", "level", "stage", "class", "grade", "apollo", "title", "section", "article", "round", "step", "mark", "gen", "generation"]
        let functionWords: Set<String> = fr
            ? ["le", "la", "les", "un", "une", "des", "de", "du", "et", "ou", "en", "au", "aux", "à", "ce", "cette", "il", "elle"]
            : ["the", "a", "an", "and", "or", "of", "in", "on", "at", "to", "by", "for", "with", "is", "was", "i", "it", "this", "that"]
        if titles.contains(lower) {
            let words = fr ? NumberWords.french(n) : NumberWords.english(n)
            return word + " " + (fr ? words : capitalizedWords(words))
        }
        guard word.first?.isUppercase == true, !functionWords.contains(lower) else { return nil }
        // Regnal numbers: Louis quatorze, François premier; Louis the Fourteenth, Elizabeth the Second.
        return word + " " + (fr ? NumberWords.french(n) : "the " + capitalizedWords(NumberWords.englishOrdinal(n)))
    }

    /// A vulgar fraction: 1½ → one and a half, ¾ → three quarters.
    func vulgarFraction(_ m: TextMatch) -> String? {
        let index = ["½": 0, "¼": 1, "¾": 2][m[2]] ?? 0
        if m[1].isEmpty {
            return (fr ? ["un demi", "un quart", "trois quarts"] : ["one half", "one quarter", "three quarters"])[index]
        }
        return cardinal(m[1]) + (fr ? [" et demi", " et quart", " trois quarts"] : [" and a half", " and a quarter", " and three quarters"])[index]
    }

    /// Day and month: 25/12 and 12/03 in French, 12/25 and 03/12 in English; a score such as 10/10 is not a date.
    func dayAndMonth(_ m: TextMatch) -> String? {
        guard let a = Int(m[1]), let b = Int(m[2]) else { return nil }
        let (day, month) = fr ? (a, b) : (b, a)
        guard (1...12).contains(month), (1...31).contains(day), m[1].hasPrefix("0") || m[2].hasPrefix("0") || day > month else { return nil }
        return fr ? (day == 1 ? "premier" : NumberWords.french(day)) + " " + NumberReading.frenchMonths[month - 1]
            : NumberReading.englishMonths[month - 1] + " " + NumberWords.englishOrdinal(day)
    }

    /// Every other number: years in English, thousands, decimals, 10k; kept apart from letters it was written against.
    func plainNumber(_ m: TextMatch) -> String? {
        let w = parse(m[1])
        var s: String
        if !m[2].isEmpty {
            s = decimal(w) + (fr ? " mille" : " thousand")
        } else if !fr, w.isInteger, m[1].count == 4, let n = w.intValue, (1010...2099).contains(n), readsAsYear(m) {
            s = NumberWords.englishYear(n)
        } else if fr, w.isInteger, let next = m.nextWord, isFeminine(next) {
            s = decimal(w, feminine: true)
        } else if fr, w.isInteger, m.previousWord?.lowercased() == "années" {
            // "les années 80": the decade reads like an ordinal, without the plural s.
            s = decimal(w)
            if s.hasSuffix("vingts") || s.hasSuffix("cents") { s.removeLast() }
        } else {
            s = decimal(w)
        }
        // Keep words apart from letters the number was written against: MP3, 5G.
        let before = m.before(1), after = m.after(1)
        if let c = before.last, c.isLetter { s = " " + s }
        if let c = after.first, c.isLetter { s += " " }
        return s
    }
}
