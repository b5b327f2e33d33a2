import Foundation
import Shared

/// Finding the JSON or the text in an answer, and reading plain text.
enum AnswerText {
    enum Located { case json(JSONValue), plain(String) }

    /// JSON in a fenced block, JSON with chatter around it, a fenced plain block, or plain text. An answer that
    /// clearly meant to be JSON but does not parse is unusable (its text would be braces and keys, read aloud).
    static func locate(_ text: String) throws -> Located {
        let parts = text.components(separatedBy: "```")
        if parts.count >= 2 {
            // Odd parts are fenced (the last one too when the closing fence is missing); a language tag may follow.
            let fenced = parts.enumerated().filter { $0.offset % 2 == 1 }.map { dropLanguageTag($0.element) }
            for block in fenced { if let json = parseJSON(block) { return .json(json) } }
            if let block = fenced.max(by: { $0.count < $1.count }), !block.isEmpty {
                if looksLikeJSON(block) { throw ScriptAnswer.Unusable(reason: "the JSON object does not parse") }
                return .plain(block)
            }
        }
        if let json = parseJSON(text) { return .json(json) }
        if let start = text.firstIndex(of: "{"), let end = text.lastIndex(of: "}"), start < end,
           let json = parseJSON(String(text[start...end])) {
            return .json(json)
        }
        if looksLikeJSON(text) { throw ScriptAnswer.Unusable(reason: "the JSON object does not parse") }
        return .plain(text)
    }

    static func dropLanguageTag(_ block: String) -> String {
        guard let newline = block.firstIndex(of: "\n") else { return block.trimmingCharacters(in: .whitespacesAndNewlines) }
        let tag = block[..<newline].trimmingCharacters(in: .whitespaces)
        let body = tag.isEmpty || tag.allSatisfy({ $0.isLetter || $0 == "-" }) ? String(block[newline...]) : block
        return body.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func parseJSON(_ text: String) -> JSONValue? {
        let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let first = t.first, "{[\"".contains(first), let json = try? JSONValue.parse(Data(t.utf8)) else { return nil }
        return json
    }

    static func looksLikeJSON(_ text: String) -> Bool {
        let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let compact = t.filter { !$0.isWhitespace }
        return t.hasPrefix("{") || (t.hasPrefix("[") && compact.dropFirst().first == "\"") || compact.contains("{\"")
    }

    /// Plain text: labelled lines (title, hook, hashtags, keywords) are read as such; chatter before and after
    /// the narration and stage directions are dropped.
    static func found(in text: String) throws -> ScriptAnswer.Found {
        var found = ScriptAnswer.Found()
        var lines: [String] = []
        for raw in text.components(separatedBy: .newlines) {
            if let heading = heading(raw) {
                // A markdown heading names the video; it is not spoken.
                if found.title == nil { found.title = heading }
                continue
            }
            let line = stripMarkdown(raw)
            if let (label, value) = labelled(line) {
                switch label {
                case "title", "titre": found.title = value; continue
                case "hashtags", "tags": found.hashtags = AnswerJSON.hashtags(.string(value)); continue
                case "keywords", "visual keywords", "mots-clés", "mots clés": found.keywords = [AnswerJSON.strings(.string(value))]; continue
                case "hook", "accroche": found.hook = value; lines.append(value); continue
                default: lines.append(value); continue
                }
            }
            let words = line.split(separator: " ")
            if !words.isEmpty, words.allSatisfy({ $0.hasPrefix("#") }) { found.hashtags = AnswerJSON.hashtags(.string(line)); continue }
            lines.append(line)
        }
        dropChatter(&lines)
        found.pieces = [lines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)]
        return found
    }

    static let labels: Set<String> = ["title", "titre", "hook", "accroche", "hashtags", "tags", "keywords", "visual keywords",
                                      "mots-clés", "mots clés", "narration", "script", "voiceover", "voice-over", "narrator",
                                      "narrateur", "texte", "text", "body", "story"]

