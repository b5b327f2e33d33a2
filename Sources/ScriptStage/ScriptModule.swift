import Foundation
import ProviderClient
import Shared

extension StageModule {
    /// The script stage: the offline template, or the LLM REELFORGE_SCRIPT_PROVIDER names.
    public static let script = StageModule(stage: .script, variables: LLMSettings.variables) { settings in
        let llm = try LLMSettings(settings)
        let writer: any ScriptWriter = switch llm?.provider {
        case nil: TemplateScriptWriter()
        case "anthropic": AnthropicScriptWriter(settings: llm!)
        default: OpenAIScriptWriter(settings: llm!)
        }
        return Built(executor: ScriptStageExecutor(writer: writer),
                     summary: "script=\(llm.map { "\($0.provider) \($0.model)" } ?? "template")")
    }
}

extension LLMSettings {
    static let variables: [StageModule.Variable] = [
        ("REELFORGE_SCRIPT_PROVIDER", "template (offline, default), openai (any OpenAI-compatible server) or anthropic"),
    ] + ProviderAccounts.openAI + [
        ("ANTHROPIC_API_KEY", "key for REELFORGE_SCRIPT_PROVIDER=anthropic (or ANTHROPIC_API_KEY_FILE)"),
        ("ANTHROPIC_API_KEY_FILE", "a file holding ANTHROPIC_API_KEY"),
        ("ANTHROPIC_BASE_URL", "Anthropic base URL (default https://api.anthropic.com)"),
        ("REELFORGE_SCRIPT_MODEL", "model name (default gpt-4o-mini for openai, claude-3-5-haiku-latest for anthropic)"),
        ("REELFORGE_SCRIPT_TEMPERATURE", "sampling temperature, 0 to 2 (default 0.8)"),
        ("REELFORGE_SCRIPT_MAX_TOKENS", "answer size limit in tokens (default 1200)"),
        ("REELFORGE_SCRIPT_TIMEOUT_SECONDS", "how long one request may take (default 60)"),
        ("REELFORGE_SCRIPT_JSON_MODE", "ask OpenAI-compatible servers for structured output (a JSON schema): on or off (default on; a server that refuses it is asked without it from then on)"),
        ("REELFORGE_SCRIPT_PRICE_PER_MTOK", "USD per million input and output tokens, e.g. 0.15,0.60 (default: known list prices)"),
        ("REELFORGE_SCRIPT_SYSTEM_PROMPT_FILE", "a file replacing the system prompt"),
        ("REELFORGE_SCRIPT_PROMPT_FILE", "a file replacing the user prompt ({{idea}}, {{language}}, {{seconds}}, {{words}})"),
    ]

    /// The LLM the settings name; nil for the offline template.
    public init?(_ settings: SettingsReader) throws {
        guard let provider = try settings.provider("REELFORGE_SCRIPT_PROVIDER", offline: "template", known: ["openai", "anthropic"]) else {
            return nil
        }
        let openai = provider == "openai"
        let url = try settings.baseURL(openai ? "OPENAI_BASE_URL" : "ANTHROPIC_BASE_URL",
                                       default: openai ? ProviderAccounts.openAIBaseURL : "https://api.anthropic.com")
        var prices: (Double, Double)?
        if let raw = settings.text("REELFORGE_SCRIPT_PRICE_PER_MTOK") {
            let p = raw.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard p.count == 2 else { throw ConfigError.invalid("REELFORGE_SCRIPT_PRICE_PER_MTOK", "must be INPUT,OUTPUT in USD per million tokens") }
            prices = (p[0], p[1])
        }
        self.init(
            provider: provider, apiKey: settings.environment[openai ? "OPENAI_API_KEY" : "ANTHROPIC_API_KEY"], baseURL: url,
            model: settings.text("REELFORGE_SCRIPT_MODEL", default: openai ? "gpt-4o-mini" : "claude-3-5-haiku-latest"),
            temperature: try settings.number("REELFORGE_SCRIPT_TEMPERATURE", 0.8, 0...2),
            maxTokens: Int(try settings.number("REELFORGE_SCRIPT_MAX_TOKENS", 1200, 64...32_000)),
            timeout: .milliseconds(Int64(try settings.number("REELFORGE_SCRIPT_TIMEOUT_SECONDS", 60, 0.5...600) * 1000)),
            jsonMode: settings.text("REELFORGE_SCRIPT_JSON_MODE", default: "on") != "off", pricePerMillion: prices,
            systemPrompt: try settings.fileText("REELFORGE_SCRIPT_SYSTEM_PROMPT_FILE") ?? ScriptPrompts.system,
            userPrompt: try settings.fileText("REELFORGE_SCRIPT_PROMPT_FILE") ?? ScriptPrompts.user)
    }
}
