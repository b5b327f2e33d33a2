import Foundation
import Logging
import Synchronization

/// Keeps the lease of one stage run renewed and answers the stage's safe points.
///
/// Time is read from the wall clock, not from a sleeping timer: a process that was stopped (SIGSTOP, a frozen
/// VM) sees on its first look after waking that its lease may have expired meanwhile, and asks the store before
/// doing any more work.
final class LeaseKeeper: SafePoint {
    private struct State {
        var renewedAt: Date
        var lost = false
        var cancelled = false
    }

    let store: any JobStore
    let jobID: String
    let stage: Stage
    let owner: String
    let duration: TimeInterval
    let logger: Logger
    private let state: Mutex<State>

    init(store: any JobStore, jobID: String, stage: Stage, owner: String, duration: Duration, logger: Logger) {
        self.store = store; self.jobID = jobID; self.stage = stage; self.owner = owner
        self.duration = duration.seconds; self.logger = logger
        state = Mutex(State(renewedAt: Date()))  // claimed just now
    }

    /// Renewed every third of the lease.
    var renewEvery: TimeInterval { duration / 3 }

    /// Renews the lease every third of its duration, looking at the clock at least once a second, until the
    /// lease is lost (throws `LeaseLost`) or the task is cancelled.
    func keepRenewed() async throws {
        let tick = min(1, renewEvery)
        while true {
            try await Task.sleep(for: .milliseconds(Int64(tick * 1000)))
            if Date() >= state.withLock({ $0.renewedAt }) + renewEvery { _ = try await renew() }
        }
    }

    /// One renewal: true when the store confirmed the lease, false when the store could not be asked. Throws
    /// `LeaseLost` when the lease is no longer this run's.
    func renew() async throws -> Bool {
        let at = Date()
        do {
            if try await store.renew(jobID: jobID, stage: stage, owner: owner, until: at + duration) {
                state.withLock { $0.renewedAt = at }
                return true
            }
        } catch is CancellationError { throw CancellationError() } catch {
            logger.warning("could not renew the lease (will try again): \(Redactor.shared.redact("\(error)"))")
            return false
        }
        state.withLock { $0.lost = true }
        throw LeaseLost(stage: stage)
    }

    /// Makes sure the lease is still this run's (before its results are stored), waiting out a store outage.
    func confirm() async throws {
        while try await !renew() { try await Task.sleep(for: .milliseconds(500)) }
    }

    /// From the cancellation handler of the stage's task: blocking loops cannot see task cancellation.
    func cancel() { state.withLock { $0.cancelled = true } }

    private enum Verdict { case fresh, stale, lost, cancelled }

    /// Fresh while no more than a third of the lease is left unrenewed by the wall clock (renewals come every
    /// third, so only a stopped process, or a store slow for that long, finds it stale).
    private func verdict() -> Verdict {
        let s = state.withLock { $0 }
        if s.lost { return .lost }
        if s.cancelled { return .cancelled }
        return Date() < s.renewedAt + duration - renewEvery ? .fresh : .stale
    }

    func check() async throws {
        try Task.checkCancellation()
        while true {
            switch verdict() {
            case .fresh: return
            case .lost: throw LeaseLost(stage: stage)
            case .cancelled: throw CancellationError()
            case .stale: if try await !renew() { try await Task.sleep(for: .milliseconds(500)) }
            }
        }
    }

    func checkBlocking() throws {
        while true {
            switch verdict() {
            case .fresh: return
            case .lost: throw LeaseLost(stage: stage)
            case .cancelled: throw CancellationError()
            case .stale: usleep(50_000)  // keepRenewed asks the store within a second
            }
        }
    }
}
