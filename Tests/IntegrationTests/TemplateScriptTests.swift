import Foundation
import ScriptStage
import Shared
import Testing

/// The offline template reads naturally whatever the idea looks like: questions of every kind, topics, requests,
/// yes/no questions, emoji and odd casing, in English and French; hashtags are content words only.
@Suite("Template script")
struct TemplateScriptTests {
    /// Ideas, their language, and the content words that must be heard in the narration.
    static let ideas: [(String, String, [String])] = [
        ("why octopuses have three hearts", "en", ["octopuses", "hearts"]),
        ("How do bees make honey?", "en", ["bees", "honey"]),
        ("what is dark matter", "en", ["dark", "matter"]),
        ("who invented the telephone", "en", ["invented", "telephone"]),
        ("when did the dinosaurs die out", "en", ["dinosaurs"]),
        ("where do eels come from", "en", ["eels"]),
        ("which planet is the hottest", "en", ["planet", "hottest"]),
        ("how the internet works", "en", ["internet", "works"]),
        ("what happens when you die", "en", ["happens", "die"]),
        ("why is the sky blue", "en", ["sky", "blue"]),
        ("show me how volcanoes work", "en", ["volcanoes"]),
        ("how many hearts does an octopus have", "en", ["hearts", "octopus"]),
        ("what's the deal with daylight saving time", "en", ["daylight", "saving", "time"]),
        ("the history of coffee", "en", ["history", "coffee"]),
        ("Einstein's biggest mistake", "en", ["einstein", "mistake"]),
        ("5 facts about sharks", "en", ["facts", "sharks"]),
        ("Explain black holes", "en", ["black", "holes"]),
        ("tell me about the Roman Empire", "en", ["roman", "empire"]),
        ("explain why the sky is blue", "en", ["sky", "blue"]),
        ("is coffee bad for you", "en", ["coffee", "bad"]),
        ("Can dogs see colours?", "en", ["dogs", "colours"]),
        ("🐙 WHY DO OCTOPUSES HAVE THREE HEARTS 🐙", "en", ["octopuses", "hearts"]),
        ("wHy Do CaTs PuRr", "en", ["cats", "purr"]),
        ("coffee ☕☕ and sleep 😴", "en", ["coffee", "sleep"]),
        ("pourquoi les pieuvres ont trois cœurs", "fr", ["pieuvres", "cœurs"]),
        ("Comment les abeilles font-elles du miel ?", "fr", ["abeilles", "miel"]),
        ("qu'est-ce que la matière noire", "fr", ["matière", "noire"]),
        ("qui a inventé le téléphone", "fr", ["téléphone"]),
        ("quand les dinosaures ont-ils disparu", "fr", ["dinosaures", "disparu"]),
        ("où vivent les anguilles", "fr", ["anguilles"]),
        ("combien de cœurs a une pieuvre", "fr", ["cœurs", "pieuvre"]),
        ("l'histoire du café", "fr", ["histoire", "café"]),
        ("les 3 secrets des pyramides", "fr", ["secrets", "pyramides"]),
        ("explique les trous noirs", "fr", ["trous", "noirs"]),
        ("parle-moi du café", "fr", ["café"]),
        ("dis-moi pourquoi le ciel est bleu", "fr", ["ciel", "bleu"]),
        ("le café est-il mauvais pour la santé", "fr", ["café", "santé"]),
        ("est-ce que les chats rêvent", "fr", ["chats", "rêvent"]),
        ("🐙 POURQUOI LE CIEL EST BLEU 🐙", "fr", ["ciel", "bleu"]),
        ("L'HISTOIRE DU CAFÉ ☕", "fr", ["histoire", "café"]),
    ]

