import CFFmpeg
import LibAV
import Foundation
import Shared

/// Settings of a render.
public struct RenderOptions: Sendable, Hashable {
    public var width: Int = 1080
    public var height: Int = 1920
    public var fps: Int = 30
    public var preset: String = "veryfast"
    public var crf: Int = 23
    public var threads: Int = 0
    public var background = BackgroundSource.default
    public var subtitles = SubtitleStyle()
    /// The caption preset of jobs that ask for none, and the style file's JSON laid over a job's preset.
    public var subtitlePreset = SubtitlePreset.classic
    public var subtitleOverrides: Data?
    /// Background music mixed under the voice (looped), its level in dB, and how much lower while the voice speaks.
    public var music: URL?
    public var musicLevelDB: Double = -20
    public var musicDuckDB: Double = -12
    /// A background clip shorter than the narration is decoded once and its frames replayed from a scratch file
    /// beside the output (page cache, not process memory), up to this many bytes; 0 decodes every loop.
    public var loopSpillBytes: Int = 1 << 30
    public init() {}
}

/// What a render produced.
public struct RenderResult: Sendable {
    public var frames: Int
    public var duration: Double
    /// Things a person should know (a missing font that fell back).
    public var warnings: [String] = []
    /// A PNG of a frame with its subtitle, when asked for.
    public var thumbnail: URL?
    /// For a video background: how many of its pictures were decoded (a looping clip replayed from its spill
    /// is decoded once).
    public var backgroundFramesDecoded: Int?
    /// The backgrounds shown and when each started.
    public var backgrounds: [(start: Double, source: BackgroundSource)] = []
}

/// Renders narration over a background into an H.264/AAC MP4, in-process on the ffmpeg libraries. Frames
/// stream through one reusable buffer; audio is decoded in pieces: memory stays bounded whatever the length.
public struct VideoRenderer: Sendable {
    public var options: RenderOptions
    private static let pool = BlockingPool(threads: 1, name: "render")
    /// libav prints encoder statistics by default; errors reach us as return codes instead.
    private static let quietLibav: Void = av_log_set_level(16 /* AV_LOG_ERROR */)

    public init(options: RenderOptions = RenderOptions()) { self.options = options }

    /// Renders `audio` over the background with `cues` burnt in at their times. A sequence or library of
    /// backgrounds changes at the `paragraphs`' starts (shared out evenly at cue starts without them).
    public func render(audio: URL, cues: [TimedCue] = [], paragraphs: [ParagraphTiming] = [], to output: URL, thumbnail: URL? = nil,
                       progress: (@Sendable (Double, String) -> Void)? = nil) async throws -> RenderResult {
        let o = options
        _ = Self.quietLibav
        // The stage run's safe point, checked between frame batches on the render thread.
        let safePoint = StageSafePoint.current
        try await StageSafePoint.check()
        return try await Self.pool.run {
            try Self.renderBlocking(audio: audio, cues: cues, paragraphs: paragraphs, output: output, thumbnail: thumbnail,
                                    options: o, progress: progress, safePoint: safePoint)
        }
    }

    /// The filler of one background lasting `frames` frames.
    static func filler(_ source: BackgroundSource, frames: Int, options o: RenderOptions, scratch: URL) throws -> any FrameFiller {
        switch source {
        case .gradient(let top, let bottom): return GradientFiller(width: o.width, height: o.height, top: top, bottom: bottom)
        case .image(let url): return try ImageFiller(url: url, width: o.width, height: o.height)
        case .video(let url):
            return try VideoFiller(url: url, width: o.width, height: o.height, fps: o.fps, duration: Double(frames) / Double(o.fps),
                                   spillBudget: o.loopSpillBytes, scratch: scratch)
        case .sequence, .library, .stored: preconditionFailure("plural and stored backgrounds are resolved before rendering")
        }
    }

