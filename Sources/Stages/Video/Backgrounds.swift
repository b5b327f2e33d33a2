import CFFmpeg
import CMagickWand
import Foundation
import Shared

/// What fills the frame behind the subtitles.
public enum BackgroundSource: Sendable, Hashable {
    /// A vertical gradient (the same colour twice for a solid colour).
    case gradient(top: RGB, bottom: RGB)
    /// A still image, scaled to cover the frame, panning slowly across it.
    case image(URL)
    /// A video clip, scaled and centre-cropped to fill the frame, looped to the narration's length.
    case video(URL)

    public static let `default` = BackgroundSource.gradient(top: RGB(r: 24, g: 28, b: 64), bottom: RGB(r: 8, g: 8, b: 20))

    /// `#RRGGBB`, a colour name, `#TOP:#BOTTOM` for a gradient, or a path to an image or a video.
    public init(parsing text: String) throws {
        if text.contains(":") && !text.contains("/"), case let parts = text.split(separator: ":"), parts.count == 2,
           let a = RGB(parsing: String(parts[0])), let b = RGB(parsing: String(parts[1])) {
            self = .gradient(top: a, bottom: b); return
        }
        if let c = RGB(parsing: text) { self = .gradient(top: c, bottom: c); return }
        let url = URL(fileURLWithPath: text)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw StageFailure.permanent("background '\(text)' is neither a colour (#RRGGBB) nor an existing file")
        }
        let ext = url.pathExtension.lowercased()
        if ["png", "jpg", "jpeg", "webp", "bmp", "tif", "tiff"].contains(ext) { self = .image(url) }
        else { self = .video(url) }
    }
}

/// Fills a yuv420p frame for frame number `index` of `count`.
protocol FrameFiller: AnyObject {
    func fill(_ frame: UnsafeMutablePointer<AVFrame>, index: Int, count: Int) throws
}

/// A picture kept as yuv420p planes. Rows are padded to 64 bytes and the planes have spare bytes at the end,
/// since libswscale's vector code writes past the last pixel of a row.
final class YUVPicture {
    let width: Int, height: Int
    let stride: Int, chromaStride: Int
    var y: [UInt8], u: [UInt8], v: [UInt8]

    init(width: Int, height: Int) {
        self.width = width; self.height = height
        stride = (width + 63) & ~63
        chromaStride = (width / 2 + 63) & ~63
        y = [UInt8](repeating: 16, count: stride * (height + 2) + 64)
        u = [UInt8](repeating: 128, count: chromaStride * (height / 2 + 2) + 64)
        v = [UInt8](repeating: 128, count: chromaStride * (height / 2 + 2) + 64)
    }

    /// Copies the window at (x, y) of the frame's size into the frame.
    func copy(into frame: UnsafeMutablePointer<AVFrame>, x: Int, y top: Int) {
        let f = frame.pointee
        let w = Int(f.width), h = Int(f.height)
        let x0 = x & ~1, y0 = top & ~1
        y.withUnsafeBufferPointer { p in
            for row in 0..<h { memcpy(f.data.0! + row * Int(f.linesize.0), p.baseAddress! + (y0 + row) * stride + x0, w) }
        }
        u.withUnsafeBufferPointer { p in
            for row in 0..<(h / 2) { memcpy(f.data.1! + row * Int(f.linesize.1), p.baseAddress! + (y0 / 2 + row) * chromaStride + x0 / 2, w / 2) }
        }
        v.withUnsafeBufferPointer { p in
            for row in 0..<(h / 2) { memcpy(f.data.2! + row * Int(f.linesize.2), p.baseAddress! + (y0 / 2 + row) * chromaStride + x0 / 2, w / 2) }
        }
    }

    /// Runs `body` with destination pointers and strides for libswscale.
    func withPlanes<T>(_ body: (inout [UnsafeMutablePointer<UInt8>?], inout [Int32]) throws -> T) rethrows -> T {
        try y.withUnsafeMutableBufferPointer { yp in try u.withUnsafeMutableBufferPointer { up in try v.withUnsafeMutableBufferPointer { vp in
            var dst: [UnsafeMutablePointer<UInt8>?] = [yp.baseAddress, up.baseAddress, vp.baseAddress, nil]
            var strides: [Int32] = [Int32(stride), Int32(chromaStride), Int32(chromaStride), 0]
            return try body(&dst, &strides)
        } } }
    }

    /// Converts packed RGBA (or any sws format) into these planes with libswscale.
    func load(from data: UnsafePointer<UInt8>, stride srcStride: Int, format: AVPixelFormat, srcWidth: Int, srcHeight: Int) throws {
        guard let sws = sws_getContext(Int32(srcWidth), Int32(srcHeight), format, Int32(width), Int32(height), AV_PIX_FMT_YUV420P,
                                       Int32(SWS_BICUBIC), nil, nil, nil) else { throw AVError(code: -1, what: "image scaler") }
        defer { sws_freeContext(sws) }
        try withPlanes { dst, dstStride in
            var src: [UnsafePointer<UInt8>?] = [data, nil, nil, nil]
            var strides: [Int32] = [Int32(srcStride), 0, 0, 0]
            try av(sws_scale(sws, &src, &strides, 0, Int32(srcHeight), &dst, &dstStride), "scale the image")
        }
    }
}

