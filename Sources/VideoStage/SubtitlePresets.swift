import Foundation
import Shared

/// The part of a frame that TikTok, YouTube Shorts and Instagram Reels leave free of their own buttons, names
/// and captions, as fractions of the frame cut from each side. The numbers, and the pages they come from, are in
/// docs/configuration.md ("Framing for each platform").
public struct SafeArea: Sendable, Hashable {
    public var left: Double, top: Double, right: Double, bottom: Double

    public init(left: Double, top: Double, right: Double, bottom: Double) {
        self.left = left; self.top = top; self.right = right; self.bottom = bottom
    }

    /// The whole frame: what the classic captions use.
    public static let full = SafeArea(left: 0, top: 0, right: 0, bottom: 0)
    /// The area all three platforms leave free: the widest margin any of them asks for on each side (Reels'
    /// top 14 % and bottom 35 %, TikTok's right-hand column of buttons, 17 %; Reels' 6 % on the left).
    public static let platforms = SafeArea(left: 0.06, top: 0.14, right: 0.17, bottom: 0.35)

    /// The area in pixels of a `width` x `height` frame, rounded inwards to even numbers (yuv420p).
    public func rect(width: Int, height: Int) -> (x: Int, y: Int, width: Int, height: Int) {
        func inward(_ f: Double, _ size: Int, up: Bool) -> Int {
            let v = max(0, min(Double(size), f * Double(size)))
            let n = Int(up ? v.rounded(.up) : v.rounded(.down))
            return up ? n + n % 2 : n - n % 2
        }
        let x0 = inward(left, width, up: true), x1 = inward(1 - right, width, up: false)
        let y0 = inward(top, height, up: true), y1 = inward(1 - bottom, height, up: false)
        return (x0, y0, max(2, x1 - x0), max(2, y1 - y0))
    }
}

extension SubtitleStyle {
    /// A preset's style for a frame of this size. Both scale with the frame's short side, so that a caption
    /// keeps its place and its line length at any size (a 360x640 preview is a 1080x1920 video, smaller):
    /// `classic` is the default style at 1080; `shorts` (64 px at 1080) outlines the text heavily, highlights the
    /// spoken word and keeps every line inside `SafeArea.platforms`, centred above its bottom edge.
    public static func preset(_ preset: SubtitlePreset, width: Int, height: Int) -> SubtitleStyle {
        var s = SubtitleStyle()
        let k = Double(max(64, min(width, height))) / 1080
        guard preset == .shorts else {
            s.fontSize = (s.fontSize * k).rounded()
            s.strokeWidth = max(1, (s.strokeWidth * k).rounded())
            s.sideMargin = Int((Double(s.sideMargin) * k).rounded())
            s.bottomMargin = Int((Double(s.bottomMargin) * k).rounded())
            s.boxPadding = Int((Double(s.boxPadding) * k).rounded())
            return s
        }
        s.fontSize = (64 * k).rounded()
        s.strokeWidth = max(1, (5 * k).rounded())
        s.lineSpacing = 1.15
        s.maxLines = 3
        s.cueCharacters = 24  // three to five words: two lines at most in any frame
        s.sideMargin = Int((24 * k).rounded(.up)) + Int(s.strokeWidth) + 2  // the outline stays inside the area too
        s.bottomMargin = s.sideMargin
        s.highlightColor = "#FFD700"
        s.safeArea = .platforms
        return s
    }

    /// `preset` for this frame, with the fields of a style JSON (`REELFORGE_SUBTITLE_STYLE`) over it.
    public static func preset(_ preset: SubtitlePreset, width: Int, height: Int, overrides: Data?, variable: String) throws -> SubtitleStyle {
        let base = Self.preset(preset, width: width, height: height)
        guard let overrides else { return base }
        let decoder = JSONDecoder()
        decoder.userInfo[Self.baseKey] = base
        do { return try decoder.decode(SubtitleStyle.self, from: overrides) } catch {
            throw ConfigError.invalid(variable, "is not a subtitle style JSON: \(error)")
        }
    }

    /// Where `init(from:)` finds the style the file's fields go over (the default style without it).
    static let baseKey = CodingUserInfoKey(rawValue: "reelforge.subtitle-base")!
}
