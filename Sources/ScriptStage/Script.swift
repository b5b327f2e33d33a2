import Foundation
import Logging
import Shared

/// Sizing a script to a duration (the `Script` type itself is the script stage's contract, in Shared).
extension Script {
    /// Narration words per second, per language, used to size a script to a duration.
    public static func wordsPerSecond(_ language: String) -> Double { language == "fr" ? 2.3 : 2.5 }

    /// About how many words a paragraph (one background) holds in a narration of `targetSeconds`: one every
    /// eight seconds or so, between two and ten paragraphs.
    public static func paragraphWords(targetSeconds: Int, language: String) -> Int {
        let words = Double(targetSeconds) * wordsPerSecond(language)
        let count = min(10, max(2, (Double(targetSeconds) / 8).rounded()))
        return max(10, Int(words / count))
    }
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
        let file = input.workDir.appendingPathComponent(WrittenScript.json.name)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(script).write(to: file)
        logger.info("script written by \(writer.name): \(script.wordCount) words, \(script.paragraphs.count) paragraphs")
        let costs = [cost ?? CostEntry(stage: .script, attempt: input.attempt, provider: writer.name, units: Double(script.wordCount),
                                       unit: "words", costUSD: 0, at: Date())].map { c -> CostEntry in
            var c = c; c.attempt = input.attempt; c.stage = .script; return c
        }
        return try StageOutput(contract: WrittenScript(script: script, writer: writer.name),
                               files: [WrittenScript.json: file], costs: costs)
    }
}

/// The offline script writer: a deterministic template that turns an idea into a structured, well-formed
/// narration of about the requested length. No network, no key. The idea is framed by how it reads
/// (`IdeaFrame`); the paragraphs after the hook are about any subject; hashtags and visual keywords are the
/// idea's content words.
public struct TemplateScriptWriter: ScriptWriter {
    public let name = "template"
    public init() {}

    static let pool: [String: [String]] = [
        "en": [
            "Let's start with the basics. People have been curious about this for a very long time.",
            "The first clue is hiding in plain sight. Once you notice it, you start seeing it everywhere.",
            "Next, look at the details. Small differences turn out to matter more than anyone expected.",
            "It helps to picture it step by step. Each step makes sense on its own, and together they explain the whole.",
            "That is no accident. Every part of the story fits together for a reason.",
            "Think about how it looked to people long ago. Much of what we take for granted now was a mystery back then.",
            "Here is a detail most people miss. The simplest explanation is often only half of the story.",
            "And here is the most surprising part: it still shapes our lives today, often without us noticing.",
            "Experts keep discovering new sides of it every single year.",
            "They do not always agree, and that debate is part of what makes it so interesting.",
            "Once you know this, you will never look at it the same way again.",
            "So remember this: behind every simple subject hides a fascinating story.",
            "If you learned something new, share it with a friend who loves a good story.",
        ],
        "fr": [
            "Commençons par l'essentiel. On s'y intéresse depuis très longtemps.",
            "Le premier indice se cache sous nos yeux. Une fois qu'on l'a remarqué, on le voit partout.",
            "Ensuite, regardons les détails. De petites différences comptent bien plus qu'on ne l'imagine.",
            "Le plus simple est d'avancer étape par étape. Chaque étape a du sens, et ensemble elles expliquent le tout.",
            "Ce n'est pas un hasard. Chaque élément de l'histoire s'emboîte pour une bonne raison.",
            "Imaginez comment on voyait cela autrefois. Ce qui nous semble évident aujourd'hui était alors un mystère.",
            "Voici un détail que beaucoup ignorent. L'explication la plus simple n'est souvent que la moitié de l'histoire.",
            "Et voici le plus étonnant : cela influence encore notre quotidien, souvent sans qu'on s'en rende compte.",
            "Les spécialistes en découvrent de nouveaux aspects chaque année.",
            "Ils ne sont pas toujours d'accord, et ce débat fait justement tout l'intérêt du sujet.",
            "Une fois qu'on sait cela, on ne voit plus jamais les choses de la même façon.",
            "Retenez simplement ceci : derrière chaque sujet simple se cache une histoire fascinante.",
            "Si vous avez appris quelque chose, partagez-le avec quelqu'un qui aime les belles histoires.",
        ],
    ]
    static let outro = ["en": "Follow for more.", "fr": "Abonnez-vous pour en savoir plus."]

    public func write(idea: String, language: String, targetSeconds: Int) async throws -> (Script, CostEntry?) {
        let lang = language == "fr" ? "fr" : "en"
        let frame = IdeaFrame(idea, language: lang)
        guard frame.text.contains(where: { $0.isLetter || $0.isNumber }) else { throw StageFailure.permanent("the idea is empty") }
        let paragraphs = Self.paragraphs(hook: frame.hook, language: lang, targetSeconds: targetSeconds)
        let subject = ContentWords.of(frame.text, language: lang)
        let keywords = Array(repeating: Array(subject.prefix(3)), count: paragraphs.count)
        return (Script(title: frame.title, hook: frame.hook, paragraphs: paragraphs,
                       hashtags: ContentWords.hashtags(frame.text, language: lang), keywords: keywords, language: language), nil)
    }

    /// The hook, then paragraphs of the pool while they fit the target, then the outro if it fits too.
    static func paragraphs(hook: String, language: String, targetSeconds: Int) -> [String] {
        let pool = Self.pool[language]!, outro = Self.outro[language]!
        let targetWords = max(12, Int(Double(targetSeconds) * Script.wordsPerSecond(language)))
        func count(_ p: String) -> Int { p.split(separator: " ").count }
        var paragraphs = [hook]
        var words = count(hook)
        for i in 0..<(pool.count * 4) {
            let p = pool[i % pool.count]
            if words + count(p) > targetWords + count(p) / 2 { break }
            paragraphs.append(p)
            words += count(p)
        }
        if words + count(outro) <= targetWords + 2 { paragraphs.append(outro) }
        return paragraphs
    }
}
