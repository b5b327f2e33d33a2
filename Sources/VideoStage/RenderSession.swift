import CFFmpeg
import LibAV
import Foundation
import Shared

/// The narration as the MP4 carries it: AAC at the narration's own rate and channel count (mono speech stays
/// mono: half the encoding work), 48 kHz when its rate is not one AAC takes; its exact length is known before
/// the first frame (decoding is cheap next to encoding, so one counting pass).
struct NarrationTrack {
    let rate: Int32, channels: Int32
    /// Decoded samples per channel.
    let samples: Int64

    private static let aacRates: Set<Int32> = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000]

    init(_ audio: URL) throws {
        let source = try AudioDecoder.probe(path: audio.path)
        channels = min(2, source.channels)
        rate = Self.aacRates.contains(source.rate) ? source.rate : 48_000
        let counter = try AudioDecoder(path: audio.path, sampleRate: rate, channels: channels)
        guard let scratch = av_audio_fifo_alloc(AV_SAMPLE_FMT_FLTP, channels, 4096) else { throw AVError(code: -1, what: "fifo") }
        defer { av_audio_fifo_free(scratch) }
        var total: Int64 = 0
        while try counter.decodeMore(into: scratch) {
            total += Int64(av_audio_fifo_size(scratch))
            av_audio_fifo_drain(scratch, av_audio_fifo_size(scratch))
        }
        samples = total + Int64(av_audio_fifo_size(scratch))
        guard samples > 0 else { throw StageFailure.permanent("the narration audio is empty") }
    }

    var duration: Double { Double(samples) / Double(rate) }
}

extension OverlayPrefetcher {
    /// Which overlay each frame shows: a cue, or with a highlight colour each (cue, spoken word).
    static func plan(cues: [TimedCue], frames: Int, fps: Int, highlighting: Bool) -> [Key?] {
        var plan: [Key?] = []
        plan.reserveCapacity(frames)
        var c = 0
        for i in 0..<frames {
            let t = Double(i) / Double(fps)
            while c < cues.count && cues[c].end <= t { c += 1 }
            plan.append(c < cues.count && cues[c].start <= t ? Key(cue: c, word: highlighting ? cues[c].activeWord(at: t) : nil) : nil)
        }
        return plan
    }
}

/// One render's frame loop: the narration fed ahead of the pictures, the background, the subtitle overlay and
/// the thumbnail, frame by frame into the writer.
final class FrameLoop {
    let writer: MP4Writer
    let background: any FrameFiller
    let plan: [OverlayPrefetcher.Key?]
    let overlays: OverlayPrefetcher
    let fps: Int, rate: Int32, totalSamples: Int64
    let thumbnail: (url: URL, frame: Int)?
    private let decoder: AudioDecoder
    private let fifo: OpaquePointer
    private let music: MusicBed?
    private var audioDone = false
    private var drawnBox: (x: Int, y: Int, width: Int, height: Int)?
    private var current: (key: OverlayPrefetcher.Key, overlay: CueOverlay?)?
    private(set) var thumbnailJob: Thumbnail.Job?

    init(writer: MP4Writer, narration: URL, track: NarrationTrack, videoEnd: Double, music: MusicBed?, background: any FrameFiller,
         plan: [OverlayPrefetcher.Key?], overlays: OverlayPrefetcher, fps: Int, thumbnail: (url: URL, frame: Int)?) throws {
        self.writer = writer; self.music = music; self.background = background
        self.plan = plan; self.overlays = overlays; self.fps = fps; self.thumbnail = thumbnail
        rate = track.rate
        totalSamples = Int64((videoEnd * Double(track.rate)).rounded())
        decoder = try AudioDecoder(path: narration.path, sampleRate: track.rate, channels: track.channels)
        guard let fifo = av_audio_fifo_alloc(AV_SAMPLE_FMT_FLTP, track.channels, 4096) else { throw AVError(code: -1, what: "audio fifo") }
        self.fifo = fifo
    }

    deinit { av_audio_fifo_free(fifo) }

    /// The thumbnail's encoding, handed over to the caller to wait for.
    func takeThumbnail() -> Thumbnail.Job? {
        defer { thumbnailJob = nil }
        return thumbnailJob
    }

    func encode(frame i: Int, of frames: Int) throws {
        try feedAudio(through: i)
        try writer.prepareVideoFrame()
        // A still background is drawn once; after that only the box of the last subtitle is put back
        // (the frame's buffer keeps the previous picture, copied if the encoder still held it).
        if let restore = background.restorer, i > 0 {
            if let box = drawnBox { restore(writer.frame, box.x, box.y, box.width, box.height) }
        } else {
            try background.fill(writer.frame, index: i, count: frames)
        }
        drawnBox = nil
        if let key = plan[i] {
            if current?.key != key { current = (key, try overlays.next(key)) }
            if let overlay = current?.overlay {
                let f = writer.frame.pointee
                overlay.blend(y: f.data.0!, Int(f.linesize.0), u: f.data.1!, v: f.data.2!, Int(f.linesize.1))
                drawnBox = (overlay.x, overlay.y, overlay.width, overlay.height)
            }
        }
        if let thumbnail, i == thumbnail.frame { thumbnailJob = try Thumbnail.start(writer.frame, to: thumbnail.url) }
        try writer.encodeVideoFrame()
    }

    /// Keeps audio ahead of video so the muxer interleaves without buffering much.
    private func feedAudio(through i: Int) throws {
        let needSamples = min(totalSamples, Int64((Double(i + 1) / Double(fps) * Double(rate)).rounded()) + Int64(writer.audioFrameSize))
        while writer.audioSamples < needSamples {
            let size = writer.audioFrameSize
            while !audioDone && av_audio_fifo_size(fifo) < size { audioDone = !(try decoder.decodeMore(into: fifo)) }
            let count = Int32(min(Int64(size), totalSamples - writer.audioSamples))
            try writer.encodeAudio(from: fifo, count: count, mix: music.map { m in { planes, n in try m.mix(into: planes, count: n) } })
        }
    }
}
