import Foundation
import ReelForgeTestKit
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A raw TCP client for the probes port: what a load balancer, a port scanner or a slow client does.
final class RawConnection: @unchecked Sendable {  // its descriptor only; one test uses it at a time
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        let rc = withIPv4(port: port, host: inet_addr("127.0.0.1")) { connect(fd, $0, $1) }
        guard fd >= 0, rc == 0 else { Glibc.close(fd); throw ProbeTestError("cannot connect to port \(port): errno \(errno)") }
    }

    func send(_ text: String) {
        _ = text.withCString { Glibc.send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
    }

    /// Reads until the peer closes or `timeout` passes, off the cooperative pool. Nil when nothing came back
    /// before the timeout.
    func readToEnd(timeout: Duration) async -> String? { await offThePool { self.readToEndBlocking(timeout: timeout) } }

    private func readToEndBlocking(timeout: Duration) -> String? {
        let deadline = ContinuousClock.now + timeout
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while ContinuousClock.now < deadline {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let left = deadline - ContinuousClock.now
            guard poll(&p, 1, Int32(max(1, left.milliseconds))) > 0 else { continue }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { return String(decoding: bytes, as: UTF8.self) }
            bytes += buffer[0..<n]
        }
        return nil
    }

    /// Closes with SO_LINGER {1, 0}: the peer gets a TCP reset instead of a normal end.
    func reset() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        Glibc.close(fd)
    }

    func close() { Glibc.close(fd) }
}

/// A listening socket that holds a port.
final class RawListener {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        let rc = withIPv4(port: port, host: INADDR_ANY) { bind(fd, $0, $1) }
        guard fd >= 0, rc == 0, listen(fd, 4) == 0 else { Glibc.close(fd); throw ProbeTestError("port \(port) is taken already") }
    }

    func close() { Glibc.close(fd) }
}

/// Calls `body` with an IPv4 socket address (port in host order, host in network order) and its length.
func withIPv4(port: Int, host: in_addr_t, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    addr.sin_addr = in_addr(s_addr: host)
    return withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
}

struct ProbeTestError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// One HTTP/1.1 GET; its status line and body, or nil when no full answer came within `timeout`.
func probe(_ port: Int, _ path: String, timeout: Duration = .seconds(1)) async -> (status: Int, body: String)? {
    guard let c = try? RawConnection(port: port) else { return nil }
    defer { c.close() }
    c.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    guard let answer = await c.readToEnd(timeout: timeout), let split = answer.range(of: "\r\n\r\n") else { return nil }
    let status = Int(answer.split(separator: " ").dropFirst().first ?? "") ?? 0
    return (status, String(answer[split.upperBound...]))
}

/// The probes server of a real worker process (issue 12 items 1, 2, 8, 9): resets and slow clients never stop
/// it or delay a probe, two workers share a host, and /readyz follows the store and the broker.
@Suite("Probes of worker processes", .enabled(if: TestServices.available), .serialized)
struct ProbeTests {
    let logs = temporaryDirectory("probe-logs")
    let env: [String: String] = [
        "AMQP_URL": TestServices.amqpURL ?? "", "MONGODB_URI": TestServices.freshMongoURI(),
        "REELFORGE_QUEUE_PREFIX": TestServices.freshPrefix(), "REELFORGE_WORK_DIR": temporaryDirectory("work").path,
        "REELFORGE_FAILPOINTS": "", "REELFORGE_HTTP_PORT": "0", "REELFORGE_SHUTDOWN_GRACE_SECONDS": "5",
    ]

    /// Starts a worker and waits for the port it logs.
    func startWorker(_ env: [String: String], unsetting: [String] = []) async throws -> (Proc, Int) {
        let worker = try Proc("ScriptWorker", env: env, unsetting: unsetting, logDir: logs)
        var port: Int?
        _ = await eventually(timeout: .seconds(30)) {
            port = worker.output.firstMatch(of: /on port (\d+)/).flatMap { Int($0.1) }
            return port != nil || !worker.process.isRunning
        }
        return (worker, try #require(port, "no port in the log:\n\(worker.output)"))
    }

    @Test func resetConnectionsLeaveTheWorkerServing() async throws {
        let (worker, port) = try await startWorker(env)
        for round in 0..<6 {
            let c = try RawConnection(port: port)
            // Bare resets, and resets after a request so the server writes to a reset socket.
            if round % 2 == 1 { c.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n") }
            if round >= 4 { try await Task.sleep(for: .milliseconds(20)) }
            c.reset()
        }
        try await Task.sleep(for: .milliseconds(500))
        #expect(worker.process.isRunning, "the worker died: status \(worker.process.terminationStatus)\n\(worker.output)")
        let answer = await probe(port, "/healthz")
        #expect(answer?.status == 200 && answer?.body == "ok\n")
        #expect(await worker.terminate() == 0)
    }

    /// Whether the process ignores SIGPIPE (the SigIgn mask of /proc/PID/status; SIGPIPE is signal 13).
    static func ignoresSIGPIPE(_ pid: Int32) -> Bool {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("SigIgn:") }),
              let mask = UInt64(line.dropFirst("SigIgn:".count).trimmingCharacters(in: .whitespaces), radix: 16) else { return false }
        return mask & (1 << (13 - 1)) != 0
    }

