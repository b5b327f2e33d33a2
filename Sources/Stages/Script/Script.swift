import Foundation
import Logging
import Shared

/// A structured narration script.
public struct Script: Codable, Sendable, Hashable {
    public var title: String
    public var hook: String
    /// Paragraphs of narration; the first is the hook.
    public var paragraphs: [String]
    public var hashtags: [String]
    /// Visual keywords per paragraph, for backgrounds.
    public var keywords: [[String]]
    public var language: String

    public var narration: String { paragraphs.joined(separator: "\n\n") }
    public var wordCount: Int { narration.split(whereSeparator: { $0 == " " || $0 == "\n" }).count }

    public init(title: String, hook: String, paragraphs: [String], hashtags: [String], keywords: [[String]], language: String) {
        self.title = title; self.hook = hook; self.paragraphs = paragraphs; self.hashtags = hashtags
        self.keywords = keywords; self.language = language
    }

    /// Narration words per second, per language, used to size a script to a duration.
    public static func wordsPerSecond(_ language: String) -> Double { language == "fr" ? 2.3 : 2.5 }
}

/// Writes the narration for an idea (an LLM, or the offline template).
public protocol ScriptWriter: Sendable {
    var name: String { get }
    func write(idea: String, language: String, targetSeconds: Int) async throws -> (Script, CostEntry?)
}

/// The script stage: asks the writer, stores the structured script inline.
public struct ScriptStageExecutor: StageExecutor {
    public let stage = Stage.script
    let writer: any ScriptWriter

    public init(writer: any ScriptWriter) { self.writer = writer }

    public func run(_ input: StageInput, logger: Logger) async throws -> StageOutput {
        let (script, cost) = try await writer.write(idea: input.idea.idea, language: input.idea.language,
                                                    targetSeconds: input.idea.targetSeconds)
        let file = input.workDir.appendingPathComponent("script.json")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(script).write(to: file)
        logger.info("script written by \(writer.name): \(script.wordCount) words, \(script.paragraphs.count) paragraphs")
        let costs = [cost ?? CostEntry(stage: .script, attempt: input.attempt, provider: writer.name, units: Double(script.wordCount),
                                       unit: "words", costUSD: 0, at: Date())].map { c -> CostEntry in
            var c = c; c.attempt = input.attempt; c.stage = .script; return c
        }
        return StageOutput(inline: ["script": try JSONValue.encoding(script), "title": .string(script.title),
                                    "text": .string(script.narration), "writer": .string(writer.name)],
                           files: ["script.json": .init(url: file, contentType: "application/json")],
                           costs: costs)
    }
}

/// The offline script writer: a deterministic template that turns an idea into a structured, well-formed
/// narration of about the requested length. No network, no key.
public struct TemplateScriptWriter: ScriptWriter {
    public let name = "template"
    public init() {}

    public func write(idea: String, language: String, targetSeconds: Int) async throws -> (Script, CostEntry?) {
        let topic = idea.trimmingCharacters(in: .whitespacesAndNewlines).trimmingCharacters(in: CharacterSet(charactersIn: "?!."))
        guard !topic.isEmpty else { throw StageFailure.permanent("the idea is empty") }
        let fr = language == "fr"
        let title = topic.prefix(1).uppercased() + topic.dropFirst()
        let hook = fr ? "Vous êtes-vous déjà demandé \(topic) ? La réponse va vous surprendre."
                      : "Have you ever wondered \(topic)? The answer might surprise you."
        let pool: [String] = fr ? [
            "Commençons par l'essentiel. Les scientifiques étudient cette question depuis plus de 100 ans.",
            "Le premier indice vient de la nature elle-même. Tout s'explique par l'adaptation et la survie.",
            "Ensuite, regardons les chiffres. Environ 3 cas sur 4 suivent exactement la même règle.",
            "Ce n'est pas un hasard. Chaque détail répond à un besoin précis, affiné au fil du temps.",
            "Et voici le plus étonnant : ce mécanisme fonctionne encore aujourd'hui, sous nos yeux.",
            "Les chercheurs continuent d'en découvrir de nouveaux aspects chaque année.",
            "Retenez simplement ceci : derrière chaque question simple se cache une histoire fascinante.",
        ] : [
            "Let's start with the basics. Scientists have studied this question for more than 100 years.",
            "The first clue comes from nature itself. It all comes down to adaptation and survival.",
            "Next, look at the numbers. About 3 out of 4 cases follow exactly the same rule.",
            "That is no accident. Every detail answers a specific need, refined over a very long time.",
            "And here is the most surprising part: this mechanism still works today, right in front of us.",
            "Researchers keep discovering new sides of it every single year.",
            "So remember this: behind every simple question hides a fascinating story.",
        ]
        // Size the narration to the target: add paragraphs while they fit, then the outro if it fits too.
        let targetWords = max(12, Int(Double(targetSeconds) * Script.wordsPerSecond(language)))
        func count(_ p: String) -> Int { p.split(separator: " ").count }
        var paragraphs = [hook]
        var words = count(hook)
        var i = 0
        while i < pool.count * 4 {
            let p = pool[i % pool.count]
            if words + count(p) > targetWords + count(p) / 2 { break }
            paragraphs.append(p)
            words += count(p)
            i += 1
        }
        let outro = fr ? "Abonnez-vous pour en savoir plus." : "Follow for more."
        if words + count(outro) <= targetWords + 2 { paragraphs.append(outro) }
        let tags = topic.lowercased().split(whereSeparator: { !$0.isLetter }).filter { $0.count > 3 }.prefix(3)
            .map { "#" + $0 }
        let keywords = paragraphs.map { p in
            Array(p.lowercased().split(whereSeparator: { !$0.isLetter }).filter { $0.count > 5 }.prefix(3).map(String.init))
        }
        return (Script(title: String(title), hook: hook, paragraphs: paragraphs, hashtags: tags + ["#reelforge"],
                       keywords: keywords, language: language), nil)
    }
}
