import CFFmpeg
import LibAV
import Foundation

/// One stretch of the video and the single background behind it.
struct BackgroundSegment: Hashable {
    var start: Double
    var source: BackgroundSource
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
