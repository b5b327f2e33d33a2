import Foundation

/// A few dedicated threads for blocking C calls (libmongoc, espeak-ng, libav), so they never occupy Swift's
/// cooperative pool. Work runs in submission order on the first free thread.
///
/// `@unchecked Sendable`: the queue of work is guarded by `cond`; each closure runs on exactly one thread.
public final class BlockingPool: @unchecked Sendable {
    private let cond = NSCondition()
    private var work: [() -> Void] = []
    private var running = true

    public init(threads: Int, name: String) {
        for i in 0..<max(1, threads) {
            let t = Thread { [self] in self.loop() }
            t.name = "\(name)-\(i)"
            t.start()
        }
    }

    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (cont: CheckedContinuation<T, Error>) in
            cond.lock()
            guard running else { cond.unlock(); cont.resume(throwing: CancellationError()); return }
            work.append { do { cont.resume(returning: try body()) } catch { cont.resume(throwing: error) } }
            cond.signal()
            cond.unlock()
        }
    }

    /// Lets queued work finish, then ends the threads.
    public func shutdown() {
        cond.lock()
        running = false
        cond.broadcast()
        cond.unlock()
    }

    private func loop() {
        while true {
            cond.lock()
            while work.isEmpty && running { cond.wait() }
            if work.isEmpty && !running { cond.unlock(); return }
            let job = work.removeFirst()
            cond.unlock()
            job()
        }
    }
}
