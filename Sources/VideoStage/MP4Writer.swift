import CFFmpeg
import Foundation
import LibAV

/// Writes H.264 (libx264, yuv420p) and AAC into an MP4 with faststart. Frames are pushed one at a time.
final class MP4Writer {
    struct Options {
        var width: Int32
        var height: Int32
        var fps: Int32
        var preset: String
        var crf: Int
        var threads: Int32
        var audioSampleRate: Int32 = 48_000
        var audioChannels: Int32 = 2
        var audioBitRate: Int64 = 128_000
    }

    let options: Options
    private var format: UnsafeMutablePointer<AVFormatContext>?
    private var video: UnsafeMutablePointer<AVCodecContext>?
    private var audio: UnsafeMutablePointer<AVCodecContext>?
    private var videoStream: UnsafeMutablePointer<AVStream>?
    private var audioStream: UnsafeMutablePointer<AVStream>?
    let frame: UnsafeMutablePointer<AVFrame>
    private let audioFrame: UnsafeMutablePointer<AVFrame>
    private let packet = av_packet_alloc()!
    private(set) var videoFrames: Int64 = 0
    private(set) var audioSamples: Int64 = 0
    private var finished = false

    init(path: String, options: Options) throws {
        self.options = options
        try av(avformat_alloc_output_context2(&format, nil, "mp4", path), "create the MP4 container")
        guard let x264 = avcodec_find_encoder_by_name("libx264") else {
            throw AVError(code: -1, what: "the libx264 encoder is not available in this libavcodec")
        }
        guard let aac = avcodec_find_encoder(AV_CODEC_ID_AAC) else { throw AVError(code: -1, what: "no AAC encoder") }
        let globalHeader = (format!.pointee.oformat.pointee.flags & 0x0040) != 0  // AVFMT_GLOBALHEADER

        videoStream = avformat_new_stream(format, nil)
        video = avcodec_alloc_context3(x264)
        guard let v = video else { throw AVError(code: -1, what: "video encoder context") }
        v.pointee.width = options.width
        v.pointee.height = options.height
        v.pointee.pix_fmt = AV_PIX_FMT_YUV420P
        v.pointee.time_base = AVRational(num: 1, den: options.fps)
        v.pointee.framerate = AVRational(num: options.fps, den: 1)
        // Keyframe interval and B-frames: x264's own defaults (keyint 250), as the ffmpeg command line uses.
        v.pointee.thread_count = options.threads
        if globalHeader { v.pointee.flags |= 1 << 22 }  // AV_CODEC_FLAG_GLOBAL_HEADER
        av_opt_set(v.pointee.priv_data, "preset", options.preset, 0)
        av_opt_set(v.pointee.priv_data, "crf", String(options.crf), 0)
        try av(avcodec_open2(v, x264, nil), "open libx264 (preset \(options.preset))")
        try av(avcodec_parameters_from_context(videoStream!.pointee.codecpar, v), "video stream parameters")
        videoStream!.pointee.time_base = v.pointee.time_base

        audioStream = avformat_new_stream(format, nil)
        audio = avcodec_alloc_context3(aac)
        guard let a = audio else { throw AVError(code: -1, what: "audio encoder context") }
        a.pointee.sample_fmt = AV_SAMPLE_FMT_FLTP
        a.pointee.sample_rate = options.audioSampleRate
        a.pointee.bit_rate = options.audioBitRate
        av_channel_layout_default(&a.pointee.ch_layout, options.audioChannels)
        a.pointee.time_base = AVRational(num: 1, den: options.audioSampleRate)
        if globalHeader { a.pointee.flags |= 1 << 22 }
        try av(avcodec_open2(a, aac, nil), "open the AAC encoder")
        try av(avcodec_parameters_from_context(audioStream!.pointee.codecpar, a), "audio stream parameters")
        audioStream!.pointee.time_base = a.pointee.time_base

        frame = av_frame_alloc()
        frame.pointee.format = AV_PIX_FMT_YUV420P.rawValue
        frame.pointee.width = options.width
        frame.pointee.height = options.height
        try av(av_frame_get_buffer(frame, 0), "video frame")
        audioFrame = av_frame_alloc()
        audioFrame.pointee.format = AV_SAMPLE_FMT_FLTP.rawValue
        audioFrame.pointee.nb_samples = a.pointee.frame_size
        audioFrame.pointee.sample_rate = options.audioSampleRate
        av_channel_layout_default(&audioFrame.pointee.ch_layout, options.audioChannels)
        try av(av_frame_get_buffer(audioFrame, 0), "audio frame")

        if (format!.pointee.oformat.pointee.flags & 0x0001) == 0 {  // !AVFMT_NOFILE
            try av(avio_open(&format!.pointee.pb, path, 2 /* AVIO_FLAG_WRITE */), "open \(URL(fileURLWithPath: path).lastPathComponent) for writing")
        }
        var opts: OpaquePointer?
        av_dict_set(&opts, "movflags", "+faststart", 0)
        defer { av_dict_free(&opts) }
        try av(avformat_write_header(format, &opts), "write the MP4 header")
    }

