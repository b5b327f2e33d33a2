import Foundation
import Shared

/// How subtitles look. The default is the classic look; any field can come from a style JSON file.
public struct SubtitleStyle: Codable, Sendable, Hashable {
    /// Fonts tried in order: a file path, or a family name looked up among the common font folders.
    public var fonts: [String] = ["DejaVu-Sans-Bold", "Liberation-Sans-Bold", "Noto-Sans-Bold"]
    public var fontSize: Double = 50
    public var color: String = "#FFFFFF"
    public var strokeColor: String = "#000000"
    public var strokeWidth: Double = 2
    public var sideMargin: Int = 60
    public var bottomMargin: Int = 120
    public var maxLines: Int = 2
    public var lineSpacing: Double = 1.2
    /// A box behind the text, e.g. `#000000A0`; nil for none.
    public var boxColor: String?
    public var boxPadding: Int = 16
    /// The colour of the word being spoken (cues timed from speech), e.g. `#FFD700`; nil for no highlight.
    public var highlightColor: String?
    /// The part of the frame the text stays in (the `shorts` preset's); nil for the whole frame.
    public var safeArea: SafeArea?
    /// Longest caption in characters: longer cues are cut at word boundaries and shown in turn (the `shorts`
    /// preset's few words at a time); nil keeps the adapted text's cues.
    public var cueCharacters: Int?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case fonts, fontSize = "font_size", color, strokeColor = "stroke_color", strokeWidth = "stroke_width"
        case sideMargin = "side_margin", bottomMargin = "bottom_margin", maxLines = "max_lines", lineSpacing = "line_spacing"
        case boxColor = "box_color", boxPadding = "box_padding", highlightColor = "highlight_color", cueCharacters = "cue_characters"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = decoder.userInfo[Self.baseKey] as? SubtitleStyle ?? SubtitleStyle()
        safeArea = d.safeArea
        fonts = try c.decodeIfPresent([String].self, forKey: .fonts) ?? d.fonts
        fontSize = try c.decodeIfPresent(Double.self, forKey: .fontSize) ?? d.fontSize
        color = try c.decodeIfPresent(String.self, forKey: .color) ?? d.color
        strokeColor = try c.decodeIfPresent(String.self, forKey: .strokeColor) ?? d.strokeColor
        strokeWidth = try c.decodeIfPresent(Double.self, forKey: .strokeWidth) ?? d.strokeWidth
        sideMargin = try c.decodeIfPresent(Int.self, forKey: .sideMargin) ?? d.sideMargin
        bottomMargin = try c.decodeIfPresent(Int.self, forKey: .bottomMargin) ?? d.bottomMargin
        maxLines = try c.decodeIfPresent(Int.self, forKey: .maxLines) ?? d.maxLines
        lineSpacing = try c.decodeIfPresent(Double.self, forKey: .lineSpacing) ?? d.lineSpacing
        boxColor = try c.decodeIfPresent(String.self, forKey: .boxColor) ?? d.boxColor
        boxPadding = try c.decodeIfPresent(Int.self, forKey: .boxPadding) ?? d.boxPadding
        highlightColor = try c.decodeIfPresent(String.self, forKey: .highlightColor) ?? d.highlightColor
        cueCharacters = try c.decodeIfPresent(Int.self, forKey: .cueCharacters) ?? d.cueCharacters
        for (key, value) in [("color", color), ("stroke_color", strokeColor), ("box_color", boxColor), ("highlight_color", highlightColor)] {
            if let value, !Self.isColor(value) {
                throw DecodingError.dataCorruptedError(forKey: .color, in: c, debugDescription: "\(key) '\(value)' is not a colour (#RRGGBB, #RRGGBBAA or a name)")
            }
        }
        let numbers: [(CodingKeys, Double)] = [
            (.fontSize, fontSize), (.strokeWidth, strokeWidth), (.sideMargin, Double(sideMargin)), (.bottomMargin, Double(bottomMargin)),
            (.maxLines, Double(maxLines)), (.lineSpacing, lineSpacing), (.boxPadding, Double(boxPadding)),
        ] + (cueCharacters.map { [(.cueCharacters, Double($0))] } ?? [])
        for (key, value) in numbers {
            guard let range = Self.ranges[key], !range.contains(value) else { continue }
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: String(
                format: "%@ %g is outside %g to %g", key.rawValue, value, range.lowerBound, range.upperBound))
        }
    }

    /// What a style file's numbers may be: beyond these nothing useful is drawn, and the overlay's sizes would
    /// overflow (`max_lines` 0 would even trap).
    static let ranges: [CodingKeys: ClosedRange<Double>] = [
        .fontSize: 1...1000, .strokeWidth: 0...100, .sideMargin: 0...2000, .bottomMargin: 0...4096, .maxLines: 1...20,
        .lineSpacing: 0.5...10, .boxPadding: 0...500, .cueCharacters: 8...200,
    ]

    /// `#RGB`, `#RRGGBB`, `#RRGGBBAA` or a plain colour name (letters only): never anything ImageMagick would
    /// read as a file or an expression.
    static func isColor(_ s: String) -> Bool {
        if s.hasPrefix("#") { return [4, 7, 9].contains(s.count) && s.dropFirst().allSatisfy { $0.isASCII && $0.isHexDigit } }
        return !s.isEmpty && s.count <= 32 && s.first!.isLetter && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
    }

    /// A style JSON file (any field may be left out) over the classic style of a frame of this size.
    public static func load(_ path: String, variable: String, width: Int, height: Int) throws -> SubtitleStyle {
        guard let data = FileManager.default.contents(atPath: path) else { throw ConfigError.invalid(variable, "names a file that cannot be read") }
        return try preset(.classic, width: width, height: height, overrides: data, variable: variable)
    }

    static let fontFolders = ["/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation",
                              "/usr/share/fonts/truetype/noto", "/usr/share/fonts/truetype", "/usr/share/fonts"]

    /// The first font that exists, and the names that did not.
    public func resolveFont() -> (path: String?, missing: [String]) {
        var missing: [String] = []
        for f in fonts {
            if f.hasPrefix("/") {
                if FileManager.default.fileExists(atPath: f) { return (f, missing) }
            } else {
                let file = f.replacingOccurrences(of: "-Sans-", with: "Sans-").replacingOccurrences(of: "-", with: "") + ".ttf"
                let variants = [file, f + ".ttf", file.replacingOccurrences(of: "Bold", with: "-Bold")]
                for dir in Self.fontFolders {
                    for v in variants where FileManager.default.fileExists(atPath: "\(dir)/\(v)") { return ("\(dir)/\(v)", missing) }
                }
            }
            missing.append(f)
        }
        return (nil, missing)
    }
}

