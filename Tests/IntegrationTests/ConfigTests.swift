import AdaptStage
import AudioStage
import Foundation
import ReelForgeTestKit
import ScriptStage
import Shared
import Testing
import VideoStage
import WorkerRuntime

@Suite("Configuration")
struct ConfigTests {
    static let pipeline: [StageModule] = [.script, .adapt, .audio, .video]

    @Test func defaultsAreOfflineAndSane() throws {
        let c = try ReelForgeConfig.fromEnvironment([:], modules: Self.pipeline)
        #expect(c.executors.map(\.stage) == Stage.allCases)
        #expect(try LLMSettings(c.settings) == nil && TTSSettings(c.settings) == nil)
        #expect(c.summary.contains("script=template") && c.summary.contains("espeak-ng 165 wpm"))
        #expect(c.retry.delays == [.seconds(10), .seconds(60), .seconds(300)] && c.retry.maxRetries == 3)
        #expect(c.prefix == "reelforge" && c.concurrency == 1 && c.httpPort == 9090)
        let render = try RenderOptions(c.settings)
        #expect(render.width == 1080 && render.height == 1920)
        // A process without stages (the CLI's distributed commands) makes no executors.
        #expect(try ReelForgeConfig.fromEnvironment([:]).executors.isEmpty)
    }

    @Test func providersAreChosenAndChecked() throws {
        let c = try ReelForgeConfig.fromEnvironment([
            "REELFORGE_SCRIPT_PROVIDER": "anthropic", "ANTHROPIC_API_KEY": "sk-ant-test-123456",
            "REELFORGE_TTS_PROVIDER": "elevenlabs", "ELEVENLABS_VOICE_ID": "voice1", "REELFORGE_TTS_PRICE_PER_1K_CHARS": "0.2",
        ], modules: Self.pipeline)
        let llm = try LLMSettings(c.settings), tts = try TTSSettings(c.settings)
        #expect(llm?.provider == "anthropic" && llm?.baseURL.absoluteString == "https://api.anthropic.com")
        #expect(tts?.provider == .elevenlabs && tts?.voice == "voice1" && tts?.pricePer1K == 0.2)
        #expect(c.summary.contains("script=anthropic") && c.summary.contains("speech=elevenlabs") && c.summary.contains("pauses=elevenlabs"))
        #expect(!c.summary.contains("sk-ant-test-123456"))
        // A bad value of any stage the process runs stops it at start, naming the variable; stages it does not run
        // are not read.
        #expect(throws: ConfigError.invalid("REELFORGE_TTS_PROVIDER", "must be offline, piper, espeak, elevenlabs, openai")) {
            try ReelForgeConfig.fromEnvironment(["REELFORGE_TTS_PROVIDER": "polly"], modules: [.audio])
        }
        #expect(throws: ConfigError.self) { try ReelForgeConfig.fromEnvironment(["REELFORGE_TTS_PROVIDER": "polly"], modules: [.adapt]) }
        #expect(try ReelForgeConfig.fromEnvironment(["REELFORGE_VIDEO_SIZE": "1081x1920"], modules: [.script, .adapt]).executors.count == 2)
        #expect(throws: ConfigError.self) {
            try ReelForgeConfig.fromEnvironment(["REELFORGE_SCRIPT_PROVIDER": "openai", "OPENAI_BASE_URL": "ftp://x"], modules: [.script])
        }
        #expect(throws: ConfigError.self) { try ReelForgeConfig.fromEnvironment(["REELFORGE_RETRY_DELAYS": "soon"]) }
        #expect(throws: ConfigError.invalid("REELFORGE_VIDEO_SIZE", "must be WIDTHxHEIGHT with even numbers from 64 to 4096, e.g. 1080x1920")) {
            try ReelForgeConfig.fromEnvironment(["REELFORGE_VIDEO_SIZE": "1081x1920"], modules: [.video])
        }
    }

    /// Each worker's --help lists what it reads: the common variables and its stages' own, each once.
    @Test func variablesFollowTheStages() {
        let script = ReelForgeConfig.variables(with: [.script, .adapt]).map(\.name)
        let audio = ReelForgeConfig.variables(with: [.audio]).map(\.name)
        let all = ReelForgeConfig.variables(with: Self.pipeline).map(\.name)
        #expect(script.contains("REELFORGE_SCRIPT_MODEL") && !script.contains("REELFORGE_VIDEO_SIZE") && script.contains("AMQP_URL"))
        #expect(audio.contains("OPENAI_API_KEY") && audio.contains("ELEVENLABS_VOICE_ID") && !audio.contains("REELFORGE_SCRIPT_MODEL"))
        #expect(Set(all).count == all.count && all.filter { $0 == "OPENAI_API_KEY" }.count == 1)
        #expect(Set(all) == Set(script + audio + ReelForgeConfig.variables(with: [.video]).map(\.name)))
    }

    @Test func secretsComeFromFilesAndAreRedacted() throws {
        let dir = temporaryDirectory("secrets")
        let file = dir.appendingPathComponent("amqp_url")
        try Data("amqp://worker:file-secret-pw@rabbit:5672/\n".utf8).write(to: file)
        let key = dir.appendingPathComponent("key")
        try Data("sk-from-a-file-0123456789".utf8).write(to: key)
        let c = try ReelForgeConfig.fromEnvironment(["AMQP_URL_FILE": file.path, "REELFORGE_SCRIPT_PROVIDER": "openai",
                                                     "OPENAI_API_KEY_FILE": key.path], modules: [.script])
        #expect(c.amqpURL == "amqp://worker:file-secret-pw@rabbit:5672/")
        #expect(try LLMSettings(c.settings)?.apiKey == "sk-from-a-file-0123456789")
        #expect(!c.summary.contains("file-secret-pw") && !c.summary.contains("sk-from-a-file"))
        #expect(Redactor.shared.redact("failed with sk-from-a-file-0123456789 and file-secret-pw") == "failed with *** and ***")
        #expect(throws: ConfigError.self) { try ReelForgeConfig.fromEnvironment(["MONGODB_URI_FILE": "/nonexistent/secret"]) }
    }

    /// The rooms hold at link time: the ScriptWorker carries no ffmpeg, MagickWand or espeak-ng; the AudioWorker no
    /// MagickWand. (Read from the built executables' dynamic sections.)
    @Test func workersLinkOnlyTheirStagesLibraries() async throws {
        func needed(_ name: String) async throws -> String {
            let path = TestServices.binDir.appendingPathComponent(name).path
            return String(decoding: try await runProgram("/usr/bin/ldd", [path]).output, as: UTF8.self)
        }
        let script = try await needed("ScriptWorker"), audio = try await needed("AudioWorker"), video = try await needed("VideoWorker")
        for lib in ["libavcodec", "libavformat", "libMagickWand", "libespeak-ng", "libfontconfig"] { #expect(!script.contains(lib), "\(lib)") }
        #expect(script.contains("librabbitmq") && script.contains("libmongoc"))
        #expect(audio.contains("libespeak-ng") && audio.contains("libavcodec") && !audio.contains("libMagickWand"))
        #expect(video.contains("libMagickWand") && video.contains("libavcodec") && !video.contains("libespeak-ng"))
    }
}
