import Foundation
import Logging
import Shared

/// One subtitle cue: at most two lines of text, in reading order.
public struct Cue: Codable, Sendable, Hashable {
    public var index: Int
    public var text: String
    public var lines: [String]
    public init(index: Int, text: String, lines: [String]) { self.index = index; self.text = text; self.lines = lines }
}

/// A script rewritten for speech.
public struct AdaptedScript: Codable, Sendable, Hashable {
    /// Plain speakable text (numbers and symbols as words, no markdown, no URLs).
    public var text: String
    /// The same text with pause marks for the chosen speech provider.
    public var speechText: String
    public var cues: [Cue]
    public var language: String
}

/// How pauses are marked for the speech provider.
public enum PauseStyle: String, Sendable { case punctuation, ssml, elevenlabs }

/// The deterministic adapter: English and French rules for numbers, ordinals, percentages, currencies,
/// abbreviations and symbols; markdown, emojis and URLs removed; cues split at sentence and phrase boundaries.
public struct RuleBasedAdapter: Sendable {
    public var maxCharactersPerLine: Int
    public var pauseStyle: PauseStyle

    public init(maxCharactersPerLine: Int = 32, pauseStyle: PauseStyle = .punctuation) {
        self.maxCharactersPerLine = max(12, maxCharactersPerLine); self.pauseStyle = pauseStyle
    }

