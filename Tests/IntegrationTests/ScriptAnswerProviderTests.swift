import Foundation
import ScriptStage
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import ReelForgeTestKit
import Shared
import Testing

/// A model that does not answer in the requested shape still makes a video, from one paid call: the provider
/// stand-in (scripts/fake-providers, started by scripts/test) answers with a narration string, plain text, fenced
/// JSON or a fenced plain block, and counts the calls it received.
@Suite("Script answers from a provider", .serialized,
       .enabled(if: ProcessInfo.processInfo.environment["REELFORGE_TEST_PROVIDERS_URL"] != nil))
struct ScriptAnswerProviderTests {
    static let base = ProcessInfo.processInfo.environment["REELFORGE_TEST_PROVIDERS_URL"] ?? "http://127.0.0.1:1"

    /// The chat requests the stand-in saw under `/behaviour/key`, and the response_format type of each.
    static func calls(_ behaviour: String, _ key: String) async throws -> [String] {
        let (data, _) = try await URLSession.shared.data(from: URL(string: "\(base)/_calls/\(behaviour)/\(key)")!)
        return try #require(JSONValue.parse(data)["response_formats"]?.arrayValue).compactMap(\.stringValue)
    }

    static func writer(_ provider: String, _ behaviour: String, _ key: String) -> any ScriptWriter {
        let openai = provider == "openai"
        let settings = LLMSettings(
            provider: provider, apiKey: "test-key",
            baseURL: URL(string: openai ? "\(base)/\(behaviour)/\(key)/v1" : "\(base)/\(behaviour)/\(key)")!,
            model: openai ? "gpt-4o-mini" : "claude-3-5-haiku-latest", timeout: .seconds(5))
        return openai ? OpenAIScriptWriter(settings: settings) : AnthropicScriptWriter(settings: settings)
    }

    /// The paragraphs each answer must give, checked against the answer files the stand-in sends.
    static func expectParagraphs(_ s: Script, _ behaviour: String) throws {
        AnswerFixtures.expectWellFormed(s)
        switch behaviour {
        case "narration":
            let narration = try AnswerFixtures.narrationString()
            #expect(AnswerFixtures.letters(s.narration) == AnswerFixtures.letters(narration), "every sentence, in order")
            #expect(s.paragraphs.count >= 3 && s.paragraphs[0] == "An octopus has three hearts, and one of them stops when it swims.", "\(s.paragraphs)")
            #expect(s.keywords.allSatisfy { $0 == ["octopus", "coral reef", "blue blood"] } && s.hashtags == ["#octopus", "#ocean", "#science"])
        case "plain":
            #expect(s.paragraphs == AnswerFixtures.plainParagraphs)
        case "fenced":
            #expect(s.paragraphs == AnswerFixtures.fencedParagraphs && s.keywords[3] == ["blue blood", "copper"])
        default:
            let block = try AnswerFixtures.text("answer-fenced-plain.txt").replacingOccurrences(of: "```", with: "")
            #expect(AnswerFixtures.letters(s.narration) == AnswerFixtures.letters(block) && s.paragraphs.count >= 2, "\(s.paragraphs)")
        }
    }

    static let shapes = ["narration", "plain", "fenced", "fenced-plain"]

    @Test(arguments: ["openai", "anthropic"], shapes)
    func eachShapeIsAScriptFromOneCall(_ provider: String, _ behaviour: String) async throws {
        let key = String(UUID().uuidString.prefix(8))
        let r = try await PipelineRun.run(idea: "why octopuses have three hearts", seconds: 20,
                                          real: [ScriptStageExecutor(writer: Self.writer(provider, behaviour, key))],
                                          retry: RetryPolicy(delays: [.milliseconds(100)], maxRetries: 3, jitter: 0, jitterBuckets: 1))
        #expect(r.settled && r.idea.status == .completed, "\(r.idea.errors.map(\.message))")
        #expect(r.job.attempts[.script] == 1)
        #expect(try await Self.calls(behaviour, key).count == 1, "one paid call, no repair")
        #expect(r.idea.costs.first { $0.stage == .script }?.calls == 1)
        let script = try #require(r.idea.artifacts[.script]?.inline["script"]).decode(Script.self)
        try Self.expectParagraphs(script, behaviour)
    }

    /// OpenAI is asked for a strict JSON schema, and one it accepts: the stand-in answers a schema that strict
    /// mode would reject with OpenAI's 400, which would show here as a second request without it.
    @Test func structuredOutputIsAskedFor() async throws {
        let key = String(UUID().uuidString.prefix(8))
        _ = try await Self.writer("openai", "ok", key).write(idea: "why octopuses have three hearts", language: "en", targetSeconds: 20)
        #expect(try await Self.calls("ok", key) == ["json_schema"])
    }

    /// A server that rejects response_format costs one extra request the first time only: the refusal is
    /// remembered for the process.
    @Test func aServerWithoutStructuredOutputIsAskedWithoutItFromThenOn() async throws {
        let key = String(UUID().uuidString.prefix(8))
        let writer = Self.writer("openai", "no-schema", key)
        let (first, cost) = try await writer.write(idea: "why octopuses have three hearts", language: "en", targetSeconds: 20)
        #expect(first.paragraphs.count == 4 && cost?.calls == 1)
        #expect(try await Self.calls("no-schema", key) == ["json_schema", "none"])
        for _ in 0..<2 {
            let (again, _) = try await Self.writer("openai", "no-schema", key).write(idea: "why octopuses have three hearts", language: "en", targetSeconds: 20)
            #expect(again.paragraphs.count == 4)
        }
        #expect(try await Self.calls("no-schema", key) == ["json_schema", "none", "none", "none"])
    }

    /// `reelforge make` with an OpenAI-compatible server answering in each shape: a video, from one call.
    @Test(arguments: ["narration", "plain", "fenced"])
    func makeProducesAVideoFromOneCall(_ behaviour: String) async throws {
        let dir = temporaryDirectory("make-answer")
        let key = String(UUID().uuidString.prefix(8))
        let env = ["REELFORGE_WORK_DIR": dir.appendingPathComponent("work").path, "REELFORGE_SCRIPT_PROVIDER": "openai",
                   "OPENAI_BASE_URL": "\(Self.base)/\(behaviour)/\(key)/v1", "OPENAI_API_KEY": "test-key"]
        let p = try Proc("reelforge", ["make", "why octopuses have three hearts", "--duration", "15", "--json",
                                       "--home", dir.appendingPathComponent(".reelforge").path, "--out", dir.appendingPathComponent("out").path],
                         env: env, logDir: dir)
        for _ in 0..<3600 where p.process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        #expect(p.process.terminationStatus == 0, "\(p.output)")
        let summary = try JSONValue.parse(Data(p.output[try #require(p.output.firstIndex(of: "{"))...].utf8))
        #expect(summary["status"] == "completed" && summary["attempts"]?["script"] == 1)
        let video = URL(fileURLWithPath: try #require(summary["video"]?.stringValue))
        let bytes = try Data(contentsOf: video)
        #expect(bytes.count > 10_000 && String(decoding: bytes[4..<8], as: UTF8.self) == "ftyp")
        let script = try JSONDecoder().decode(Script.self, from: Data(contentsOf: video.deletingLastPathComponent().appendingPathComponent("script.json")))
        try Self.expectParagraphs(script, behaviour)
        #expect(try await Self.calls(behaviour, key).count == 1)
    }
}