extension SubtitleStyle {
    /// Where a cue's overlay goes in a frame (pixels, even for yuv420p).
    public struct OverlayBox: Sendable, Hashable {
        public var x: Int, y: Int, width: Int, height: Int
        /// Room around the text for the outline (and the box's padding).
        public var pad: Int
    }

    /// The part of the frame the text goes in: the safe area, or the whole (even-sized) frame.
    public func textArea(frameWidth: Int, frameHeight: Int) -> (x: Int, y: Int, width: Int, height: Int) {
        (safeArea ?? .full).rect(width: frameWidth, height: frameHeight)
    }

    /// The overlay of `lines` lines of text, the widest `widest` pixels wide, centred in the text area above its
    /// bottom margin, and never outside that area (nor the frame): it is blended into the frame's planes through
    /// raw pointers, so text taller or wider than the area is cut, never written past it.
    public func overlayBox(widest: Double, lines: Int, frameWidth: Int, frameHeight: Int) -> OverlayBox {
        func pixels(_ x: Double) -> Int { x.isNaN ? 0 : Int(max(0, min(x, 1_048_576)).rounded(.up)) }
        let area = textArea(frameWidth: frameWidth, frameHeight: frameHeight)
        let pad = pixels(strokeWidth) + 2 + (boxColor == nil ? 0 : pixels(Double(boxPadding)))
        let text = pixels(fontSize * lineSpacing * Double(max(1, min(lines, 1 << 10))))
        var width = min(area.width, pixels(widest) + 2 * pad), height = min(area.height, text + 2 * pad)
        width += width % 2; height += height % 2
        let x = (area.x + (area.width - width) / 2) & ~1
        let bottom = area.y + area.height
        let y = min(max(area.y, bottom - bottomMargin - height + pad), bottom - height) & ~1
        return OverlayBox(x: x, y: y, width: width, height: height, pad: pad)
    }
}
