import CFFmpeg
import LibAV
import Foundation
import Shared

/// Mono float PCM at 48 kHz: the form every provider's audio is brought to before joining and normalising.
public struct PCM: Sendable {
    public static let rate = 48_000
    public var samples: [Float]
    public var duration: Double { Double(samples.count) / Double(Self.rate) }

    public init(samples: [Float]) { self.samples = samples }

    /// Decodes any audio file libavformat reads (MP3, WAV, Opus...) to mono 48 kHz.
    public static func decode(file: URL) throws -> PCM {
        let decoder = try AudioDecoder(path: file.path, sampleRate: Int32(rate), channels: 1)
        guard let fifo = av_audio_fifo_alloc(AV_SAMPLE_FMT_FLTP, 1, 8192) else { throw AVError(code: -1, what: "audio fifo") }
        defer { av_audio_fifo_free(fifo) }
        var out: [Float] = []
        func drain() {
            let n = av_audio_fifo_size(fifo)
            guard n > 0 else { return }
            var chunk = [Float](repeating: 0, count: Int(n))
            chunk.withUnsafeMutableBytes { raw in
                var plane: UnsafeMutableRawPointer? = raw.baseAddress
                _ = withUnsafeMutablePointer(to: &plane) { av_audio_fifo_read(fifo, $0, n) }
            }
            out.append(contentsOf: chunk)
        }
        while try decoder.decodeMore(into: fifo) { drain() }
        drain()
        return PCM(samples: out)
    }

    /// From 16-bit samples at any rate (espeak-ng), by linear interpolation.
    public static func from(_ s16: [Int16], rate: Int) -> PCM {
        from(s16.map { Float($0) / 32768 }, rate: rate)
    }

    /// From float samples at any rate (Piper voices), by linear interpolation.
    public static func from(_ samples: [Float], rate: Int) -> PCM {
        guard rate != Self.rate, !samples.isEmpty else { return PCM(samples: samples) }
        let ratio = Double(rate) / Double(Self.rate)
        let count = Int(Double(samples.count) / ratio)
        var out = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let x = Double(i) * ratio
            let j = Int(x), f = Float(x - Double(j))
            let a = samples[min(j, samples.count - 1)], b = samples[min(j + 1, samples.count - 1)]
            out[i] = a + (b - a) * f
        }
        return PCM(samples: out)
    }

    /// Writes 16-bit mono WAV at 48 kHz.
    public func writeWAV(to url: URL) throws {
        try WAVFile.write(samples.map { Int16(max(-1, min(1, $0)) * 32767) }, sampleRate: Self.rate, to: url)
    }

    /// Joins pieces of speech with a short silence between them and 5 ms fades at each edge, so that no join
    /// clicks; returns the joined audio and where each piece starts.
    public static func join(_ pieces: [PCM], gap: Double = 0.12) -> (PCM, offsets: [Double]) {
        let fade = Int(0.005 * Double(rate))
        let silence = [Float](repeating: 0, count: Int(gap * Double(rate)))
        var out: [Float] = []
        var offsets: [Double] = []
        for (i, p) in pieces.enumerated() {
            if i > 0 { out += silence }
            offsets.append(Double(out.count) / Double(rate))
            var s = p.samples
            let n = min(fade, s.count / 2)
            for k in 0..<n {
                let g = Float(k) / Float(max(1, n))
                s[k] *= g
                s[s.count - 1 - k] *= g
            }
            out += s
        }
        return (PCM(samples: out), offsets)
    }

    /// Integrated loudness (ITU-R BS.1770-4: K-weighting, 400 ms blocks with 75% overlap, absolute gate at
    /// -70 LUFS and relative gate 10 LU below), in LUFS; nil for silence.
    public func integratedLoudness() -> Double? {
        // K-weighting at 48 kHz: a high shelf then a high pass (coefficients of the standard).
        func biquad(_ x: [Float], _ b: [Double], _ a: [Double]) -> [Float] {
            var y = [Float](repeating: 0, count: x.count)
            var x1 = 0.0, x2 = 0.0, y1 = 0.0, y2 = 0.0
            for i in 0..<x.count {
                let xi = Double(x[i])
                let yi = b[0] * xi + b[1] * x1 + b[2] * x2 - a[1] * y1 - a[2] * y2
                x2 = x1; x1 = xi; y2 = y1; y1 = yi
                y[i] = Float(yi)
            }
            return y
        }
        let shelf = biquad(samples, [1.53512485958697, -2.69169618940638, 1.19839281085285], [1, -1.69065929318241, 0.73248077421585])
        let k = biquad(shelf, [1.0, -2.0, 1.0], [1, -1.99004745483398, 0.99007225036621])
        let block = Int(0.4 * Double(Self.rate)), step = block / 4
        guard k.count >= block else { return nil }
        var powers: [Double] = []
        var start = 0
        while start + block <= k.count {
            var sum = 0.0
            for i in start..<(start + block) { sum += Double(k[i]) * Double(k[i]) }
            powers.append(sum / Double(block))
            start += step
        }
        func lufs(_ p: Double) -> Double { -0.691 + 10 * log10(p) }
        let absolute = powers.filter { $0 > 0 && lufs($0) > -70 }
        guard !absolute.isEmpty else { return nil }
        let relativeGate = lufs(absolute.reduce(0, +) / Double(absolute.count)) - 10
        let gated = absolute.filter { lufs($0) > relativeGate }
        guard !gated.isEmpty else { return nil }
        return lufs(gated.reduce(0, +) / Double(gated.count))
    }

    /// Brings the integrated loudness to `target` LUFS, keeping peaks under -1 dBFS with a soft limiter.
    public mutating func normalise(to target: Double = -16) {
        guard let loudness = integratedLoudness() else { return }
        let gain = Float(pow(10, (target - loudness) / 20))
        let ceiling: Float = 0.891  // -1 dBFS
        for i in samples.indices {
            let v = samples[i] * gain
            let a = abs(v)
            // Soft knee above 0.7: tanh-shaped approach to the ceiling, sign kept.
            samples[i] = a <= 0.7 ? v : (v < 0 ? -1 : 1) * (0.7 + (ceiling - 0.7) * Float(tanh(Double((a - 0.7) / (ceiling - 0.7)))))
        }
    }

    /// The end of the last 10 ms window in [from, to) whose RMS is above -40 dBFS (the level the subtitles'
    /// pauses are measured at), or `from` when all of it is quiet.
    public func lastSound(from: Double, to: Double) -> Double {
        let window = Self.rate / 100
        var end = min(samples.count, Int(to * Double(Self.rate)))
        let start = max(0, Int(from * Double(Self.rate)))
        while end - window >= start {
            let w = samples[(end - window)..<end]
            if w.reduce(0, { $0 + $1 * $1 }) / Float(window) > 1e-4 { return Double(end) / Double(Self.rate) }
            end -= window
        }
        return from
    }

    /// The start of the first 10 ms window in [from, to) whose RMS is above -40 dBFS; nil when all of it is quiet.
    public func firstSound(from: Double, to: Double) -> Double? {
        let window = Self.rate / 100
        var start = max(0, Int(from * Double(Self.rate)))
        let end = min(samples.count, Int(to * Double(Self.rate)))
        while start + window <= end {
            let w = samples[start..<(start + window)]
            if w.reduce(0, { $0 + $1 * $1 }) / Float(window) > 1e-4 { return Double(start) / Double(Self.rate) }
            start += window
        }
        return nil
    }

    /// Times of the first and last sounds above -40 dBFS, for spreading estimated word timings.
    public func speechSpan() -> (start: Double, end: Double) {
        let threshold: Float = 0.01
        let first = samples.firstIndex { abs($0) > threshold } ?? 0
        let last = samples.lastIndex { abs($0) > threshold } ?? max(0, samples.count - 1)
        return (Double(first) / Double(Self.rate), Double(last + 1) / Double(Self.rate))
    }
}

