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

    public var description: String {
        switch self {
        case .portBusy(let port):
            return "REELFORGE_HTTP_PORT=\(port): the port is in use by another process; choose a free port, 0 for any free port, or off"
        case .stoppedBeforeListening:
            return "the probes server stopped before it listened"
        }
    }
}

/// `/healthz` (the process serves), `/readyz` (see `Readiness`) and `/metrics` (Prometheus text) over HTTP/1.1,
/// served by Hummingbird: every connection on its own, so a slow or idle client never delays another's probe.
/// A connection that has not sent a complete request head within `idleTimeout` (or stays idle that long between
/// requests) is closed; a reset connection is only that connection's error.
public final class ProbeServer: Sendable {
    public let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, Never>

    public static let idleTimeout: TimeAmount = .seconds(5)

    private init(port: Int, group: ServiceGroup, task: Task<Void, Never>) {
        self.port = port
        self.group = group
        self.task = task
    }

    /// Starts serving and returns once the port is bound.
    public static func start(_ choice: ProbePort, metrics: WorkerMetrics, readiness: Readiness, logger: Logger) async throws -> ProbeServer {
        let router = routes(metrics: metrics, readiness: readiness)
        switch choice {
        case .fixed(let port):
            do { return try await launch(router, port: port, logger: logger) } catch let e as IOError where e.errnoCode == EADDRINUSE {
                throw ProbeServerError.portBusy(port)
            }
        case .preferred(let port):
            do { return try await launch(router, port: port, logger: logger) } catch let e as IOError where e.errnoCode == EADDRINUSE {
                logger.notice("port \(port) is in use (another worker on this host?); taking a free port for the probes")
                return try await launch(router, port: 0, logger: logger)
            }
        }
    }

    /// Stops accepting, lets requests in progress finish, closes the connections.
    public func stop() async {
        await group.triggerGracefulShutdown()
        await task.value
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

    /// Runs the application in a task; returns when it listens, throws what stopped it from listening.
    private static func launch(_ router: Router<BasicRequestContext>, port: Int, logger: Logger) async throws -> ProbeServer {
        let (bound, signal) = AsyncStream<Result<Int, Error>>.makeStream()
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .warning)  // no line per connection or at start
        let app = Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: idleTimeout)),
            configuration: .init(address: .hostname("0.0.0.0", port: port)),
            onServerRunning: { channel in signal.yield(.success(channel.localAddress?.port ?? port)) },
            logger: quiet)
        // A group of its own (no signals: WorkerMain handles those) so that stop() can shut it down gracefully.
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], logger: quiet)
        let task = Task {
            do { try await group.run() } catch { signal.yield(.failure(error)) }
            signal.finish()
        }
        for await result in bound {
            switch result {
            case .success(let actual): return ProbeServer(port: actual, group: group, task: task)
            case .failure(let error): throw error
            }
        }
        throw ProbeServerError.stoppedBeforeListening
    }
}
