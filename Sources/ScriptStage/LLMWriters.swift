import Foundation
import ProviderClient
import Shared
import Synchronization

/// Settings of the LLM script writers, from the environment.
public struct LLMSettings: Sendable {
    public var provider: String            // template | openai | anthropic
    public var apiKey: String?
    public var baseURL: URL
    public var model: String
    public var temperature: Double
    public var maxTokens: Int
    public var timeout: Duration
    public var jsonMode: Bool
    /// Price per million input and output tokens, for the cost ledger.
    public var pricePerMillion: (input: Double, output: Double)
    public var systemPrompt: String
    public var userPrompt: String

    public init(provider: String, apiKey: String?, baseURL: URL, model: String, temperature: Double = 0.8,
                maxTokens: Int = 1200, timeout: Duration = .seconds(60), jsonMode: Bool = true,
                pricePerMillion: (input: Double, output: Double)? = nil,
                systemPrompt: String = ScriptPrompts.system, userPrompt: String = ScriptPrompts.user) {
        self.provider = provider; self.apiKey = apiKey; self.baseURL = baseURL; self.model = model
        self.temperature = temperature; self.maxTokens = maxTokens; self.timeout = timeout; self.jsonMode = jsonMode
        self.pricePerMillion = pricePerMillion ?? ScriptPrompts.knownPrices(model)
        self.systemPrompt = systemPrompt; self.userPrompt = userPrompt
        Redactor.shared.register(apiKey)
    }
}

/// The default prompts; a user can replace either with a file (REELFORGE_SCRIPT_SYSTEM_PROMPT_FILE,
/// REELFORGE_SCRIPT_PROMPT_FILE). `{{idea}}`, `{{language}}`, `{{seconds}}` and `{{words}}` are filled in.
public enum ScriptPrompts {
    public static let system = """
    You write narration scripts for vertical short videos (TikTok, Reels, Shorts). You answer with one JSON object \
    and nothing else, with these keys: "title" (string, at most 80 characters), "hook" (one arresting first \
    sentence), "paragraphs" (array of strings: the whole narration in order, the hook first; plain spoken \
    sentences, no markdown, no emojis, no stage directions), "hashtags" (array of 3 to 6 strings starting with #), \
    "keywords" (array with one array of 2 to 4 visual keywords per paragraph, for background footage), \
    "image_prompts" (array with one sentence per paragraph describing a photograph to show behind it: the subject, \
    the setting and the light; never text, letters or logos in the picture).
    """
    public static let user = """
    Idea: {{idea}}
    Language of the narration: {{language}}
    Length: about {{seconds}} seconds spoken, so about {{words}} words in all paragraphs together.
    """

    public static func fill(_ template: String, idea: String, language: String, seconds: Int) -> String {
        let name = language == "fr" ? "French" : "English"
        let words = Int(Double(seconds) * Script.wordsPerSecond(language))
        return template.replacingOccurrences(of: "{{idea}}", with: idea).replacingOccurrences(of: "{{language}}", with: name)
            .replacingOccurrences(of: "{{seconds}}", with: String(seconds)).replacingOccurrences(of: "{{words}}", with: String(words))
    }

    /// List prices (USD per million tokens) of common models; others cost 0 unless configured.
    public static func knownPrices(_ model: String) -> (input: Double, output: Double) {
        let m = model.lowercased()
        let table: [(String, Double, Double)] = [
            ("gpt-4o-mini", 0.15, 0.60), ("gpt-4.1-mini", 0.40, 1.60), ("gpt-4.1", 2.0, 8.0), ("gpt-4o", 2.50, 10.0),
            ("claude-3-5-haiku", 0.80, 4.0), ("claude-haiku", 1.0, 5.0), ("claude-sonnet", 3.0, 15.0), ("claude-opus", 15.0, 75.0),
        ]
        for (prefix, i, o) in table where m.hasPrefix(prefix) { return (i, o) }
        return (0, 0)
    }
}

/// Shared shape of the two chat APIs: one request, and one repair request if the answer is not a valid script.
protocol ChatScriptWriter: ScriptWriter {
    var settings: LLMSettings { get }
    /// Sends the conversation; returns the answer's text and token usage.
    func complete(system: String, messages: [(role: String, content: String)]) async throws -> (text: String, tokensIn: Int, tokensOut: Int)
}