    @Test func everyExecutableIgnoresSIGPIPE() async throws {
        for name in ["ScriptWorker", "AudioWorker", "VideoWorker"] {
            let worker = try Proc(name, env: env, logDir: logs)
            // Until its signal handling is set up (just before it reports ready), SIGTERM ends a worker the default way.
            #expect(await eventually(timeout: .seconds(60)) { worker.output.contains("ready: consuming") })
            #expect(Self.ignoresSIGPIPE(worker.process.processIdentifier), "\(name) does not ignore SIGPIPE")
            // SIGTERM before the worker handles signals (while it connects) ends it by the signal: wait until it serves.
            #expect(await eventually(timeout: .seconds(30)) { worker.output.contains("ready: consuming") })
            #expect(await worker.terminate() == 0)
        }
        let home = temporaryDirectory("sigpipe-make")
        let make = try Proc("reelforge", ["make", "why cats purr", "--duration", "5", "--home", home.path, "--out", home.path],
                            env: env, logDir: logs)
        let ignored = await eventually(timeout: .seconds(20)) { Self.ignoresSIGPIPE(make.process.processIdentifier) || !make.process.isRunning }
        #expect(ignored && make.process.isRunning, "reelforge does not ignore SIGPIPE")
        make.kill9()
    }

    @Test func idleAndSlowClientsNeverDelayAProbe() async throws {
        let (worker, port) = try await startWorker(env)
        var held: [RawConnection] = []
        for n in 0..<50 {
            let c = try RawConnection(port: port)
            if n % 2 == 0 { c.send("GET /healthz HTTP/1.1\r\nHo") }  // a request head that never ends
            held.append(c)
        }
        for round in 0..<5 {
            for c in held.enumerated() where c.offset % 2 == 0 { c.element.send("s") }  // trickling, slowloris-style
            let started = ContinuousClock.now
            let answer = await probe(port, round % 2 == 0 ? "/healthz" : "/metrics", timeout: .seconds(3))
            #expect(answer?.status == 200, "probe \(round) got no answer within 3 s, under the 5 s idle deadline that would free a blocked server (\(ContinuousClock.now - started))")
            try await Task.sleep(for: .milliseconds(200))
        }
        // Per-connection deadlines: the server closes the idle and the never-finished connections by itself.
        var closed = 0
        for c in held where (await c.readToEnd(timeout: .seconds(10)) ?? "unanswered") == "" { closed += 1 }
        #expect(closed == held.count, "\(held.count - closed) of \(held.count) connections were still open after the deadline")
        held.forEach { $0.close() }
        #expect(worker.process.isRunning)
        #expect(await worker.terminate() == 0)
    }

    @Test func twoWorkersWithoutAPortShareAHostAndABusySetPortIsFatal() async throws {
        // Hold 9090 ourselves, so the test does not depend on what else runs on the machine.
        let holder = try? RawListener(port: 9090)
        var defaults = env
        defaults["REELFORGE_HTTP_PORT"] = nil
        let (first, firstPort) = try await startWorker(defaults, unsetting: ["REELFORGE_HTTP_PORT"])
        let (second, secondPort) = try await startWorker(defaults, unsetting: ["REELFORGE_HTTP_PORT"])
        #expect(firstPort != 9090 && secondPort != 9090 && firstPort != secondPort)
        #expect(first.output.contains("port 9090 is in use"))
        let firstAnswer = await probe(firstPort, "/healthz"), secondAnswer = await probe(secondPort, "/healthz")
        #expect(firstAnswer?.body == "ok\n" && secondAnswer?.body == "ok\n")

        var fixed = env
        fixed["REELFORGE_HTTP_PORT"] = String(firstPort)
        let third = try Proc("ScriptWorker", env: fixed, logDir: logs)
        _ = await eventually(timeout: .seconds(30)) { !third.process.isRunning }
        #expect(!third.process.isRunning && third.process.terminationStatus == 78, "\(third.output)")
        #expect(third.output.contains("REELFORGE_HTTP_PORT=\(firstPort): the port is in use"))
        #expect(await first.terminate() == 0)
        #expect(await second.terminate() == 0)
        holder?.close()
    }