/// A still image scaled to cover the frame with a margin, the window panning across it over the video.
final class ImageFiller: FrameFiller {
    let picture: YUVPicture
    let frameWidth: Int, frameHeight: Int

    init(url: URL, width: Int, height: Int, overscan: Double = 1.12) throws {
        _ = SubtitleRasterizer.genesisOnce
        guard let wand = NewMagickWand() else { throw StageFailure.permanent("MagickWand is not available") }
        defer { DestroyMagickWand(wand) }
        guard MagickReadImage(wand, url.path) == MagickTrue else {
            throw StageFailure.permanent("cannot read the background image \(SafeName.file(url.lastPathComponent))")
        }
        let sw = Double(MagickGetImageWidth(wand)), sh = Double(MagickGetImageHeight(wand))
        let scale = max(Double(width) / sw, Double(height) / sh) * overscan
        let bw = (Int((sw * scale).rounded(.up)) + 1) & ~1, bh = (Int((sh * scale).rounded(.up)) + 1) & ~1
        var rgba = [UInt8](repeating: 0, count: Int(sw) * Int(sh) * 4)
        guard MagickExportImagePixels(wand, 0, 0, Int(sw), Int(sh), "RGBA", CharPixel, &rgba) == MagickTrue else {
            throw StageFailure.permanent("cannot decode the background image")
        }
        let pic = YUVPicture(width: bw, height: bh)
        try rgba.withUnsafeBufferPointer { try pic.load(from: $0.baseAddress!, stride: Int(sw) * 4, format: AV_PIX_FMT_RGBA, srcWidth: Int(sw), srcHeight: Int(sh)) }
        picture = pic
        frameWidth = width; frameHeight = height
    }

    func fill(_ frame: UnsafeMutablePointer<AVFrame>, index: Int, count: Int) throws {
        let t = count > 1 ? Double(index) / Double(count - 1) : 0
        // A slow diagonal pan from one corner of the margin to the other.
        let x = Int(Double(picture.width - frameWidth) * t), y = Int(Double(picture.height - frameHeight) * (0.5 + 0.5 * (t - 0.5)))
        picture.copy(into: frame, x: x, y: max(0, min(picture.height - frameHeight, y)))
    }
}

/// A video clip decoded with libav, scaled and centre-cropped to fill the frame, looped for as long as needed.
/// Source frames are picked by timestamp, so a 25 or 60 fps clip plays at its own speed.
final class VideoFiller: FrameFiller {
    private var format: UnsafeMutablePointer<AVFormatContext>?
    private var codec: UnsafeMutablePointer<AVCodecContext>?
    private var sws: OpaquePointer?
    private let packet = av_packet_alloc()!
    private let decoded = av_frame_alloc()!
    private let stream: Int32
    private let timeBase: Double
    private let fps: Double
    private let width: Int, height: Int
    private var loopOffset = 0.0
    private var lastPTS = 0.0
    private var current: Double = -1
    private var scaledValid = false
    private var lastSource: (w: Int32, h: Int32, f: Int32) = (0, 0, -1)
    private var cropX = 0, cropY = 0
    private let scaled: YUVPicture
    private var scaledSize: (w: Int, h: Int) = (0, 0)

    init(url: URL, width: Int, height: Int, fps: Int) throws {
        self.width = width; self.height = height; self.fps = Double(fps)
        try av(avformat_open_input(&format, url.path, nil, nil), "open the background video")
        try av(avformat_find_stream_info(format, nil), "read the background video")
        var decoder: UnsafePointer<AVCodec>?
        stream = try av(av_find_best_stream(format, AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0), "find a video stream in the background")
        let s = format!.pointee.streams[Int(stream)]!
        timeBase = av_q2d(s.pointee.time_base)
        codec = avcodec_alloc_context3(decoder)
        try av(avcodec_parameters_to_context(codec, s.pointee.codecpar), "background decoder")
        codec!.pointee.thread_count = 0
        try av(avcodec_open2(codec, decoder, nil), "open the background decoder")
        // Scale to cover, then crop the centre.
        let sw = Double(codec!.pointee.width), sh = Double(codec!.pointee.height)
        let scale = max(Double(width) / sw, Double(height) / sh)
        scaledSize = ((Int((sw * scale).rounded(.up)) + 1) & ~1, (Int((sh * scale).rounded(.up)) + 1) & ~1)
        scaled = YUVPicture(width: scaledSize.w, height: scaledSize.h)
        cropX = (scaledSize.w - width) / 2
        cropY = (scaledSize.h - height) / 2
    }

    deinit {
        var p: UnsafeMutablePointer<AVPacket>? = packet
        av_packet_free(&p)
        var f: UnsafeMutablePointer<AVFrame>? = decoded
        av_frame_free(&f)
        sws_freeContext(sws)
        avcodec_free_context(&codec)
        avformat_close_input(&format)
    }