extension ChatScriptWriter {
    /// Tokens a call may be billed before its answer says: about four characters a token of the prompt, and the
    /// answer's cap (what a units-per-minute limit reserves).
    static func estimatedTokens(system: String, messages: [(role: String, content: String)], maxTokens: Int) -> Double {
        Double((system.utf8.count + messages.reduce(0) { $0 + $1.content.utf8.count }) / 4 + maxTokens)
    }

    public func write(idea: String, language: String, targetSeconds: Int) async throws -> (Script, CostEntry?) {
        guard settings.apiKey?.isEmpty == false else {
            throw StageFailure.permanent("\(name): no API key (set the provider's *_API_KEY or *_API_KEY_FILE)")
        }
        let prompt = ScriptPrompts.fill(settings.userPrompt, idea: idea, language: language, seconds: targetSeconds)
        var messages: [(role: String, content: String)] = [("user", prompt)]
        var tokensIn = 0, tokensOut = 0, calls = 0
        var problem = ""
        for round in 0..<2 {
            let answer = try await complete(system: settings.systemPrompt, messages: messages)
            calls += 1
            tokensIn += answer.tokensIn
            tokensOut += answer.tokensOut
            switch ScriptAnswer.parse(answer.text, idea: idea, language: language, targetSeconds: targetSeconds) {
            case .success(let script):
                return (script, cost(tokensIn, tokensOut, calls))
            case .failure(let why):
                problem = why
                if round == 0 {
                    // Repair once, inside the same attempt.
                    messages.append(("assistant", answer.text))
                    messages.append(("user", "That answer is not usable: \(why). Answer again with only the JSON object described, nothing else."))
                }
            }
        }
        throw StageFailure.transient("\(name) gave an invalid script twice (\(problem))")
    }

    func cost(_ tin: Int, _ tout: Int, _ calls: Int) -> CostEntry {
        let usd = Double(tin) * settings.pricePerMillion.input / 1e6 + Double(tout) * settings.pricePerMillion.output / 1e6
        return CostEntry(stage: .script, attempt: 0, provider: "\(name):\(settings.model)", units: Double(tin + tout), unit: "tokens",
                         costUSD: usd, at: Date(), unitsIn: Double(tin), unitsOut: Double(tout), calls: calls)
    }
}

/// OpenAI-compatible Chat Completions (OpenAI, Ollama, vLLM, LM Studio, OpenRouter, Groq: by base URL).
public struct OpenAIScriptWriter: ChatScriptWriter {
    public let name = "openai"
    public let settings: LLMSettings
    let http: ProviderHTTP

    public init(settings: LLMSettings) { self.settings = settings; http = ProviderHTTP(timeout: settings.timeout) }

    func complete(system: String, messages: [(role: String, content: String)]) async throws -> (text: String, tokensIn: Int, tokensOut: Int) {
        let url = settings.baseURL.appendingPathComponent("chat/completions")
        var body: [String: JSONValue] = [
            "model": .string(settings.model), "temperature": .double(settings.temperature), "max_tokens": .int(Int64(settings.maxTokens)),
            "messages": .array([["role": "system", "content": .string(system)]] + messages.map { ["role": .string($0.role), "content": .string($0.content)] }),
        ]
        let server = "\(settings.baseURL.absoluteString) \(settings.model)"
        let structured = settings.jsonMode && !StructuredOutput.isRefused(by: server)
        if structured { body["response_format"] = StructuredOutput.responseFormat }
        let call = ProviderCall(provider: name, model: settings.model, units: Self.estimatedTokens(system: system, messages: messages, maxTokens: settings.maxTokens))
        var r = try await http.postJSON(url, headers: ["Authorization": "Bearer \(settings.apiKey ?? "")"], body: .object(body), call: call)
        if r.status == 400, structured, StructuredOutput.isRefusal(r.body) {
            // A compatible server without structured output: ask again without it (the prompt asks for JSON and
            // any answer with a narration is read), and never ask this server for it again in this process.
            StructuredOutput.remember(refusedBy: server)
            body["response_format"] = nil
            r = try await http.postJSON(url, headers: ["Authorization": "Bearer \(settings.apiKey ?? "")"], body: .object(body), call: call)
        }
        guard (200..<300).contains(r.status) else { throw ProviderHTTP.failure(r, provider: name) }
        guard let json = try? JSONValue.parse(r.body), let choice = json["choices"]?.arrayValue?.first else {
            throw StageFailure.transient("openai: the answer is not a chat completion")
        }
        if let refusal = choice["message"]?["refusal"]?.stringValue, !refusal.isEmpty {
            throw StageFailure.permanent("openai refused the content: \(refusal.prefix(200))")
        }
        if choice["finish_reason"]?.stringValue == "content_filter" {
            throw StageFailure.permanent("openai refused the content (content_filter)")
        }
        let text = choice["message"]?["content"]?.stringValue ?? ""
        return (text, json["usage"]?["prompt_tokens"]?.intValue ?? 0, json["usage"]?["completion_tokens"]?.intValue ?? 0)
    }
}

