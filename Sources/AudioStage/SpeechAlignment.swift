import Foundation
import Shared

/// Word timings for speech that came without them (OpenAI speech, and any provider like it): the same text is said
/// by a local voice whose word timings are known (espeak-ng), both recordings are described by cepstral features
/// every 10 ms, and dynamic time warping pairs their frames; each word starts where its start in the local
/// recording is paired. The approach of forced aligners such as aeneas.
public enum SpeechAlignment {
    static let hop = 0.01
    /// Seconds of arithmetic for a long narration: on a thread of its own, never the cooperative pool.
    private static let pool = BlockingPool(threads: 1, name: "align")

    /// The words of `reference` (timed on `referenceAudio`) placed on `speech`.
    public static func align(_ reference: [WordTiming], referenceAudio: PCM, to speech: PCM) async throws -> [WordTiming] {
        try await pool.run { alignNow(reference, referenceAudio: referenceAudio, to: speech) }
    }

    static func alignNow(_ reference: [WordTiming], referenceAudio: PCM, to speech: PCM) -> [WordTiming] {
        let a = features(referenceAudio), b = features(speech)
        guard a.count > 1, b.count > 1, !reference.isEmpty else { return reference }
        let path = warp(a, b)
        func map(_ t: Double) -> Double {
            let i = min(a.count - 1, max(0, Int((t / hop).rounded())))
            return Double(path[i]) * hop
        }
        var out = reference.map { WordTiming(word: $0.word, start: map($0.start), end: map($0.end)) }
        for i in out.indices {
            if i > 0 { out[i].start = max(out[i].start, out[i - 1].start) }
            out[i].end = max(out[i].end, out[i].start + 0.01)
        }
        return out
    }

    // MARK: - Features

    /// 13 mel-frequency cepstral coefficients (26 bands up to 8 kHz) of 25 ms Hamming windows every 10 ms at 16 kHz,
    /// less their mean over the recording (so that two voices' colours differ less).
    static func features(_ pcm: PCM) -> [[Float]] {
        let step = PCM.rate / 16_000, window = 400, hopSamples = 160, size = 512, bands = 26, coefficients = 13
        var x = [Float](repeating: 0, count: pcm.samples.count / step)
        for i in 0..<x.count {
            var sum: Float = 0
            for k in 0..<step { sum += pcm.samples[i * step + k] }
            x[i] = sum / Float(step)
        }
        guard x.count >= window else { return [] }
        let hamming = (0..<window).map { Float(0.54 - 0.46 * cos(2 * Double.pi * Double($0) / Double(window - 1))) }
        let bank = melBank(bands: bands, size: size, rate: 16_000)
        let dct = (0..<coefficients).map { c in (0..<bands).map { m in Float(cos(Double.pi * Double(c) * (Double(m) + 0.5) / Double(bands))) } }
        var frames: [[Float]] = []
        var re = [Float](repeating: 0, count: size), im = [Float](repeating: 0, count: size)
        var logMel = [Float](repeating: 0, count: bands)
        for start in stride(from: 0, through: x.count - window, by: hopSamples) {
            for k in 0..<size { re[k] = k < window ? x[start + k] * hamming[k] : 0; im[k] = 0 }
            fft(&re, &im)
            for (m, filter) in bank.enumerated() {
                var energy: Float = 1e-10
                for (bin, weight) in filter { energy += weight * (re[bin] * re[bin] + im[bin] * im[bin]) }
                logMel[m] = log(energy)
            }
            var frame = [Float](repeating: 0, count: coefficients)
            for c in 0..<coefficients {
                var sum: Float = 0
                for m in 0..<bands { sum += dct[c][m] * logMel[m] }
                frame[c] = sum
            }
            frames.append(frame)
        }
        var mean = [Float](repeating: 0, count: coefficients)
        for f in frames { for c in 0..<coefficients { mean[c] += f[c] / Float(frames.count) } }
        for i in frames.indices { for c in 0..<coefficients { frames[i][c] -= mean[c] } }
        return frames
    }

