import Foundation
import Shared

/// An RGB colour, parsed from `#RRGGBB` or a few names.
public struct RGB: Sendable, Hashable {
    public var r: UInt8, g: UInt8, b: UInt8
    public init(r: UInt8, g: UInt8, b: UInt8) { self.r = r; self.g = g; self.b = b }

    /// `#RRGGBB` or a colour name (`BackgroundChoice.colourValue`, the one colour rule).
    public init?(parsing text: String) {
        guard let v = BackgroundChoice.colourValue(text) else { return nil }
        self.init(r: UInt8(v >> 16 & 0xFF), g: UInt8(v >> 8 & 0xFF), b: UInt8(v & 0xFF))
    }

    var hex: String { String(format: "#%02X%02X%02X", r, g, b) }

    /// BT.601 limited-range YUV, as libx264 expects for yuv420p.
    public var yuv: (UInt8, UInt8, UInt8) {
        let r = Double(self.r), g = Double(self.g), b = Double(self.b)
        let y = 16 + 0.257 * r + 0.504 * g + 0.098 * b
        let u = 128 - 0.148 * r - 0.291 * g + 0.439 * b
        let v = 128 + 0.439 * r - 0.368 * g - 0.071 * b
        func c(_ x: Double) -> UInt8 { UInt8(max(0, min(255, x.rounded()))) }
        return (c(y), c(u), c(v))
    }
}

/// What fills the frame behind the subtitles.
public indirect enum BackgroundSource: Sendable, Hashable {
    /// A vertical gradient (the same colour twice for a solid colour).
    case gradient(top: RGB, bottom: RGB)
    /// A still image, scaled to cover the frame, panning slowly across it.
    case image(URL)
    /// A video clip, scaled and centre-cropped to fill the frame, looped to the narration's length.
    case video(URL)
    /// Several backgrounds in order, one a paragraph (starting over when there are more paragraphs).
    case sequence([BackgroundSource])
    /// A folder of images and clips: each paragraph gets the one whose file name best matches its keywords
    /// (`octopus-reef.mp4` for "octopus", "coral reef"), the least used first, so the picture changes at
    /// paragraph boundaries.
    case library(URL)
    /// A file of the shared media library in the artifact store (`media:NAME`), or with no name the whole
    /// library chosen from like a folder (`media:`): what horizontally scaled workers use, having no shared
    /// disk. The video stage fetches what it needs before rendering.
    case stored(name: String?)

    public static let `default` = BackgroundSource.gradient(top: RGB(r: 24, g: 28, b: 64), bottom: RGB(r: 8, g: 8, b: 20))

    static let imageExtensions: Set<String> = ["png", "jpg", "jpeg", "webp", "bmp", "tif", "tiff"]
    static let videoExtensions: Set<String> = ["mp4", "mov", "m4v", "mkv", "webm", "avi"]

    /// Whether a file name has an image or video extension.
    static func isMediaFile(_ name: String) -> Bool {
        let ext = (name as NSString).pathExtension.lowercased()
        return imageExtensions.contains(ext) || videoExtensions.contains(ext)
    }

    /// An image or a clip, by the file's extension.
    static func file(_ url: URL) -> BackgroundSource {
        imageExtensions.contains(url.pathExtension.lowercased()) ? .image(url) : .video(url)
    }

    /// `#RRGGBB`, a colour name, `#TOP:#BOTTOM` for a gradient, a path to an image or a video, a folder of them
    /// (a library), or several of these separated by commas (a sequence).
    /// Spaces around it (or around an item of a list) are ignored, as in a message's `background`.
    public init(parsing raw: String) throws {
        let text = raw.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix(MediaLibrary.scheme) && !text.contains(",") {
            let name = String(text.dropFirst(MediaLibrary.scheme.count))
            guard name.isEmpty || name == "*" || BackgroundChoice.isMediaName(name) else {
                throw StageFailure.permanent("'\(text)' is not a media name (\(BackgroundChoice.mediaNameRule))")
            }
            self = .stored(name: name.isEmpty || name == "*" ? nil : name); return
        }
        if text.contains(",") {
            let parts = try text.split(separator: ",").map { try BackgroundSource(parsing: String($0).trimmingCharacters(in: .whitespaces)) }
            guard parts.allSatisfy({ !$0.isPlural }) else {
                throw StageFailure.permanent("background '\(text)': a list takes colours, images, clips and media:NAME, not folders or media:")
            }
            guard parts.count > 1 else { self = parts.first ?? .default; return }
            self = .sequence(parts); return
        }
        if text.contains(":") && !text.contains("/"), case let parts = text.split(separator: ":"), parts.count == 2,
           let a = RGB(parsing: String(parts[0])), let b = RGB(parsing: String(parts[1])) {
            self = .gradient(top: a, bottom: b); return
        }
        if let c = RGB(parsing: text) { self = .gradient(top: c, bottom: c); return }
        let url = URL(fileURLWithPath: text)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw StageFailure.permanent("background '\(text)' is neither a colour (#RRGGBB) nor an existing file or folder")
        }
        if isDirectory.boolValue {
            guard !BackgroundLibrary.files(in: url).isEmpty else {
                throw StageFailure.permanent("the background folder '\(text)' holds no image or video")
            }
            self = .library(url); return
        }
        self = Self.file(url)
    }

    /// A short name for logs: the file name, or the colours.
    public var label: String {
        switch self {
        case .gradient(let top, let bottom): return top == bottom ? top.hex : "\(top.hex):\(bottom.hex)"
        case .image(let url), .video(let url), .library(let url): return url.lastPathComponent
        case .sequence(let list): return list.map(\.label).joined(separator: ",")
        case .stored(let name): return MediaLibrary.scheme + (name ?? "")
        }
    }

    /// A background an idea asked for (`BackgroundChoice`): colours, gradients and media library files only,
    /// parsed without looking at the file system.
    public init(choice text: String) throws {
        if let problem = BackgroundChoice.problem(text) { throw StageFailure.permanent("the idea's background \(problem)") }
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let sources = try parts.map { part -> BackgroundSource in
            if part.hasPrefix(MediaLibrary.scheme) { return try BackgroundSource(parsing: part) }
            let colours = part.split(separator: ":").compactMap { RGB(parsing: String($0)) }
            guard let top = colours.first else { throw StageFailure.permanent("the idea's background '\(part)' is not a colour") }
            return .gradient(top: top, bottom: colours.last!)
        }
        self = sources.count == 1 ? sources[0] : .sequence(sources)
    }

    /// Whether it names the media library, which the video stage fetches from the store before rendering.
    public var isStored: Bool {
        switch self {
        case .stored: return true
        case .sequence(let list): return list.contains { $0.isStored }
        default: return false
        }
    }

    /// Whether it changes at paragraph boundaries.
    var isPlural: Bool {
        switch self {
        case .sequence, .library, .stored(name: nil): return true
        default: return false
        }
    }
}

