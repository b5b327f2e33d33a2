import AudioStage
import Foundation
import ReelForgeTestKit

/// Media the render tests start from, made on the spot.
enum MediaFixtures {
    /// `text` spoken by espeak-ng, written to `a.wav` in `dir`.
    static func narration(_ text: String, in dir: URL) async throws -> (wav: URL, speech: Speech) {
        let speech = try await EspeakEngine.shared.speak(text, language: "en")
        let wav = dir.appendingPathComponent("a.wav")
        try WAVFile.write(speech.samples, sampleRate: speech.sampleRate, to: wav)
        return (wav, speech)
    }

    /// A yuv420p H.264 clip of an ffmpeg test source (`testsrc2=s=360x640:r=30`), `seconds` long, in `dir`.
    static func clip(_ source: String, seconds: Double, in dir: URL, name: String = "clip.mp4") async throws -> URL {
        let clip = dir.appendingPathComponent(name)
        _ = try await runProgram("/usr/bin/ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", source, "-t", String(seconds),
                                                     "-pix_fmt", "yuv420p", clip.path])
        return clip
    }
}
