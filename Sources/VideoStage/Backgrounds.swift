import CFFmpeg
import LibAV
import CMagickWand
import Foundation
import Shared

/// Fills a yuv420p frame for frame number `index` of `count`.
protocol FrameFiller: AnyObject {
    func fill(_ frame: UnsafeMutablePointer<AVFrame>, index: Int, count: Int) throws
    /// For a background that never changes: puts it back inside a rectangle only (where a subtitle was),
    /// so a frame whose buffer still holds the previous picture need not be filled whole. Nil otherwise.
    var restorer: ((UnsafeMutablePointer<AVFrame>, _ x: Int, _ y: Int, _ width: Int, _ height: Int) -> Void)? { get }
    func close()
    /// Pictures decoded from video clips (a looping clip replayed from its spill counts once); nil without
    /// clips. Read after `close()`.
    var decodedFrames: Int? { get }
}

extension FrameFiller {
    var restorer: ((UnsafeMutablePointer<AVFrame>, Int, Int, Int, Int) -> Void)? { nil }
    /// Ends any work of the filler's own (threads); called once the render is over, however it ended.
    func close() {}
    var decodedFrames: Int? { nil }
}

/// A picture kept as yuv420p planes. Rows are padded to 64 bytes and the planes have spare bytes at the end,
/// since libswscale's vector code writes past the last pixel of a row. The planes are allocated once and never
/// move, so windows into them can be handed to the kernel and to libav.
final class YUVPicture {
    let width: Int, height: Int
    let stride: Int, chromaStride: Int
    private let y: UnsafeMutablePointer<UInt8>, u: UnsafeMutablePointer<UInt8>, v: UnsafeMutablePointer<UInt8>
    private let lumaBytes: Int, chromaBytes: Int

    init(width: Int, height: Int) {
        self.width = width; self.height = height
        stride = (width + 63) & ~63
        chromaStride = (width / 2 + 63) & ~63
        lumaBytes = stride * (height + 2) + 64
        chromaBytes = chromaStride * (height / 2 + 2) + 64
        y = .allocate(capacity: lumaBytes); y.initialize(repeating: 16, count: lumaBytes)
        u = .allocate(capacity: chromaBytes); u.initialize(repeating: 128, count: chromaBytes)
        v = .allocate(capacity: chromaBytes); v.initialize(repeating: 128, count: chromaBytes)
    }

    deinit { y.deallocate(); u.deallocate(); v.deallocate() }

    /// The window of `width` x `height` at (x, y) (rounded down to even, as chroma needs).
    func window(x: Int, y top: Int, width w: Int, height h: Int) -> PlaneWindow {
        let x0 = x & ~1, y0 = top & ~1
        return PlaneWindow(y: y + y0 * stride + x0, u: u + (y0 / 2) * chromaStride + x0 / 2, v: v + (y0 / 2) * chromaStride + x0 / 2,
                           lumaStride: stride, chromaStride: chromaStride, width: w, height: h)
    }

    /// Copies the window at (x, y) of the frame's size into the frame.
    func copy(into frame: UnsafeMutablePointer<AVFrame>, x: Int, y top: Int) {
        let f = PlaneWindow(frame: frame)
        window(x: x, y: top, width: f.width, height: f.height).copy(to: f)
    }

