/// The one rule for an idea's text, used by the message codec, `Operations` (submit, make) and the CLI's
/// argument checks. An idea is trimmed; newline, carriage return and tab become spaces; any other control
/// character (C0, DEL, C1) is rejected, since it silently stops the offline voice mid-text. What remains must not
/// be blank, must fit `maxCharacters`, and must hold a word the offline voices (en, fr: Latin script) can speak.
public enum IdeaText {
    public static let maxCharacters = 2_000
    /// The languages ReelForge writes and speaks.
    public static let languages = ["en", "fr"]
    /// How long a video may be asked to be, in seconds.
    public static let seconds = 5...600
    /// `--lang` and `language` in words, for messages.
    public static var languagesText: String { languages.joined(separator: " or ") }

    /// Why an idea's text cannot be used; `description` is the clear reason shown to users and producers.
    public enum Problem: Error, Sendable, Hashable, CustomStringConvertible {
        case blank
        case controlCharacter(UInt32)
        case tooLong(characters: Int, limit: Int)
        case noLatinWords

        public var description: String {
            switch self {
            case .blank: return "the idea is blank (only whitespace or control characters)"
            case .controlCharacter(let v):
                return "the idea holds the control character U+\(String(v, radix: 16, uppercase: true).leftPadded(4)); "
                    + "remove it (newlines and tabs are allowed)"
            case .tooLong(let c, let l): return "the idea is \(c) characters, over the \(l)-character limit"
            case .noLatinWords: return "ReelForge speaks en and fr; the idea has no words in Latin script"
            }
        }
    }

    /// The idea as it is stored and spoken, or the first rule it breaks.
    public static func normalized(_ raw: String) throws(Problem) -> String {
        var scalars = String.UnicodeScalarView()
        var firstControl: UInt32?
        for s in raw.unicodeScalars {
            if s == "\n" || s == "\r" || s == "\t" {
                scalars.append(" ")
            } else if isControl(s) {
                if firstControl == nil { firstControl = s.value }
            } else {
                scalars.append(s)
            }
        }
        let text = String(scalars).trimmingWhitespace()
        guard !text.isEmpty else { throw .blank }
        if let firstControl { throw .controlCharacter(firstControl) }
        guard text.count <= maxCharacters else { throw .tooLong(characters: text.count, limit: maxCharacters) }
        guard text.unicodeScalars.contains(where: isSpeakable) else { throw .noLatinWords }
        return text
    }

    /// C0 controls, DEL and C1 controls.
    static func isControl(_ s: Unicode.Scalar) -> Bool {
        s.value < 0x20 || (0x7F...0x9F).contains(s.value)
    }

    /// A letter in one of the Latin blocks, or a digit (the adapter reads numbers as words).
    static func isSpeakable(_ s: Unicode.Scalar) -> Bool {
        ("0"..."9").contains(s) || (s.properties.isAlphabetic && isLatin(s))
    }

    /// In one of the Latin blocks: what the offline voices (en, fr) read. The voice stage skips words with
    /// letters outside them rather than spell them out.
    public static func isLatin(_ s: Unicode.Scalar) -> Bool {
        latinBlocks.contains { $0.contains(s.value) }
    }

    static let latinBlocks: [ClosedRange<UInt32>] = [
        0x41...0x5A, 0x61...0x7A,  // Basic Latin
        0xAA...0xAA, 0xBA...0xBA,  // ª and º
        0xC0...0x24F,              // Latin-1 Supplement letters, Latin Extended-A and -B
        0x1E00...0x1EFF,           // Latin Extended Additional
        0x2C60...0x2C7F, 0xA720...0xA7FF, 0xAB30...0xAB6F,  // Latin Extended-C, -D, -E
        0xFB00...0xFB06,           // Latin ligatures
        0xFF21...0xFF3A, 0xFF41...0xFF5A,  // fullwidth Latin
    ]
}

extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }

    /// Without leading and trailing Unicode whitespace (no Foundation needed).
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let end = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[start...end])
    }
}
