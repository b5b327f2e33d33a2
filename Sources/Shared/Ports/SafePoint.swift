/// A place in a running stage where it may stop: between frame batches of a render, between pieces of speech,
/// before each provider call. The runner installs one per stage run (`StageSafePoint.current`); it throws
/// `LeaseLost` when another worker has taken the stage over and `CancellationError` when the run was
/// cancelled, so that a worker that lost its lease stops within moments instead of competing with the one that
/// took over.
public protocol SafePoint: Sendable {
    /// Cheap while the lease is fresh by the wall clock; otherwise confirms it with the store first.
    func check() async throws
    /// The same for a blocking loop on a thread of its own (never on Swift's cooperative pool): it may wait
    /// there, briefly, for the lease to be confirmed.
    func checkBlocking() throws
}

/// The safe point of the stage run the current task belongs to.
public enum StageSafePoint {
    @TaskLocal public static var current: (any SafePoint)?

    /// Stops the stage here if its lease was lost or its task cancelled; nothing else outside a stage run.
    public static func check() async throws {
        try Task.checkCancellation()
        try await current?.check()
    }
}

/// The stage's lease passed to another worker (this one was stopped or cut off past its expiry): the run is
/// abandoned, its results are not stored.
public struct LeaseLost: Error, Sendable, CustomStringConvertible {
    public var stage: Stage
    public init(stage: Stage) { self.stage = stage }
    public var description: String { "lost the lease on \(stage) to another worker: abandoning this run" }
}

extension StageInput {
    /// A safe point: call it between pieces of work (see `SafePoint`).
    public func checkpoint() async throws { try await StageSafePoint.check() }
}
