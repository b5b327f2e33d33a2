import Foundation
import ReelForgeTestKit
import Shared
import Testing
import WorkerRuntime

@Suite("Configuration")
struct ConfigTests {
    @Test func defaultsAreOfflineAndSane() throws {
        let c = try ReelForgeConfig.fromEnvironment([:])
        #expect(c.scriptLLM == nil && c.tts == nil)
        #expect(c.retry.delays == [.seconds(10), .seconds(60), .seconds(300)] && c.retry.maxRetries == 3)
        #expect(c.prefix == "reelforge" && c.concurrency == 1 && c.httpPort == 9090)
        #expect(c.render.width == 1080 && c.render.height == 1920)
    }

    @Test func providersAreChosenAndChecked() throws {
        let c = try ReelForgeConfig.fromEnvironment([
            "REELFORGE_SCRIPT_PROVIDER": "anthropic", "ANTHROPIC_API_KEY": "sk-ant-test-123456",
            "REELFORGE_TTS_PROVIDER": "elevenlabs", "ELEVENLABS_VOICE_ID": "voice1", "REELFORGE_TTS_PRICE_PER_1K_CHARS": "0.2",
        ])
        #expect(c.scriptLLM?.provider == "anthropic" && c.scriptLLM?.baseURL.absoluteString == "https://api.anthropic.com")
        #expect(c.tts?.voice == "voice1" && c.tts?.pricePer1K == 0.2)
        #expect(!c.summary.contains("sk-ant-test-123456"))
        #expect(throws: ConfigError.invalid("REELFORGE_TTS_PROVIDER", "must be espeak, elevenlabs, openai")) {
            try ReelForgeConfig.fromEnvironment(["REELFORGE_TTS_PROVIDER": "polly"])
        }
        #expect(throws: ConfigError.self) { try ReelForgeConfig.fromEnvironment(["REELFORGE_SCRIPT_PROVIDER": "openai", "OPENAI_BASE_URL": "ftp://x"]) }
        #expect(throws: ConfigError.self) { try ReelForgeConfig.fromEnvironment(["REELFORGE_RETRY_DELAYS": "soon"]) }
        #expect(throws: ConfigError.self) { try ReelForgeConfig.fromEnvironment(["REELFORGE_VIDEO_SIZE": "1081x1920"]) }
    }

    @Test func secretsComeFromFilesAndAreRedacted() throws {
        let dir = temporaryDirectory("secrets")
        let file = dir.appendingPathComponent("amqp_url")
        try Data("amqp://worker:file-secret-pw@rabbit:5672/\n".utf8).write(to: file)
        let key = dir.appendingPathComponent("key")
        try Data("sk-from-a-file-0123456789".utf8).write(to: key)
        let c = try ReelForgeConfig.fromEnvironment(["AMQP_URL_FILE": file.path, "REELFORGE_SCRIPT_PROVIDER": "openai",
                                                     "OPENAI_API_KEY_FILE": key.path])
        #expect(c.amqpURL == "amqp://worker:file-secret-pw@rabbit:5672/")
        #expect(c.scriptLLM?.apiKey == "sk-from-a-file-0123456789")
        #expect(!c.summary.contains("file-secret-pw"))
        #expect(Redactor.shared.redact("failed with sk-from-a-file-0123456789 and file-secret-pw") == "failed with *** and ***")
        #expect(throws: ConfigError.self) { try ReelForgeConfig.fromEnvironment(["MONGODB_URI_FILE": "/nonexistent/secret"]) }
    }
}
