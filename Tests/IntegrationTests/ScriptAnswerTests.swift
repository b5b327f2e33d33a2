import Foundation
import ReelForgeTestKit
import ScriptStage
import Shared
import Testing

/// The answer files the provider stand-in (scripts/fake-providers) sends back in its `narration`, `plain`,
/// `fenced` and `fenced-plain` modes.
enum AnswerFixtures {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/providers")

    static func text(_ name: String) throws -> String {
        try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
    }

    /// The narration string of the `narration` answer.
    static func narrationString() throws -> String {
        try #require(try JSONValue.parse(Data(text("answer-narration.json").utf8))["narration"]?.stringValue)
    }

    static let plainParagraphs = [
        "An octopus has three hearts, and one of them stops when it swims.",
        "Two small hearts push blood through the gills, where it picks up oxygen. The third heart sends that blood to the rest of the body.",
        "It pauses during swimming, which is why octopuses prefer to crawl. Their blood is blue, because it carries oxygen with copper instead of iron.",
    ]
    static let fencedParagraphs = [
        "An octopus has three hearts, and one of them stops when it swims.",
        "Two small hearts push blood through the gills, where it picks up oxygen.",
        "The third heart sends that blood to the rest of the body, but it pauses during swimming, which is why octopuses prefer to crawl.",
        "Their blood is blue, because it carries oxygen with copper instead of iron.",
    ]

    static func letters(_ s: String) -> String { String(s.lowercased().filter(\.isLetter)) }

    /// What every script read from an answer must be: spoken text only, one keyword list per paragraph,
    /// a title and clean hashtags.
    static func expectWellFormed(_ s: Script, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!s.paragraphs.isEmpty && s.paragraphs.allSatisfy { !$0.isEmpty }, sourceLocation: sourceLocation)
        for bad in ["{", "}", "```", "**", "\"paragraphs\"", "#", "Sure!", "Let me know"] {
            #expect(!s.narration.contains(bad), "the narration holds \(bad): \(s.narration)", sourceLocation: sourceLocation)
        }
        let first = letters(s.paragraphs.first ?? ""), hook = letters(s.hook)
        #expect(!hook.isEmpty && (first.hasPrefix(hook) || hook.hasPrefix(first)), "the hook is spoken first", sourceLocation: sourceLocation)
        #expect(!s.title.isEmpty && s.keywords.count == s.paragraphs.count, sourceLocation: sourceLocation)
        #expect(!s.hashtags.isEmpty && s.hashtags.allSatisfy { $0.count > 1 && $0.hasPrefix("#") && !$0.dropFirst().contains("#") },
                "\(s.hashtags)", sourceLocation: sourceLocation)
    }
}

/// Answers of every plausible shape are read into a script without a provider (pure parsing).
@Suite("Script answers")
struct ScriptAnswerTests {
    static let story = """
    An octopus has three hearts, and one of them stops when it swims. Two small hearts push blood through the gills, \
    where it picks up oxygen. The third heart sends that blood to the rest of the body. It pauses during swimming, \
    which is why octopuses prefer to crawl. Their blood is blue, because it carries oxygen with copper instead of iron.
    """

    static func json(_ value: JSONValue) -> String { value.jsonText }