    deinit {
        if !finished, let f = format, f.pointee.pb != nil { avio_closep(&format!.pointee.pb) }
        var vf: UnsafeMutablePointer<AVFrame>? = frame
        av_frame_free(&vf)
        var af: UnsafeMutablePointer<AVFrame>? = audioFrame
        av_frame_free(&af)
        var p: UnsafeMutablePointer<AVPacket>? = packet
        av_packet_free(&p)
        avcodec_free_context(&video)
        avcodec_free_context(&audio)
        avformat_free_context(format)
    }

    var audioFrameSize: Int32 { audio!.pointee.frame_size }

    /// Makes `frame` writable; the caller fills its planes, then calls `encodeVideoFrame()`.
    func prepareVideoFrame() throws { try av(av_frame_make_writable(frame), "video frame") }

    func encodeVideoFrame() throws {
        frame.pointee.pts = videoFrames
        videoFrames += 1
        try av(avcodec_send_frame(video, frame), "encode video")
        try drain(video!, stream: videoStream!, duration: 1)
    }

    /// Encodes `count` samples from the fifo (padding with silence when it holds fewer).
    /// Encodes `count` samples from the fifo, after `mix` has had the planes (to add music under the voice).
    func encodeAudio(from fifo: OpaquePointer, count: Int32, mix: ((_ planes: [UnsafeMutablePointer<Float>], _ count: Int) throws -> Void)? = nil) throws {
        try av(av_frame_make_writable(audioFrame), "audio frame")
        audioFrame.pointee.nb_samples = count
        let got = withUnsafeMutablePointer(to: &audioFrame.pointee.data) { data in
            data.withMemoryRebound(to: UnsafeMutableRawPointer?.self, capacity: 8) { av_audio_fifo_read(fifo, $0, count) }
        }
        if got < count {
            // Pad with silence (the narration ended before the last video frame).
            for ch in 0..<Int(options.audioChannels) {
                if let plane = audioFrame.pointee.extended_data[ch] {
                    let floats = UnsafeMutableRawPointer(plane).assumingMemoryBound(to: Float.self)
                    for i in Int(max(0, got))..<Int(count) { floats[i] = 0 }
                }
            }
        }
        if let mix {
            let planes = (0..<Int(options.audioChannels)).map {
                UnsafeMutableRawPointer(audioFrame.pointee.extended_data[$0]!).assumingMemoryBound(to: Float.self)
            }
            try mix(planes, Int(count))
        }
        audioFrame.pointee.pts = audioSamples
        audioSamples += Int64(count)
        try av(avcodec_send_frame(audio, audioFrame), "encode audio")
        try drain(audio!, stream: audioStream!, duration: Int64(count))
    }

    private func drain(_ ctx: UnsafeMutablePointer<AVCodecContext>, stream: UnsafeMutablePointer<AVStream>, duration: Int64) throws {
        while true {
            let rc = avcodec_receive_packet(ctx, packet)
            if rc == rf_averror_eagain() || rc == rf_averror_eof() { return }
            try av(rc, "receive a packet")
            if packet.pointee.duration == 0 { packet.pointee.duration = duration }
            av_packet_rescale_ts(packet, ctx.pointee.time_base, stream.pointee.time_base)
            packet.pointee.stream_index = stream.pointee.index
            try av(av_interleaved_write_frame(format, packet), "write a packet")
        }
    }

    func finish() throws {
        try av(avcodec_send_frame(video, nil), "flush video")
        try drain(video!, stream: videoStream!, duration: 1)
        try av(avcodec_send_frame(audio, nil), "flush audio")
        try drain(audio!, stream: audioStream!, duration: Int64(audioFrameSize))
        try av(av_write_trailer(format), "write the MP4 trailer")
        try av(avio_closep(&format!.pointee.pb), "close the MP4")
        finished = true
    }
}