    /// "Title: Octopus hearts" → ("title", "Octopus hearts"); a label alone on its line gives an empty value.
    static func labelled(_ line: String) -> (String, String)? {
        guard let colon = line.firstIndex(of: ":") else { return nil }
        let label = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
        guard labels.contains(label) else { return nil }
        return (label, line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
    }

    /// "## Octopus hearts" → "Octopus hearts"; "#octopus #ocean" is not a heading.
    static func heading(_ raw: String) -> String? {
        let line = raw.trimmingCharacters(in: .whitespaces)
        let hashes = line.prefix(while: { $0 == "#" })
        guard !hashes.isEmpty, line.dropFirst(hashes.count).first == " " else { return nil }
        return line.dropFirst(hashes.count).replacingOccurrences(of: "**", with: "").trimmingCharacters(in: .whitespaces)
    }

    static func stripMarkdown(_ raw: String) -> String {
        var line = raw.replacingOccurrences(of: "**", with: "").replacingOccurrences(of: "__", with: "")
            .trimmingCharacters(in: .whitespaces)
        for bullet in ["- ", "* ", "• ", "> "] where line.hasPrefix(bullet) { line = String(line.dropFirst(bullet.count)) }
        if let dot = line.firstIndex(where: { $0 == "." || $0 == ")" }), line[..<dot].allSatisfy(\.isNumber), !line[..<dot].isEmpty,
           line[line.index(after: dot)...].hasPrefix(" ") {
            line = String(line[line.index(after: dot)...]).trimmingCharacters(in: .whitespaces)
        }
        return line
    }

    static let openers = ["sure", "here", "certainly", "of course", "okay", "ok", "absolutely", "great", "voici", "bien sûr",
                          "d'accord", "voilà", "alright"]
    static let closers = ["let me know", "i hope", "hope you", "feel free", "would you like", "n'hésitez", "j'espère", "dites-moi"]

    /// "Sure! Here is your script:" before the narration and "Let me know if…" after it are not spoken.
    static func dropChatter(_ lines: inout [String]) {
        if let i = lines.firstIndex(where: { !$0.isEmpty }) {
            let first = lines[i], lower = first.lowercased()
            let words = first.split(separator: " ").count
            let aboutTheAnswer = ["script", "narration", "voiceover", "voice-over", "texte"].contains { lower.contains($0) }
            if openers.contains(where: { lower.hasPrefix($0) }) {
                if first.hasSuffix(":") || (first.hasSuffix("!") && words <= 3) || (aboutTheAnswer && words < 20 && i + 1 < lines.count) {
                    lines[i] = ""
                } else if let colon = first.firstIndex(of: ":") {
                    lines[i] = String(first[first.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
                }
            }
        }
        if let j = lines.lastIndex(where: { !$0.isEmpty }), j > 0,
           closers.contains(where: { lines[j].lowercased().hasPrefix($0) }) {
            lines[j] = ""
        }
    }

    /// A paragraph as it is spoken: no stage directions in brackets, no markdown, single spaces.
    static func clean(_ text: String) -> String {
        var out = "", depth = 0
        for c in text {
            if c == "[" { depth += 1; continue }
            if c == "]", depth > 0 { depth -= 1; continue }
            if depth == 0 { out.append(c) }
        }
        let lines = out.replacingOccurrences(of: "**", with: "").components(separatedBy: .newlines).map {
            let l = $0.split(separator: " ").joined(separator: " ")
            // A line that is only a stage direction: "(Upbeat music)".
            return l.hasPrefix("(") && l.hasSuffix(")") ? "" : l
        }
        return lines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static let refusals = ["i'm sorry", "i am sorry", "i can't", "i cannot", "i won't", "i'm not able", "i am not able",
                           "i'm unable", "i am unable", "as an ai", "sorry,", "je suis désolé", "désolé", "je ne peux pas"]

    static func isRefusal(_ text: String) -> Bool {
        let lower = text.lowercased().replacingOccurrences(of: "’", with: "'")
        return refusals.contains { lower.hasPrefix($0) } && text.split(separator: " ").count < 60
    }
}

/// Reading a JSON answer of any plausible shape.
enum AnswerJSON {
    static let narrationKeys = ["paragraphs", "narration", "script", "text", "body", "content", "story", "voiceover",
                                "transcript", "speech", "narrative", "answer", "output", "response", "result"]
    static let titleKeys = ["title", "headline", "titre"]
    static let hookKeys = ["hook", "opening", "accroche"]
    static let tagKeys = ["hashtags", "tags"]
    static let keywordKeys = ["keywords", "visualkeywords", "visuals", "broll", "motscles"]
    static let imagePromptKeys = ["imageprompts", "imagedescriptions", "imageprompt", "pictures"]
    static var metaKeys: Set<String> { Set(titleKeys + hookKeys + tagKeys + keywordKeys + imagePromptKeys) }

    static func found(in json: JSONValue) throws -> ScriptAnswer.Found {
        var found = ScriptAnswer.Found()
        found.pieces = narration(json, depth: 0) ?? []
        found.title = first(titleKeys, in: json)?.stringValue
        found.hook = first(hookKeys, in: json)?.stringValue
        found.hashtags = first(tagKeys, in: json).map(hashtags) ?? []
        if let k = first(keywordKeys, in: json)?.arrayValue {
            found.keywords = k.allSatisfy({ $0.arrayValue != nil }) ? k.map(strings) : [k.flatMap(strings)]
        } else if let k = first(keywordKeys, in: json) {
            found.keywords = [strings(k)]
        }
        found.imagePrompts = (first(imagePromptKeys, in: json)?.arrayValue ?? []).compactMap(\.stringValue)
        guard !found.pieces.isEmpty else { throw ScriptAnswer.Unusable(reason: "the answer holds no narration") }
        return found
    }

    static func key(_ k: String) -> String { k.lowercased().filter { $0.isLetter || $0.isNumber } }

    /// The value under the first of `keys` found, breadth first, in objects up to three levels down.
    static func first(_ keys: [String], in json: JSONValue) -> JSONValue? {
        var level = [json]
        for _ in 0..<4 {
            let objects = level.compactMap(\.objectValue)
            for o in objects {
                let byKey = Dictionary(o.map { (key($0.key), $0.value) }, uniquingKeysWith: { a, _ in a })
                for k in keys { if let v = byKey[k], v != .null { return v } }
            }
            level = objects.flatMap { o in o.keys.sorted().compactMap { o[$0] } }
        }
        return nil
    }

    /// The narration: a string, an array of strings (or of objects holding one), under a narration key or
    /// nested; else the longest string of eight words or more outside the title, hook and tags.
    static func narration(_ json: JSONValue, depth: Int) -> [String]? {
        guard depth < 5 else { return nil }
        switch json {
        case .string(let s):
            return s.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : [s]
        case .array(let a):
            let pieces = a.compactMap { narration($0, depth: depth + 1)?.joined(separator: "\n") }
            return pieces.isEmpty ? nil : pieces
        case .object(let o):
            let byKey = Dictionary(o.map { (key($0.key), $0.value) }, uniquingKeysWith: { a, _ in a })
            for k in narrationKeys { if let v = byKey[k], let n = narration(v, depth: depth + 1) { return n } }
            for k in byKey.keys.sorted() where !metaKeys.contains(k) {
                if let v = byKey[k], v.objectValue != nil, let n = narration(v, depth: depth + 1) { return n }
            }
            let strings = byKey.filter { !metaKeys.contains($0.key) }.compactMap(\.value.stringValue)
            return strings.max(by: { $0.count < $1.count }).flatMap { $0.split(separator: " ").count >= 8 ? [$0] : nil }
        default:
            return nil
        }
    }

    /// Strings of a value: an array's strings, or a string's comma-separated parts.
    static func strings(_ json: JSONValue) -> [String] {
        let raw = json.arrayValue?.compactMap(\.stringValue) ?? (json.stringValue?.split(separator: ",").map(String.init) ?? [])
        return raw.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }

    /// Hashtags as `#word`: from an array or a string separated by spaces or commas; never empty, each once.
    static func hashtags(_ json: JSONValue) -> [String] {
        let raw = json.arrayValue?.compactMap(\.stringValue)
            ?? json.stringValue.map { $0.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init) } ?? []
        var seen = Set<String>()
        return raw.map { tag in String(tag.filter { $0.isLetter || $0.isNumber || $0 == "_" }) }
            .filter { !$0.isEmpty && seen.insert($0.lowercased()).inserted }
            .prefix(8).map { "#" + $0 }
    }
}
