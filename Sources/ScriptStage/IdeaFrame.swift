import Foundation

/// How an idea reads, so that the offline template can put it in a sentence that is grammatical whatever the
/// user typed: a "why" clause ("why octopuses have three hearts"), a direct question ("how do bees make honey"),
/// a yes/no question ("is coffee bad for you"), a request ("explain black holes") or a topic ("the history of
/// coffee"), in English or French, with emoji and odd casing cleaned away.
public struct IdeaFrame: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A question clause without inversion: it follows "Have you ever wondered".
        case wondered
        /// A direct question (inversion, or "what is"): it is asked as it is.
        case question
        /// A question answered by yes or no.
        case yesNo
        /// A request whose verb was dropped ("explain black holes" → "black holes").
        case explore
        /// Anything else: a subject.
        case topic
    }

    public var kind: Kind
    /// The idea as it goes inside a sentence: no emoji, casing repaired, no closing punctuation.
    public var text: String
    public var language: String

    public init(_ idea: String, language: String) {
        self.language = language == "fr" ? "fr" : "en"
        let (clean, asked) = IdeaCleaning.clean(idea)
        let words = IdeaCleaning.normaliseCase(clean.split(separator: " ").map(String.init), language: self.language)
        (kind, text) = IdeaFrame.read(words, asked: asked, language: self.language)
    }

    /// The first paragraph of the narration: the idea, framed, and a line that makes one want to hear more.
    public var hook: String {
        let t = text, T = IdeaCleaning.capitalised(text)
        if language == "fr" {
            switch kind {
            case .wondered: return "Vous êtes-vous déjà demandé \(t) ? La réponse va vous surprendre."
            case .question: return "\(T) ? La réponse va vous surprendre."
            case .yesNo: return "\(T) ? La réponse est moins simple qu'il n'y paraît."
            case .explore: return "Explorons \(t). Le sujet est plus riche qu'on ne le croit."
            case .topic: return "Le sujet du jour : \(t). C'est plus surprenant qu'on ne le croit."
            }
        }
        switch kind {
        case .wondered: return "Have you ever wondered \(t)? The answer might surprise you."
        case .question: return "\(T)? The answer might surprise you."
        case .yesNo: return "\(T)? The answer is not as simple as it seems."
        case .explore: return "Let's explore \(t). There is more to it than you might think."
        case .topic: return "Today's topic: \(t). There is more to it than you might think."
        }
    }

    /// A title: the idea, capitalised, with its question mark when it is a direct question.
    public var title: String {
        let T = IdeaCleaning.capitalised(text)
        guard kind == .question || kind == .yesNo else { return T }
        return T + (language == "fr" ? " ?" : "?")
    }

    static func read(_ words: [String], asked: Bool, language: String) -> (Kind, String) {
        let lower = words.map { $0.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: ",;:")) }
        let text = words.joined(separator: " ")
        guard !lower.isEmpty else { return (.topic, text) }
        let rules = IdeaRules.of(language)
        if let kind = rules.question(lower) { return (kind, text) }
        if let dropped = rules.request(lower), dropped.count < words.count {
            let rest = rules.object(Array(words.dropFirst(dropped.count)))
            let (kind, restText) = read(rest, asked: asked, language: language)
            if !rest.isEmpty { return (kind == .topic ? .explore : kind, restText) }
        }
        return (asked ? .question : .topic, text)
    }
}

/// The words that tell how an idea reads, per language.
struct IdeaRules: Sendable {
    var questionWords: Set<String>
    var auxiliaries: Set<String>
    /// Words after "how" that the auxiliary follows ("how many hearts does an octopus have").
    var degreeWords: Set<String>
    /// Request verbs, each with the words that may follow it and go with it ("tell me about").
    var requests: [String: Set<String>]
    var language: String

    static func of(_ language: String) -> IdeaRules { language == "fr" ? french : english }

