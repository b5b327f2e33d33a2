import ApiServer
import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import Shared
import UnixSignals
import WorkerRuntime

/// `reelforge serve`: the HTTP API and the dashboard. With AMQP_URL and MONGODB_URI it fronts the distributed
/// pipeline (the workers do the work); without them it runs the whole pipeline in this process on the embedded
/// store, so the same API and dashboard work on one machine.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the HTTP API and the web dashboard (docs/api.md).",
        discussion: """
        With AMQP_URL and MONGODB_URI set, serves the distributed pipeline (stateless: run as many as you like behind a \
        load balancer). Without them, runs the whole pipeline in this process on the embedded store in --home.
        Tokens: REELFORGE_API_TOKENS_FILE, a token and its role (viewer or operator) per line. Without it, one operator \
        token is made and written to HOME/api-token (mode 0600).
        """)

    @Option(help: "Port to listen on (default: REELFORGE_API_PORT, else 8080; 0: any free port).") var port: Int?
    @Option(help: "Address to listen on (default: REELFORGE_API_HOST, else 127.0.0.1; 0.0.0.0 in a container).") var host: String?
    @Option(help: "The embedded store's folder, without a broker (as 'reelforge make --home').") var home = ".reelforge"
    @Option(help: "Stages run at once by the in-process pipeline (without a broker).") var concurrency = 2

    func validate() throws {
        if let port, !(0...65535).contains(port) { throw ValidationError("--port must be 0 to 65535") }
        if !(1...16).contains(concurrency) { throw ValidationError("--concurrency must be 1 to 16") }
    }

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        let distributed = try Self.isDistributed(env)
        let config = try ReelForgeConfig.fromEnvironment(env, modules: distributed ? [] : StageModule.pipeline)
        // The distributed backends set up logging and tracing when they connect.
        let connected = distributed ? try await Distributed.connect() : nil
        if !distributed { LoggingSetup.bootstrap(config) }
        let logger = Logger(label: "reelforge-serve")
        let settings = SettingsReader(try ReelForgeConfig.withSecretFiles(env))
        let homeURL = URL(fileURLWithPath: home, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL
        let tokens = try Self.tokens(settings, home: homeURL, logger: logger)
        var options = ApiServer.Options()
        options.port = try port ?? settings.integer(ApiServer.portVariable, 8080, 0...65535)
        options.host = host ?? settings.text(ApiServer.hostVariable, default: "127.0.0.1")
        options.corsOrigin = settings.text(ApiServer.corsVariable)
        options.cacheFolder = config.workDir.appendingPathComponent("api-cache")

        var (services, operations, artifacts) = try Self.backends(connected, config: config, home: homeURL, concurrency: concurrency, logger: logger)
        let closing = connected
        let secret = try Self.webhookSecret(settings, home: distributed ? nil : homeURL, logger: logger)
        if let secret {
            services.append(WebhookNotifier(store: operations.store, secret: secret, logger: logger))
        } else {
            logger.notice("no \(WebhookNotifier.secretVariable)(_FILE): videos with a callback_url are refused")
        }
        services.append(try ApiServer(operations: operations, artifacts: artifacts, tokens: tokens, options: options, logger: logger,
                                      callbacks: secret != nil))
        let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) },
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do { try await group.run() } catch {
            await closing?.close()
            throw error
        }
        await closing?.close()
    }

    /// A broker and a database are configured (AMQP_URL and MONGODB_URI, or their _FILE variants).
    static func isDistributed(_ env: [String: String]) throws -> Bool {
        let resolved = try ReelForgeConfig.withSecretFiles(env)
        return resolved["AMQP_URL"]?.isEmpty == false && resolved["MONGODB_URI"]?.isEmpty == false
    }

    /// The ports of the distributed pipeline when connected, else the in-process pipeline on the embedded store in
    /// `home` (a service to run beside the server).
    static func backends(_ connected: Distributed?, config: ReelForgeConfig, home: URL, concurrency: Int,
                         logger: Logger) throws -> ([any Service], Operations, any ArtifactStore) {
        if let d = connected { return ([], d.operations, d.backends.artifacts) }
        let pipeline = try EmbeddedPipeline(home: home, config: config, concurrency: concurrency, logger: logger)
        logger.info("no AMQP_URL/MONGODB_URI: running the pipeline in this process on \(home.path)")
        return ([pipeline], pipeline.operations, pipeline.artifacts)
    }

    /// The webhook signing secret: REELFORGE_WEBHOOK_SECRET(_FILE), else (one machine) one made and kept in
    /// HOME/webhook-secret (0600). Scaled-out API servers must share one: without it, callbacks are refused.
    static func webhookSecret(_ settings: SettingsReader, home: URL?, logger: Logger) throws -> String? {
        if let s = settings.text(WebhookNotifier.secretVariable) {
            guard s.utf8.count >= 16 else { throw ConfigError.invalid(WebhookNotifier.secretVariable, "must be at least 16 characters") }
            return s
        }
        guard let home else { return nil }
        let file = home.appendingPathComponent("webhook-secret")
        if let text = try? String(contentsOf: file, encoding: .utf8), text.utf8.count >= 16 {
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let secret = ApiTokens.generate()
        guard FileManager.default.createFile(atPath: file.path, contents: Data((secret + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ConfigError.invalid("--home", "cannot write \(file.path)")
        }
        logger.notice("webhooks are signed with the secret in \(file.path)")
        return secret
    }

    /// The tokens file, or one operator token made now and kept in HOME/api-token (0600; the path is logged, the
    /// token never).
    static func tokens(_ settings: SettingsReader, home: URL, logger: Logger) throws -> ApiTokens {
        if let path = settings.text(ApiTokens.variable) {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ConfigError.invalid(ApiTokens.variable, "names a file that cannot be read")
            }
            return try ApiTokens(parsing: text)
        }
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        let file = home.appendingPathComponent("api-token")
        if let text = try? String(contentsOf: file, encoding: .utf8), !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            logger.notice("no \(ApiTokens.variable): using the operator token in \(file.path)")
            return ApiTokens(operatorToken: text.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let token = ApiTokens.generate()
        let created = FileManager.default.createFile(atPath: file.path, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600])
        guard created else { throw ConfigError.invalid("--home", "cannot write \(file.path)") }
        logger.notice("no \(ApiTokens.variable): made an operator token in \(file.path) (open the dashboard and paste it, or add #token= and it to the address)")
        return ApiTokens(operatorToken: token)
    }
}

/// `reelforge mcp`: the MCP server for AI agents over stdio (tools create_video, get_video, list_videos), on the
/// distributed pipeline with AMQP_URL and MONGODB_URI, else on the embedded store with the pipeline running in this
/// process while the session lasts. Nothing but the protocol is written to stdout (logs go to stderr).
struct Mcp: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp", abstract: "Serve MCP tools (create_video, get_video, list_videos) over stdio for AI agents.")

    @Option(help: "The embedded store's folder, without a broker (as 'reelforge make --home').") var home = ".reelforge"

    func run() async throws {
        var env = ProcessInfo.processInfo.environment
        if env["REELFORGE_LOG_LEVEL"] == nil { env["REELFORGE_LOG_LEVEL"] = "warning" }
        let distributed = try Serve.isDistributed(env)
        let config = try ReelForgeConfig.fromEnvironment(env, modules: distributed ? [] : StageModule.pipeline)
        let connected = distributed ? try await Distributed.connect() : nil
        if !distributed { LoggingSetup.bootstrap(config) }
        let logger = Logger(label: "reelforge-mcp")
        let homeURL = URL(fileURLWithPath: home, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL
        let (services, operations, _) = try Serve.backends(connected, config: config, home: homeURL, concurrency: 1, logger: logger)
        let background = Task {
            try await withThrowingDiscardingTaskGroup { group in for s in services { group.addTask { try await s.run() } } }
        }
        try await McpTools(operations: operations).serveStdio()
        background.cancel()
        _ = await background.result
        await connected?.close()
    }
}
