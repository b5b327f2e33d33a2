// The ffmpeg calls the audio and the video stages share: errors and an audio decoder. Thin Swift over CFFmpeg.
import CFFmpeg
import Foundation

/// An error from the ffmpeg libraries, with their message.
public struct AVError: Error, CustomStringConvertible, Sendable {
    public var code: Int32
    public var what: String
    public init(code: Int32, what: String) { self.code = code; self.what = what }
    public var description: String {
        var buf = [CChar](repeating: 0, count: 256)
        av_strerror(code, &buf, buf.count)
        let text = String(decoding: buf.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return "\(what): \(text) (\(code))"
    }
}

@discardableResult
public func av(_ rc: Int32, _ what: @autoclosure () -> String) throws -> Int32 {
    if rc < 0 { throw AVError(code: rc, what: what()) }
    return rc
}

/// Decodes any audio file libavformat reads into planar float at `sampleRate` and `channels`, in pieces,
/// so a long narration never sits whole in memory.
public final class AudioDecoder {
    private var format: UnsafeMutablePointer<AVFormatContext>?
    private var codec: UnsafeMutablePointer<AVCodecContext>?
    private var swr: OpaquePointer?
    private let packet = av_packet_alloc()
    private let frame = av_frame_alloc()
    private let streamIndex: Int32
    private var drained = false
    public let sampleRate: Int32
    public let channels: Int32
    /// Duration of the file in seconds (from the container, or nil).
    public let duration: Double?

    /// The sample rate and channel count of a file's audio stream.
    public static func probe(path: String) throws -> (rate: Int32, channels: Int32) {
        var format: UnsafeMutablePointer<AVFormatContext>?
        try av(avformat_open_input(&format, path, nil, nil), "open \(URL(fileURLWithPath: path).lastPathComponent)")
        defer { avformat_close_input(&format) }
        try av(avformat_find_stream_info(format, nil), "read stream info")
        let index = try av(av_find_best_stream(format, AVMEDIA_TYPE_AUDIO, -1, -1, nil, 0), "find an audio stream")
        let par = format!.pointee.streams[Int(index)]!.pointee.codecpar!.pointee
        return (par.sample_rate, max(1, par.ch_layout.nb_channels))
    }

    public init(path: String, sampleRate: Int32, channels: Int32) throws {
        self.sampleRate = sampleRate; self.channels = channels
        try av(avformat_open_input(&format, path, nil, nil), "open \(URL(fileURLWithPath: path).lastPathComponent)")
        try av(avformat_find_stream_info(format, nil), "read stream info")
        var decoder: UnsafePointer<AVCodec>?
        streamIndex = try av(av_find_best_stream(format, AVMEDIA_TYPE_AUDIO, -1, -1, &decoder, 0), "find an audio stream")
        let stream = format!.pointee.streams[Int(streamIndex)]!
        codec = avcodec_alloc_context3(decoder)
        try av(avcodec_parameters_to_context(codec, stream.pointee.codecpar), "decoder parameters")
        try av(avcodec_open2(codec, decoder, nil), "open the audio decoder")
        var outLayout = AVChannelLayout()
        av_channel_layout_default(&outLayout, channels)
        var inLayout = codec!.pointee.ch_layout
        if inLayout.order == AV_CHANNEL_ORDER_UNSPEC { av_channel_layout_default(&inLayout, inLayout.nb_channels) }
        try av(swr_alloc_set_opts2(&swr, &outLayout, AV_SAMPLE_FMT_FLTP, sampleRate,
                                   &inLayout, codec!.pointee.sample_fmt, codec!.pointee.sample_rate, 0, nil), "resampler")
        try av(swr_init(swr), "start the resampler")
        let d = format!.pointee.duration
        duration = d > 0 ? Double(d) / Double(AV_TIME_BASE) : nil
    }

    deinit {
        var p: UnsafeMutablePointer<AVPacket>? = packet
        av_packet_free(&p)
        var f: UnsafeMutablePointer<AVFrame>? = frame
        av_frame_free(&f)
        swr_free(&swr)
        avcodec_free_context(&codec)
        avformat_close_input(&format)
    }

    /// Appends the next decoded samples to `fifo`; false once the file is exhausted and flushed.
    public func decodeMore(into fifo: OpaquePointer) throws -> Bool {
        if drained { return false }
        while true {
            let rc = avcodec_receive_frame(codec, frame)
            if rc == 0 {
                try push(frame, into: fifo)
                av_frame_unref(frame)
                return true
            }
            if rc == rf_averror_eof() {
                // Flush what the resampler holds.
                try push(nil, into: fifo)
                drained = true
                return false
            }
            if rc != rf_averror_eagain() { try av(rc, "decode audio") }
            let r = av_read_frame(format, packet)
            if r == rf_averror_eof() {
                try av(avcodec_send_packet(codec, nil), "flush the audio decoder")
                continue
            }
            try av(r, "read audio")
            defer { av_packet_unref(packet) }
            if packet!.pointee.stream_index == streamIndex { try av(avcodec_send_packet(codec, packet), "decode audio") }
        }
    }

    private func push(_ input: UnsafeMutablePointer<AVFrame>?, into fifo: OpaquePointer) throws {
        let inCount = input?.pointee.nb_samples ?? 0
        let outCount = swr_get_out_samples(swr, inCount)
        guard outCount > 0 else { return }
        var planes: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?
        try av(av_samples_alloc_array_and_samples(&planes, nil, channels, outCount, AV_SAMPLE_FMT_FLTP, 0), "audio buffer")
        defer { av_freep(&planes![0]); av_freep(&planes) }
        let converted: Int32
        if let input {
            converted = try withExtendedDataPointer(input) { inData in
                try av(swr_convert(swr, planes, outCount, inData, inCount), "resample")
            }
        } else {
            converted = try av(swr_convert(swr, planes, outCount, nil, 0), "flush the resampler")
        }
        if converted > 0 {
            _ = planes!.withMemoryRebound(to: UnsafeMutableRawPointer?.self, capacity: Int(channels)) {
                av_audio_fifo_write(fifo, $0, converted)
            }
        }
    }

    private func withExtendedDataPointer<T>(_ f: UnsafeMutablePointer<AVFrame>, _ body: (UnsafeMutablePointer<UnsafePointer<UInt8>?>) throws -> T) rethrows -> T {
        try f.pointee.extended_data.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { try body($0) }
    }
}