/// The images and clips of a background folder, and the choice of one per paragraph.
enum BackgroundLibrary {
    /// The folder's images and clips, by name (hidden files left out).
    static func files(in folder: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { !$0.hasPrefix(".") && BackgroundSource.isMediaFile($0) }.sorted().map { folder.appendingPathComponent($0) }
    }

    /// Lowercased words of letters and digits in a singular form, so that "Octopuses" meets "octopus",
    /// "waves" "wave", "berries" "berry" and "glasses" "glass".
    static func tokens(_ text: String) -> Set<String> {
        Set(text.lowercased().split { !($0.isLetter || $0.isNumber) }.map { singular(String($0)) })
    }

    /// Same word, or one a short ending longer than the other ("hous" of "houses" and "house").
    static func sameWord(_ a: String, _ b: String) -> Bool {
        if a == b { return true }
        guard min(a.count, b.count) >= 4, abs(a.count - b.count) <= 2 else { return false }
        return a.hasPrefix(b) || b.hasPrefix(a)
    }

    /// How many of the wanted words a file's name has.
    static func score(_ name: Set<String>, _ wanted: Set<String>) -> Int {
        wanted.filter { w in name.contains { sameWord($0, w) } }.count
    }

    static func singular(_ w: String) -> String {
        guard w.count > 3 else { return w }
        if w.hasSuffix("ies") && w.count > 4 { return String(w.dropLast(3)) + "y" }
        for ending in ["sses", "shes", "ches", "xes", "zes", "uses"] where w.hasSuffix(ending) { return String(w.dropLast(2)) }
        if w.hasSuffix("ss") || w.hasSuffix("us") || w.hasSuffix("is") { return w }
        if w.hasSuffix("s") { return String(w.dropLast()) }
        return w
    }

    /// A file for each paragraph: the most keyword words found in its name, then the least used so far, then
    /// the first by name. Deterministic, so a retried video stage picks the same pictures.
    static func choose(from files: [URL], keywords: [[String]]) -> [URL] {
        choose(names: files.map(\.lastPathComponent), keywords: keywords).map { files[$0] }
    }

    /// The same choice over file names; gives indices into `fileNames`.
    static func choose(names fileNames: [String], keywords: [[String]]) -> [Int] {
        guard !fileNames.isEmpty else { return [] }
        let names = fileNames.map { tokens(($0 as NSString).deletingPathExtension) }
        var used = [Int](repeating: 0, count: fileNames.count)
        var previous: Int?
        return keywords.map { words in
            let wanted = tokens(words.joined(separator: " "))
            let scores = names.map { score($0, wanted) }
            // Best score; then never the same picture twice in a row when there is another; then least used; then name.
            let best = fileNames.indices.min {
                (-scores[$0], $0 == previous ? 1 : 0, used[$0], $0) < (-scores[$1], $1 == previous ? 1 : 0, used[$1], $1)
            }!
            used[best] += 1
            previous = best
            return best
        }
    }

}

/// When a paragraph of the narration starts being spoken, and the visual keywords and picture description the
/// script gave it.
public struct ParagraphTiming: Sendable, Hashable {
    public var start: Double
    public var keywords: [String]
    public var imagePrompt: String?
    public init(start: Double, keywords: [String] = [], imagePrompt: String? = nil) {
        self.start = start; self.keywords = keywords; self.imagePrompt = imagePrompt
    }
}
