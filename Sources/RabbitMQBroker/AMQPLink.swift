import Foundation
import Logging
import Shared

/// Owns one AMQP connection on a dedicated thread (librabbitmq is blocking and not thread-safe, so its calls
/// stay off Swift's cooperative pool). Callers submit work as closures; the thread runs them in order and,
/// between them, keeps the connection alive (heartbeats) or pumps deliveries into a buffer. A lost
/// connection is reopened with capped exponential backoff and jitter; each reconnect starts a new generation,
/// and deliveries of an older generation can no longer be acknowledged (the broker redelivers them).
///
/// `@unchecked Sendable`: every mutable field is guarded by `cond`, and the connection is touched only by the
/// link's own thread.
final class AMQPLink: @unchecked Sendable {
    typealias Setup = (AMQPConnection) throws -> Void

    private let endpoint: AMQPEndpoint
    private let name: String
    private let setup: Setup
    private let logger: Logger
    private let cond = NSCondition()
    private var commands: [(AMQPConnection) -> Void] = []
    private var buffer: [Delivery] = []
    private var waiters: [CheckedContinuation<Delivery?, Never>] = []
    private var running = true
    private var consuming: Bool
    private var generation: UInt64 = 0
    private var connected = false
    private var thread: Thread?
    private let stopped = DispatchSemaphore(value: 0)
    private let stageOfQueue: [String: (stage: Stage, priority: Priority)]
    /// Which class's buffered delivery goes next.
    private var turns = PriorityTurns()

    /// - Parameters:
    ///   - setup: run after each (re)connect: declare topology, qos, consume.
    ///   - consumer: pump deliveries while idle.
    init(endpoint: AMQPEndpoint, name: String, consumer: Bool, stageOfQueue: [String: (stage: Stage, priority: Priority)] = [:],
         logger: Logger, setup: @escaping Setup) {
        self.endpoint = endpoint; self.name = name; self.consuming = consumer
        self.setup = setup; self.logger = logger; self.stageOfQueue = stageOfQueue
        let t = Thread { [self] in self.main() }
        t.name = "amqp-\(name)"
        thread = t
        t.start()
    }

    deinit { precondition(!running || thread == nil, "AMQPLink \(name) was not shut down") }

    // MARK: Submitting work

    /// Runs `body` on the link's thread with the open connection. Fails fast if the broker cannot be reached.
    func perform<T: Sendable>(_ body: @escaping @Sendable (AMQPConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (cont: CheckedContinuation<T, Error>) in
            cond.lock()
            guard running else { cond.unlock(); cont.resume(throwing: QueueError.closed); return }
            commands.append { conn in
                do {
                    guard conn.isOpen else { throw QueueError.connection("not connected to \(self.endpoint.host):\(self.endpoint.port)") }
                    cont.resume(returning: try body(conn))
                } catch { cont.resume(throwing: error) }
            }
            cond.signal()
            cond.unlock()
        }
    }

    /// Runs `body` only if the connection is still of `generation`.
    func perform(generation g: UInt64, _ body: @escaping @Sendable (AMQPConnection) throws -> Void) async throws {
        try await perform { conn in
            guard self.currentGeneration == g else { throw QueueError.staleDelivery }
            try body(conn)
        }
    }

    private var currentGeneration: UInt64 { cond.lock(); defer { cond.unlock() }; return generation }

    /// Whether the connection is open as far as the link's thread knows (it notices a lost one within its next
    /// receive or heartbeat wait, about 100-200 ms).
    var isConnected: Bool { cond.lock(); defer { cond.unlock() }; return connected && running }

    // MARK: Deliveries

    func nextDelivery() async -> Delivery? {
        await withCheckedContinuation { (cont: CheckedContinuation<Delivery?, Never>) in
            cond.lock()
            if let d = takeBuffered() { cond.unlock(); cont.resume(returning: d); return }
            if !running || !consuming { cond.unlock(); cont.resume(returning: nil); return }
            waiters.append(cont)
            cond.unlock()
        }
    }

    /// The buffered delivery of the class whose turn it is, the oldest of that class (called under `cond`).
    private func takeBuffered() -> Delivery? {
        guard let p = turns.pick(waiting: Set(buffer.map(\.queuePriority))), let i = buffer.firstIndex(where: { $0.queuePriority == p }) else { return nil }
        return buffer.remove(at: i)
    }

    /// Stops consuming: cancels the consumers, gives back buffered deliveries, wakes waiters with nil.
    func stopConsuming() async {
        let (wasConsuming, pending) = takeWaitersAndStop()
        pending.forEach { $0.resume(returning: nil) }
        guard wasConsuming else { return }
        try? await perform { conn in
            try conn.cancelConsumers()
            // Deliveries sent before the cancel: give them back.
            while let r = try conn.receive(timeout: .milliseconds(50)) { try conn.reject(r.deliveryTag, requeue: true) }
            self.cond.lock()
            let buffered = self.buffer
            self.buffer = []
            let g = self.generation
            self.cond.unlock()
            for d in buffered where d.generation == g { try conn.reject(d.tag, requeue: true) }
        }
    }