    public func adapt(_ text: String, language: String) -> AdaptedScript {
        let fr = language == "fr"
        var t = text
        t = replace(t, #"https?://\S+|www\.\S+"#) { _ in "" }
        t = replace(t, #"[*_`#>]+"#) { _ in "" }
        t = String(t.unicodeScalars.filter { !($0.properties.isEmojiPresentation || ($0.properties.isEmoji && $0.value > 0x2000)) }.map(Character.init))
        t = expandAbbreviations(t, fr: fr)
        t = replace(t, #"(\d+)\s?%"#) { m in self.number(m[1], fr) + (fr ? " pour cent" : " percent") }
        t = replace(t, #"\$\s?(\d[\d,]*)"#) { m in self.number(m[1], fr) + (fr ? " dollars" : " dollars") }
        t = replace(t, #"(\d[\d  ]*\d|\d)\s?€"#) { m in self.number(m[1], fr) + " euros" }
        t = replace(t, #"(\d+)(st|nd|rd|th)\b"#) { m in NumberWords.englishOrdinal(Int(m[1]) ?? 0) }
        t = replace(t, #"\b(\d+)(e|ème|er|re)\b"#) { m in fr ? (m[2] == "er" || m[2] == "re" ? (m[2] == "re" ? "première" : "premier") : NumberWords.frenchOrdinal(Int(m[1]) ?? 0)) : m[0] }
        t = replace(t, #"(\d+)[.,](\d+)"#) { m in
            self.number(m[1], fr) + (fr ? " virgule " : " point ") + m[2].map { self.number(String($0), fr) }.joined(separator: " ")
        }
        t = replace(t, #"\d[\d,  ]*\d|\d"#) { m in self.number(m[0], fr) }
        t = t.replacingOccurrences(of: "&", with: fr ? " et " : " and ")
        t = t.replacingOccurrences(of: "+", with: fr ? " plus " : " plus ")
        t = replace(t, #"[ \t]+"#) { _ in " " }
        t = replace(t, #" +([,.!?;:])"#) { m in m[1] }
        t = t.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: "\n\n")

        let speech: String
        switch pauseStyle {
        case .punctuation: speech = t
        case .ssml: speech = "<speak>" + t.replacingOccurrences(of: "\n\n", with: " <break time=\"400ms\"/> ") + "</speak>"
        case .elevenlabs: speech = t.replacingOccurrences(of: "\n\n", with: " <break time=\"0.4s\"/> ")
        }
        return AdaptedScript(text: t, speechText: speech, cues: cues(for: t), language: language)
    }

    /// Splits text into cues of at most two lines, preferring sentence, then phrase, then word boundaries.
    public func cues(for text: String) -> [Cue] {
        let maxCue = maxCharactersPerLine * 2
        var phrases: [String] = []
        for sentence in splitKeeping(text.replacingOccurrences(of: "\n\n", with: " "), at: ".!?") {
            if sentence.count <= maxCue { phrases.append(sentence); continue }
            for phrase in splitKeeping(sentence, at: ",;:") {
                if phrase.count <= maxCue { phrases.append(phrase); continue }
                // Too long for one cue: cut into the fewest pieces that fit, of about equal length.
                let words = phrase.split(separator: " ").map(String.init)
                let pieces = Int((Double(phrase.count) / Double(maxCue)).rounded(.up))
                let goal = Double(phrase.count) / Double(pieces)
                var current = ""
                for word in words {
                    let next = current.isEmpty ? word : current + " " + word
                    if !current.isEmpty && (next.count > maxCue || Double(current.count) >= goal) {
                        phrases.append(current); current = word
                    } else { current = next }
                }
                if !current.isEmpty { phrases.append(current) }
            }
        }
        // Merge short neighbours when they still fit in one cue.
        var merged: [String] = []
        for p in phrases {
            if let last = merged.last, last.count + 1 + p.count <= maxCharactersPerLine, !last.hasSuffix(".") {
                merged[merged.count - 1] = last + " " + p
            } else { merged.append(p) }
        }
        return merged.enumerated().map { i, text in Cue(index: i + 1, text: text, lines: wrap(text)) }
    }

    func wrap(_ text: String) -> [String] {
        guard text.count > maxCharactersPerLine else { return [text] }
        let words = text.split(separator: " ").map(String.init)
        // The split that balances the two lines best.
        var best = (cost: Int.max, lines: [text])
        for i in 1..<max(2, words.count) where i < words.count {
            let a = words[..<i].joined(separator: " "), b = words[i...].joined(separator: " ")
            let over = max(0, a.count - maxCharactersPerLine) + max(0, b.count - maxCharactersPerLine)
            let cost = over * 1000 + abs(a.count - b.count)
            if cost < best.cost { best = (cost, [a, b]) }
        }
        return best.lines
    }

    private func splitKeeping(_ text: String, at marks: String) -> [String] {
        var out: [String] = [], current = ""
        for ch in text {
            current.append(ch)
            if marks.contains(ch) {
                let s = current.trimmingCharacters(in: .whitespaces)
                if !s.isEmpty { out.append(s) }
                current = ""
            }
        }
        let s = current.trimmingCharacters(in: .whitespaces)
        if !s.isEmpty { out.append(s) }
        return out
    }

    private func number(_ raw: String, _ fr: Bool) -> String {
        let digits = raw.filter(\.isNumber)
        guard let n = Int(digits.prefix(15)) else { return raw }
        if !fr, (1100...2099).contains(n), raw.count == 4, n % 100 != 0, n / 100 != 20 {
            return NumberWords.english(n / 100) + " " + (n % 100 < 10 ? "oh " : "") + NumberWords.english(n % 100)
        }
        return fr ? NumberWords.french(n) : NumberWords.english(n)
    }

    private func expandAbbreviations(_ text: String, fr: Bool) -> String {
        let table: [(String, String)] = fr ? [
            (#"\bDr\."#, "docteur"), (#"\bM\."#, "monsieur"), (#"\bMme\b"#, "madame"), (#"\betc\."#, "et cetera"),
            (#"\bkm\b"#, "kilomètres"), (#"\bkg\b"#, "kilos"), (#"\bex\."#, "par exemple"),
        ] : [
            (#"\bDr\."#, "Doctor"), (#"\bMr\."#, "Mister"), (#"\bMrs\."#, "Missus"), (#"\betc\."#, "et cetera"),
            (#"\be\.g\."#, "for example"), (#"\bi\.e\."#, "that is"), (#"\bvs\.?"#, "versus"),
            (#"\bkm\b"#, "kilometers"), (#"\bkg\b"#, "kilograms"),
        ]
        var t = text
        for (pattern, words) in table { t = replace(t, pattern) { _ in words } }
        return t
    }

    private func replace(_ text: String, _ pattern: String, _ transform: ([String]) -> String) -> String {
        guard let re = try? NSRegularExpression(pattern: pattern) else { return text }
        let ns = text as NSString
        var out = "", last = 0
        for m in re.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
            out += ns.substring(with: NSRange(location: last, length: m.range.location - last))
            let groups = (0..<m.numberOfRanges).map { m.range(at: $0).location == NSNotFound ? "" : ns.substring(with: m.range(at: $0)) }
            out += transform(groups)
            last = m.range.location + m.range.length
        }
        return out + ns.substring(from: last)
    }
}

/// The adapt stage: rewrites the script for speech and stores the adapted text and the cues.
public struct AdaptStageExecutor: StageExecutor {
    public let stage = Stage.adapt
    let adapter: RuleBasedAdapter

    public init(adapter: RuleBasedAdapter = RuleBasedAdapter()) { self.adapter = adapter }

    public func run(_ input: StageInput, logger: Logger) async throws -> StageOutput {
        let script = try input.inline(of: .script)
        guard let text = script["text"]?.stringValue, !text.isEmpty else {
            throw StageFailure.permanent("the script artifact has no text")
        }
        let adapted = adapter.adapt(text, language: input.idea.language)
        let file = input.workDir.appendingPathComponent("adapted.json")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(adapted).write(to: file)
        logger.info("adapted for speech: \(adapted.text.count) characters, \(adapted.cues.count) cues")
        return StageOutput(
            inline: ["text": .string(adapted.text), "speech_text": .string(adapted.speechText),
                     "pause_style": .string(adapter.pauseStyle.rawValue),
                     "cues": try JSONValue.encoding(adapted.cues), "adapter": "rules"],
            files: ["adapted.json": .init(url: file, contentType: "application/json")],
            costs: [CostEntry(stage: .adapt, attempt: input.attempt, provider: "rules", units: Double(adapted.text.count),
                              unit: "characters", costUSD: 0, at: Date())])
    }
}