    @Test func readyzFollowsTheStoreAndTheBroker() async throws {
        let services = try await PrivateServices.start()
        do { try await readinessDrill(services) } catch {
            _ = try? await services.run("stop")
            throw error
        }
        _ = try await services.run("stop")
    }

    func readinessDrill(_ services: PrivateServices) async throws {
        var e = env
        e["AMQP_URL"] = services.amqpURL
        e["MONGODB_URI"] = services.mongoURI
        let (worker, port) = try await startWorker(e)
        func readyz() async -> (status: Int, body: String)? { await probe(port, "/readyz", timeout: .seconds(3)) }
        #expect(await eventually(timeout: .seconds(60)) { await readyz()?.status == 200 }, "\(worker.output)")

        _ = try await services.run("stop-mongo")
        #expect(await eventually(timeout: .seconds(15)) { await readyz()?.status == 503 })
        #expect(await readyz()?.body.contains("MongoDB unreachable") == true)
        #expect(await probe(port, "/healthz")?.status == 200, "liveness does not depend on the backends")
        _ = try await services.run("start-mongo")
        #expect(await eventually(timeout: .seconds(30)) { await readyz()?.status == 200 })

        _ = try await services.run("stop-rabbit")
        #expect(await eventually(timeout: .seconds(15)) { await readyz()?.status == 503 })
        #expect(await readyz()?.body.contains("RabbitMQ unreachable") == true)
        _ = try await services.run("start-rabbit")
        #expect(await eventually(timeout: .seconds(60)) { await readyz()?.status == 200 }, "\(worker.output.suffix(3000))")
        #expect(await worker.terminate() == 0)
    }
}

/// A RabbitMQ node and an NX-27017 server of this test alone (scripts/services with its own state folder), so
/// that stopping them does not disturb the suites running beside it.
struct PrivateServices {
    let dir: URL
    let amqpURL: String
    let mongoURI: String

    static let script = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("scripts/services")

    static func start() async throws -> PrivateServices {
        let dir = temporaryDirectory("probe-services")
        let started = try await run("start", dir: dir)
        let env = try String(contentsOf: dir.appendingPathComponent("env"), encoding: .utf8)
        func value(_ name: String) throws -> String {
            let line = env.split(separator: "\n").first { $0.hasPrefix("export \(name)=") }
            return try #require(line.map { String($0.dropFirst("export \(name)=".count)) }, "no \(name) in the env file:\n\(started)")
        }
        return PrivateServices(dir: dir, amqpURL: try value("AMQP_URL"), mongoURI: try value("MONGODB_URI") + "_probes")
    }

    @discardableResult
    func run(_ command: String) async throws -> String { try await Self.run(command, dir: dir) }

    /// Runs `scripts/services COMMAND`. Not through Foundation's Process: the daemons it starts outlive it, and
    /// waiting for the script that way hung here; posix_spawn and waitpid on a thread of its own do not.
    @discardableResult
    static func run(_ command: String, dir: URL) async throws -> String {
        let out = dir.appendingPathComponent("last-command.log")
        let line = "REELFORGE_SERVICES_DIR='\(dir.path)' '\(script.path)' \(command) >'\(out.path)' 2>&1 </dev/null"
        let status = await withCheckedContinuation { (cont: CheckedContinuation<Int32, Never>) in
            Thread.detachNewThread { cont.resume(returning: spawnAndWait(["/bin/bash", "-c", line])) }
        }
        let output = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
        guard status == 0 else { throw ProbeTestError("scripts/services \(command) exited \(status):\n\(output)") }
        return output
    }

    /// The exit status of a program run to its end (-1 when it could not start or was killed).
    static func spawnAndWait(_ arguments: [String]) -> Int32 {
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid = pid_t()
        guard posix_spawn(&pid, arguments[0], nil, nil, argv, envp) == 0 else { return -1 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 { if errno != EINTR { return -1 } }
        return status & 0x7f == 0 ? (status >> 8) & 0xff : -1
    }
}

