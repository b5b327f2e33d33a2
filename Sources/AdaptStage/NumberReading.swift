import Foundation

/// How one language reads numbers, dates, money and units aloud (English or French): the helpers the number
/// rules call. A value per language, made once with its rule tables.
struct NumberReading: Sendable {
    let fr: Bool

    /// The units this language reads, by symbol.
    var units: [String: Unit] { fr ? Self.frenchUnits : Self.englishUnits }


    /// The ways a number is written: thousands grouped (1,500 in English; 1 500 with a space, no-break space or
    /// narrow no-break space in French, and in English as SI writes it) and an optional decimal part (3.5; 3,5).
    var numberPattern: String {
        fr ? #"\d{1,3}(?:[ \x{A0}\x{202F}]\d{3})+(?:,\d+)?(?!\d)|\d+(?:[,.]\d+)?"#
            : #"\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\d)|\d{1,3}(?:[ \x{A0}\x{202F}]\d{3})+(?:\.\d+)?(?!\d)|\d+(?:\.\d+)?"#
    }

    /// A written number split into its integer digits and its decimal digits.
    struct Written {
        var int: String
        var frac: String?
        var value: Double { Double(int + "." + (frac ?? "0")) ?? 0 }
        var isInteger: Bool { frac == nil }
        var intValue: Int? { int.count <= 15 ? Int(int) : nil }
    }

    func parse(_ raw: String) -> Written {
        var s = raw.filter { !" \u{A0}\u{202F}".contains($0) }
        s = fr ? s.replacingOccurrences(of: ",", with: ".") : s.replacingOccurrences(of: ",", with: "")
        let parts = s.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let int = parts[0].isEmpty ? "0" : String(parts[0])
        return Written(int: int, frac: parts.count > 1 && !parts[1].isEmpty ? String(parts[1]) : nil)
    }

    func digitWords(_ digits: some StringProtocol) -> String {
        digits.compactMap { $0.wholeNumberValue }.map { fr ? NumberWords.french($0) : NumberWords.english($0) }.joined(separator: " ")
    }

    /// Integer digits as words; with leading zeros (007) or too long for a number, digit by digit.
    func cardinal(_ digits: String, feminine: Bool = false) -> String {
        if (digits.count > 1 && digits.hasPrefix("0")) || digits.count > 15 { return digitWords(digits) }
        let n = Int(digits) ?? 0
        return fr ? (feminine ? NumberWords.frenchFeminine(n) : NumberWords.french(n)) : NumberWords.english(n)
    }

    /// A number with its decimal part: three point one four; trois virgule quatorze, trois virgule zéro cinq.
    func decimal(_ w: Written, feminine: Bool = false) -> String {
        var s = cardinal(w.int, feminine: feminine && w.isInteger)
        guard let f = w.frac else { return s }
        if fr {
            let zeros = f.prefix { $0 == "0" }.count, rest = f.dropFirst(zeros)
            var parts = Array(repeating: "zéro", count: zeros)
            if !rest.isEmpty { parts.append(rest.count <= 3 ? NumberWords.french(Int(rest) ?? 0) : digitWords(rest)) }
            s += " virgule " + parts.joined(separator: " ")
        } else {
            s += " point " + digitWords(f)
        }
        return s
    }

