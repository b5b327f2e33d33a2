import Foundation
import Logging
import Shared
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A small HTTP/1.1 server for probes and scraping: `/healthz` (the process serves), `/readyz` (connected to the
/// store and the broker and consuming), `/metrics` (Prometheus text). One dedicated thread, one request per
/// connection, bounded request size.
public final class HealthServer: Sendable {
    public let port: Int
    private let ready = Atomic<Bool>(false)
    private let running = Atomic<Bool>(true)
    private let metrics: RunnerMetrics
    private let fd: Int32

    public init(port: Int, metrics: RunnerMetrics, logger: Logger) throws {
        self.metrics = metrics
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard s >= 0 else { throw ConfigError.invalid("REELFORGE_HTTP_PORT", "cannot open a socket") }
        var yes: Int32 = 1
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr = in_addr(s_addr: INADDR_ANY)
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(s, 16) == 0 else {
            close(s)
            throw ConfigError.invalid("REELFORGE_HTTP_PORT", "port \(port) is not free")
        }
        var actual = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) } }
        self.port = Int(UInt16(bigEndian: actual.sin_port))
        self.fd = s
        let t = Thread { [self] in self.serve(logger: logger) }
        t.name = "health-http"
        t.start()
    }

    public func setReady(_ value: Bool) { ready.store(value, ordering: .relaxed) }

    public func stop() {
        running.store(false, ordering: .relaxed)
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }

    private func serve(logger: Logger) {
        while running.load(ordering: .relaxed) {
            let client = accept(fd, nil, nil)
            if client < 0 { if running.load(ordering: .relaxed) { continue } else { return } }
            var tv = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = read(client, &buffer, buffer.count)
            let request = n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : ""
            let path = request.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
            let (status, body, type): (String, String, String)
            switch path.split(separator: "?").first.map(String.init) ?? path {
            case "/healthz": (status, body, type) = ("200 OK", "ok\n", "text/plain")
            case "/readyz":
                (status, body, type) = ready.load(ordering: .relaxed) ? ("200 OK", "ready\n", "text/plain") : ("503 Service Unavailable", "not ready\n", "text/plain")
            case "/metrics": (status, body, type) = ("200 OK", metrics.prometheusText(), "text/plain; version=0.0.4")
            default: (status, body, type) = ("404 Not Found", "not found\n", "text/plain")
            }
            let response = "HTTP/1.1 \(status)\r\nContent-Type: \(type)\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
            _ = response.withCString { write(client, $0, strlen($0)) }
            close(client)
        }
    }
}
