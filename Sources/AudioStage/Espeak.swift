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

    let pool = BlockingPool(threads: 1, name: "espeak")
    /// Samples and mark events of the utterance being synthesised; touched only by the espeak thread.
    nonisolated(unsafe) fileprivate static var collected: [Int16] = []
    nonisolated(unsafe) fileprivate static var marks: [(index: Int, ms: Int)] = []
    /// Word events: where in the SSML (1-based character position) a word starts being said, and when.
    nonisolated(unsafe) fileprivate static var wordEvents: [(position: Int, ms: Int)] = []
    nonisolated(unsafe) private static var sampleRate: Int32 = 0

    private init() {}

    /// Speaks `text` with the voice of `language` (`en`, `fr`, or any espeak-ng voice name) at `wordsPerMinute`.
    /// The text goes in as SSML with a `<mark/>` before every word, so every word of the text gets the time its
    /// mark is reached: espeak-ng's own word events skip unstressed words, cut "Let's" to "Let" and merge French
    /// elisions, which made subtitles drift.
    public func speak(_ text: String, language: String, wordsPerMinute: Int = 165) async throws -> Speech {
        try await pool.run {
            try Self.start()
            let voice = language == "fr" ? "fr" : language == "en" ? "en-us" : language
            guard espeak_SetVoiceByName(voice) == EE_OK else {
                throw StageFailure.permanent("espeak-ng has no voice '\(voice)'")
            }
            espeak_SetParameter(espeakRATE, Int32(wordsPerMinute), 0)
            let script = SpeechMarkup(text, latinOnly: IdeaText.languages.contains(language))
            Self.collected = []
            Self.marks = []
            Self.wordEvents = []
            defer { Self.collected = []; Self.marks = []; Self.wordEvents = [] }
            let bytes = Array(script.ssml.utf8CString)
            let rc = bytes.withUnsafeBufferPointer { buf in
                espeak_Synth(buf.baseAddress, buf.count, 0, POS_CHARACTER, 0, UInt32(espeakCHARS_UTF8) | UInt32(espeakSSML), nil, nil)
            }
            guard rc == EE_OK else { throw StageFailure.transient("espeak-ng synthesis failed (\(rc.rawValue))") }
            espeak_Synchronize()
            let rate = Int(Self.sampleRate)
            let words = Self.timings(words: script.words, starts: script.starts(marks: Self.marks, words: Self.wordEvents),
                                     samples: Self.collected, sampleRate: rate)
            // SSML input ends with a clause pause of its own (about 0.37 s): keep a quarter of a second after the last word.
            let keep = words.last.map { min(Self.collected.count, Int(($0.end + 0.25) * Double(rate))) } ?? Self.collected.count
            return Speech(samples: Array(Self.collected.prefix(keep)), sampleRate: rate, words: words)
        }
    }

    /// Initialises the library once, on the espeak thread.
    static func start() throws {
        guard sampleRate == 0 else { return }
        let rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 500, nil, 0x8000 /* DONT_EXIT */)
        guard rate > 0 else { throw StageFailure.permanent("espeak-ng could not start (is espeak-ng-data installed?)") }
        sampleRate = rate
        espeak_SetSynthCallback { wav, count, events in
            if let wav, count > 0 { EspeakEngine.collected.append(contentsOf: UnsafeBufferPointer(start: wav, count: Int(count))) }
            var e = events
            while let ev = e, ev.pointee.type != espeakEVENT_LIST_TERMINATED {
                if ev.pointee.type == espeakEVENT_MARK, let name = ev.pointee.id.name, let index = Int(String(cString: name)) {
                    EspeakEngine.marks.append((index, Int(ev.pointee.audio_position)))
                } else if ev.pointee.type == espeakEVENT_WORD, ev.pointee.length > 0 {
                    EspeakEngine.wordEvents.append((Int(ev.pointee.text_position), Int(ev.pointee.audio_position)))
                }
                e = ev + 1
            }
            return 0
        }
    }

    /// Word timings from each word's start (nil where espeak-ng said nothing of it): word `i` ends where the
    /// speech before the next word (or the end) falls silent. Words that share a start (espeak-ng says a short
    /// unstressed word with the next one) share out the moment before it; a word without a start is said with
    /// the word after it.
    static func timings(words: [String], starts: [Double?], samples: [Int16], sampleRate: Int) -> [WordTiming] {
        guard !words.isEmpty else { return [] }
        let total = Double(samples.count) / Double(sampleRate)
        var known = starts.map { $0 ?? -1 }
        var following = starts.last.flatMap { $0 } ?? total
        for i in known.indices.reversed() { if known[i] < 0 { known[i] = following } else { following = known[i] } }
        for i in known.indices.dropFirst() { known[i] = max(known[i], known[i - 1]) }
        // Spread runs of equal starts backwards into the gap before them.
        var i = 0
        while i < known.count {
            var j = i
            while j + 1 < known.count && known[j + 1] == known[i] { j += 1 }
            if j > i {
                let floor = i == 0 ? 0 : known[i - 1]
                let step = min(0.12, (known[i] - floor) / Double(j - i + 1))
                for k in i..<j { known[k] = known[i] - Double(j - k) * step }
            }
            i = j + 1
        }
        return words.indices.map { i in
            let start = known[i]
            let limit = i + 1 < words.count ? max(known[i + 1], start) : total
            let end = lastSound(samples, sampleRate: sampleRate, from: start, to: limit)
            return WordTiming(word: words[i], start: start, end: max(end, min(start + 0.05, limit), start + 0.001))
        }
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

/// Text as SSML for espeak-ng: a numbered `<mark/>` before every word (words are the text's runs between white
/// space, the same words the subtitle cues are made of), the text escaped, control characters taken as spaces.
/// With `latinOnly` (the en and fr voices), a word with letters of another script is not spoken but keeps its mark:
/// espeak-ng would spell it out letter by letter ("Chinese letter …"); the subtitles still show it.
struct SpeechMarkup {
    let words: [String]
    let ssml: String
    /// Where each word starts in `ssml`, as espeak-ng counts it (1-based, in Unicode scalars).
    let offsets: [Int]

    init(_ text: String, latinOnly: Bool = true) {
        words = text.split { c in c.isWhitespace || c.unicodeScalars.allSatisfy { $0.properties.generalCategory == .control } }
            .map(String.init)
        var out = "<speak>", offsets: [Int] = [], length = out.unicodeScalars.count
        for (i, word) in words.enumerated() {
            let mark = "<mark name=\"\(i)\"/>"
            let said = !latinOnly || Self.speakableInLatin(word) ? Self.escape(word) : ""
            offsets.append(length + mark.unicodeScalars.count + 1)
            out += mark + said + " "
            length += mark.unicodeScalars.count + said.unicodeScalars.count + 1
        }
        ssml = out + "</speak>"
        self.offsets = offsets
    }

    /// The start of each word: its word event where espeak-ng sent one, else its mark. espeak-ng drops the mark
    /// before the first word of a sentence after the first, and sends no word event for some unstressed words
    /// (nor a true one for a line break: those have no length and are left out by the caller). The first event
    /// for a word counts.
    func starts(marks: [(index: Int, ms: Int)], words events: [(position: Int, ms: Int)]) -> [Double?] {
        var starts = [Double?](repeating: nil, count: words.count)
        var heard = Set<Int>()
        for m in marks where m.index >= 0 && m.index < words.count && starts[m.index] == nil { starts[m.index] = Double(m.ms) / 1000 }
        for e in events {
            // The word whose text holds the event's position.
            var lo = 0, hi = offsets.count - 1
            while lo < hi { let mid = (lo + hi + 1) / 2; if offsets[mid] <= e.position { lo = mid } else { hi = mid - 1 } }
            if !offsets.isEmpty && offsets[lo] <= e.position && heard.insert(lo).inserted { starts[lo] = Double(e.ms) / 1000 }
        }
        return starts
    }

    /// True when every letter of `word` is a Latin one (`IdeaText`'s rule for what the offline voices read).
    static func speakableInLatin(_ word: String) -> Bool {
        word.unicodeScalars.allSatisfy { !$0.properties.isAlphabetic || IdeaText.isLatin($0) }
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
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