    static let frenchMonths = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
                                       "septembre", "octobre", "novembre", "décembre"]
    static let englishMonths = ["January", "February", "March", "April", "May", "June", "July", "August",
                                        "September", "October", "November", "December"]

    /// Feminine French nouns often counted in narration: "1 heure" is "une heure", "21 fois" "vingt et une fois".
    static let feminineNouns: Set<String> = [
        "heure", "minute", "seconde", "fois", "semaine", "année", "journée", "nuit", "soirée", "matinée", "personne",
        "espèce", "tonne", "étoile", "planète", "ville", "femme", "fille", "page", "place", "chose", "idée", "raison",
        "étape", "question", "réponse", "vidéo", "photo", "image", "voiture", "maison", "langue", "lettre",
        "victoire", "défaite", "patte", "dent", "cellule", "calorie", "vie", "saison", "série", "règle", "erreur",
        "famille", "équipe", "école", "entreprise", "pièce", "partie", "tête", "main", "jambe", "aile",
        "couleur", "forme", "histoire", "décennie", "génération", "méthode", "astuce", "leçon", "chance", "manière",
        "façon", "île", "montagne", "rivière", "mer", "plante", "fleur", "graine",
    ]

    /// Whether a French noun is feminine: from the list, or by an ending that is (almost) always feminine.
    func isFeminine(_ noun: String) -> Bool {
        let w = singular(noun)
        if Self.feminineNouns.contains(w) { return true }
        if ["silence", "bastion", "comité", "cimetière", "squelette", "mercure", "murmure"].contains(w) { return false }
        return ["tion", "sion", "ette", "ienne", "euse", "trice", "ance", "ence", "ière", "ité", "ure", "aison"].contains { w.hasSuffix($0) }
    }


    func fullMonth(_ s: String) -> String {
        let key = s.replacingOccurrences(of: ".", with: "")
        return Self.englishMonths.first { $0.hasPrefix(key) } ?? s
    }

    func date(day: Int, month: Int, year: String) -> String? {
        guard (1...12).contains(month), (1...31).contains(day), let y = Int(year) else { return nil }
        if fr {
            return (day == 1 ? "premier" : NumberWords.french(day)) + " " + Self.frenchMonths[month - 1] + " " + NumberWords.french(y)
        }
        return Self.englishMonths[month - 1] + " " + NumberWords.englishOrdinal(day) + ", " + NumberWords.englishYear(y)
    }

    /// English reads a bare four-digit number from 1010 to 2099 as a year, unless the words around it say it
    /// counts something: "over 1500 species", "1999 people".
    func readsAsYear(_ m: TextMatch) -> Bool {
        let quantity: Set<String> = ["over", "nearly", "almost", "than", "only", "just", "exactly", "roughly", "approximately",
                                     "some", "all", "those", "these", "has", "have", "had", "with", "about", "total", "costs",
                                     "weighs", "top", "sold", "hit", "reached", "up"]
        let yearWords: Set<String> = ["in", "since", "by", "from", "until", "till", "year", "around", "circa", "before",
                                      "after", "during", "between", "and", "to", "the", "early", "late", "mid", "summer",
                                      "winter", "spring", "autumn", "fall"]
        let previous = m.previousWord?.lowercased()
        if let p = previous, yearWords.contains(p) || Self.englishMonths.contains(where: { $0.lowercased() == p }) { return true }
        if let p = previous, quantity.contains(p) { return false }
        if let next = m.nextWord, next.first?.isLowercase == true {
            let verbs: Set<String> = ["was", "is", "saw", "has", "had", "brought", "marked", "began", "ended", "changed",
                                      "will", "would", "could", "and", "or", "to", "when", "as"]
            return verbs.contains(next)
        }
        return true
    }

    func plural(_ words: String) -> String {
        if words.hasSuffix("y") { return words.dropLast() + "ies" }
        if words.hasSuffix("x") { return words + "es" }
        return words + "s"
    }

    func singular(_ word: String) -> String {
        let w = word.lowercased()
        return w.hasSuffix("s") && w != "fois" ? String(w.dropLast()) : w
    }

    func capitalizedWords(_ s: String) -> String {
        s.split(separator: " ").map { w in w.split(separator: "-", omittingEmptySubsequences: false).map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: "-") }
            .joined(separator: " ")
    }

    func frenchOrdinal(_ n: Int, suffix: String) -> String? {
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
    func roman(_ s: String) -> Int? {
        guard !s.isEmpty, s.range(of: #"^X{0,3}(IX|IV|V?I{0,3})$"#, options: .regularExpression) != nil else { return nil }
        let values: [Character: Int] = ["I": 1, "V": 5, "X": 10]
        var total = 0, previous = 0
        for ch in s.reversed() {
            let v = values[ch]!
            if v < previous { total -= v } else { total += v; previous = v }
        }
        return total
    }

    /// Fractions said by name, per language; others are read "A out of B" / "A sur B".
    static let namedFractions: [Bool: [[Int]: String]] = [
        false: [[24, 7]: "twenty-four seven", [50, 50]: "fifty-fifty", [9, 11]: "nine eleven", [1, 2]: "one half",
                [1, 3]: "one third", [2, 3]: "two thirds", [1, 4]: "one quarter", [3, 4]: "three quarters"],
        true: [[24, 7]: "vingt-quatre heures sur vingt-quatre, sept jours sur sept", [50, 50]: "cinquante-cinquante",
               [1, 2]: "un demi", [1, 3]: "un tiers", [2, 3]: "deux tiers", [1, 4]: "un quart", [3, 4]: "trois quarts"],
    ]

    func fraction(_ a: Int, _ b: Int) -> String {
        if let named = Self.namedFractions[fr]?[[a, b]] { return named }
        return fr ? NumberWords.french(a) + " sur " + NumberWords.french(b) : NumberWords.english(a) + " out of " + NumberWords.english(b)
    }

    // MARK: - Money

    struct Currency {
        let one: String, many: String, centOne: String, centMany: String
        var feminine = false
        var hasCents = true
    }

    func currency(_ symbol: String) -> Currency {
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

    func money(_ raw: String, scale: String, currency symbol: String) -> String {
        let c = currency(symbol)
        let w = parse(raw)
        if !scale.isEmpty {
            let big: String
            switch scale {
            case "k": big = fr ? "mille" : "thousand"
            case "M", "million", "millions": big = fr ? (w.value >= 2 ? "millions" : "million") : "million"
            case "trillion": big = "trillion"
            default: big = fr ? (w.value >= 2 ? "milliards" : "milliard") : "billion"
            }
            let amount = decimal(w) + " " + big
            if fr && big != "mille" { return amount + (c.many.first.map { "aeiouyéè".contains($0) } == true ? " d'" : " de ") + c.many }
            return amount + " " + c.many
        }
        let cents: Int? = c.hasCents ? w.frac.flatMap { $0.count <= 2 ? Int($0.count == 1 ? $0 + "0" : $0) : nil } : nil
        if w.frac != nil && cents == nil {
            // More decimals than cents: read as a decimal number.
            return decimal(w) + " " + c.many
        }
        let units = w.intValue ?? 0
        var main = cardinal(w.int, feminine: c.feminine) + " " + (fr ? (units < 2 ? c.one : c.many) : (units == 1 ? c.one : c.many))
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

    struct Unit {
        let one: String, many: String
        var feminine = false
    }

    var unitPattern: String {
        let keys = (fr ? Self.frenchUnits : Self.englishUnits).keys.sorted { $0.count > $1.count }
        return keys.map { key in
            NSRegularExpression.escapedPattern(for: key).replacingOccurrences(of: "°", with: "°[ \\x{A0}\\x{202F}]?")
        }.joined(separator: "|")
    }

    static let englishUnits: [String: Unit] = [
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

    static let frenchUnits: [String: Unit] = [
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

}
