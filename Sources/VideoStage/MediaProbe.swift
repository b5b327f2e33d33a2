import CFFmpeg
import LibAV
import Foundation

/// What a produced MP4 holds, read with libavformat: its streams' properties and where `moov` sits.
public struct MediaProbe: Sendable {
    public struct Video: Sendable {
        public var codec: String, pixelFormat: String
        public var width: Int, height: Int
        public var fps: Double
        public var frames: Int
        /// From the first frame's start to the last frame's end, in seconds.
        public var duration: Double
    }
    public struct Audio: Sendable {
        public var codec: String
        public var sampleRate: Int, channels: Int
        public var duration: Double
    }
    public var video: Video?
    public var audio: Audio?
    /// The `moov` box comes before `mdat` (faststart: playable while it downloads).
    public var faststart: Bool

    public init(url: URL) throws {
        var format: UnsafeMutablePointer<AVFormatContext>?
        try av(avformat_open_input(&format, url.path, nil, nil), "open \(url.lastPathComponent)")
        defer { avformat_close_input(&format) }
        try av(avformat_find_stream_info(format, nil), "read stream info")
        func name(_ id: AVCodecID) -> String { String(cString: avcodec_get_name(id)) }
        for i in 0..<Int(format!.pointee.nb_streams) {
            let s = format!.pointee.streams[i]!.pointee
            let par = s.codecpar!.pointee
            let seconds = s.duration > 0 ? Double(s.duration) * av_q2d(s.time_base) : 0
            if par.codec_type == AVMEDIA_TYPE_VIDEO && video == nil {
                let pix = av_get_pix_fmt_name(AVPixelFormat(rawValue: par.format)).map { String(cString: $0) } ?? "?"
                video = Video(codec: name(par.codec_id), pixelFormat: pix, width: Int(par.width), height: Int(par.height),
                              fps: av_q2d(s.avg_frame_rate), frames: Int(s.nb_frames), duration: seconds)
            } else if par.codec_type == AVMEDIA_TYPE_AUDIO && audio == nil {
                audio = Audio(codec: name(par.codec_id), sampleRate: Int(par.sample_rate), channels: Int(par.ch_layout.nb_channels),
                              duration: seconds)
            }
        }
        faststart = try Self.moovFirst(url)
    }