    /// Triangular mel filters: for each band, the FFT bins it weighs.
    static func melBank(bands: Int, size: Int, rate: Int) -> [[(bin: Int, weight: Float)]] {
        func mel(_ f: Double) -> Double { 2595 * log10(1 + f / 700) }
        func hz(_ m: Double) -> Double { 700 * (pow(10, m / 2595) - 1) }
        let top = mel(Double(rate) / 2)
        let edges = (0...(bands + 1)).map { hz(top * Double($0) / Double(bands + 1)) * Double(size) / Double(rate) }
        return (1...bands).map { b in
            (Int(edges[b - 1])...min(size / 2, Int(edges[b + 1]) + 1)).compactMap { k -> (bin: Int, weight: Float)? in
                let f = Double(k)
                let w = f < edges[b] ? (f - edges[b - 1]) / (edges[b] - edges[b - 1]) : (edges[b + 1] - f) / (edges[b + 1] - edges[b])
                return w > 0 ? (k, Float(w)) : nil
            }
        }
    }

    /// In-place radix-2 FFT (the size a power of two).
    static func fft(_ re: inout [Float], _ im: inout [Float]) {
        let n = re.count
        var j = 0
        for i in 1..<n {
            var bit = n >> 1
            while j & bit != 0 { j ^= bit; bit >>= 1 }
            j |= bit
            if i < j { re.swapAt(i, j); im.swapAt(i, j) }
        }
        var length = 2
        while length <= n {
            let angle = -2 * Float.pi / Float(length)
            for k in 0..<(length / 2) {
                let wr = cos(angle * Float(k)), wi = sin(angle * Float(k))
                for start in stride(from: 0, to: n, by: length) {
                    let a = start + k, b = a + length / 2
                    let tr = re[b] * wr - im[b] * wi, ti = re[b] * wi + im[b] * wr
                    re[b] = re[a] - tr; im[b] = im[a] - ti
                    re[a] += tr; im[a] += ti
                }
            }
            length <<= 1
        }
    }

    // MARK: - Warping

    /// For each frame of `a`, the first frame of `b` it is paired with on the cheapest monotonic path from the
    /// first frames to the last, searched within a band around the diagonal (a sixth of the length, at least 1 s).
    static func warp(_ a: [[Float]], _ b: [[Float]]) -> [Int] {
        let n = a.count, m = b.count, width = 2 * max(100, max(n, m) / 6) + 1
        func low(_ i: Int) -> Int { max(0, min(m - 1, i * (m - 1) / max(1, n - 1)) - width / 2) }
        // cost and move of (i, j) at i * width + (j - low(i)); moves: 0 diagonal, 1 from (i-1, j), 2 from (i, j-1).
        var cost = [Float](repeating: .infinity, count: n * width), move = [UInt8](repeating: 0, count: n * width)
        func at(_ i: Int, _ j: Int) -> Float {
            let k = j - low(i)
            return i < 0 || k < 0 || k >= width || j >= m ? .infinity : cost[i * width + k]
        }
        for i in 0..<n {
            let lo = low(i)
            for j in lo..<min(m, lo + width) {
                var d: Float = 0
                for c in 0..<a[i].count { let e = a[i][c] - b[j][c]; d += e * e }
                d = d.squareRoot()
                let k = i * width + (j - lo)
                if i == 0 && j == 0 { cost[k] = d; continue }
                let diagonal = at(i - 1, j - 1), up = at(i - 1, j), left = j > lo ? cost[k - 1] : .infinity
                if diagonal <= up && diagonal <= left { cost[k] = d + diagonal; move[k] = 0 }
                else if up <= left { cost[k] = d + up; move[k] = 1 }
                else { cost[k] = d + left; move[k] = 2 }
            }
        }
        var pairs = [Int](repeating: m - 1, count: n)
        var i = n - 1, j = m - 1
        while i > 0 || j > 0 {
            let k = j - low(i)
            guard k >= 0, k < width, cost[i * width + k].isFinite else { break }
            pairs[i] = min(pairs[i], j)
            switch move[i * width + k] {
            case 0: i -= 1; j -= 1
            case 1: i -= 1
            default: j -= 1
            }
        }
        pairs[0] = min(pairs[0], j)
        for k in 1..<n { pairs[k] = max(pairs[k], pairs[k - 1]) }
        return pairs
    }
}