    private func takeWaitersAndStop() -> (Bool, [CheckedContinuation<Delivery?, Never>]) {
        cond.lock()
        defer { cond.unlock() }
        let wasConsuming = consuming
        consuming = false
        let pending = waiters
        waiters = []
        return (wasConsuming, pending)
    }

    /// Closes the connection (unacknowledged deliveries return to their queues) and ends the thread.
    /// Asks the thread to close the connection and end, without waiting for it.
    func requestShutdown() {
        cond.lock()
        guard running else { cond.unlock(); return }
        running = false
        let pending = waiters
        waiters = []
        cond.signal()
        cond.unlock()
        pending.forEach { $0.resume(returning: nil) }
    }

    /// Closes the connection and waits for the thread to end, off the cooperative pool.
    func shutdown() async {
        requestShutdown()
        await withCheckedContinuation { (cont: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async { [stopped] in
                stopped.wait()
                stopped.signal()  // later waiters return at once
                cont.resume()
            }
        }
    }

    // MARK: The thread

    /// The thread's loop: (re)connect with backoff, run queued commands, else pump deliveries or idle; until
    /// `running` is cleared.
    private func main() {
        let conn = AMQPConnection()
        var retry = Backoff(first: .milliseconds(100), cap: .seconds(10))
        while !failLeftoverCommandsIfStopped() {
            if !conn.isOpen {
                guard connect(conn, &retry) else { continue }
            }
            if runQueuedCommands(conn) { continue }
            pumpOrIdle(conn)
        }
        conn.close()
        stopped.signal()
    }

    /// True once stopped: the commands still queued are failed ("not connected") and the loop ends.
    private func failLeftoverCommandsIfStopped() -> Bool {
        cond.lock()
        guard !running else { cond.unlock(); return false }
        let leftover = commands
        commands = []
        cond.unlock()
        leftover.forEach { $0(AMQPConnection()) }  // fail them: "not connected"
        return true
    }

    /// Opens the connection and sets it up; on failure fails the waiting commands and pauses. True when open.
    private func connect(_ conn: AMQPConnection, _ retry: inout Backoff) -> Bool {
        do {
            try conn.open(endpoint)
            try setup(conn)
            cond.lock()
            generation += 1
            buffer = []
            connected = true
            cond.unlock()
            if retry.failures > 0 { logger.notice("reconnected to the broker at \(endpoint.host):\(endpoint.port)") }
            retry.succeeded()
            return true
        } catch {
            conn.abandon()
            let pause = retry.failed()
            if retry.failures == 1 || retry.failures % 20 == 0 {
                logger.warning("broker unavailable (\(name)): \(Redactor.shared.redact("\(error)")); retrying with backoff")
            }
            // Fail waiting commands fast; callers retry with their own backoff.
            cond.lock()
            let waiting = commands
            commands = []
            connected = false
            cond.unlock()
            waiting.forEach { $0(conn) }
            cond.lock()
            if running { _ = cond.wait(until: Date().addingTimeInterval(pause)) }
            cond.unlock()
            return false
        }
    }

    /// Runs the commands queued so far; true when there were some.
    private func runQueuedCommands(_ conn: AMQPConnection) -> Bool {
        cond.lock()
        let work = commands
        commands = []
        cond.unlock()
        for command in work { command(conn) }
        return !work.isEmpty
    }

    /// Receives one delivery for a bit while consuming, else waits a little for commands and keeps the
    /// connection's heartbeats going. A broken connection is dropped, to be reopened.
    private func pumpOrIdle(_ conn: AMQPConnection) {
        cond.lock()
        let pumping = consuming
        cond.unlock()
        do {
            if pumping {
                if let r = try conn.receive(timeout: .milliseconds(100)) { try deliver(r, conn) }
            } else {
                cond.lock()
                if commands.isEmpty && running { _ = cond.wait(until: Date().addingTimeInterval(0.2)) }
                cond.unlock()
                if conn.isOpen { try conn.idle(timeout: .milliseconds(1)) }
            }
        } catch {
            logger.warning("broker connection lost (\(name)): \(Redactor.shared.redact("\(error)"))")
            conn.abandon()
            cond.lock(); connected = false; buffer = []; cond.unlock()
        }
    }

    private func deliver(_ r: AMQPConnection.Received, _ conn: AMQPConnection) throws {
        guard let (stage, priority) = stageOfQueue[r.queue] else {
            // Not one of our stage queues (cannot happen with our consumers): give it back rather than guess.
            logger.error("delivery from unknown queue '\(r.queue)' returned to the broker")
            try conn.reject(r.deliveryTag, requeue: true)
            return
        }
        cond.lock()
        let d = Delivery(body: r.body, headers: r.headers, queueStage: stage, queuePriority: priority, redelivered: r.redelivered,
                         tag: r.deliveryTag, generation: generation)
        if !waiters.isEmpty {
            _ = turns.pick(waiting: [priority])
            let w = waiters.removeFirst()
            cond.unlock()
            w.resume(returning: d)
        } else {
            buffer.append(d)
            cond.unlock()
        }
    }
}
