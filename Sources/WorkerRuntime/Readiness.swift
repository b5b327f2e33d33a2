import Foundation
import Shared
import Synchronization

/// What `/readyz` answers: ready only while the worker consumes (started, not shutting down) and every backend
/// answered a cheap check just now (MongoDB `ping`, a passive declare on the broker and the consumer's connection
/// open). Each check has a deadline, and a verdict is reused for `cacheFor` so that probes never hammer the
/// backends; probes arriving while a check runs share its result.
public final class Readiness: Sendable {
    public typealias Check = @Sendable () async throws -> Void

    public enum Verdict: Sendable, Equatable {
        case ready
        case notReady(String)
    }

    private struct State {
        var consuming = false
        var shuttingDown = false
        var cached: (at: ContinuousClock.Instant, verdict: Verdict)?
        var running: Task<Verdict, Never>?
    }

    private let checks: [(name: String, check: Check)]
    private let timeout: Duration
    private let cacheFor: Duration
    private let state = Mutex(State())

    /// - Parameters:
    ///   - checks: named backend checks ("MongoDB", "RabbitMQ"); each throws when its backend cannot be used now.
    ///   - timeout: a check that has not answered by then counts as failed.
    ///   - cacheFor: how long a verdict is reused.
    public init(checks: [(name: String, check: Check)], timeout: Duration = .seconds(2), cacheFor: Duration = .seconds(1)) {
        self.checks = checks
        self.timeout = timeout
        self.cacheFor = cacheFor
    }

    /// Consuming (true) or not (false). Changes the verdict at once; ignored once shutting down.
    public func setConsuming(_ value: Bool) {
        state.withLock { $0.consuming = value && !$0.shuttingDown; $0.cached = nil }
    }

    /// Not ready from now on, even if a start that was under way reports consuming afterwards.
    public func shutDown() {
        state.withLock { $0.shuttingDown = true; $0.consuming = false; $0.cached = nil }
    }

    public func verdict() async -> Verdict {
        let now = ContinuousClock.now
        let task: Task<Verdict, Never> = state.withLock { s in
            guard s.consuming else { return Task { .notReady("not consuming (starting or shutting down)") } }
            if let c = s.cached, now - c.at < cacheFor { return Task { c.verdict } }
            if let running = s.running { return running }
            let running = Task { await self.evaluate() }
            s.running = running
            return running
        }
        return await task.value
    }

    private func evaluate() async -> Verdict {
        let failures = await withTaskGroup(of: String?.self) { group in
            for (name, check) in checks {
                group.addTask { await Self.run(check, timeout: self.timeout).map { "\(name) unreachable: \($0)" } }
            }
            return await group.reduce(into: [String]()) { if let f = $1 { $0.append(f) } }
        }
        let verdict: Verdict = failures.isEmpty ? .ready : .notReady(failures.sorted().joined(separator: "; "))
        state.withLock { s in
            s.running = nil
            // A shutdown that began during the check wins.
            if s.consuming { s.cached = (ContinuousClock.now, verdict) }
        }
        return verdict
    }

    /// Runs `check` with a deadline; nil when it succeeded in time, else why not. A check stuck in a blocking call
    /// is left to finish on its own: the verdict does not wait for it.
    static func run(_ check: @escaping Check, timeout: Duration) async -> String? {
        await withCheckedContinuation { (cont: CheckedContinuation<String?, Never>) in
            let first = FirstAnswer(cont)
            let deadline = Task {
                try? await Task.sleep(for: timeout)
                first.give("no answer within \(timeout.compact)")
            }
            Task {
                do { try await check(); first.give(nil) } catch { first.give(Redactor.shared.redact("\(error)")) }
                deadline.cancel()
            }
        }
    }
}

/// Resumes a continuation with the first answer given; later answers are dropped.
private final class FirstAnswer: Sendable {
    private let continuation: Mutex<CheckedContinuation<String?, Never>?>

    init(_ continuation: CheckedContinuation<String?, Never>) { self.continuation = Mutex(continuation) }

    func give(_ answer: String?) {
        let waiting = continuation.withLock { c in defer { c = nil }; return c }
        waiting?.resume(returning: answer)
    }

}
