import Foundation
import Logging
import ServiceLifecycle
import Shared
import Synchronization

/// A worker's stage consumer as a `Service` (the shape of swift-jobs' `JobQueueProcessor`): it waits until its
/// backends are prepared, then hands the deliveries of its stages' queues to the `StageRunner`, `concurrency` at
/// once.
///
/// Graceful shutdown (SIGTERM, SIGINT, `ServiceGroup.triggerGracefulShutdown()`): `/readyz` answers 503 at once,
/// no new delivery is taken, the ones in flight finish. When the group's maximum shutdown duration runs out it
/// cancels this service: the in-flight stages are cancelled and their deliveries given back unacknowledged, so
/// another worker takes them. A stage that does not notice cancellation within `giveBackWait` (stuck in a blocking
/// call) is left behind; its delivery returns to the queue when the worker closes its broker connection.
public struct StageConsumer: Service, CustomStringConvertible {
    public let runner: StageRunner
    public let stages: [Stage]
    public let concurrency: Int
    let queueNames: String
    let readiness: Readiness?
    let prepare: @Sendable () async throws -> Void
    let startAfter: @Sendable () async throws -> Void
    let giveBackWait: Duration
    let logger: Logger

    /// - Parameters:
    ///   - queueNames: the queues consumed, as logged when ready.
    ///   - readiness: told when consuming starts and when shutdown begins.
    ///   - prepare: readies the backends (indexes, topology), retrying while they are unreachable.
    ///   - startAfter: waited for before prepare (the probes server listening).
    public init(runner: StageRunner, stages: [Stage], concurrency: Int, queueNames: String, readiness: Readiness?,
                prepare: @escaping @Sendable () async throws -> Void = {},
                startAfter: @escaping @Sendable () async throws -> Void = {},
                giveBackWait: Duration = .seconds(5), logger: Logger) {
        self.runner = runner; self.stages = stages; self.concurrency = concurrency; self.queueNames = queueNames
        self.readiness = readiness; self.prepare = prepare; self.startAfter = startAfter
        self.giveBackWait = giveBackWait; self.logger = logger
    }

    public var description: String { "StageConsumer(\(stages.map(\.rawValue).joined(separator: ",")))" }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await startAfter()
                try await prepare()
            }
        } catch where error is CancellationError || Task.isShuttingDownGracefully || Task.isCancelled {
            // Stopped before consuming (a backend call cut short by the shutdown fails with its own error).
            readiness?.shutDown()
            return
        }
        let source = try await runner.queue.consume(stages: stages, prefetch: concurrency)
        logger.info("ready: consuming \(queueNames)")
        readiness?.setConsuming(true)
        try await serve(source)
    }

    /// Runs the deliveries of `source` until graceful shutdown or cancellation, as described on the type.
    private func serve(_ source: any DeliverySource) async throws {
        let serving = Task { [runner, concurrency] in try await runner.consume(source, concurrency: concurrency) }
        let outcome = OneShot<Result<Void, Error>?>()
        Task { outcome.give(await serving.result) }
        _ = await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await outcome.value()
            } onGracefulShutdown: {
                readiness?.shutDown()
                logger.info("shutting down: no new deliveries; finishing in-flight work")
                Task { await source.stop() }
            }
        } onCancel: {
            readiness?.shutDown()
            serving.cancel()
            Task { await source.stop() }
            Task { [giveBackWait] in
                try? await Task.sleep(for: giveBackWait)
                outcome.give(nil)
            }
        }
        switch await outcome.value() {
        case nil:
            logger.notice("stopped after the grace period; undone deliveries return to their queues")
        case .failure(let error) where !(error is CancellationError):
            throw error
        default:
            if Task.isCancelled { logger.notice("stopped after the grace period; in-flight deliveries were given back") }
        }
    }
}

/// A value given once (later ones are dropped) and awaited by any number of callers.
final class OneShot<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var waiters: [CheckedContinuation<Value, Never>] = []
    }

    private let state = Mutex(State())

    func give(_ value: Value) {
        let waiters = state.withLock { s -> [CheckedContinuation<Value, Never>] in
            guard s.value == nil else { return [] }
            s.value = value
            defer { s.waiters = [] }
            return s.waiters
        }
        waiters.forEach { $0.resume(returning: value) }
    }

    var isGiven: Bool { state.withLock { $0.value != nil } }

    func value() async -> Value {
        await withCheckedContinuation { c in
            let ready = state.withLock { s -> Value? in
                if let v = s.value { return v }
                s.waiters.append(c)
                return nil
            }
            if let ready { c.resume(returning: ready) }
        }
    }
}