    static let english = IdeaRules(
        questionWords: ["why", "how", "what", "who", "whom", "whose", "when", "where", "which"],
        auxiliaries: Set("""
        is are was were do does did can could should would will shall may might must has have had isn't aren't \
        wasn't weren't don't doesn't didn't can't couldn't won't wouldn't shouldn't hasn't haven't
        """.split(whereSeparator: \.isWhitespace).map(String.init)),
        degreeWords: ["many", "much", "long", "far", "old", "big", "often", "large", "small", "fast", "tall", "deep",
                      "hot", "cold", "high", "heavy"],
        requests: Dictionary(uniqueKeysWithValues: ["explain", "describe", "tell", "show", "teach", "discuss", "summarize",
                                                    "summarise", "list", "give", "introduce", "talk", "walk"]
            .map { ($0, Set(["me", "us", "about", "through", "to"])) }),
        language: "en")

    static let french = IdeaRules(
        questionWords: ["pourquoi", "comment", "quand", "où", "qui", "combien", "quel", "quelle", "quels", "quelles", "que", "quoi"],
        auxiliaries: [],
        degreeWords: [],
        requests: Dictionary(uniqueKeysWithValues: """
        explique expliquez explique-moi expliquez-moi explique-nous expliquez-nous raconte racontez raconte-moi \
        racontez-moi raconte-nous racontez-nous parle parlez parle-moi parlez-moi parle-nous parlez-nous décris \
        décrivez décris-moi décrivez-moi dis-moi dites-moi montre-moi montrez-moi montre-nous montrez-nous présente \
        présentez présente-moi présentez-moi résume résumez résume-moi résumez-moi
        """.split(whereSeparator: \.isWhitespace).map { (String($0), Set(["moi", "nous"])) }),
        language: "fr")

    /// The question kind of an idea, if it is a question.
    func question(_ w: [String]) -> IdeaFrame.Kind? {
        language == "fr" ? frenchQuestion(w) : englishQuestion(w)
    }

    func englishQuestion(_ w: [String]) -> IdeaFrame.Kind? {
        let second = w.count > 1 ? w[1] : ""
        if auxiliaries.contains(w[0]) { return .yesNo }
        let contracted = questionWords.contains { w[0].hasPrefix($0 + "'") }
        guard questionWords.contains(w[0]) || contracted else { return nil }
        if contracted || auxiliaries.contains(second) { return .question }
        // "how many hearts does an octopus have", "what animal has three hearts": asked as they are.
        let soon = w.dropFirst(2).prefix(2)
        if degreeWords.contains(second) || ["what", "which", "whose"].contains(w[0]) {
            if soon.contains(where: auxiliaries.contains) { return .question }
        }
        return .wondered
    }

    func frenchQuestion(_ w: [String]) -> IdeaFrame.Kind? {
        let inverted = w.prefix(4).contains { IdeaRules.isInversion($0) }
        if w[0].hasPrefix("est-ce") { return .yesNo }
        let elided = w[0].hasPrefix("qu'")
        guard questionWords.contains(w[0]) || elided else { return inverted ? .yesNo : nil }
        // "que", "quel", "quoi", "qu'est-ce que", "est-ce que" and inversion are asked as they are; the others
        // read as well after "vous êtes-vous déjà demandé" ("pourquoi les pieuvres ont trois cœurs").
        if elided || ["que", "quel", "quelle", "quels", "quelles", "quoi"].contains(w[0]) || inverted
            || w.contains(where: { $0.hasPrefix("est-ce") }) { return .question }
        return .wondered
    }

    /// "est-il", "peut-on", "a-t-elle": a verb and its subject pronoun joined by a hyphen.
    static func isInversion(_ word: String) -> Bool {
        ["-il", "-elle", "-ils", "-elles", "-on", "-vous", "-nous", "-tu", "-je"].contains { word.hasSuffix($0) && word.count > $0.count }
    }

    /// The request verb and the words that go with it, if the idea starts with one ("tell me about").
    func request(_ w: [String]) -> [String]? {
        guard let extra = requests[w[0]] else { return nil }
        var taken = [w[0]]
        while taken.count < w.count, extra.contains(w[taken.count]) { taken.append(w[taken.count]) }
        // "list of planets", "show business": a noun, not a request.
        let next = w.count > taken.count ? w[taken.count] : ""
        let notObjects: Set<String> = language == "fr" ? ["est", "sont", "et"] : ["of", "is", "are", "and", "business", "off"]
        return notObjects.contains(next) ? nil : taken
    }

