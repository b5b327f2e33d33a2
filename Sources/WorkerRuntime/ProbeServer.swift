import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Shared

/// The port the probes server asks for.
public enum ProbePort: Sendable, Equatable {
    /// Set by the operator (REELFORGE_HTTP_PORT): if it is taken, the worker must not start (0: any free port).
    case fixed(Int)
    /// The default: if it is taken (another worker on the host), any free port, logged.
    case preferred(Int)
}

public enum ProbeServerError: Error, CustomStringConvertible, Equatable {
    case portBusy(Int)
    case stoppedBeforeListening
    case cannotListen(String)

    public var description: String {
        switch self {
        case .portBusy(let port):
            return "REELFORGE_HTTP_PORT=\(port): the port is in use by another process; choose a free port, 0 for any free port, or off"
        case .stoppedBeforeListening:
            return "the probes server stopped before it listened"
        case .cannotListen(let why):
            return "the probes server cannot listen: \(why)"
        }
    }
}

/// `/healthz` (the process serves), `/readyz` (see `Readiness`) and `/metrics` (Prometheus text) over HTTP/1.1,
/// served by Hummingbird: every connection on its own, so a slow or idle client never delays another's probe.
/// A connection that has not sent a complete request head within `idleTimeout` (or stays idle that long between
/// requests) is closed; a reset connection is only that connection's error.
///
/// A `Service`: it runs in the worker's ServiceGroup and stops on its graceful shutdown (requests in progress
/// finish). A port it cannot listen on is a `ProbeServerError`.
public struct ProbeServer: Service, CustomStringConvertible {
    public let choice: ProbePort
    let responder: RouterResponder<BasicRequestContext>
    let logger: Logger
    private let listening = OneShot<Result<Int, ProbeServerError>>()

    public static let idleTimeout: TimeAmount = .seconds(5)

    public init(_ choice: ProbePort, metrics: WorkerMetrics, readiness: Readiness, logger: Logger) {
        self.choice = choice
        self.responder = Self.routes(metrics: metrics, readiness: readiness).buildResponder()
        self.logger = logger
    }

    public var description: String { "ProbeServer" }

    /// The port once the server listens; throws when it could not.
    public func port() async throws -> Int { try await listening.value().get() }

    public func run() async throws {
        defer { listening.give(.failure(.stoppedBeforeListening)) }  // no effect once listening
        do {
            switch choice {
            case .fixed(let port):
                do { try await serve(port: port) } catch let e as IOError where e.errnoCode == EADDRINUSE {
                    throw ProbeServerError.portBusy(port)
                }
            case .preferred(let port):
                do { try await serve(port: port) } catch let e as IOError where e.errnoCode == EADDRINUSE {
                    logger.notice("port \(port) is in use (another worker on this host?); taking a free port for the probes")
                    try await serve(port: 0)
                }
            }
        } catch where !listening.isGiven {
            let failure = error as? ProbeServerError ?? .cannotListen(Redactor.shared.redact("\(error)"))
            listening.give(.failure(failure))
            throw failure
        }
    }

    static func routes(metrics: WorkerMetrics, readiness: Readiness) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("healthz") { _, _ in text(.ok, "ok\n") }
        router.get("readyz") { _, _ in
            switch await readiness.verdict() {
            case .ready: return text(.ok, "ready\n")
            case .notReady(let why): return text(.serviceUnavailable, "not ready: \(why)\n")
            }
        }
        router.get("metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        }
        return router
    }

    static func text(_ status: HTTPResponse.Status, _ body: String, type: String = "text/plain; charset=utf-8") -> Response {
        Response(status: status, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// Serves on `port` until graceful shutdown; logs the port once it listens.
    private func serve(port: Int) async throws {
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .warning)  // no line per connection or at start
        let app = Application(
            responder: responder,
            server: .http1(configuration: .init(idleTimeout: Self.idleTimeout)),
            configuration: .init(address: .hostname("0.0.0.0", port: port)),
            onServerRunning: { [logger, listening] channel in
                let actual = channel.localAddress?.port ?? port
                logger.info("serving /healthz, /readyz and /metrics on port \(actual)")
                listening.give(.success(actual))
            },
            logger: quiet)
        try await app.run()
    }
}
