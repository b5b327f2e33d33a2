/// Integers written as words in English and French.
///
/// English follows American usage without "and" (`one hundred one`); French follows the traditional spelling
/// (hyphens only below one hundred, `vingt et un`, `quatre-vingts`, `deux cents`, `deux cent mille`, `mille`).
public enum NumberWords {
    public static func english(_ n: Int) -> String {
        if n < 0 { return "minus " + english(-n) }
        let ones = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
                    "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
        let tens = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
        if n < 20 { return ones[n] }
        if n < 100 { return tens[n / 10] + (n % 10 == 0 ? "" : "-" + ones[n % 10]) }
        if n < 1000 { return ones[n / 100] + " hundred" + (n % 100 == 0 ? "" : " " + english(n % 100)) }
        for (value, name) in [(1_000_000_000_000, "trillion"), (1_000_000_000, "billion"), (1_000_000, "million"),
                              (1000, "thousand")] where n >= value {
            return english(n / value) + " " + name + (n % value == 0 ? "" : " " + english(n % value))
        }
        return String(n)
    }

    /// A year as English speakers read it: 1999 → nineteen ninety-nine, 1905 → nineteen oh five, 1066 → ten
    /// sixty-six, 1900 → nineteen hundred, 2000 → two thousand, 2007 → two thousand seven, 2024 → twenty twenty-four.
    public static func englishYear(_ n: Int) -> String {
        guard (1010...1999).contains(n) || (2010...2099).contains(n) else { return english(n) }
        let high = n / 100, low = n % 100
        if low == 0 { return english(high) + " hundred" }
        return english(high) + " " + (low < 10 ? "oh " : "") + english(low)
    }

    public static func french(_ n: Int) -> String {
        if n < 0 { return "moins " + french(-n) }
        let units = ["zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix", "onze",
                     "douze", "treize", "quatorze", "quinze", "seize"]
        if n <= 16 { return units[n] }
        if n < 20 { return "dix-" + units[n - 10] }
        if n < 70 {
            let tens = ["", "", "vingt", "trente", "quarante", "cinquante", "soixante"]
            let u = n % 10
            return tens[n / 10] + (u == 0 ? "" : u == 1 ? " et un" : "-" + units[u])
        }
        if n < 80 { return n == 71 ? "soixante et onze" : "soixante-" + french(n - 60) }
        if n < 100 { return n == 80 ? "quatre-vingts" : "quatre-vingt-" + french(n - 80) }
        if n < 1000 {
            let h = n / 100, r = n % 100
            let head = h == 1 ? "cent" : units[h] + " cent" + (r == 0 ? "s" : "")
            return head + (r == 0 ? "" : " " + french(r))
        }
        if n < 1_000_000 {
            let t = n / 1000, r = n % 1000
            // "mille" is invariable, and so are "cent" and "vingt" in front of it.
            var head = t == 1 ? "mille" : french(t) + " mille"
            if head.hasSuffix("cents mille") { head = String(head.dropLast(" mille".count + 1)) + " mille" }
            if head.hasSuffix("quatre-vingts mille") { head = head.replacingOccurrences(of: "quatre-vingts mille", with: "quatre-vingt mille") }
            return head + (r == 0 ? "" : " " + french(r))
        }
        for (value, name) in [(1_000_000_000_000, "billion"), (1_000_000_000, "milliard"), (1_000_000, "million")] where n >= value {
            let q = n / value, r = n % value
            return french(q) + " " + name + (q > 1 ? "s" : "") + (r == 0 ? "" : " " + french(r))
        }
        return String(n)
    }

    /// The French cardinal in front of a feminine noun: un → une (une heure, vingt et une fois, cent une pages).
    /// "un" in front of mille, million or milliard stays as it is.
    public static func frenchFeminine(_ n: Int) -> String {
        let words = french(n)
        if words == "un" { return "une" }
        if words.hasSuffix(" un") || words.hasSuffix("-un") { return words + "e" }
        return words
    }

    public static func englishOrdinal(_ n: Int) -> String {
        let irregular = ["one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
                         "nine": "ninth", "twelve": "twelfth"]
        let words = english(n)
        let sep = words.lastIndex(where: { $0 == " " || $0 == "-" })
        let head = sep.map { String(words[...$0]) } ?? ""
        let last = sep.map { String(words[words.index(after: $0)...]) } ?? words
        if let irr = irregular[last] { return head + irr }
        if last.hasSuffix("y") { return head + last.dropLast() + "ieth" }
        return head + last + "th"
    }

    public static func frenchOrdinal(_ n: Int) -> String {
        if n == 1 { return "premier" }
        var w = french(n)
        // The plural marks of vingts, cents, millions and milliards go: quatre-vingtième, deux centième.
        for plural in ["vingts", "cents", "millions", "milliards", "billions"] where w.hasSuffix(plural) { w.removeLast() }
        if w.hasSuffix("cinq") { w += "u" }
        if w.hasSuffix("neuf") { w = String(w.dropLast()) + "v" }
        if w.hasSuffix("e") { w.removeLast() }
        return w + "ième"
    }
}