    /// Decodes the next frame (seeking back to the start at the end); returns its time on the looped timeline.
    private func nextFrame() throws -> Double {
        while true {
            let rc = avcodec_receive_frame(codec, decoded)
            if rc == 0 {
                let pts = decoded.pointee.best_effort_timestamp
                let t = (pts == rf_av_nopts_value() ? lastPTS + 1 / fps : Double(pts) * timeBase)
                lastPTS = t
                return t + loopOffset
            }
            if rc == rf_averror_eof() {
                // Loop: back to the start, continuing the timeline.
                loopOffset += lastPTS + 1 / fps
                lastPTS = 0
                avcodec_flush_buffers(codec)
                try av(av_seek_frame(format, stream, 0, Int32(AVSEEK_FLAG_BACKWARD)), "loop the background video")
                continue
            }
            if rc != rf_averror_eagain() { try av(rc, "decode the background video") }
            let r = av_read_frame(format, packet)
            if r == rf_averror_eof() { try av(avcodec_send_packet(codec, nil), "flush the background decoder"); continue }
            try av(r, "read the background video")
            defer { av_packet_unref(packet) }
            if packet.pointee.stream_index == stream { try av(avcodec_send_packet(codec, packet), "decode the background video") }
        }
    }

    func fill(_ frame: UnsafeMutablePointer<AVFrame>, index: Int, count: Int) throws {
        let t = Double(index) / fps
        while current < 0 || current + 0.5 / fps < t {
            current = try nextFrame()
            try convert()
        }
        scaled.copy(into: frame, x: cropX, y: cropY)
    }

    private func convert() throws {
        let f = decoded.pointee
        if sws == nil || lastSource != (f.width, f.height, f.format) {
            sws_freeContext(sws)
            sws = sws_getContext(f.width, f.height, AVPixelFormat(rawValue: f.format), Int32(scaledSize.w), Int32(scaledSize.h),
                                 AV_PIX_FMT_YUV420P, Int32(SWS_BILINEAR), nil, nil, nil)
            lastSource = (f.width, f.height, f.format)
        }
        guard let sws else { throw AVError(code: -1, what: "background scaler") }
        try scaled.withPlanes { dst, dstStride in
            _ = try withUnsafePointer(to: decoded.pointee.data) { dp in try withUnsafePointer(to: decoded.pointee.linesize) { lp in
                try dp.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { src in
                    try lp.withMemoryRebound(to: Int32.self, capacity: 8) { strides in
                        try av(sws_scale(sws, src, strides, 0, f.height, &dst, &dstStride), "scale the background video")
                    }
                }
            } }
        }
    }
}

/// A PNG of one composed frame (yuv420p → RGB once with libswscale, written by MagickWand).
enum Thumbnail {
    static func write(_ frame: UnsafeMutablePointer<AVFrame>, to url: URL) throws {
        let f = frame.pointee
        let w = Int(f.width), h = Int(f.height)
        guard let sws = sws_getContext(f.width, f.height, AV_PIX_FMT_YUV420P, f.width, f.height, AV_PIX_FMT_RGB24,
                                       Int32(SWS_BICUBIC), nil, nil, nil) else { throw AVError(code: -1, what: "thumbnail scaler") }
        defer { sws_freeContext(sws) }
        // Padded rows (libswscale writes past a row's last pixel), compacted afterwards for MagickWand.
        let stride = (w * 3 + 63) & ~63
        var padded = [UInt8](repeating: 0, count: stride * (h + 1) + 64)
        try padded.withUnsafeMutableBufferPointer { out in
            var dst: [UnsafeMutablePointer<UInt8>?] = [out.baseAddress, nil, nil, nil]
            var dstStride: [Int32] = [Int32(stride), 0, 0, 0]
            _ = try withUnsafePointer(to: frame.pointee.data) { dp in try withUnsafePointer(to: frame.pointee.linesize) { lp in
                try dp.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { src in
                    try lp.withMemoryRebound(to: Int32.self, capacity: 8) { strides in
                        try av(sws_scale(sws, src, strides, 0, f.height, &dst, &dstStride), "thumbnail")
                    }
                }
            } }
        }
        var rgb = [UInt8](repeating: 0, count: w * h * 3)
        for row in 0..<h { rgb.replaceSubrange(row * w * 3 ..< (row + 1) * w * 3, with: padded[row * stride ..< row * stride + w * 3]) }
        _ = SubtitleRasterizer.genesisOnce
        guard let wand = NewMagickWand() else { throw StageFailure.permanent("MagickWand is not available") }
        defer { DestroyMagickWand(wand) }
        guard MagickConstituteImage(wand, w, h, "RGB", CharPixel, &rgb) == MagickTrue,
              MagickSetImageFormat(wand, "PNG") == MagickTrue,
              MagickWriteImage(wand, url.path) == MagickTrue else {
            throw StageFailure.transient("could not write the thumbnail")
        }
    }
}
