import Foundation
import Shared
import Stages

/// Everything a worker or the CLI reads from its environment, with defaults. Read once at start.
public struct ReelForgeConfig: Sendable {
    public var amqpURL: String
    public var amqpCACert: String?
    public var mongoURI: String
    public var prefix: String
    public var concurrency: Int
    public var retry: RetryPolicy
    public var deliveryLimit: Int
    public var leaseDuration: Duration
    public var failpoints: Failpoints
    public var failpointsText: String
    public var workerID: String
    public var workDir: URL
    public var logFormat: LogFormat
    public var logLevel: String
    public var shutdownGrace: Duration
    public var render: RenderOptions
    /// Port of /healthz, /readyz and /metrics (0: any free port; nil: off).
    public var httpPort: Int?
    /// Whether REELFORGE_HTTP_PORT set the port: then a busy port is fatal; the default (9090) gives way to any
    /// free port, so that several workers run on one host.
    public var httpPortIsSet: Bool
    /// The script writer: nil for the offline template.
    public var scriptLLM: LLMSettings?
    /// The speech provider: nil for espeak-ng.
    public var tts: TTSSettings?
    public var espeakWordsPerMinute: Int
    public var loudnessTarget: Double

    public enum LogFormat: String, Sendable { case text, json }

    /// The probes server's port: nil when off.
    public var probePort: ProbePort? {
        httpPort.map { httpPortIsSet ? .fixed($0) : .preferred($0) }
    }

