import Foundation
import Shared

/// Reads a model's answer into a Script, whatever shape it came in: the requested JSON object, a narration string
/// under a plausible key (`narration`, `script`, `text`, `body`, `story`, nested objects), JSON inside a fenced
/// block or surrounded by chatter, or plain text. The narration is split into paragraphs here; a missing title,
/// hook, hashtags or keywords are derived. Only an answer without a usable narration (empty, a refusal, too
/// short to speak, or JSON that does not parse) is a failure, which the writer repairs once.
public enum ScriptAnswer {
    public enum Outcome: Sendable { case success(Script), failure(String) }

    struct Unusable: Error { var reason: String }

    /// What an answer held, before anything is derived.
    struct Found {
        var title: String?
        var hook: String?
        /// The narration as the answer gave it: one text (to be split) or paragraphs.
        var pieces: [String] = []
        var hashtags: [String] = []
        var keywords: [[String]] = []
        /// One description per paragraph of the picture to generate behind it (kept only when one a paragraph).
        var imagePrompts: [String] = []
    }

    public static func parse(_ answer: String, idea: String, language: String, targetSeconds: Int) -> Outcome {
        do {
            let found = try read(answer)
            let script = try complete(found, idea: idea, language: language, targetSeconds: targetSeconds)
            let target = Double(targetSeconds) * Script.wordsPerSecond(language)
            if Double(script.wordCount) < target * 0.35 {
                return .failure("the narration has \(script.wordCount) words; about \(Int(target)) are needed")
            }
            return .success(script)
        } catch let u as Unusable {
            return .failure(u.reason)
        } catch {
            return .failure("\(error)")
        }
    }

    static func read(_ answer: String) throws -> Found {
        let text = answer.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw Unusable(reason: "the answer is empty") }
        switch try AnswerText.locate(text) {
        case .json(let json): return try AnswerJSON.found(in: json)
        case .plain(let plain): return try AnswerText.found(in: plain)
        }
    }

    /// The Script: paragraphs split, the hook spoken first, the rest derived where the answer left it out.
    static func complete(_ f: Found, idea: String, language: String, targetSeconds: Int) throws -> Script {
        let cleaned = f.pieces.map(AnswerText.clean).filter { !$0.isEmpty }
        guard !cleaned.isEmpty else { throw Unusable(reason: "the answer holds no narration") }
        if AnswerText.isRefusal(cleaned.joined(separator: " ")) { throw Unusable(reason: "the answer is a refusal, not a narration") }
        var paragraphs = cleaned.count == 1 ? Narration.paragraphs(cleaned[0], language: language, targetSeconds: targetSeconds)
                                            : cleaned.map { $0.split(whereSeparator: \.isNewline).joined(separator: " ") }
        let hook = f.hook.map(AnswerText.clean).flatMap { $0.isEmpty ? nil : $0 }
        if let hook, cleaned.count == 1, !Narration.letters(paragraphs.joined()).contains(Narration.letters(hook)) {
            paragraphs.insert(hook, at: 0)   // a hook given beside one narration text is spoken first
        }
        let title = f.title.map(AnswerText.clean).flatMap { $0.isEmpty ? nil : $0 }
            ?? IdeaFrame(idea, language: language).title
        let fallbackTags = ContentWords.hashtags(idea + " " + title, language: language)
        return Script(title: String(title.prefix(120)), hook: hook ?? Narration.sentences(paragraphs[0]).first ?? paragraphs[0],
                      paragraphs: paragraphs, hashtags: f.hashtags.isEmpty ? fallbackTags : f.hashtags,
                      keywords: keywords(f.keywords, paragraphs: paragraphs, idea: idea, language: language), language: language,
                      imagePrompts: f.imagePrompts.map { String(AnswerText.clean($0).prefix(600)) })
    }

    /// One list of visual keywords per paragraph: the answer's own when they are per paragraph; a flat list for
    /// every paragraph; otherwise each paragraph's content words (or the idea's).
    static func keywords(_ given: [[String]], paragraphs: [String], idea: String, language: String) -> [[String]] {
        if given.count == paragraphs.count, given.allSatisfy({ !$0.isEmpty }) { return given }
        let flat = Array(given.joined().prefix(4))
        let ideaWords = Array(ContentWords.of(idea, language: language).prefix(3))
        return paragraphs.map { p in
            if !flat.isEmpty { return flat }
            let own = ContentWords.of(p, language: language).filter { $0.count >= 4 }.prefix(3)
            return own.isEmpty ? ideaWords : Array(own)
        }
    }
}

/// Splitting a narration into paragraphs and sentences.
public enum Narration {
    /// Blank lines, else lines that each end a sentence, else sentences grouped to the duration's paragraph
    /// size with the first sentence (the hook) alone.
    public static func paragraphs(_ text: String, language: String, targetSeconds: Int) -> [String] {
        let lines = text.components(separatedBy: .newlines).map { $0.trimmingCharacters(in: .whitespaces) }
        let blocks = lines.split(whereSeparator: \.isEmpty).map { $0.joined(separator: " ") }
        if blocks.count >= 2 { return blocks }
        let filled = lines.filter { !$0.isEmpty }
        if filled.count >= 2, filled.allSatisfy(endsSentence) { return filled }
        let sentences = self.sentences(filled.joined(separator: " "))
        guard let hook = sentences.first else { return [] }
        let size = Script.paragraphWords(targetSeconds: targetSeconds, language: language)
        var paragraphs = [hook], current: [String] = [], words = 0
        for s in sentences.dropFirst() {
            current.append(s)
            words += s.split(separator: " ").count
            if words >= size { paragraphs.append(current.joined(separator: " ")); current = []; words = 0 }
        }
        if !current.isEmpty {
            // A short tail joins the paragraph before it rather than standing alone.
            if words < size / 2, paragraphs.count > 1 { paragraphs[paragraphs.count - 1] += " " + current.joined(separator: " ") }
            else { paragraphs.append(current.joined(separator: " ")) }
        }
        return paragraphs
    }

    /// Sentences: a closing mark (with any closing quotes) followed by a space ends one.
    public static func sentences(_ text: String) -> [String] {
        var out: [String] = [], current = ""
        let chars = Array(text)
        for (i, c) in chars.enumerated() {
            current.append(c)
            let next = i + 1 < chars.count ? chars[i + 1] : " "
            if next.isWhitespace, endsSentence(current) {
                let s = current.trimmingCharacters(in: .whitespaces)
                if !s.isEmpty { out.append(s) }
                current = ""
            }
        }
        let rest = current.trimmingCharacters(in: .whitespaces)
        if !rest.isEmpty { out.append(rest) }
        return out
    }

    static func endsSentence(_ s: String) -> Bool {
        let t = s.trimmingCharacters(in: CharacterSet(charactersIn: "\"'»”’) "))
        return t.last.map { ".!?…".contains($0) } ?? false
    }

    /// Lower-case letters only: for comparing two texts regardless of punctuation.
    static func letters(_ s: String) -> String { String(s.lowercased().filter(\.isLetter)) }
}
