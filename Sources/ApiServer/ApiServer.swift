import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Shared
import Synchronization

/// The HTTP API and the dashboard (docs/api.md), over the same `Operations` and ports as the CLI: stateless, so
/// any number of instances serve behind a load balancer. A `Service`: it runs in a ServiceGroup and stops on its
/// graceful shutdown.
public struct ApiServer: Service, CustomStringConvertible {
    public struct Options: Sendable {
        public var host: String
        public var port: Int
        /// `Access-Control-Allow-Origin` for this origin; CORS is off without one.
        public var corsOrigin: String?
        /// Where stored files are cached for range requests.
        public var cacheFolder: URL
        public init(host: String = "127.0.0.1", port: Int = 8080, corsOrigin: String? = nil,
                    cacheFolder: URL = FileManager.default.temporaryDirectory.appendingPathComponent("reelforge-api-cache")) {
            self.host = host; self.port = port; self.corsOrigin = corsOrigin; self.cacheFolder = cacheFolder
        }
    }

    public let options: Options
    let responder: RouterResponder<ApiContext>
    let logger: Logger
    private let listening = OneShotPort()

    public static let portVariable = "REELFORGE_API_PORT"
    public static let hostVariable = "REELFORGE_API_HOST"
    public static let corsVariable = "REELFORGE_API_CORS_ORIGIN"
    /// A connection that sends nothing this long is closed (live event streams write a comment every 15 s).
    public static let idleTimeout: TimeAmount = .seconds(60)

    /// `callbacks`: whether videos may ask for a `callback_url` (only when a WebhookNotifier announces them).
    public init(operations: Operations, artifacts: any ArtifactStore, tokens: ApiTokens, options: Options, logger: Logger,
                callbacks: Bool = true) throws {
        self.options = options
        self.logger = logger
        let router = Router(context: ApiContext.self)
        router.add(middleware: ErrorMiddleware(logger: logger))
        if let origin = options.corsOrigin {
            router.add(middleware: CORSMiddleware(allowOrigin: .custom(origin), allowHeaders: [.authorization, .contentType, .accept,
                                                                                                 HTTPField.Name("Idempotency-Key")!],
                                                  allowMethods: [.get, .post, .head, .options]))
        }
        router.get("healthz") { _, _ in json(.ok, ["status": "ok"]) }
        router.get("readyz") { _, _ in
            do {
                try await operations.store.ping()
                try await operations.queue.ping()
                return json(.ok, ["status": "ready"])
            } catch {
                return json(.serviceUnavailable, ["status": "not ready", "reason": .string(Redactor.shared.redact("\(error)").prefix(200).description)])
            }
        }
        router.get("openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
        router.get("/") { _, _ in Self.asset(Dashboard.html, type: "text/html; charset=utf-8") }
        router.get("dashboard.css") { _, _ in Self.asset(Dashboard.css, type: "text/css; charset=utf-8") }
        router.get("dashboard.js") { _, _ in Self.asset(Dashboard.javascript, type: "text/javascript; charset=utf-8") }
        let v1 = router.group("v1").add(middleware: AuthMiddleware(tokens: tokens))
        VideoRoutes(operations: operations, artifacts: artifacts, files: try FileServer(cache: options.cacheFolder), callbacks: callbacks).add(to: v1)
        DeadLetterRoutes(operations: operations).add(to: v1)
        responder = router.buildResponder()
    }

    static func asset(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "no-cache",
                                        .contentSecurityPolicy: "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
                                        HTTPField.Name("X-Content-Type-Options")!: "nosniff"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    public var description: String { "ApiServer" }

    /// The port once the server listens (the one asked for, or the one given for port 0).
    public func port() async throws -> Int { try await listening.value() }

    public func run() async throws {
        let app = Application(
            responder: responder,
            server: .http1(configuration: .init(idleTimeout: Self.idleTimeout)),
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "reelforge"),
            onServerRunning: { [logger, listening, options] channel in
                let actual = channel.localAddress?.port ?? options.port
                logger.info("API and dashboard on http://\(options.host):\(actual)/")
                listening.give(actual)
            },
            logger: logger)
        do { try await app.run() } catch {
            listening.fail(error)
            throw error
        }
        listening.fail(CancellationError())
    }
}

/// The port, given once by the server when it listens; `value()` waits for it.
final class OneShotPort: Sendable {
    private let state = Mutex<(Result<Int, any Error>?, [CheckedContinuation<Int, any Error>])>((nil, []))

    func give(_ port: Int) { resolve(.success(port)) }
    func fail(_ error: any Error) { resolve(.failure(error)) }

    private func resolve(_ result: Result<Int, any Error>) {
        let waiting = state.withLock { s -> [CheckedContinuation<Int, any Error>] in
            guard s.0 == nil else { return [] }
            s.0 = result
            defer { s.1 = [] }
            return s.1
        }
        for c in waiting { c.resume(with: result) }
    }

    func value() async throws -> Int {
        try await withCheckedThrowingContinuation { c in
            let ready = state.withLock { s -> Result<Int, any Error>? in
                if let r = s.0 { return r }
                s.1.append(c)
                return nil
            }
            if let ready { c.resume(with: ready) }
        }
    }
}
