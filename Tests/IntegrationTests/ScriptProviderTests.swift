import Foundation
import Logging
import ReelForgeTestKit
import ScriptStage
import Shared
import Testing

/// The LLM script writers against a local server speaking the OpenAI and Anthropic formats
/// (scripts/fake-providers, started by scripts/test): each case ends in the right job state and attempt count.
@Suite("Script providers", .enabled(if: ProcessInfo.processInfo.environment["REELFORGE_TEST_PROVIDERS_URL"] != nil))
struct ScriptProviderTests {
    static let base = ProcessInfo.processInfo.environment["REELFORGE_TEST_PROVIDERS_URL"] ?? "http://127.0.0.1:1"

    enum Outcome: Sendable { case completed(attempts: Int), failed(kind: String) }

    static let cases: [(String, String, Outcome)] = ["openai", "anthropic"].flatMap { p in [
        (p, "ok", Outcome.completed(attempts: 1)),
        (p, "repair", .completed(attempts: 1)),
        (p, "429", .completed(attempts: 2)),
        (p, "500", .completed(attempts: 2)),
        (p, "hang", .completed(attempts: 2)),
        (p, "401", .failed(kind: "permanent")),
        (p, "refusal", .failed(kind: "permanent")),
    ] }

    /// Only "hang" needs a short timeout; the others get room for a loaded machine.
    func writer(_ provider: String, _ behaviour: String, key: String = "test-key") -> any ScriptWriter {
        let scope = "\(behaviour)/\(UUID().uuidString.prefix(8))"
        let settings = LLMSettings(
            provider: provider, apiKey: key,
            baseURL: URL(string: provider == "openai" ? "\(Self.base)/\(scope)/v1" : "\(Self.base)/\(scope)")!,
            model: provider == "openai" ? "gpt-4o-mini" : "claude-3-5-haiku-latest", timeout: behaviour == "hang" ? .seconds(5) : .seconds(15))
        return provider == "openai" ? OpenAIScriptWriter(settings: settings) : AnthropicScriptWriter(settings: settings)
    }

    @Test(arguments: cases)
    func endsInTheRightState(_ provider: String, _ behaviour: String, _ expected: Outcome) async throws {
        let events = EventLog()
        let r = try await PipelineRun.run(idea: "why octopuses have three hearts", seconds: 20, real: [ScriptStageExecutor(writer: writer(provider, behaviour))],
                                          retry: RetryPolicy(delays: [.milliseconds(100), .seconds(1), .seconds(2)], maxRetries: 3, jitter: 0, jitterBuckets: 1), events: events,
                                          timeout: .seconds(120))
        #expect(r.settled)
        let idea = r.idea, job = r.job, queue = r.queue
        switch expected {
        case .completed(let attempts):
            #expect(idea.status == .completed, "\(idea.errors.map(\.message))")
            #expect(job.attempts[.script] == attempts)
            let script = try #require(idea.artifacts[.script]?.inline["script"]).decode(Script.self)
            #expect(script.title == "Why Octopuses Have Three Hearts" && script.paragraphs.count == 4 && script.keywords.count == 4)
            let cost = try #require(idea.costs.first { $0.stage == .script })
            #expect(cost.unit == "tokens" && cost.units > 0 && cost.costUSD > 0)
            #expect(cost.calls == (behaviour == "repair" ? 2 : 1))
            #expect(idea.costs.filter { $0.stage == .script }.count == 1)
            if behaviour == "429" {
                // Retry-After: 1 was honoured: the retry came back no sooner than a second later.
                #expect(events.all.contains { if case .retryScheduled(_, .script, 2, let d, _) = $0 { return d >= .seconds(1) } else { return false } })
                #expect(idea.errors.first?.message.contains("429") == true)
            }
        case .failed(let kind):
            #expect(idea.status == .failed)
            #expect(job.attempts[.script] == 1)
            #expect(idea.errors.last?.kind == kind)
            #expect(try await queue.parked(stage: .script, limit: 5).count == 1)
        }
        for e in idea.errors { #expect(!e.message.contains("test-key")) }
    }

    @Test func anInvalidAnswerTwiceIsATransientFailure() async throws {
        await #expect(throws: StageFailure.self) {
            _ = try await writer("openai", "invalid").write(idea: "x", language: "en", targetSeconds: 20)
        }
        do { _ = try await writer("anthropic", "invalid").write(idea: "x", language: "en", targetSeconds: 20) } catch let f as StageFailure {
            #expect(f.kind == .transient(retryAfter: nil) && f.message.contains("invalid script twice"))
        }
    }

    @Test func aWrongKeyIsPermanentAndNeverShown() async throws {
        let key = "sk-wrong-\(UUID().uuidString)"
        do {
            _ = try await writer("openai", "ok", key: key).write(idea: "x", language: "en", targetSeconds: 20)
            Issue.record("a wrong key must fail")
        } catch let f as StageFailure {
            #expect(f.kind == .permanent)
            #expect(!Redactor.shared.redact(f.message).contains(key) && !f.message.contains(key))
        }
    }
}