    /// Runs `body` with destination pointers and strides for libswscale.
    func withPlanes<T>(_ body: (inout [UnsafeMutablePointer<UInt8>?], inout [Int32]) throws -> T) rethrows -> T {
        var dst: [UnsafeMutablePointer<UInt8>?] = [y, u, v, nil]
        var strides: [Int32] = [Int32(stride), Int32(chromaStride), Int32(chromaStride), 0]
        return try body(&dst, &strides)
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
/// A thread of its own decodes and crops ahead into a few recycled buffers while the encoder works, so decoding
/// overlaps encoding. Source frames are picked by timestamp, so a 25 or 60 fps clip plays at its own speed.
final class VideoFiller: FrameFiller, @unchecked Sendable {
    // Decoder state: touched only by the prefetch thread.
    private var format: UnsafeMutablePointer<AVFormatContext>?
    private var codec: UnsafeMutablePointer<AVCodecContext>?
    private var sws: OpaquePointer?
    private let packet = av_packet_alloc()!
    private let decoded = av_frame_alloc()!
    private let stream: Int32
    private let timeBase: Double
    private let fps: Double
    private let width: Int, height: Int
    /// The clip's file name, for failures.
    private let name: String
    private var loopOffset = 0.0
    private var lastPTS = 0.0
    private var lastSource: (w: Int32, h: Int32, f: Int32) = (0, 0, -1)
    private let cover: (w: Int, h: Int)
    /// A decoded picture waiting to be shown: the decoder's own frame (a reference, no copy) when it already has
    /// the cover size, or a scaled copy.
    private enum Source {
        case decoded(UnsafeMutablePointer<AVFrame>)
        case scaled(YUVPicture)
        /// Frame `n` of the loop spill (a clip that loops is decoded once).
        case spilled(Int)
    }
    /// The clip's frames as first decoded, while the narration needs it to loop (nil when it does not, or
    /// when they would not fit); `spilled` is set once a whole pass is in it, by the prefetch thread.
    private var spill: LoopSpill?
    private var spilled = false
    private var replayIndex = 0
    /// Pictures decoded from the clip so far (not counting spill replays): read once the render is over.
    private var decodedCount = 0
    private var framesThisPass = 0
    var decodedFrames: Int? { decodedCount }
    // Shared between the prefetch thread and the renderer, under `cond`.
    private let cond = NSCondition()
    private var ready: [(time: Double, source: Source)] = []
    private var free: [YUVPicture]
    private var slots = 4
    private var failure: Error?
    private var stopping = false
    private let done = DispatchSemaphore(value: 0)
    // The renderer's current picture.
    private var current: (time: Double, source: Source)?

    /// `duration` is how long the background must last; a clip shorter than that is spilled on its first pass
    /// (see `LoopSpill`) when its frames fit `spillBudget` bytes in `scratch`.
    init(url: URL, width: Int, height: Int, fps: Int, duration: Double = 0, spillBudget: Int = 0, scratch: URL) throws {
        self.width = width; self.height = height; self.fps = Double(fps)
        name = SafeName.file(url.lastPathComponent)
        // Opened into locals, freed here if anything fails (deinit does not run for a half-made object).
        var format: UnsafeMutablePointer<AVFormatContext>?, codec: UnsafeMutablePointer<AVCodecContext>?
        let stream: Int32
        do {
            try av(avformat_open_input(&format, url.path, nil, nil), "open the background video \(SafeName.file(url.lastPathComponent))")
            try av(avformat_find_stream_info(format, nil), "read the background video")
            var decoder: UnsafePointer<AVCodec>?
            stream = try av(av_find_best_stream(format, AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0), "find a video stream in the background")
            codec = avcodec_alloc_context3(decoder)
            try av(avcodec_parameters_to_context(codec, format!.pointee.streams[Int(stream)]!.pointee.codecpar), "background decoder")
            codec!.pointee.thread_count = 1  // the prefetch thread is the parallelism
            try av(avcodec_open2(codec, decoder, nil), "open the background decoder")
        } catch {
            avcodec_free_context(&codec)
            avformat_close_input(&format)
            var p: UnsafeMutablePointer<AVPacket>? = packet
            av_packet_free(&p)
            var f: UnsafeMutablePointer<AVFrame>? = decoded
            av_frame_free(&f)
            throw Self.undecodable(error, name: SafeName.file(url.lastPathComponent))
        }
        self.format = format; self.codec = codec; self.stream = stream
        let s = format!.pointee.streams[Int(stream)]!
        timeBase = av_q2d(s.pointee.time_base)
        // Scale to cover, then crop the centre.
        let sw = Double(codec!.pointee.width), sh = Double(codec!.pointee.height)
        let scale = max(Double(width) / sw, Double(height) / sh)
        cover = ((Int((sw * scale).rounded(.up)) + 1) & ~1, (Int((sh * scale).rounded(.up)) + 1) & ~1)
        free = []
        let clipSeconds = format!.pointee.duration > 0 ? Double(format!.pointee.duration) / 1_000_000 : 0
        if clipSeconds > 0 && duration > clipSeconds * 1.05 {
            let rate = av_q2d(s.pointee.avg_frame_rate)
            let frames = s.pointee.nb_frames > 0 ? Int(s.pointee.nb_frames) : Int((clipSeconds * (rate > 0 ? rate : Double(fps))).rounded(.up))
            spill = LoopSpill(directory: scratch, frameBytes: width * height * 3 / 2, expectedFrames: frames + 1, budget: spillBudget)
        }
        let t = Thread { [self] in self.prefetch() }
        t.name = "background-decode"
        t.start()
    }

    /// A file libav cannot open or decode stays that way: a permanent failure (the job is parked at once, not
    /// retried for minutes). Running out of memory is the one libav error worth another attempt.
    static func undecodable(_ error: Error, name: String) -> Error {
        guard let e = error as? AVError, e.code != -ENOMEM else { return error }
        return StageFailure.permanent("the background video \(name) cannot be decoded: \(e)")
    }

    /// Stops the prefetch thread (which holds this object until it ends).
    func close() {
        cond.lock()
        let wasRunning = !stopping
        stopping = true
        cond.broadcast()
        cond.unlock()
        if wasRunning { done.wait() }
    }

    deinit {
        for item in ready { release(item.source) }
        if let current { release(current.source) }
        var p: UnsafeMutablePointer<AVPacket>? = packet
        av_packet_free(&p)
        var f: UnsafeMutablePointer<AVFrame>? = decoded
        av_frame_free(&f)
        sws_freeContext(sws)
        avcodec_free_context(&codec)
        avformat_close_input(&format)
    }

    private func prefetch() {
        defer { done.signal() }
        cond.lock()
        let stopped = stopping
        cond.unlock()
        if stopped { return }
        while true {
            cond.lock()
            while slots == 0 && !stopping { cond.wait() }
            if stopping { cond.unlock(); return }
            slots -= 1
            cond.unlock()
            do {
                let item = try next()
                cond.lock(); ready.append(item); cond.broadcast(); cond.unlock()
            } catch {
                cond.lock(); failure = Self.undecodable(error, name: name); cond.broadcast()
                // Wait for close() so that `done` is signalled exactly when the renderer asks.
                while !stopping { cond.wait() }
                cond.unlock()
                return
            }
        }
    }

    /// The next decoded picture (waits for the prefetch thread).
    private func take() throws -> (time: Double, source: Source) {
        cond.lock()
        defer { cond.unlock() }
        while ready.isEmpty {
            if let failure { throw failure }
            cond.wait()
        }
        return ready.removeFirst()
    }

    private func release(_ s: Source) {
        switch s {
        case .decoded(let f): var p: UnsafeMutablePointer<AVFrame>? = f; av_frame_free(&p)
        case .scaled(let picture): free.append(picture)
        case .spilled: break
        }
    }

    private func recycle(_ s: Source) {
        cond.lock(); release(s); slots += 1; cond.broadcast(); cond.unlock()
    }

    func fill(_ frame: UnsafeMutablePointer<AVFrame>, index: Int, count: Int) throws {
        let t = Double(index) / fps
        if current == nil { current = try take() }
        while let c = current, c.time + 0.5 / fps < t {
            let next = try take()
            recycle(c.source)
            current = next
        }
        // The one copy per frame: the crop of the decoded (or scaled, or spilled) picture into the frame to encode.
        let target = PlaneWindow(frame: frame)
        switch current!.source {
        case .spilled(let n): try spill!.read(n, into: target)
        case .decoded, .scaled: window(of: current!.source).copy(to: target)
        }
    }

    /// The frame-sized, centre-cropped window of a decoded or scaled picture.
    private func window(of source: Source) -> PlaneWindow {
        let x0 = ((cover.w - width) / 2) & ~1, y0 = ((cover.h - height) / 2) & ~1
        switch source {
        case .decoded(let f): return PlaneWindow(frame: f, x: x0, y: y0, width: width, height: height)
        case .scaled(let picture): return picture.window(x: x0, y: y0, width: width, height: height)
        case .spilled: preconditionFailure("a spilled frame has no window in memory")
        }
    }

    /// The next picture and its time on the looped timeline: decoded, or read back from the spill once the clip
    /// has been through once.
    private func next() throws -> (time: Double, source: Source) {
        if spilled, let spill {
            if replayIndex == spill.count {
                loopOffset += spill.times[spill.count - 1] + 1 / fps
                replayIndex = 0
            }
            defer { replayIndex += 1 }
            return (loopOffset + spill.times[replayIndex], .spilled(replayIndex))
        }
        let t = try nextFrame()
        if spilled { return try next() }  // the clip ended and its spill is whole
        let source = try keep()
        if let spill, !spill.append(window(of: source), time: t - loopOffset) { self.spill = nil }
        return (t, source)
    }

    /// Decodes the next frame (seeking back to the start at the end); returns its time on the looped timeline.
    private func nextFrame() throws -> Double {
        while true {
            let rc = avcodec_receive_frame(codec, decoded)
            if rc == 0 {
                let pts = decoded.pointee.best_effort_timestamp
                let t = (pts == rf_av_nopts_value() ? lastPTS + 1 / fps : Double(pts) * timeBase)
                lastPTS = t
                decodedCount += 1
                framesThisPass += 1
                return t + loopOffset
            }
            if rc == rf_averror_eof() {
                // Loop: back to the start, continuing the timeline; or replay the spill from now on.
                if let spill, spill.count > 0 {
                    spilled = true
                    replayIndex = spill.count
                    return 0
                }
                spill = nil
                guard framesThisPass > 0 else { throw StageFailure.permanent("the background video has no picture to show") }
                framesThisPass = 0
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

    /// Keeps the decoded picture for the renderer: a reference to the decoder's frame when it already has the
    /// cover size and format (no copy), else a copy scaled to cover.
    private func keep() throws -> Source {
        let f = decoded.pointee
        if f.format == AV_PIX_FMT_YUV420P.rawValue && Int(f.width) == cover.w && Int(f.height) == cover.h {
            guard let ref = av_frame_clone(decoded) else { throw AVError(code: -1, what: "keep a background frame") }
            return .decoded(ref)
        }
        if sws == nil || lastSource != (f.width, f.height, f.format) {
            sws_freeContext(sws)
            sws = sws_getContext(f.width, f.height, AVPixelFormat(rawValue: f.format), Int32(cover.w), Int32(cover.h),
                                 AV_PIX_FMT_YUV420P, Int32(SWS_BILINEAR), nil, nil, nil)
            lastSource = (f.width, f.height, f.format)
        }
        guard let sws else { throw AVError(code: -1, what: "background scaler") }
        cond.lock()
        let picture = free.popLast() ?? YUVPicture(width: cover.w, height: cover.h)
        cond.unlock()
        try picture.withPlanes { dst, dstStride in
            _ = try withUnsafePointer(to: decoded.pointee.data) { dp in try withUnsafePointer(to: decoded.pointee.linesize) { lp in
                try dp.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { src in
                    try lp.withMemoryRebound(to: Int32.self, capacity: 8) { strides in
                        try av(sws_scale(sws, src, strides, 0, f.height, &dst, &dstStride), "scale the background video")
                    }
                }
            } }
        }
        return .scaled(picture)
    }
}

/// A PNG of one composed frame (yuv420p → RGB once with libswscale, PNG-encoded by libavcodec).
enum Thumbnail {
    /// A thumbnail being written on a thread of its own, from a reference to the frame (the renderer's next
    /// frame then gets a buffer of its own), so the frame loop does not wait for the PNG.
    final class Job: @unchecked Sendable {
        private let done = DispatchSemaphore(value: 0)
        private var result: Result<Void, Error> = .success(())
        private var finished = false

        fileprivate init(frame: UnsafeMutablePointer<AVFrame>, url: URL) {
            let box = UncheckedFrame(frame: frame)
            let thread = Thread { [self] in
                var f: UnsafeMutablePointer<AVFrame>? = box.frame
                result = Result { try Thumbnail.write(box.frame, to: url) }
                av_frame_free(&f)
                done.signal()
            }
            thread.name = "thumbnail"
            thread.start()
        }

        /// Waits for the PNG (once; later calls give the same result).
        func wait() -> Result<Void, Error> {
            if !finished { done.wait(); finished = true }
            return result
        }
    }

    private struct UncheckedFrame: @unchecked Sendable { let frame: UnsafeMutablePointer<AVFrame> }

    static func start(_ frame: UnsafeMutablePointer<AVFrame>, to url: URL) throws -> Job {
        guard let ref = av_frame_clone(frame) else { throw AVError(code: -1, what: "keep the thumbnail frame") }
        return Job(frame: ref, url: url)
    }

    /// yuv420p → RGB24 with libswscale into a frame libav allocates (padded rows), encoded by libavcodec's PNG
    /// encoder: a few MB, no full-size 16-bit image.
    static func write(_ frame: UnsafeMutablePointer<AVFrame>, to url: URL) throws {
        let f = frame.pointee
        guard let sws = sws_getContext(f.width, f.height, AV_PIX_FMT_YUV420P, f.width, f.height, AV_PIX_FMT_RGB24,
                                       Int32(SWS_BICUBIC), nil, nil, nil) else { throw AVError(code: -1, what: "thumbnail scaler") }
        defer { sws_freeContext(sws) }
        var rgb = av_frame_alloc()
        defer { av_frame_free(&rgb) }
        rgb!.pointee.width = f.width; rgb!.pointee.height = f.height; rgb!.pointee.format = AV_PIX_FMT_RGB24.rawValue
        try av(av_frame_get_buffer(rgb, 64), "thumbnail picture")
        _ = try withUnsafePointer(to: frame.pointee.data) { dp in try withUnsafePointer(to: frame.pointee.linesize) { lp in
            try dp.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { src in
                try lp.withMemoryRebound(to: Int32.self, capacity: 8) { strides in
                    try withUnsafeMutablePointer(to: &rgb!.pointee.data) { dd in try withUnsafePointer(to: rgb!.pointee.linesize) { dl in
                        try dd.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 8) { dst in
                            try dl.withMemoryRebound(to: Int32.self, capacity: 8) { dstStrides in
                                try av(sws_scale(sws, src, strides, 0, f.height, dst, dstStrides), "thumbnail")
                            }
                        }
                    } }
                }
            }
        } }
        guard let png = avcodec_find_encoder(AV_CODEC_ID_PNG) else { throw AVError(code: -1, what: "no PNG encoder") }
        var codec = avcodec_alloc_context3(png)
        defer { avcodec_free_context(&codec) }
        codec!.pointee.width = f.width; codec!.pointee.height = f.height
        codec!.pointee.pix_fmt = AV_PIX_FMT_RGB24
        codec!.pointee.time_base = AVRational(num: 1, den: 1)
        try av(avcodec_open2(codec, png, nil), "open the PNG encoder")
        var packet = av_packet_alloc()
        defer { av_packet_free(&packet) }
        try av(avcodec_send_frame(codec, rgb), "encode the thumbnail")
        try av(avcodec_receive_packet(codec, packet), "encode the thumbnail")
        let data = Data(bytes: packet!.pointee.data, count: Int(packet!.pointee.size))
        do { try data.write(to: url, options: .atomic) } catch {
            throw StageFailure.transient("could not write the thumbnail: \(error.localizedDescription)")
        }
    }
}
