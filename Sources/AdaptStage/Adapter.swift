import Foundation
import Logging
import Shared

/// A script rewritten for speech.
public struct AdaptedScript: Codable, Sendable, Hashable {
    /// Plain speakable text (numbers and symbols as words, no markdown, no URLs).
    public var text: String
    /// The same text with pause marks for the chosen speech provider.
    public var speechText: String
    public var cues: [Cue]
    public var language: String
}

/// The deterministic adapter: English and French rules for numbers, ordinals, decimals, percentages, currencies,
/// years, dates, times, units, abbreviations and symbols; markdown and emojis removed, web addresses spoken as
/// their domain; cues split at sentence and phrase boundaries.
///
/// Adapting already adapted text gives it back unchanged, so a later stage may adapt the stored text again to get
/// another pause style.
public struct RuleBasedAdapter: Sendable {
    public var maxCharactersPerLine: Int
    public var pauseStyle: PauseStyle

    public init(maxCharactersPerLine: Int = 32, pauseStyle: PauseStyle = .punctuation) {
        self.maxCharactersPerLine = max(12, maxCharactersPerLine); self.pauseStyle = pauseStyle
    }

    public func adapt(_ text: String, language: String) -> AdaptedScript {
        let rules = SpeechRules.forLanguage(language)
        var t = rules.addresses.apply(SpeechRules.markdown.apply(SpeechRules.normalize(text)))
        t = SpeechRules.keycaps.apply(t)  // keycaps (1️⃣) before the numbers are read
        t = rules.numbers.apply(rules.abbreviations.apply(t))
        t = SpeechRules.dropSymbols(rules.symbols.apply(t))
        // The subtitles keep the emojis; the voice does not read them.
        let display = rules.tidy(t)
        t = rules.tidy(SpeechRules.removeEmoji(t))

        let speech: String
        switch pauseStyle {
        case .punctuation: speech = t
        case .elevenlabs: speech = t.replacingOccurrences(of: "\n\n", with: " <break time=\"0.4s\"/> ")
        }
        return AdaptedScript(text: t, speechText: speech, cues: cues(for: display), language: language)
    }

    // MARK: - Cues