    /// Words a hashtag must never be (stop and number words of both languages), listed here independently of
    /// the writer's own lists.
    static let neverTags: Set<String> = [
        "the", "a", "an", "of", "why", "how", "what", "who", "when", "where", "which", "have", "has", "do", "does", "did",
        "is", "are", "can", "you", "for", "and", "me", "about", "explain", "tell", "three", "five", "one", "two", "many",
        "le", "la", "les", "du", "de", "des", "pourquoi", "comment", "quand", "où", "qui", "que", "est", "ont", "trois",
        "explique", "moi", "dis", "parle", "il", "ils", "elles", "ce", "se", "ne",
    ]
    static let questionWords = ["en": ["why", "how", "what", "who", "when", "where", "which"],
                                "fr": ["pourquoi", "comment", "quand", "où", "qui", "combien"]]

    static func sentences(_ text: String) -> [String] {
        var out: [String] = [], current = ""
        for c in text {
            current.append(c)
            if ".!?".contains(c) { out.append(current.trimmingCharacters(in: .whitespacesAndNewlines)); current = "" }
        }
        if !current.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { out.append(current.trimmingCharacters(in: .whitespacesAndNewlines)) }
        return out.filter { !$0.isEmpty && $0 != "?" && $0 != "!" }
    }

    static func hasEmoji(_ s: String) -> Bool {
        s.unicodeScalars.contains { $0.properties.isEmojiPresentation || $0.properties.generalCategory == .otherSymbol }
    }

    static func nextWord(after marker: String, in text: String) -> String? {
        guard let r = text.range(of: marker) else { return nil }
        return text[r.upperBound...].split(whereSeparator: { !$0.isLetter && $0 != "'" }).first.map { $0.lowercased() }
    }