    /// Each answer carries the story (in whatever shape); each must give it back, in order, as paragraphs.
    static let shapes: [(String, String)] = [
        ("narration string", json(["title": "Octopus hearts", "hook": "An octopus has three hearts.", "narration": .string(story),
                                   "hashtags": ["#octopus"], "visual_keywords": ["octopus", "reef"]])),
        ("script key", json(["script": .string(story)])),
        ("text key", json(["text": .string(story)])),
        ("body key", json(["Body": .string(story)])),
        ("content key", json(["content": .string(story)])),
        ("story key", json(["story": .string(story)])),
        ("paragraphs as one string", json(["title": "T", "paragraphs": .string(story)])),
        ("nested object", json(["video": ["script": ["title": "Octopus hearts", "voice_over": .string(story)]]])),
        ("paragraph objects", json(["script": ["paragraphs": .array(sentences(story).map { ["text": .string($0)] })]])),
        ("unknown key", json(["the_words_to_say": .string(story), "title": "Hearts"])),
        ("plain text", story),
        ("plain with chatter", "Sure! Here is a narration script for your video:\n\n\(story)\n\nLet me know if you want changes."),
        ("fenced json", "```json\n" + json(["paragraphs": .array(sentences(story).map { .string($0) })]) + "\n```"),
        ("fenced plain", "```\n\(story)\n```"),
        ("json with chatter", "Here you go: " + json(["narration": .string(story)]) + " Enjoy!"),
        ("unclosed fence", "```json\n" + json(["narration": .string(story)])),
        ("markdown", "# Octopus Hearts\n\n**Hook:** An octopus has three hearts, and one of them stops when it swims.\n\n"
            + sentences(story).dropFirst().joined(separator: " ") + "\n\n#octopus #ocean #science"),
    ]

    static func sentences(_ s: String) -> [String] { Narration.sentences(s) }

    @Test(arguments: shapes)
    func aNarrationInAnyShapeIsRead(_ name: String, _ answer: String) throws {
        guard case .success(let s) = ScriptAnswer.parse(answer, idea: "why octopuses have three hearts", language: "en", targetSeconds: 20) else {
            Issue.record("\(name): not read: \(ScriptAnswer.parse(answer, idea: "x", language: "en", targetSeconds: 20))")
            return
        }
        AnswerFixtures.expectWellFormed(s)
        #expect(AnswerFixtures.letters(s.narration) == AnswerFixtures.letters(Self.story), "\(name): \(s.paragraphs)")
        #expect(s.paragraphs.count >= 2 && s.paragraphs.count <= 6, "\(name): split into paragraphs: \(s.paragraphs)")
        #expect(s.paragraphs.allSatisfy { [".", "!", "?"].contains(String($0.last!)) }, "\(name): whole sentences only: \(s.paragraphs)")
    }

    @Test func givenFieldsAreKeptAndMissingOnesDerived() throws {
        let given = ScriptAnswer.parse(Self.shapes[0].1, idea: "octopus hearts", language: "en", targetSeconds: 20)
        guard case .success(let s) = given else { Issue.record("\(given)"); return }
        #expect(s.title == "Octopus hearts" && s.hashtags == ["#octopus"])
        #expect(s.keywords.allSatisfy { $0 == ["octopus", "reef"] })
        #expect(s.paragraphs[0] == "An octopus has three hearts, and one of them stops when it swims.")

        let bare = ScriptAnswer.parse(Self.story, idea: "why do octopuses have three hearts", language: "en", targetSeconds: 20)
        guard case .success(let d) = bare else { Issue.record("\(bare)"); return }
        #expect(d.title == "Why do octopuses have three hearts?")
        #expect(d.hook == "An octopus has three hearts, and one of them stops when it swims.")
        #expect(Set(d.hashtags) == ["#octopuses", "#hearts"], "from the idea's content words: \(d.hashtags)")
        #expect(d.keywords.allSatisfy { !$0.isEmpty })
    }

