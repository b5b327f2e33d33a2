/// The frame a job asks for: one of the aspect ratios the short-video platforms play (docs/configuration.md,
/// "Framing for each platform"). The one list the CLI, the message codec and the video stage check against.
public enum VideoFormat: String, CaseIterable, Codable, Sendable, Hashable {
    case portrait = "9:16", square = "1:1", landscape = "16:9"

    /// The frame in pixels: 1080 on the short side.
    public var width: Int { self == .landscape ? 1920 : 1080 }
    public var height: Int { self == .portrait ? 1920 : 1080 }

    public static let choicesText = "9:16, 1:1 or 16:9"
}

/// How a job's captions look: `classic` (the look of the default style) or `shorts` (large bold captions with
/// the spoken word highlighted, inside the platforms' safe area).
public enum SubtitlePreset: String, CaseIterable, Codable, Sendable, Hashable {
    case classic, shorts

    public static let choicesText = "classic or shorts"
}