/// Splitting long narration under a provider's limit at sentence boundaries (then at commas, then words).
public enum TextChunks {
    public static func split(_ text: String, limit: Int) -> [String] {
        guard text.count > limit else { return [text] }
        var sentences: [String] = [], current = ""
        for ch in text {
            current.append(ch)
            if ".!?\n".contains(ch) { sentences.append(current); current = "" }
        }
        if !current.isEmpty { sentences.append(current) }
        var chunks: [String] = [], chunk = ""
        for s in sentences {
            if chunk.count + s.count > limit && !chunk.isEmpty { chunks.append(chunk); chunk = "" }
            if s.count > limit {
                for word in s.split(separator: " ") {
                    if chunk.count + word.count + 1 > limit && !chunk.isEmpty { chunks.append(chunk); chunk = "" }
                    chunk += (chunk.isEmpty ? "" : " ") + word
                }
            } else { chunk += s }
        }
        if !chunk.isEmpty { chunks.append(chunk) }
        return chunks.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }

    /// Word timings spread over a span in proportion to each word's length, with pauses after punctuation:
    /// the estimate used when a provider gives audio without timestamps.
    public static func estimateTimings(_ text: String, span: (start: Double, end: Double)) -> [WordTiming] {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init).filter { $0.contains(where: { $0.isLetter || $0.isNumber }) }
        guard !words.isEmpty, span.end > span.start else { return [] }
        let weights = words.map { w -> Double in Double(w.count) + 2 + ((w.last.map { ".!?".contains($0) } ?? false) ? 6 : (w.last.map { ",;:".contains($0) } ?? false) ? 3 : 0) }
        let scale = (span.end - span.start) / weights.reduce(0, +)
        var t = span.start
        return zip(words, weights).map { word, weight in
            let speak = (Double(word.count) + 2) * scale
            defer { t += weight * scale }
            return WordTiming(word: word.trimmingCharacters(in: .punctuationCharacters), start: t, end: t + speak)
        }
    }
}