    public static let variables: [(name: String, meaning: String)] = [
        ("AMQP_URL", "RabbitMQ URL, amqp:// or amqps:// (default amqp://guest:guest@localhost:5672/)"),
        ("AMQP_URL_FILE", "a file holding AMQP_URL (container secrets); used when AMQP_URL is unset"),
        ("AMQP_CA_CERT", "CA bundle for amqps:// (default: the system bundle)"),
        ("MONGODB_URI", "MongoDB URI; its path names the database (default mongodb://localhost:27017/reelforge)"),
        ("MONGODB_URI_FILE", "a file holding MONGODB_URI (container secrets); used when MONGODB_URI is unset"),
        ("REELFORGE_SCRIPT_PROVIDER", "template (offline, default), openai (any OpenAI-compatible server) or anthropic"),
        ("OPENAI_API_KEY", "key for REELFORGE_SCRIPT_PROVIDER=openai (or OPENAI_API_KEY_FILE)"),
        ("OPENAI_API_KEY_FILE", "a file holding OPENAI_API_KEY"),
        ("OPENAI_BASE_URL", "OpenAI-compatible base URL (default https://api.openai.com/v1; Ollama, vLLM, OpenRouter, Groq...)"),
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
        ("REELFORGE_TTS_PROVIDER", "espeak (offline, default), elevenlabs or openai"),
        ("ELEVENLABS_API_KEY", "key for REELFORGE_TTS_PROVIDER=elevenlabs (or ELEVENLABS_API_KEY_FILE)"),
        ("ELEVENLABS_API_KEY_FILE", "a file holding ELEVENLABS_API_KEY"),
        ("ELEVENLABS_BASE_URL", "ElevenLabs base URL (default https://api.elevenlabs.io)"),
        ("ELEVENLABS_VOICE_ID", "voice (default 21m00Tcm4TlvDq8ikWAM)"),
        ("ELEVENLABS_MODEL_ID", "model (default eleven_multilingual_v2)"),
        ("ELEVENLABS_STABILITY", "voice stability 0 to 1 (default 0.5)"),
        ("ELEVENLABS_SIMILARITY", "voice similarity boost 0 to 1 (default 0.75)"),
        ("OPENAI_TTS_MODEL", "OpenAI speech model (default gpt-4o-mini-tts)"),
        ("OPENAI_TTS_VOICE", "OpenAI voice (default alloy)"),
        ("REELFORGE_TTS_TIMEOUT_SECONDS", "how long one speech request may take (default 120)"),
        ("REELFORGE_TTS_PRICE_PER_1K_CHARS", "USD per 1000 characters for the cost ledger (default 0.30 elevenlabs, 0.015 openai)"),
        ("REELFORGE_ESPEAK_WPM", "espeak-ng speaking rate in words per minute (default 165)"),
        ("REELFORGE_LOUDNESS_LUFS", "integrated loudness target of the narration (default -16)"),
        ("REELFORGE_HTTP_PORT", "port of /healthz, /readyz and /metrics for workers (default 9090, or any free port when 9090 is taken; a port set here must be free; 0: any free port; 'off' disables)"),
        ("REELFORGE_QUEUE_PREFIX", "prefix of every exchange and queue (default reelforge)"),
        ("REELFORGE_PREFETCH", "deliveries a worker handles at once (default 1)"),
        ("REELFORGE_RETRY_DELAYS", "backoff levels, e.g. 10s,1m,5m (default)"),
        ("REELFORGE_RETRY_JITTER", "spread of each delay, 0 to 0.9 (default 0.2)"),
        ("REELFORGE_MAX_RETRIES", "retries per stage after the first attempt (default 3)"),
        ("REELFORGE_DELIVERY_LIMIT", "deliveries of one message before the broker parks it (default 10)"),
        ("REELFORGE_LEASE_SECONDS", "stage lease, renewed while the stage runs (default 60)"),
        ("REELFORGE_FAILPOINTS", "injected failures, e.g. video=2,audio=fatal,script=crash (off)"),
        ("REELFORGE_WORKER_ID", "this worker's name in leases and logs, unique per process (default host-pid-random)"),
        ("REELFORGE_WORK_DIR", "scratch folder for stage files (default the system temp folder)"),
        ("REELFORGE_LOG_FORMAT", "text or json (default text)"),
        ("REELFORGE_LOG_LEVEL", "trace, debug, info, notice, warning, error (default info)"),
        ("REELFORGE_SHUTDOWN_GRACE_SECONDS", "how long SIGTERM waits for in-flight work (default 120)"),
        ("REELFORGE_VIDEO_SIZE", "WIDTHxHEIGHT (default 1080x1920)"),
        ("REELFORGE_VIDEO_FPS", "frames per second (default 30)"),
        ("REELFORGE_VIDEO_PRESET", "libx264 preset (default veryfast)"),
        ("REELFORGE_VIDEO_CRF", "libx264 CRF (default 23)"),
        ("REELFORGE_VIDEO_THREADS", "encoder threads, 0 = automatic (default 0)"),
        ("REELFORGE_LOOP_SPILL_MB", "a background clip that loops is decoded once and replayed from a scratch file in the job's work folder up to this size, 0 = off (default 1024)"),
        ("REELFORGE_BACKGROUND", "#RRGGBB, #TOP:#BOTTOM gradient, an image or a video file, a folder of them (one a paragraph, picked by the script's keywords), media:NAME or media: (a file, or the whole library, of the media library in the store) or several separated by commas (one a paragraph, in order) (default a dark blue gradient)"),
        ("REELFORGE_MUSIC", "an audio file played under the narration, looped and ducked while the voice speaks (off)"),
        ("REELFORGE_MUSIC_LEVEL_DB", "music level in dB without voice (default -20; 12 dB lower under the voice)"),
        ("REELFORGE_SUBTITLE_STYLE", "a JSON file of subtitle style (fonts, font_size, color, stroke_color, stroke_width, margins, box_color, highlight_color)"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "OpenTelemetry collector base URL: spans are sent to it over OTLP/HTTP as JSON, to /v1/traces (off)"),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "the full URL of the collector's traces endpoint, instead of the one above"),
        ("OTEL_SERVICE_NAME", "service name of the exported spans (default the executable's name)"),
        ("OTEL_BSP_SCHEDULE_DELAY", "milliseconds between two span exports (default 1000)"),
    ]

    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ReelForgeConfig {
        let env = try withSecretFiles(environment)
        func int(_ name: String, _ d: Int, _ range: ClosedRange<Int>) throws -> Int { try integer(env, name, d, range) }
        let failText = env["REELFORGE_FAILPOINTS"] ?? ""
        let config = ReelForgeConfig(
            amqpURL: text(env, "AMQP_URL") ?? "amqp://guest:guest@localhost:5672/",
            amqpCACert: env["AMQP_CA_CERT"],
            mongoURI: text(env, "MONGODB_URI") ?? "mongodb://localhost:27017/reelforge",
            prefix: text(env, "REELFORGE_QUEUE_PREFIX") ?? "reelforge",
            concurrency: try int("REELFORGE_PREFETCH", 1, 1...64),
            retry: try retryPolicy(env),
            deliveryLimit: try int("REELFORGE_DELIVERY_LIMIT", 10, 2...1000),
            leaseDuration: .seconds(try int("REELFORGE_LEASE_SECONDS", 60, 2...86_400)),
            failpoints: try Failpoints(parsing: failText),
            failpointsText: failText,
            workerID: text(env, "REELFORGE_WORKER_ID") ?? defaultWorkerID(),
            workDir: URL(fileURLWithPath: text(env, "REELFORGE_WORK_DIR")
                         ?? FileManager.default.temporaryDirectory.appendingPathComponent("reelforge-work").path),
            logFormat: LogFormat(rawValue: env["REELFORGE_LOG_FORMAT"] ?? "text") ?? .text,
            logLevel: env["REELFORGE_LOG_LEVEL"] ?? "info",
            shutdownGrace: .seconds(try int("REELFORGE_SHUTDOWN_GRACE_SECONDS", 120, 0...86_400)),
            render: try renderOptions(env),
            httpPort: env["REELFORGE_HTTP_PORT"] == "off" ? nil : try int("REELFORGE_HTTP_PORT", 9090, 0...65535),
            httpPortIsSet: !(env["REELFORGE_HTTP_PORT"] ?? "").isEmpty,
            scriptLLM: try scriptSettings(env),
            tts: try ttsSettings(env),
            espeakWordsPerMinute: try int("REELFORGE_ESPEAK_WPM", 165, 80...450),
            loudnessTarget: Double(try int("REELFORGE_LOUDNESS_LUFS", -16, -40 ... -5)))
        Redactor.shared.registerPassword(ofURI: config.amqpURL)
        Redactor.shared.registerPassword(ofURI: config.mongoURI)
        guard config.prefix.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) else {
            throw ConfigError.invalid("REELFORGE_QUEUE_PREFIX", "may hold letters, digits, '.', '-' and '_' only")
        }
        return config
    }

    /// A variable's value; nil when unset or empty.
    static func text(_ env: [String: String], _ name: String) -> String? {
        env[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A whole number from a variable within a range, or the default.
    static func integer(_ env: [String: String], _ name: String, _ d: Int, _ range: ClosedRange<Int>) throws -> Int {
        guard let raw = env[name], !raw.isEmpty else { return d }
        guard let v = Int(raw), range.contains(v) else { throw ConfigError.invalid(name, "must be a whole number in \(range)") }
        return v
    }

    /// This process's name in leases and logs: host, pid and a random suffix.
    static func defaultWorkerID() -> String {
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "host"
        return "\(host)-\(getpid())-\(Identifier.make("w").dropFirst(2).prefix(6))"
    }

    /// REELFORGE_RETRY_DELAYS, REELFORGE_RETRY_JITTER and REELFORGE_MAX_RETRIES.
    static func retryPolicy(_ env: [String: String]) throws -> RetryPolicy {
        let delays = try RetryPolicy.parseDelays(env["REELFORGE_RETRY_DELAYS"] ?? "10s,1m,5m")
        var jitter = 0.2
        if let j = env["REELFORGE_RETRY_JITTER"], !j.isEmpty {
            guard let v = Double(j), (0...0.9).contains(v) else { throw ConfigError.invalid("REELFORGE_RETRY_JITTER", "must be 0 to 0.9") }
            jitter = v
        }
        return RetryPolicy(delays: delays, maxRetries: try integer(env, "REELFORGE_MAX_RETRIES", 3, 0...100), jitter: jitter,
                           jitterBuckets: jitter == 0 ? 1 : 3)
    }

    /// The REELFORGE_VIDEO_*, REELFORGE_LOOP_SPILL_MB, REELFORGE_BACKGROUND, REELFORGE_MUSIC* and
    /// REELFORGE_SUBTITLE_STYLE settings of the video stage.
    static func renderOptions(_ env: [String: String]) throws -> RenderOptions {
        func int(_ name: String, _ d: Int, _ range: ClosedRange<Int>) throws -> Int { try integer(env, name, d, range) }
        var render = RenderOptions()
        if let size = env["REELFORGE_VIDEO_SIZE"], !size.isEmpty {
            let parts = size.lowercased().split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2, parts.allSatisfy({ (64...4096).contains($0) && $0 % 2 == 0 }) else {
                throw ConfigError.invalid("REELFORGE_VIDEO_SIZE", "must be WIDTHxHEIGHT with even numbers, e.g. 1080x1920")
            }
            render.width = parts[0]; render.height = parts[1]
        }
        render.fps = try int("REELFORGE_VIDEO_FPS", 30, 1...120)
        render.preset = text(env, "REELFORGE_VIDEO_PRESET") ?? "veryfast"
        render.crf = try int("REELFORGE_VIDEO_CRF", 23, 0...51)
        render.threads = try int("REELFORGE_VIDEO_THREADS", 0, 0...64)
        render.loopSpillBytes = try int("REELFORGE_LOOP_SPILL_MB", 1024, 0...1_048_576) << 20
        if let bg = text(env, "REELFORGE_BACKGROUND") {
            do { render.background = try BackgroundSource(parsing: bg) } catch let f as StageFailure {
                throw ConfigError.invalid("REELFORGE_BACKGROUND", f.message)
            }
        }
        if let path = text(env, "REELFORGE_MUSIC") {
            guard FileManager.default.fileExists(atPath: path) else { throw ConfigError.invalid("REELFORGE_MUSIC", "names no file") }
            render.music = URL(fileURLWithPath: path)
            render.musicLevelDB = Double(try int("REELFORGE_MUSIC_LEVEL_DB", -20, -60...0))
        }
        if let path = text(env, "REELFORGE_SUBTITLE_STYLE") { render.subtitles = try SubtitleStyle.load(path, variable: "REELFORGE_SUBTITLE_STYLE") }
        return render
    }

    /// The provider a variable names (nil for the offline one), checked against the known ones.
    static func provider(_ env: [String: String], _ name: String, offline: String, known: [String]) throws -> String? {
        let p = (env[name] ?? offline).lowercased()
        guard p != offline && !p.isEmpty else { return nil }
        guard known.contains(p) else { throw ConfigError.invalid(name, "must be \(([offline] + known).joined(separator: ", "))") }
        return p
    }

    /// An http(s) base URL from a variable, or the default.
    static func baseURL(_ env: [String: String], _ name: String, _ fallback: String) throws -> URL {
        let text = env[name].flatMap { $0.isEmpty ? nil : $0 } ?? fallback
        guard let url = URL(string: text), url.scheme == "http" || url.scheme == "https" else {
            throw ConfigError.invalid(name, "must be an http(s) URL")
        }
        return url
    }

    /// A number from a variable within a range, or the default.
    static func number(_ env: [String: String], _ name: String, _ d: Double, _ range: ClosedRange<Double>) throws -> Double {
        guard let raw = env[name], !raw.isEmpty else { return d }
        guard let v = Double(raw), range.contains(v) else { throw ConfigError.invalid(name, "must be a number in \(range)") }
        return v
    }

    static func ttsSettings(_ env: [String: String]) throws -> TTSSettings? {
        guard let provider = try provider(env, "REELFORGE_TTS_PROVIDER", offline: "espeak", known: ["elevenlabs", "openai"]) else { return nil }
        let eleven = provider == "elevenlabs"
        let url = try baseURL(env, eleven ? "ELEVENLABS_BASE_URL" : "OPENAI_BASE_URL",
                              eleven ? "https://api.elevenlabs.io" : "https://api.openai.com/v1")
        func number(_ name: String, _ d: Double, _ range: ClosedRange<Double>) throws -> Double { try Self.number(env, name, d, range) }
        func text(_ name: String, _ d: String) -> String { env[name].flatMap { $0.isEmpty ? nil : $0 } ?? d }
        return TTSSettings(
            provider: provider, apiKey: env[eleven ? "ELEVENLABS_API_KEY" : "OPENAI_API_KEY"], baseURL: url,
            voice: eleven ? text("ELEVENLABS_VOICE_ID", "21m00Tcm4TlvDq8ikWAM") : text("OPENAI_TTS_VOICE", "alloy"),
            model: eleven ? text("ELEVENLABS_MODEL_ID", "eleven_multilingual_v2") : text("OPENAI_TTS_MODEL", "gpt-4o-mini-tts"),
            stability: try number("ELEVENLABS_STABILITY", 0.5, 0...1), similarity: try number("ELEVENLABS_SIMILARITY", 0.75, 0...1),
            timeout: .milliseconds(Int64(try number("REELFORGE_TTS_TIMEOUT_SECONDS", 120, 0.5...1800) * 1000)),
            pricePer1K: try number("REELFORGE_TTS_PRICE_PER_1K_CHARS", eleven ? 0.30 : 0.015, 0...100))
    }

    static func scriptSettings(_ env: [String: String]) throws -> LLMSettings? {
        guard let provider = try provider(env, "REELFORGE_SCRIPT_PROVIDER", offline: "template", known: ["openai", "anthropic"]) else { return nil }
        let openai = provider == "openai"
        let url = try baseURL(env, openai ? "OPENAI_BASE_URL" : "ANTHROPIC_BASE_URL",
                              openai ? "https://api.openai.com/v1" : "https://api.anthropic.com")
        func number(_ name: String, _ d: Double, _ range: ClosedRange<Double>) throws -> Double { try Self.number(env, name, d, range) }
        var prices: (Double, Double)?
        if let raw = env["REELFORGE_SCRIPT_PRICE_PER_MTOK"], !raw.isEmpty {
            let p = raw.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard p.count == 2 else { throw ConfigError.invalid("REELFORGE_SCRIPT_PRICE_PER_MTOK", "must be INPUT,OUTPUT in USD per million tokens") }
            prices = (p[0], p[1])
        }
        func prompt(_ name: String, _ d: String) throws -> String {
            guard let path = env[name], !path.isEmpty else { return d }
            guard let data = FileManager.default.contents(atPath: path) else { throw ConfigError.invalid(name, "names a file that cannot be read") }
            return String(decoding: data, as: UTF8.self)
        }
        return LLMSettings(
            provider: provider, apiKey: env[openai ? "OPENAI_API_KEY" : "ANTHROPIC_API_KEY"], baseURL: url,
            model: env["REELFORGE_SCRIPT_MODEL"].flatMap { $0.isEmpty ? nil : $0 } ?? (openai ? "gpt-4o-mini" : "claude-3-5-haiku-latest"),
            temperature: try number("REELFORGE_SCRIPT_TEMPERATURE", 0.8, 0...2),
            maxTokens: Int(try number("REELFORGE_SCRIPT_MAX_TOKENS", 1200, 64...32_000)),
            timeout: .milliseconds(Int64(try number("REELFORGE_SCRIPT_TIMEOUT_SECONDS", 60, 0.5...600) * 1000)),
            jsonMode: (env["REELFORGE_SCRIPT_JSON_MODE"] ?? "on") != "off", pricePerMillion: prices,
            systemPrompt: try prompt("REELFORGE_SCRIPT_SYSTEM_PROMPT_FILE", ScriptPrompts.system),
            userPrompt: try prompt("REELFORGE_SCRIPT_PROMPT_FILE", ScriptPrompts.user))
    }

    /// `NAME_FILE` names a file whose content is NAME's value (Docker and Kubernetes secrets), for the variables
    /// that carry secrets. The value is registered with the Redactor so it never reaches a log line.
    static func withSecretFiles(_ env: [String: String]) throws -> [String: String] {
        var out = env
        for (name, path) in env where name.hasSuffix("_FILE") && (name.hasPrefix("AMQP_") || name.hasPrefix("MONGODB_") || name.hasSuffix("_API_KEY_FILE")) {
            let base = String(name.dropLast("_FILE".count))
            if let v = env[base], !v.isEmpty { continue }
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw ConfigError.invalid(name, "names a file that cannot be read (\(SafeName.file(URL(fileURLWithPath: path).lastPathComponent)))")
            }
            let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
            out[base] = value
            Redactor.shared.register(value)
        }
        return out
    }

    /// The settings as printed at start, secrets redacted.
    public var summary: String {
        let r = Redactor.shared
        return [
            "amqp=\(r.redact(amqpURL))", "mongodb=\(r.redact(mongoURI))", "prefix=\(prefix)", "prefetch=\(concurrency)",
            "retry_delays=\(retry.delays.map(\.compact).joined(separator: ","))", "max_retries=\(retry.maxRetries)",
            "jitter=\(retry.jitter)", "delivery_limit=\(deliveryLimit)", "lease=\(leaseDuration.compact)",
            "failpoints=\(failpointsText.isEmpty ? "off" : failpointsText)", "worker_id=\(workerID)",
            "video=\(render.width)x\(render.height)@\(render.fps) \(render.preset) crf \(render.crf)",
            "script=\(scriptLLM.map { "\($0.provider) \($0.model)" } ?? "template")",
            "speech=\(tts.map { "\($0.provider) \($0.model) \($0.voice)" } ?? "espeak-ng \(espeakWordsPerMinute) wpm")",
        ].joined(separator: " ")
    }

    public var runnerSettings: RunnerSettings {
        RunnerSettings(workerID: workerID, retry: retry, failpoints: failpoints, leaseDuration: leaseDuration,
                       workRoot: workDir)
    }
}