/// Anthropic Messages API.
public struct AnthropicScriptWriter: ChatScriptWriter {
    public let name = "anthropic"
    public let settings: LLMSettings
    let http: ProviderHTTP

    public init(settings: LLMSettings) { self.settings = settings; http = ProviderHTTP(timeout: settings.timeout) }

    func complete(system: String, messages: [(role: String, content: String)]) async throws -> (text: String, tokensIn: Int, tokensOut: Int) {
        let url = settings.baseURL.appendingPathComponent("v1/messages")
        let body: JSONValue = [
            "model": .string(settings.model), "max_tokens": .int(Int64(settings.maxTokens)), "temperature": .double(settings.temperature),
            "system": .string(system),
            "messages": .array(messages.map { ["role": .string($0.role), "content": .string($0.content)] }),
        ]
        let r = try await http.postJSON(url, headers: ["x-api-key": settings.apiKey ?? "", "anthropic-version": "2023-06-01"], body: body,
                                        call: ProviderCall(provider: name, model: settings.model,
                                                           units: Self.estimatedTokens(system: system, messages: messages, maxTokens: settings.maxTokens)))
        guard (200..<300).contains(r.status) else { throw ProviderHTTP.failure(r, provider: name) }
        guard let json = try? JSONValue.parse(r.body), let content = json["content"]?.arrayValue else {
            throw StageFailure.transient("anthropic: the answer is not a message")
        }
        if json["stop_reason"]?.stringValue == "refusal" {
            throw StageFailure.permanent("anthropic refused the content")
        }
        let text = content.compactMap { $0["type"] == "text" ? $0["text"]?.stringValue : nil }.joined()
        return (text, json["usage"]?["input_tokens"]?.intValue ?? 0, json["usage"]?["output_tokens"]?.intValue ?? 0)
    }
}

/// OpenAI's structured output: a JSON schema of the script the system prompt describes, and the servers of this
/// process that refused it (Ollama, vLLM and LM Studio versions differ), so that each is asked without it from
/// then on instead of paying a refused request for every job.
enum StructuredOutput {
    static let refusedBy = Mutex<Set<String>>([])

    static func isRefused(by server: String) -> Bool { refusedBy.withLock { $0.contains(server) } }
    static func remember(refusedBy server: String) { _ = refusedBy.withLock { $0.insert(server) } }

    /// A 400 that names the parameter: the server does not know `response_format` or `json_schema`.
    static func isRefusal(_ body: Data) -> Bool {
        let text = String(decoding: body.prefix(4000), as: UTF8.self).lowercased()
        return ["response_format", "json_schema", "response format", "structured output"].contains { text.contains($0) }
    }

    static let responseFormat: JSONValue = [
        "type": "json_schema",
        "json_schema": ["name": "narration_script", "strict": true, "schema": schema],
    ]

    static let schema: JSONValue = {
        let strings: JSONValue = ["type": "array", "items": ["type": "string"]]
        return [
            "type": "object", "additionalProperties": false,
            "required": ["title", "hook", "paragraphs", "hashtags", "keywords", "image_prompts"],
            "properties": [
                "title": ["type": "string"], "hook": ["type": "string"], "paragraphs": strings, "hashtags": strings,
                "keywords": ["type": "array", "items": strings], "image_prompts": strings,
            ],
        ]
    }()
}
