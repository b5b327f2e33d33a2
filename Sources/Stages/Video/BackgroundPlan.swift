import CFFmpeg
import Foundation

/// When a paragraph of the narration starts being spoken, and the visual keywords the script gave it.
public struct ParagraphTiming: Sendable, Hashable {
    public var start: Double
    public var keywords: [String]
    public init(start: Double, keywords: [String] = []) { self.start = start; self.keywords = keywords }
}

/// One stretch of the video and the single background behind it.
struct BackgroundSegment: Hashable {
    var start: Double
    var source: BackgroundSource
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

extension BackgroundSource {
    /// The backgrounds of a video, cut at paragraph boundaries. Without paragraph times (an SRT rendered on its
    /// own), a sequence or a library is shared out evenly, cut at the cue starts nearest to equal parts.
    func segments(paragraphs: [ParagraphTiming], cues: [TimedCue], duration: Double) -> [BackgroundSegment] {
        var paragraphs = paragraphs.filter { $0.start < duration }.sorted { $0.start < $1.start }
        if paragraphs.isEmpty {
            let parts: Int
            switch self {
            case .sequence(let list): parts = list.count
            case .library(let folder): parts = BackgroundLibrary.files(in: folder).count
            default: parts = 1
            }
            paragraphs = [ParagraphTiming(start: 0)]
            for k in 1..<max(1, min(parts, cues.count)) {
                let target = duration * Double(k) / Double(parts)
                if let cue = cues.min(by: { abs($0.start - target) < abs($1.start - target) }), cue.start > paragraphs.last!.start {
                    paragraphs.append(ParagraphTiming(start: cue.start))
                }
            }
        }
        let sources: [BackgroundSource]
        switch self {
        case .sequence(let list): sources = paragraphs.indices.map { list[$0 % list.count] }
        case .library(let folder):
            sources = BackgroundLibrary.choose(from: BackgroundLibrary.files(in: folder), keywords: paragraphs.map(\.keywords))
                .map(BackgroundSource.file)
        case .stored(name: nil): sources = paragraphs.map { _ in self }  // the renderer refuses it with a clear error
        default: sources = paragraphs.map { _ in self }
        }
        // The first starts the video; a paragraph with the same background as the one before continues it.
        var out: [BackgroundSegment] = []
        for (p, source) in zip(paragraphs, sources) {
            if out.last?.source == source { continue }
            out.append(BackgroundSegment(start: out.isEmpty ? 0 : p.start, source: source))
        }
        return out.isEmpty ? [BackgroundSegment(start: 0, source: .default)] : out
    }
}

/// Backgrounds one after the other, each filling its own stretch of frames as if it were the only one (a clip
/// starts at its beginning and loops within its stretch, an image pans across its stretch). At most two are
/// open: the one showing and, from half a second before its cut, the next, so that its first pictures are
/// decoded before they are needed.
final class SequenceFiller: FrameFiller {
    private let segments: [(first: Int, frames: Int, source: BackgroundSource)]
    private let make: (BackgroundSource, _ frames: Int) throws -> any FrameFiller
    private let lead: Int
    private var current: (index: Int, filler: any FrameFiller)?
    private var upcoming: (index: Int, filler: any FrameFiller)?
    /// Pictures decoded from video segments that have ended.
    private var decodedCount: Int?
    var decodedFrames: Int? { decodedCount }

    init(segments: [BackgroundSegment], fps: Int, frames: Int,
         make: @escaping (BackgroundSource, _ frames: Int) throws -> any FrameFiller) {
        let firsts = segments.map { min(frames, Int(($0.start * Double(fps)).rounded())) }
        self.segments = segments.indices.map { i in
            (firsts[i], (i + 1 < segments.count ? firsts[i + 1] : frames) - firsts[i], segments[i].source)
        }.filter { $0.frames > 0 }
        self.make = make
        lead = max(1, fps / 2)
    }

    func fill(_ frame: UnsafeMutablePointer<AVFrame>, index: Int, count: Int) throws {
        guard let s = segments.lastIndex(where: { $0.first <= index }) else { return }
        if current?.index != s {
            if let c = current { end(c.filler); current = nil }
            if let u = upcoming, u.index == s { current = u; upcoming = nil } else { current = (s, try make(segments[s].source, segments[s].frames)) }
        }
        if s + 1 < segments.count, upcoming == nil, index >= segments[s + 1].first - lead {
            upcoming = (s + 1, try make(segments[s + 1].source, segments[s + 1].frames))
        }
        try current!.filler.fill(frame, index: index - segments[s].first, count: segments[s].frames)
    }

    private func end(_ filler: any FrameFiller) {
        filler.close()
        if let n = filler.decodedFrames { decodedCount = (decodedCount ?? 0) + n }
    }

    func close() {
        if let c = current { end(c.filler) }
        if let u = upcoming { end(u.filler) }
        current = nil; upcoming = nil
    }
}