    /// Walks the top-level boxes until `moov` or `mdat` shows up.
    static func moovFirst(_ url: URL) throws -> Bool {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var offset: UInt64 = 0
        while true {
            try handle.seek(toOffset: offset)
            guard let header = try handle.read(upToCount: 16), header.count >= 8 else { return false }
            let bytes = [UInt8](header)
            var size = UInt64(bytes[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            let type = String(decoding: bytes[4..<8], as: UTF8.self)
            if type == "moov" { return true }
            if type == "mdat" { return false }
            if size == 1, bytes.count == 16 { size = bytes[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
            guard size >= 8 else { return false }
            offset += size
        }
    }
}

/// A decoded yuv420p picture, its planes packed (no row padding).
public struct DecodedPicture: Sendable {
    public var time: Double
    public var width: Int, height: Int
    public var luma: [UInt8], cb: [UInt8], cr: [UInt8]

    public func y(_ x: Int, _ row: Int) -> UInt8 { luma[row * width + x] }
    public func u(_ x: Int, _ row: Int) -> UInt8 { cb[(row / 2) * (width / 2) + x / 2] }
    public func v(_ x: Int, _ row: Int) -> UInt8 { cr[(row / 2) * (width / 2) + x / 2] }
}

/// Decodes a video's frames with libavcodec, keeping only the ones asked for.
public enum VideoFrames {
    /// The pictures showing at each of `times` (seconds), in the order asked, read in one pass through the file.
    public static func pictures(in url: URL, at times: [Double]) throws -> [DecodedPicture] {
        try PictureReader(url).pictures(at: times)
    }
}

/// One pass through a video's pictures. `held` keeps the last decoded picture (a reference, no copy) until the
/// next one shows whether it is one asked for: only pictures that are an answer get copied out.
private final class PictureReader {
    private var format: UnsafeMutablePointer<AVFormatContext>?
    private var codec: UnsafeMutablePointer<AVCodecContext>?
    private var packet = av_packet_alloc(), frame = av_frame_alloc(), held = av_frame_alloc()
    private var stream: Int32 = 0
    private var timeBase = 0.0
    private var wanted: [(offset: Int, element: Double)] = []
    private var found: [DecodedPicture?] = []
    private var next = 0
    private var heldTime: Double?
    private var heldCopy: DecodedPicture?

    init(_ url: URL) throws {
        try av(avformat_open_input(&format, url.path, nil, nil), "open \(url.lastPathComponent)")
        try av(avformat_find_stream_info(format, nil), "read stream info")
        var decoder: UnsafePointer<AVCodec>?
        stream = try av(av_find_best_stream(format, AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0), "find a video stream")
        timeBase = av_q2d(format!.pointee.streams[Int(stream)]!.pointee.time_base)
        codec = avcodec_alloc_context3(decoder)
        try av(avcodec_parameters_to_context(codec, format!.pointee.streams[Int(stream)]!.pointee.codecpar), "decoder parameters")
        try av(avcodec_open2(codec, decoder, nil), "open the video decoder")
    }

    deinit {
        av_packet_free(&packet); av_frame_free(&frame); av_frame_free(&held)
        avcodec_free_context(&codec)
        avformat_close_input(&format)
    }

    func pictures(at times: [Double]) throws -> [DecodedPicture] {
        wanted = times.enumerated().sorted { $0.element < $1.element }
        found = [DecodedPicture?](repeating: nil, count: times.count)
        reading: while next < wanted.count {
            let rc = av_read_frame(format, packet)
            if rc == rf_averror_eof() {
                try av(avcodec_send_packet(codec, nil), "flush")
                _ = try take()
                break reading
            }
            try av(rc, "read")
            defer { av_packet_unref(packet) }
            if packet!.pointee.stream_index == stream {
                try av(avcodec_send_packet(codec, packet), "decode")
                if try !take() { break reading }
            }
        }
        answer(before: nil)
        return try found.map { try $0 ?? { throw AVError(code: -1, what: "no picture at the times asked") }() }
    }

    /// A frame shows from its timestamp until the next one's: the picture for time t is the last one at or
    /// before t. `nextTime` is the new frame's time (nil at the end).
    private func answer(before nextTime: Double?) {
        guard let t = heldTime else { return }
        while next < wanted.count, nextTime == nil || nextTime! > wanted[next].element + 1e-6 {
            if heldCopy == nil { heldCopy = Self.copy(held!.pointee, time: t) }
            found[wanted[next].offset] = heldCopy
            next += 1
        }
    }

    /// Receives the decoded frames; false at the end of the stream.
    private func take() throws -> Bool {
        while true {
            let rc = avcodec_receive_frame(codec, frame)
            if rc == rf_averror_eagain() { return true }
            if rc == rf_averror_eof() { return false }
            try av(rc, "decode")
            guard frame!.pointee.format == AV_PIX_FMT_YUV420P.rawValue else { throw AVError(code: -1, what: "not a yuv420p video") }
            let t = Double(frame!.pointee.best_effort_timestamp) * timeBase
            answer(before: t)
            av_frame_unref(held)
            av_frame_move_ref(held, frame)
            heldTime = t
            heldCopy = nil
        }
    }

    private static func copy(_ f: AVFrame, time: Double) -> DecodedPicture {
        let w = Int(f.width), h = Int(f.height)
        func plane(_ p: UnsafeMutablePointer<UInt8>, _ stride: Int32, _ pw: Int, _ ph: Int) -> [UInt8] {
            var out = [UInt8](repeating: 0, count: pw * ph)
            out.withUnsafeMutableBufferPointer { o in for r in 0..<ph { memcpy(o.baseAddress! + r * pw, p + r * Int(stride), pw) } }
            return out
        }
        return DecodedPicture(time: time, width: w, height: h, luma: plane(f.data.0!, f.linesize.0, w, h),
                              cb: plane(f.data.1!, f.linesize.1, w / 2, h / 2), cr: plane(f.data.2!, f.linesize.2, w / 2, h / 2))
    }
}

/// Decodes the audio of any file libavformat reads into mono float samples at `sampleRate`.
public enum AudioSamples {
    public static func mono(_ url: URL, sampleRate: Int32 = 48_000) throws -> [Float] {
        let decoder = try AudioDecoder(path: url.path, sampleRate: sampleRate, channels: 1)
        guard let fifo = av_audio_fifo_alloc(AV_SAMPLE_FMT_FLTP, 1, 4096) else { throw AVError(code: -1, what: "fifo") }
        defer { av_audio_fifo_free(fifo) }
        var out: [Float] = []
        var more = true
        while more {
            more = try decoder.decodeMore(into: fifo)
            let n = Int(av_audio_fifo_size(fifo))
            guard n > 0 else { continue }
            var chunk = [Float](repeating: 0, count: n)
            chunk.withUnsafeMutableBufferPointer { b in
                var planes: [UnsafeMutableRawPointer?] = [UnsafeMutableRawPointer(b.baseAddress!)]
                _ = av_audio_fifo_read(fifo, &planes, Int32(n))
            }
            out += chunk
        }
        return out
    }
}
