import CFFmpeg
import LibAV
import Foundation
import Shared

/// Background music under the narration: decoded in pieces and looped, at a set level, ducked further while
/// the voice speaks (fast attack, slow release), so it never covers the words.
final class MusicBed {
    let url: URL
    let rate: Int32, channels: Int32
    /// Music level with no voice, and with voice, as gains.
    let bed: Float, ducked: Float
    private var decoder: AudioDecoder
    private let fifo: OpaquePointer
    private var gain: Float
    private var loops = 0

    init(url: URL, rate: Int32, channels: Int32, levelDB: Double, duckDB: Double) throws {
        self.url = url; self.rate = rate; self.channels = channels
        bed = Float(pow(10, levelDB / 20)); ducked = Float(pow(10, (levelDB + duckDB) / 20))
        decoder = try AudioDecoder(path: url.path, sampleRate: rate, channels: channels)
        guard let f = av_audio_fifo_alloc(AV_SAMPLE_FMT_FLTP, channels, 8192) else { throw AVError(code: -1, what: "music fifo") }
        fifo = f
        gain = bed
    }

    private var scratch: [UnsafeMutablePointer<Float>] = []
    private var capacity = 0

    deinit {
        av_audio_fifo_free(fifo)
        scratch.forEach { $0.deallocate() }
    }

    /// Adds `count` samples of music to the voice in `planes`, ducking by the voice's level in 10 ms blocks.
    func mix(into planes: [UnsafeMutablePointer<Float>], count: Int) throws {
        while av_audio_fifo_size(fifo) < Int32(count) {
            if try !decoder.decodeMore(into: fifo) {
                // Loop the music (a file that yields nothing at all would spin: stop after a few tries).
                loops += 1
                guard loops < 10_000, av_audio_fifo_size(fifo) > 0 || loops < 3 else { return }
                decoder = try AudioDecoder(path: url.path, sampleRate: rate, channels: channels)
            }
        }
        if count > capacity {
            scratch.forEach { $0.deallocate() }
            capacity = count
            scratch = (0..<Int(channels)).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: count) }
        }
        var raw: [UnsafeMutableRawPointer?] = scratch.map { UnsafeMutableRawPointer($0) }
        let got = Int(raw.withUnsafeMutableBufferPointer { av_audio_fifo_read(fifo, $0.baseAddress, Int32(count)) })
        for c in scratch where got < count { c.advanced(by: max(0, got)).update(repeating: 0, count: count - max(0, got)) }
        let music = scratch
        let block = Int(rate) / 100
        let attack: Float = 0.5, release: Float = 0.02
        var start = 0
        while start < count {
            let end = min(count, start + block)
            var energy: Float = 0
            for i in start..<end { let v = planes[0][i]; energy += v * v }
            let speaking = energy / Float(end - start) > 1e-4   // about -40 dBFS
            let target = speaking ? ducked : bed
            for i in start..<end {
                gain += (target - gain) * (target < gain ? attack : release) / Float(block)
                for c in 0..<planes.count { planes[c][i] += music[min(c, music.count - 1)][i] * gain }
            }
            start = end
        }
    }
}
