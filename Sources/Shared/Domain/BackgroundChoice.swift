/// The background an idea may ask for when it is submitted. Only what needs no worker-local file: a colour,
/// a `#TOP:#BOTTOM` gradient, a file of the shared media library (`media:NAME`) or the whole library chosen from
/// by keywords (`media:`), or a comma-separated list of colours and media files. A path is never accepted from
/// a message: a producer must not make a worker read its own files.
public enum BackgroundChoice {
    public static let maxLength = 512

    /// Nil when `text` is acceptable, else why not.
    public static func problem(_ text: String) -> String? {
        guard !text.isEmpty, text.count <= maxLength else { return "must be 1 to \(maxLength) characters" }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        for part in parts {
            if part == "media:" || part == "media:*" {
                if parts.count > 1 { return "media: (the whole library) cannot be one item of a list" }
                continue
            }
            if part.hasPrefix("media:") {
                guard isMediaName(String(part.dropFirst(6))) else { return "'\(part)' is not a media name (\(mediaNameRule))" }
                continue
            }
            let colours = part.split(separator: ":", omittingEmptySubsequences: false)
            guard (1...2).contains(colours.count), colours.allSatisfy({ isColour(String($0)) }) else {
                return "'\(part)' is not a colour (#RRGGBB), a #TOP:#BOTTOM gradient or media:NAME (paths are not accepted)"
            }
        }
        return nil
    }

    public static let mediaNameRule = "1 to 120 letters, digits, '.', '_' and '-', not starting with '.'"

    /// A name of the shared media library: a plain file name, never a path.
    public static func isMediaName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 120 && !name.hasPrefix(".")
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
    }

    /// The colours a background may name besides `#RRGGBB`, as 0xRRGGBB.
    public static let namedColours: [String: UInt32] = [
        "black": 0x000000, "white": 0xFFFFFF, "navy": 0x101840, "teal": 0x006060, "purple": 0x401860, "gray": 0x404040,
    ]
    public static var colourNames: Set<String> { Set(namedColours.keys) }

    /// The one colour rule of backgrounds (messages, `--background`, the renderer): `#RRGGBB` in ASCII hex digits,
    /// or one of `namedColours` in any case. Gives 0xRRGGBB.
    public static func colourValue(_ s: String) -> UInt32? {
        guard s.hasPrefix("#") else { return namedColours[s.lowercased()] }
        let hex = s.utf8.dropFirst()
        guard hex.count == 6, hex.allSatisfy({ (0x30...0x39).contains($0) || (0x41...0x46).contains($0 & 0xDF) }) else { return nil }
        return UInt32(String(decoding: hex, as: UTF8.self), radix: 16)
    }

    /// `#RRGGBB` or one of `colourNames`.
    public static func isColour(_ s: String) -> Bool { colourValue(s) != nil }
}
