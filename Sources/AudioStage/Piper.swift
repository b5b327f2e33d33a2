import CSherpaOnnx
import Foundation
import Logging
import Shared

/// A Piper voice (VITS, ONNX) run in-process through sherpa-onnx's C API. The model is the one
/// `deploy/neural-voice.sh` prepares: sherpa's metadata, and the duration of every token appended to the audio
/// output, so that each sentence comes with exact word timings. Loaded once (about a second); calls are
/// serialised on a dedicated thread (never the cooperative pool).
public final class PiperVoice: @unchecked Sendable {
    public let folder: URL
    public let threads: Int
    /// VITS noise of the sound and of the durations (Piper's defaults; near 0 makes a voice deterministic).
    public let noise: (scale: Float, durations: Float)
    private let pool = BlockingPool(threads: 1, name: "piper")
    /// The engine, made on first use (about a second); touched only on the pool's thread.
    private var tts: OpaquePointer?

    /// Whether `folder` holds a Piper voice (model.onnx and tokens.txt).
    public static func isVoice(_ folder: URL) -> Bool {
        ["model.onnx", "tokens.txt"].allSatisfy { FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path) }
    }

    public init(folder: URL, threads: Int = 2, noise: (scale: Float, durations: Float) = (0.667, 0.8)) {
        // sherpa-onnx takes 0 for "the default": the smallest positive noise stands for none.
        self.folder = folder; self.threads = max(1, threads); self.noise = (max(noise.scale, 1e-4), max(noise.durations, 1e-4))
    }

    deinit { if let tts { SherpaOnnxDestroyOfflineTts(tts) } }

    /// The engine, loaded on the pool's thread the first time.
    private func engine() throws -> OpaquePointer {
        if let tts { return tts }
        let model = folder.appendingPathComponent("model.onnx").path, tokens = folder.appendingPathComponent("tokens.txt").path
        let created: OpaquePointer? = model.withCString { m in
            tokens.withCString { t in
                "cpu".withCString { cpu in
                    var config = SherpaOnnxOfflineTtsConfig()
                    config.model.vits.model = m
                    config.model.vits.tokens = t
                    config.model.vits.noise_scale = noise.scale
                    config.model.vits.noise_scale_w = noise.durations
                    config.model.vits.length_scale = 1
                    config.model.num_threads = Int32(threads)
                    config.model.provider = cpu
                    config.max_num_sentences = 1
                    config.silence_scale = 1
                    return SherpaOnnxCreateOfflineTts(&config)
                }
            }
        }
        guard let created else {
            throw StageFailure.permanent("the Piper voice in \(folder.path) cannot be loaded (scripts/install prepares it)")
        }
        tts = created
        return created
    }

    /// The voice's sample rate (loads it).
    public func sampleRate() async throws -> Int {
        try await pool.run { [self] in Int(SherpaOnnxOfflineTtsSampleRate(try engine())) }
    }

    /// One sentence's audio and the frame count of each of its tokens (`^ _ (p _)* $`).
    public struct Sentence: Sendable {
        public var samples: [Float]
        public var frames: [Float]
    }

    /// Says one sentence of phoneme codepoints. `speed` > 1 is faster.
    public func say(_ codepoints: [Int32], speed: Double) async throws -> Sentence {
        try await pool.run { [self] in
            let tts = try engine()
            let tokens = 2 * codepoints.count + 3
            let audio: UnsafePointer<SherpaOnnxGeneratedAudio>? = codepoints.withUnsafeBufferPointer { cps in
                var length = Int32(cps.count)
                return withUnsafePointer(to: &length) { lens in
                    "".withCString { empty in
                        var config = SherpaOnnxGenerationConfig()
                        config.speed = Float(speed)
                        config.silence_scale = 1
                        config.phoneme_codepoints = cps.baseAddress
                        config.phoneme_codepoints_lens = lens
                        config.phoneme_codepoints_num_sentences = 1
                        return SherpaOnnxOfflineTtsGenerateWithConfig(tts, empty, &config, nil, nil)
                    }
                }
            }
            guard let audio else { throw StageFailure.transient("the Piper voice produced nothing for a sentence") }
            defer { SherpaOnnxDestroyOfflineTtsGeneratedAudio(audio) }
            let all = Array(UnsafeBufferPointer(start: audio.pointee.samples, count: Int(audio.pointee.n)))
            guard all.count > tokens else { throw StageFailure.permanent("the Piper voice gives no durations: prepare it with deploy/neural-voice.sh") }
            let frames = Array(all.suffix(tokens)), samples = Array(all.dropLast(tokens))
            let hop = Float(samples.count) / max(1, frames.reduce(0, +))
            guard abs(hop - 256) < 1 else {
                throw StageFailure.permanent("the Piper voice's durations do not add up to its audio: prepare it with deploy/neural-voice.sh")
            }
            return Sentence(samples: samples, frames: frames)
        }
    }
}

