import CEspeak
import Foundation
import Shared

/// Speech and its word timings.
public struct Speech: Sendable {
    /// Mono 16-bit PCM samples.
    public var samples: [Int16]
    public var sampleRate: Int
    public var words: [WordTiming]
    public var duration: Double { Double(samples.count) / Double(sampleRate) }
}

/// espeak-ng through libespeak-ng. The library is one global engine, so calls are serialised here and run on
/// a dedicated thread (never the cooperative pool).
public final class EspeakEngine: Sendable {
    public static let shared = EspeakEngine()

    private let pool = BlockingPool(threads: 1, name: "espeak")
    /// Samples and events of the utterance being synthesised; touched only by the espeak thread.
    nonisolated(unsafe) fileprivate static var collected: [Int16] = []
    nonisolated(unsafe) fileprivate static var events: [(position: Int, length: Int, ms: Int)] = []
    nonisolated(unsafe) private static var sampleRate: Int32 = 0

    private init() {}

    /// Speaks `text` with the voice of `language` (`en`, `fr`, or any espeak-ng voice name) at `wordsPerMinute`.
    public func speak(_ text: String, language: String, wordsPerMinute: Int = 165) async throws -> Speech {
        try await pool.run {
            if Self.sampleRate == 0 {
                let rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 500, nil, 0x8000 /* DONT_EXIT */)
                guard rate > 0 else { throw StageFailure.permanent("espeak-ng could not start (is espeak-ng-data installed?)") }
                Self.sampleRate = rate
                espeak_SetSynthCallback { wav, count, events in
                    if let wav, count > 0 { EspeakEngine.collected.append(contentsOf: UnsafeBufferPointer(start: wav, count: Int(count))) }
                    var e = events
                    while let ev = e, ev.pointee.type != espeakEVENT_LIST_TERMINATED {
                        if ev.pointee.type == espeakEVENT_WORD {
                            EspeakEngine.events.append((Int(ev.pointee.text_position), Int(ev.pointee.length), Int(ev.pointee.audio_position)))
                        }
                        e = ev + 1
                    }
                    return 0
                }
            }
            let voice = language == "fr" ? "fr" : language == "en" ? "en-us" : language
            guard espeak_SetVoiceByName(voice) == EE_OK else {
                throw StageFailure.permanent("espeak-ng has no voice '\(voice)'")
            }
            espeak_SetParameter(espeakRATE, Int32(wordsPerMinute), 0)
            Self.collected = []
            Self.events = []
            let bytes = Array(text.utf8CString)
            let rc = bytes.withUnsafeBufferPointer { buf in
                espeak_Synth(buf.baseAddress, buf.count, 0, POS_CHARACTER, 0, UInt32(espeakCHARS_UTF8), nil, nil)
            }
            guard rc == EE_OK else { throw StageFailure.transient("espeak-ng synthesis failed (\(rc.rawValue))") }
            espeak_Synchronize()
            let samples = Self.collected
            let rate = Int(Self.sampleRate)
            let words = Self.timings(text: text, events: Self.events, samples: samples, sampleRate: rate)
            Self.collected = []
            Self.events = []
            return Speech(samples: samples, sampleRate: rate, words: words)
        }
    }

    /// Word timings from espeak's word events: each word starts at its event and ends where the speech before
    /// the next word (or the end) falls silent.
    static func timings(text: String, events: [(position: Int, length: Int, ms: Int)], samples: [Int16], sampleRate: Int) -> [WordTiming] {
        let chars = Array(text)
        let total = Double(samples.count) / Double(sampleRate)
        var out: [WordTiming] = []
        for (i, e) in events.enumerated() {
            let from = max(0, e.position - 1), to = min(chars.count, from + max(1, e.length))
            guard from < to else { continue }
            let word = String(chars[from..<to]).trimmingCharacters(in: .punctuationCharacters.union(.whitespaces))
            guard !word.isEmpty else { continue }
            let start = Double(e.ms) / 1000
            let limit = i + 1 < events.count ? Double(events[i + 1].ms) / 1000 : total
            let end = lastSound(samples, sampleRate: sampleRate, from: start, to: limit)
            out.append(WordTiming(word: word, start: start, end: max(end, min(start + 0.05, limit))))
        }
        // Strictly ordered, positive lengths.
        for i in out.indices.dropFirst() where out[i].start < out[i - 1].end {
            out[i - 1].end = out[i].start
            if out[i - 1].end <= out[i - 1].start { out[i - 1].end = out[i - 1].start + 0.001; out[i].start = out[i - 1].end }
        }
        return out
    }

    /// The time of the last sample above a quiet threshold in [from, to).
    static func lastSound(_ samples: [Int16], sampleRate: Int, from: Double, to: Double) -> Double {
        let a = max(0, Int(from * Double(sampleRate))), b = min(samples.count, Int(to * Double(sampleRate)))
        guard a < b else { return to }
        var i = b - 1
        while i > a && abs(Int(samples[i])) < 400 { i -= 1 }
        return Double(i + 1) / Double(sampleRate)
    }
}

/// Writes mono 16-bit PCM as a WAV file.
public enum WAVFile {
    public static func write(_ samples: [Int16], sampleRate: Int, to url: URL) throws {
        var d = Data()
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        let dataBytes = UInt32(samples.count * 2)
        d.append(contentsOf: Array("RIFF".utf8)); u32(36 + dataBytes); d.append(contentsOf: Array("WAVE".utf8))
        d.append(contentsOf: Array("fmt ".utf8)); u32(16); u16(1); u16(1); u32(UInt32(sampleRate)); u32(UInt32(sampleRate * 2)); u16(2); u16(16)
        d.append(contentsOf: Array("data".utf8)); u32(dataBytes)
        samples.withUnsafeBytes { d.append(contentsOf: $0) }
        try d.write(to: url, options: .atomic)
    }
}