    @Test(arguments: ideas, [8, 30, 90])
    func readsNaturally(_ idea: (String, String, [String]), _ seconds: Int) async throws {
        let (text, lang, content) = idea
        let (s, _) = try await TemplateScriptWriter().write(idea: text, language: lang, targetSeconds: seconds)
        let narration = s.narration
        for sentence in Self.sentences(narration) {
            let first = try #require(sentence.first(where: { $0.isLetter || $0.isNumber }))
            #expect(first.isUppercase || first.isNumber, "\(text): a sentence starts in lower case: \(sentence)")
            #expect([".", "!", "?"].contains(String(sentence.last!)), "\(text): \(sentence)")
        }
        #expect(!Self.hasEmoji(narration + s.title + s.hook), "\(text): \(s.title) / \(narration)")
        for bad in ["  ", " .", " ,", "..", "?.", ".?", "??", "\n\n\n"] { #expect(!narration.contains(bad), "\(text): «\(bad)» in \(narration)") }
        let words = narration.lowercased().split(whereSeparator: { !$0.isLetter }).map(String.init)
        #expect(!zip(words, words.dropFirst()).contains { $0 == $1 }, "\(text): a word twice in a row")
        for w in content { #expect(words.contains(w), "\(text): «\(w)» is not heard in \(narration)") }
        expectFrames(narration, idea: text, language: lang)
        expectHashtags(s.hashtags, idea: text, language: lang)
        let titleStart = try #require(s.title.first(where: { $0.isLetter || $0.isNumber }))
        #expect(titleStart.isUppercase || titleStart.isNumber, "\(s.title)")
        if seconds >= 30 {
            let target = Double(seconds) * Script.wordsPerSecond(lang)
            #expect(Double(s.wordCount) > target * 0.6 && Double(s.wordCount) < target * 1.3, "\(s.wordCount) words for \(seconds) s")
        }
        #expect(s.keywords.count == s.paragraphs.count && s.keywords.allSatisfy { !$0.isEmpty })
    }

    /// The frames of the template never produce what a person would stumble on: "wondered the", "wondered how do",
    /// "Let's explore explain", "demandé qu'est-ce", "de le".
    func expectFrames(_ narration: String, idea: String, language: String) {
        let wh = Self.questionWords[language]!
        let aux = ["is", "are", "was", "were", "do", "does", "did", "can", "could", "will", "would", "should", "has", "have"]
        if let w = Self.nextWord(after: language == "fr" ? "demandé " : "wondered ", in: narration) {
            #expect(wh.contains(w), "\(idea): «wondered/demandé \(w)»")
            let after = narration.components(separatedBy: language == "fr" ? "demandé " : "wondered ")[1].split(separator: " ")
            #expect(!(after.count > 1 && aux.contains(String(after[1]))), "\(idea): an inverted question after «wondered»: \(narration)")
            #expect(!narration.contains("est-ce") || !narration.contains("demandé qu"), "\(idea)")
        }
        for marker in ["Let's explore ", "Today's topic: ", "Explorons ", "Le sujet du jour : "] {
            guard let w = Self.nextWord(after: marker, in: narration) else { continue }
            #expect(!(wh + aux + ["explain", "tell", "me", "about", "explique", "parle", "moi", "dis", "de", "du"]).contains(w),
                    "\(idea): «\(marker)\(w)»")
        }
        for bad in [" de le ", " de les ", " à le ", " à les ", "wondered the", "wondered a ", " i ", "Have you ever wondered?"] {
            #expect(!narration.contains(bad), "\(idea): «\(bad)» in \(narration)")
        }
    }

    func expectHashtags(_ tags: [String], idea: String, language: String) {
        let ideaWords = Set(idea.lowercased().split(whereSeparator: { !$0.isLetter }).map(String.init))
        #expect(tags.count <= 5 && Set(tags).count == tags.count, "\(tags)")
        for tag in tags {
            let word = String(tag.dropFirst())
            #expect(tag.hasPrefix("#") && !word.isEmpty && word.allSatisfy(\.isLetter), "\(idea): \(tag)")
            #expect(!Self.neverTags.contains(word) && !ContentWords.isStopWord(word, language: language), "\(idea): \(tag)")
            #expect(ideaWords.contains(word), "\(idea): \(tag) is not a word of the idea")
        }
        #expect(!tags.isEmpty, "\(idea): no hashtag")
    }

    /// How a few ideas open: a direct question is asked as it is, a why-clause is wondered about, a request loses
    /// its verb, French contractions are undone.
    static let openings: [(String, String, String)] = [
        ("How do bees make honey?", "en", "How do bees make honey?"),
        ("is coffee bad for you", "en", "Is coffee bad for you?"),
        ("why octopuses have three hearts", "en", "Have you ever wondered why octopuses have three hearts?"),
        ("explain why the sky is blue", "en", "Have you ever wondered why the sky is blue?"),
        ("the history of coffee", "en", "Today's topic: the history of coffee."),
        ("Explain black holes", "en", "Let's explore black holes."),
        ("wHy Do CaTs PuRr", "en", "Why do cats purr?"),
        ("why is the sky blue", "en", "Why is the sky blue?"),
        ("show me how volcanoes work", "en", "Have you ever wondered how volcanoes work?"),
        ("le café est-il mauvais pour la santé", "fr", "Le café est-il mauvais pour la santé ?"),
        ("parle-moi du café", "fr", "Explorons le café."),
        ("pourquoi les pieuvres ont trois cœurs", "fr", "Vous êtes-vous déjà demandé pourquoi les pieuvres ont trois cœurs ?"),
        ("L'HISTOIRE DU CAFÉ ☕", "fr", "Le sujet du jour : l'histoire du café."),
    ]

    @Test(arguments: openings)
    func opensWithTheIdeaFramedByHowItReads(_ idea: String, _ language: String, _ opening: String) async throws {
        let (s, _) = try await TemplateScriptWriter().write(idea: idea, language: language, targetSeconds: 20)
        #expect(s.paragraphs[0].hasPrefix(opening), "\(s.paragraphs[0])")
    }

    @Test func anIdeaOfOnlyEmojiIsAPermanentError() async throws {
        await #expect(throws: StageFailure.self) { _ = try await TemplateScriptWriter().write(idea: "🐙☕ ?!", language: "en", targetSeconds: 20) }
    }
}