/// The offline English voice: a Piper voice, with word timings from its own durations. Sentences are said one at a
/// time (the durations are per sentence) and joined with a pause, a longer one between paragraphs.
public struct PiperSynthesizer: SpeechSynthesizer {
    public let name: String
    public let chunkLimit = 20_000
    public let pauseStyle = SpeechProvider.piper.pauseStyle
    public let voice: PiperVoice
    public var speed: Double
    public var sentencePause: Double

    public init(voice: PiperVoice, speed: Double = 1, sentencePause: Double = 0.3) {
        self.voice = voice; self.speed = speed; self.sentencePause = sentencePause
        name = "piper " + voice.folder.lastPathComponent
    }

    public func cost(characters: Int) -> Double { 0 }

    /// The sentence with `count`-sample fades at both edges, so that joining sentences never clicks.
    static func faded(_ samples: [Float], over count: Int) -> [Float] {
        var out = samples
        let n = min(count, out.count / 2)
        for i in 0..<n {
            let g = Float(i) / Float(max(1, n))
            out[i] *= g
            out[out.count - 1 - i] *= g
        }
        return out
    }

    /// Word times where the voice pauses, from the sound: the durations count the silent part of some sounds
    /// (the closure of a final "t" before a comma, of a "b" after it) as the word's, which would hide a pause
    /// from the captions. A word ends at its last sound within its durations; a word after a silence of
    /// `WordTiming.pause` or more starts at its first sound, when its durations started it inside that silence.
    static func timeAroundPauses(_ timed: inout [WordTiming], durations: [(start: Double, end: Double)?], pcm: PCM) {
        for i in timed.indices {
            guard let span = durations[i], span.end > span.start else { continue }
            let heard = pcm.lastSound(from: timed[i].start, to: span.end)
            timed[i].end = max(min(heard, span.end), min(timed[i].start + 0.05, span.end))
        }
        for i in timed.indices.dropFirst() where timed[i].start - timed[i - 1].end < WordTiming.pause {
            let limit = i + 1 < timed.count ? min(timed[i].end, timed[i + 1].start) : timed[i].end
            guard let heard = pcm.firstSound(from: timed[i].start, to: limit) else { continue }
            if heard - timed[i - 1].end >= WordTiming.pause { timed[i].start = heard }
        }
    }

    public func speak(_ text: String, language: String, workDir: URL) async throws -> SpeechPiece {
        var samples: [Float] = [], words: [String] = [], spans: [(start: Double, end: Double)?] = []
        let sampleRate = try await voice.sampleRate()
        let rate = Double(sampleRate)
        for paragraph in text.components(separatedBy: "\n\n") {
            let said = SpeechMarkup(paragraph).words
            guard !said.isEmpty else { continue }
            if !samples.isEmpty { samples += [Float](repeating: 0, count: Int(2 * sentencePause * rate)) }
            let (sentences, alone) = try await EspeakEngine.shared.phonemize(said, voice: "en-us")
            let first = words.count
            words += said
            spans += [(start: Double, end: Double)?](repeating: nil, count: said.count)
            var saidBefore = false
            for clauses in sentences {
                let (codepoints, owner) = PhonemeTiming.codepoints(clauses, wordPhonemes: alone)
                guard !codepoints.isEmpty else { continue }
                if saidBefore { samples += [Float](repeating: 0, count: Int(sentencePause * rate)) }
                saidBefore = true
                let offset = Double(samples.count) / rate
                let sentence = try await voice.say(codepoints, speed: speed)
                let secondsPerFrame = Double(sentence.samples.count) / Double(max(1, sentence.frames.reduce(0, +))) / rate
                let found = PhonemeTiming.spans(owner: owner, frames: sentence.frames, wordCount: said.count, secondsPerFrame: secondsPerFrame)
                for (w, span) in found.enumerated() where spans[first + w] == nil {
                    spans[first + w] = span.map { (offset + $0.start, offset + $0.end) }
                }
                samples += Self.faded(sentence.samples, over: Int(0.005 * rate))
            }
        }
        // Words the voice said nothing of (another script) take the moments around them.
        let (said, found, names) = (samples, spans, words)
        return try await AudioStageExecutor.signal.run {
            let s16 = said.map { Int16(max(-1, min(1, $0)) * 32767) }
            var timed = EspeakEngine.timings(words: names, starts: found.map { $0?.start }, samples: s16, sampleRate: sampleRate)
            let pcm = PCM.from(said, rate: sampleRate)
            Self.timeAroundPauses(&timed, durations: found, pcm: pcm)
            return SpeechPiece(pcm: pcm, words: timed)
        }
    }
}