    static func renderBlocking(audio: URL, cues: [TimedCue], paragraphs: [ParagraphTiming], output: URL, thumbnail: URL?,
                               options o: RenderOptions, progress: (@Sendable (Double, String) -> Void)?,
                               safePoint: (any SafePoint)? = nil) throws -> RenderResult {
        guard !o.background.isStored else {
            throw StageFailure.permanent("\(o.background.label): media library backgrounds are fetched by the video stage; give files here")
        }
        let partial = output.deletingLastPathComponent().appendingPathComponent(".\(output.lastPathComponent).partial.mp4")
        defer { try? FileManager.default.removeItem(at: partial) }
        let track = try NarrationTrack(audio)
        let frames = max(1, Int((track.duration * Double(o.fps)).rounded(.up)))
        let videoEnd = Double(frames) / Double(o.fps)
        let music = try o.music.map { try MusicBed(url: $0, rate: track.rate, channels: track.channels, levelDB: o.musicLevelDB, duckDB: o.musicDuckDB) }
        let writer = try MP4Writer(path: partial.path, options: .init(
            width: Int32(o.width), height: Int32(o.height), fps: Int32(o.fps), preset: o.preset, crf: o.crf,
            threads: Int32(o.threads), audioSampleRate: track.rate, audioChannels: track.channels))
        let segments = o.background.isPlural ? o.background.segments(paragraphs: paragraphs, cues: cues, duration: videoEnd)
                                             : [BackgroundSegment(start: 0, source: o.background)]
        let background = try Self.background(segments, frames: frames, options: o, scratch: partial.deletingLastPathComponent())
        defer { background.close() }
        let rasterizer = SubtitleRasterizer(style: o.subtitles, frameWidth: o.width, frameHeight: o.height)
        // Each overlay (a cue, or with a highlight colour each cue and spoken word) is drawn once, ahead of its
        // first frame, on the prefetcher's thread.
        let plan = OverlayPrefetcher.plan(cues: cues, frames: frames, fps: o.fps, highlighting: o.subtitles.highlightColor != nil)
        var order: [OverlayPrefetcher.Key] = []
        for case let key? in plan where order.last != key { order.append(key) }
        let overlays = OverlayPrefetcher(keys: order, cues: cues, rasterizer: rasterizer)
        defer { overlays.close() }
        // The thumbnail shows the middle of the first cue (or a third of the way in).
        let thumbnailFrame = min(frames - 1, cues.first.map { Int((($0.start + $0.end) / 2) * Double(o.fps)) } ?? frames / 3)
        let loop = try FrameLoop(writer: writer, narration: audio, track: track, videoEnd: videoEnd, music: music, background: background,
                                 plan: plan, overlays: overlays, fps: o.fps, thumbnail: thumbnail.map { ($0, thumbnailFrame) })
        defer { _ = loop.takeThumbnail()?.wait() }
        for i in 0..<frames {
            try loop.encode(frame: i, of: frames)
            if i % 15 == 0 {
                progress?(Double(i) / Double(frames), "\(i)/\(frames) frames")
                try safePoint?.checkBlocking()
            }
        }
        try writer.finish()
        if let job = loop.takeThumbnail() { try job.wait().get() }
        try? FileManager.default.removeItem(at: output)
        try FileManager.default.moveItem(at: partial, to: output)
        progress?(1, "\(frames)/\(frames) frames")
        return RenderResult(frames: frames, duration: videoEnd, warnings: fontWarnings(o.subtitles, rasterizer, cues: cues), thumbnail: thumbnail,
                            backgroundFramesDecoded: { background.close(); return background.decodedFrames }(),
                            backgrounds: segments.map { ($0.start, $0.source) })
    }

    /// One background, or a sequence that changes at the segments' starts.
    static func background(_ segments: [BackgroundSegment], frames: Int, options o: RenderOptions, scratch: URL) throws -> any FrameFiller {
        guard segments.count > 1 else { return try filler(segments[0].source, frames: frames, options: o, scratch: scratch) }
        return SequenceFiller(segments: segments, fps: o.fps, frames: frames) {
            // Two may be open at once (the one showing and the next): each gets half the spill budget.
            var half = o
            half.loopSpillBytes /= 2
            return try filler($0, frames: $1, options: half, scratch: scratch)
        }
    }

    /// A font of the style that was not found, and what is used instead.
    static func fontWarnings(_ style: SubtitleStyle, _ rasterizer: SubtitleRasterizer, cues: [TimedCue]) -> [String] {
        let (_, missing) = style.resolveFont()
        guard !missing.isEmpty && !cues.isEmpty else { return [] }
        return ["font\(missing.count > 1 ? "s" : "") \(missing.joined(separator: ", ")) not found; using \(rasterizer.fontPath ?? "ImageMagick's default font")"]
    }
}

/// A vertical gradient converted once into YUV rows, copied into each frame.
final class GradientFiller: FrameFiller {
    let yRows: [UInt8], uRows: [UInt8], vRows: [UInt8]
    let width: Int, height: Int

    init(width: Int, height: Int, top: RGB, bottom: RGB) {
        self.width = width; self.height = height
        var y = [UInt8](repeating: 0, count: height), u = [UInt8](repeating: 0, count: height / 2), v = [UInt8](repeating: 0, count: height / 2)
        for row in 0..<height {
            let t = Double(row) / Double(max(1, height - 1))
            func mix(_ a: UInt8, _ b: UInt8) -> UInt8 { UInt8((Double(a) * (1 - t) + Double(b) * t).rounded()) }
            let c = RGB(r: mix(top.r, bottom.r), g: mix(top.g, bottom.g), b: mix(top.b, bottom.b)).yuv
            y[row] = c.0
            if row % 2 == 0 { u[row / 2] = c.1; v[row / 2] = c.2 }
        }
        yRows = y; uRows = u; vRows = v
    }

    var restorer: ((UnsafeMutablePointer<AVFrame>, Int, Int, Int, Int) -> Void)? {
        { [self] frame, x, y, w, h in
            let f = frame.pointee
            for row in y..<min(height, y + h) { memset(f.data.0! + row * Int(f.linesize.0) + x, Int32(yRows[row]), w) }
            for row in (y / 2)..<min(height / 2, (y + h + 1) / 2) {
                memset(f.data.1! + row * Int(f.linesize.1) + x / 2, Int32(uRows[row]), w / 2)
                memset(f.data.2! + row * Int(f.linesize.2) + x / 2, Int32(vRows[row]), w / 2)
            }
        }
    }

    func fill(_ frame: UnsafeMutablePointer<AVFrame>, index: Int, count: Int) {
        let f = frame.pointee
        for row in 0..<height { memset(f.data.0! + row * Int(f.linesize.0), Int32(yRows[row]), width) }
        for row in 0..<height / 2 {
            memset(f.data.1! + row * Int(f.linesize.1), Int32(uRows[row]), width / 2)
            memset(f.data.2! + row * Int(f.linesize.2), Int32(vRows[row]), width / 2)
        }
    }
}
