import CFontconfig
import Foundation
import Synchronization

/// Which font draws each character of a subtitle: the style's font where it has the character, else the first
/// font fontconfig ranks for bold sans-serif text that has it (a CJK font for 你好, a symbol font for ☕). MagickWand
/// draws a string in one font and leaves out what that font lacks, so a line is drawn as runs of one font each.
///
/// `@unchecked Sendable`: built once and never changed; the fontconfig sets it keeps are only read
/// (`FcCharSetHasChar`), which is safe from any thread, and they live as long as the process.
final class FontFallback: @unchecked Sendable {
    struct Run: Hashable {
        var text: String
        /// The font file, or nil for the style's own font.
        var font: String?
    }

    private let candidates: [(path: String, charset: OpaquePointer)]
    private let primary: OpaquePointer?

    /// One per process and primary font: reading fontconfig's font list costs a few milliseconds.
    private static let cache = Mutex<[String: FontFallback]>([:])

    static func shared(primary path: String?) -> FontFallback {
        cache.withLock { cache in
            if let made = cache[path ?? ""] { return made }
            let made = FontFallback(primary: path)
            cache[path ?? ""] = made
            return made
        }
    }

    private init(primary path: String?) {
        guard FcInit() == FcTrue, let config = FcConfigGetCurrent() else { candidates = []; primary = nil; return }
        if let path { _ = FcConfigAppFontAddFile(config, path) }
        var list: [(String, OpaquePointer)] = []
        var found: OpaquePointer?
        if let pattern = FcNameParse("sans-serif:weight=bold") {
            FcConfigSubstitute(config, pattern, FcMatchPattern)
            FcDefaultSubstitute(pattern)
            var result = FcResultNoMatch
            if let set = FcFontSort(config, pattern, FcFalse, nil, &result) {
                for i in 0..<Int(set.pointee.nfont) {
                    guard let font = set.pointee.fonts[i], let file = reelforge_fc_file(font),
                          let charset = reelforge_fc_charset(font) else { continue }
                    let name = String(cString: file)
                    if name == path && found == nil { found = charset }
                    list.append((name, charset))
                }
                // The set is kept: the character sets belong to it.
            }
            FcPatternDestroy(pattern)
        }
        candidates = list
        primary = found
    }

    /// The font for a character: nil for the style's own.
    func font(for c: Character) -> String? {
        guard let scalar = c.unicodeScalars.first, !c.isWhitespace else { return nil }
        if primary == nil || FcCharSetHasChar(primary, scalar.value) == FcTrue { return nil }
        return candidates.first { FcCharSetHasChar($0.charset, scalar.value) == FcTrue }?.path
    }

    /// `text` cut into runs of one font; white space stays with the run before it.
    func runs(_ text: String) -> [Run] {
        var out: [Run] = []
        for c in text {
            let font = c.isWhitespace ? out.last?.font : font(for: c)
            if let last = out.last, last.font == font { out[out.count - 1].text.append(c) } else { out.append(Run(text: String(c), font: font)) }
        }
        return out
    }
}