    /// The script's picture descriptions (for generated footage) are kept when there is one a paragraph, and
    /// dropped otherwise (the footage step then describes a paragraph by its keywords).
    @Test func imagePromptsAreKeptWhenThereIsOneAParagraph() throws {
        let paragraphs = AnswerFixtures.plainParagraphs
        func answer(_ prompts: [String]) -> String {
            JSONValue.object(["title": "Octopus hearts", "paragraphs": .array(paragraphs.map { .string($0) }),
                              "image_prompts": .array(prompts.map { .string($0) })]).jsonText
        }
        let prompts = paragraphs.indices.map { "An octopus on a reef, picture \($0 + 1)" }
        guard case .success(let s) = ScriptAnswer.parse(answer(prompts), idea: "octopus hearts", language: "en", targetSeconds: 20) else {
            Issue.record("not parsed"); return
        }
        #expect(s.imagePrompts == prompts && s.paragraphs == paragraphs)
        guard case .success(let short) = ScriptAnswer.parse(answer(["only one"]), idea: "octopus hearts", language: "en", targetSeconds: 20) else {
            Issue.record("not parsed"); return
        }
        #expect(short.imagePrompts == nil && short.paragraphs == paragraphs, "the prompts are no narration either")
        // Stored as `image_prompts`; scripts stored before it decode without.
        let stored = try JSONEncoder().encode(s)
        #expect(String(decoding: stored, as: UTF8.self).contains("\"image_prompts\""))
        let old = try JSONDecoder().decode(Script.self, from: Data(#"{"title":"t","hook":"h","paragraphs":["p"],"hashtags":[],"keywords":[["k"]],"language":"en"}"#.utf8))
        #expect(old.imagePrompts == nil)
    }

    @Test func blankLinesMakeTheParagraphsAndLongTextIsGroupedBySize() throws {
        let blocks = "First part of the story, told slowly.\n\nSecond part, with more to say.\n\nThird part. The end."
        guard case .success(let b) = ScriptAnswer.parse(blocks, idea: "x", language: "en", targetSeconds: 5) else { Issue.record("blocks"); return }
        #expect(b.paragraphs == ["First part of the story, told slowly.", "Second part, with more to say.", "Third part. The end."])

        let long = (1...40).map { "Sentence number \(["one", "two", "three", "four"][$0 % 4]) tells a small part of it." }.joined(separator: " ")
        guard case .success(let l) = ScriptAnswer.parse(long, idea: "x", language: "en", targetSeconds: 120) else { Issue.record("long"); return }
        let size = Script.paragraphWords(targetSeconds: 120, language: "en")
        #expect(l.paragraphs.count >= 8 && l.paragraphs.count <= 12, "\(l.paragraphs.count) paragraphs of about \(size) words")
        #expect(l.paragraphs.dropFirst().allSatisfy { $0.split(separator: " ").count >= size / 2 })
    }

    static let unusable: [(String, String)] = [
        ("", "empty"), ("   \n  ", "empty"),
        ("I'm sorry, but I can't help with that request.", "refusal"),
        ("Octopuses are cool.", "words"),
        ("{\"title\": \"Octopus hearts\", \"paragraphs\": [\"An octopus has three hearts", "does not parse"),
        ("{\"title\": \"Only a title\", \"hashtags\": [\"#a\"]}", "no narration"),
        ("```json\n{\"narration\": \n```", "does not parse"),
    ]

    @Test(arguments: unusable)
    func anAnswerWithoutAUsableNarrationIsAFailure(_ answer: String, _ reason: String) {
        guard case .failure(let why) = ScriptAnswer.parse(answer, idea: "octopus hearts", language: "en", targetSeconds: 20) else {
            Issue.record("accepted: \(answer)"); return
        }
        #expect(why.contains(reason), "\(why)")
    }

    @Test func frenchPlainTextIsSplitIntoSentences() throws {
        let text = "Une pieuvre a trois cœurs. Deux d'entre eux envoient le sang vers les branchies ! Pourquoi ? " +
            "Parce que le troisième s'arrête quand elle nage. Son sang est bleu, grâce au cuivre. C'est pour ça qu'elle préfère ramper."
        guard case .success(let s) = ScriptAnswer.parse(text, idea: "pourquoi les pieuvres ont trois cœurs", language: "fr", targetSeconds: 12) else {
            Issue.record("not read"); return
        }
        AnswerFixtures.expectWellFormed(s)
        #expect(s.paragraphs[0] == "Une pieuvre a trois cœurs.")
        #expect(s.title == "Pourquoi les pieuvres ont trois cœurs" && s.hashtags.contains("#pieuvres"))
    }
}