    /// Splits text into cues of at most two lines, preferring sentence, then phrase, then word boundaries.
    public func cues(for text: String) -> [Cue] {
        let maxCue = maxCharactersPerLine * 2
        var phrases: [String] = []
        for sentence in splitKeeping(text.replacingOccurrences(of: "\n\n", with: " "), at: ".!?…") {
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
        // Merge short neighbours when they still fit in one cue; a phrase with nothing to say (a lone "?", an
        // emoji) always joins the one before it.
        var merged: [String] = []
        for p in phrases {
            if let last = merged.last, !p.contains(where: { $0.isLetter || $0.isNumber }) {
                merged[merged.count - 1] = last + " " + p
            } else if let last = merged.last, last.count + 1 + p.count <= maxCharactersPerLine, !endsSentence(last) {
                merged[merged.count - 1] = last + " " + p
            } else { merged.append(p) }
        }
        let fitted = merged.flatMap { cutToFit($0) }
        return fitted.enumerated().map { i, text in Cue(index: i + 1, text: text, lines: wrap(text)) }
    }

    /// A piece whose words cannot make two lines that fit, cut into the fewest pieces that do, of about equal
    /// length: "… than anyone expected." becomes two halves, not two lines and a lone "expected.".
    private func cutToFit(_ piece: String) -> [String] {
        let words = piece.split(separator: " ").map(String.init)
        guard words.count > 1, !wrap(piece).allSatisfy({ fits($0) }) else { return [piece] }
        for count in 2...words.count {
            let parts = evenPieces(words, count: count)
            if parts.allSatisfy({ wrap($0).allSatisfy { fits($0) } }) { return parts }
        }
        return words
    }

    /// `words` in `count` pieces, each cut at the word boundary nearest its even share of the characters.
    private func evenPieces(_ words: [String], count: Int) -> [String] {
        var ends: [Int] = [], length = -1
        for w in words { length += w.count + 1; ends.append(length) }  // ends[j]: characters of words[0...j]
        var pieces: [String] = [], from = 0
        for i in 1..<count {
            let share = Double(length) * Double(i) / Double(count)
            // Cut after `taken` words, leaving at least one word for each piece still to come.
            let taken = ((from + 1)...(words.count - (count - i))).min { abs(Double(ends[$0 - 1]) - share) < abs(Double(ends[$1 - 1]) - share) }!
            pieces.append(words[from..<taken].joined(separator: " "))
            from = taken
        }
        return pieces + [words[from...].joined(separator: " ")]
    }

    /// True when `phrase` ends a sentence (its end mark may be followed by closing quotes or brackets, or an emoji):
    /// the voice pauses there, so the next phrase starts a new cue.
    private func endsSentence(_ phrase: String) -> Bool {
        guard let mark = phrase.last(where: { $0.isLetter || $0.isNumber || ".!?…".contains($0) }) else { return false }
        return ".!?…".contains(mark)
    }

    /// A line fits when it is within the limit or is a single word longer than the limit.
    private func fits(_ line: String) -> Bool { line.count <= maxCharactersPerLine || !line.contains(" ") }

    func wrap(_ text: String) -> [String] {
        guard text.count > maxCharactersPerLine else { return [text] }
        let words = text.split(separator: " ").map(String.init)
        // The split that balances the two lines best, preferring to break after a phrase (a comma, a semicolon).
        var best = (cost: Int.max, lines: [text])
        for i in 1..<max(2, words.count) where i < words.count {
            let a = words[..<i].joined(separator: " "), b = words[i...].joined(separator: " ")
            let over = [a, b].map { fits($0) ? 0 : $0.count - maxCharactersPerLine }.reduce(0, +)
            let phrase = a.last.map { ",;:".contains($0) } == true ? maxCharactersPerLine / 2 : 0
            let cost = over * 1000 + abs(a.count - b.count) - phrase
            if cost < best.cost { best = (cost, [a, b]) }
        }
        return best.lines
    }

    /// Splits after a mark that ends a sentence or phrase: the mark (with any marks and closing quotes after it)
    /// must be followed by a space or the end, so "..." and "?!" stay whole and "»" stays with its sentence.
    private func splitKeeping(_ text: String, at marks: String) -> [String] {
        var out: [String] = [], current = ""
        let chars = Array(text), closing: Set<Character> = ["\"", "”", "’", "'", ")", "]", "»"]
        var i = 0
        while i < chars.count {
            current.append(chars[i])
            if marks.contains(chars[i]) {
                var j = i + 1
                while j < chars.count, marks.contains(chars[j]) || closing.contains(chars[j]) { current.append(chars[j]); j += 1 }
                // French closing guillemet after a space: « Salut ! »
                if j + 1 < chars.count, chars[j] == " ", chars[j + 1] == "»" { current += " »"; j += 2 }
                i = j
                if i >= chars.count || chars[i].isWhitespace {
                    let s = current.trimmingCharacters(in: .whitespaces)
                    if !s.isEmpty { out.append(s) }
                    current = ""
                }
                continue
            }
            i += 1
        }
        let s = current.trimmingCharacters(in: .whitespaces)
        if !s.isEmpty { out.append(s) }
        return out
    }
}

/// The adapt stage: rewrites the script for speech and stores the adapted text and the cues.
public struct AdaptStageExecutor: StageExecutor {
    public let stage = Stage.adapt
    let adapter: RuleBasedAdapter

    public init(adapter: RuleBasedAdapter = RuleBasedAdapter()) { self.adapter = adapter }

    public func run(_ input: StageInput, logger: Logger) async throws -> StageOutput {
        let text = try input.output(WrittenScript.self).text
        guard !text.isEmpty else {
            throw StageFailure.permanent("the script artifact has no text")
        }
        let adapted = adapter.adapt(text, language: input.idea.language)
        let file = input.workDir.appendingPathComponent(AdaptedText.json.name)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(adapted).write(to: file)
        logger.info("adapted for speech: \(adapted.text.count) characters, \(adapted.cues.count) cues")
        return try StageOutput(
            contract: AdaptedText(text: adapted.text, speechText: adapted.speechText, pauseStyle: adapter.pauseStyle,
                                  cues: adapted.cues, adapter: "rules"),
            files: [AdaptedText.json: file],
            costs: [CostEntry(stage: .adapt, attempt: input.attempt, provider: "rules", units: Double(adapted.text.count),
                              unit: "characters", costUSD: 0, at: Date())])
    }
}