    /// The object of a request: French "parle-moi du café" asks about "le café".
    func object(_ rest: [String]) -> [String] {
        guard language == "fr", let first = rest.first?.lowercased() else { return rest }
        let tail = Array(rest.dropFirst())
        switch first {
        case "du": return ["le"] + tail
        case "des": return ["les"] + tail
        case "de": return tail
        default:
            if first.hasPrefix("d'") { return [String(rest[0].dropFirst(2))] + tail }
            return rest
        }
    }
}

/// Cleaning an idea's text before it is framed.
enum IdeaCleaning {
    static let kept: Set<Character> = ["'", "-", ",", ":", ";", ".", "!", "?", "&", "/", "%", "\"", "«", "»", "(", ")", "+", "$", "€", "£"]

    /// The idea without emoji, symbols or control characters, single-spaced, without the punctuation that
    /// closes it; and whether it was asked as a question.
    static func clean(_ idea: String) -> (text: String, asked: Bool) {
        var out = ""
        for c in idea.replacingOccurrences(of: "’", with: "'") {
            let plain = c.isLetter || (c.isNumber && c.unicodeScalars.count == 1) || kept.contains(c)
            out.append(plain && !c.isWhitespace ? c : " ")
        }
        let text = out.split(separator: " ").joined(separator: " ")
        let closing = CharacterSet(charactersIn: ".!?…,;: \"»")
        let asked = text.trimmingCharacters(in: CharacterSet(charactersIn: ".!…\"» ")).hasSuffix("?")
        let trimmed = text.trimmingCharacters(in: closing).trimmingCharacters(in: CharacterSet(charactersIn: ",;:.!?-«\" "))
        return (trimmed, asked)
    }

    /// Shouting ("WHY DO CATS PURR") and mixed case ("wHy dO cAtS") become lower case, and so do function words
    /// ("The history", "L'histoire"); other words keep the user's capitals ("NASA", "Paris", "iPhone").
    static func normaliseCase(_ words: [String], language: String) -> [String] {
        let letters = words.joined().filter(\.isLetter)
        let odd = words.filter { caseChanges($0) > 0 }.count
        // "WHY DO CATS PURR" and "wHy Do CaTs PuRr" alike: the user's capitals carry nothing.
        let shouting = (letters.count >= 4 && letters.filter(\.isUppercase).count * 10 >= letters.count * 6)
            || (odd >= 2 && odd * 2 >= words.count)
        return words.map { word in
            if shouting { return fixPronoun(word.lowercased(), language) }
            var out = "", part = ""
            func flush() {
                let function = ContentWords.isStopWord(part, language: language) || IdeaRules.of(language).requests[part.lowercased()] != nil
                out += function || caseChanges(part) >= 2 ? part.lowercased() : part
                part = ""
            }
            for c in word {
                if c == "'" || c == "-" { flush(); out.append(c) } else { part.append(c) }
            }
            flush()
            return fixPronoun(out, language)
        }
    }

    /// English "I" (and "I'm", "I've") stays a capital.
    static func fixPronoun(_ word: String, _ language: String) -> String {
        guard language == "en", word == "i" || word.hasPrefix("i'") else { return word }
        return "I" + word.dropFirst()
    }

    /// How often a word goes from a lower-case letter to a capital: "cAtS" twice, "iPhone" and "McDonald" once.
    static func caseChanges(_ word: String) -> Int {
        var changes = 0, previousLower = false
        for c in word where c.isLetter {
            if c.isUppercase && previousLower { changes += 1 }
            previousLower = c.isLowercase
        }
        return changes
    }

    /// The first letter a capital, unless the text starts with a number ("5 facts about sharks").
    static func capitalised(_ text: String) -> String {
        guard let i = text.firstIndex(where: { $0.isLetter || $0.isNumber }), text[i].isLetter else { return text }
        return text[..<i] + text[i].uppercased() + text[text.index(after: i)...]
    }
}
