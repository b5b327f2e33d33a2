/// Decides where a job starts and what a delivery for a given stage should do, from the durable checkpoint.
/// Pure: no I/O, no clock.
public enum ResumePlanner {
    /// What a worker does with a delivery for `stage`.
    public enum Decision: Sendable, Hashable {
        /// Run `stage` now.
        case run(Stage)
        /// `stage` already succeeded: skip it and make sure `next` is enqueued (nil: the job is complete).
        case alreadyDone(Stage, next: Stage?)
        /// The message asks for a stage whose inputs do not exist yet: send the job to `stage` instead.
        case reroute(to: Stage)
    }

    /// The stage a job must run next given its checkpoint; nil when the video already exists.
    public static func nextStage(after checkpoint: Checkpoint?) -> Stage? {
        guard let checkpoint else { return .script }
        return checkpoint.stage.next
    }

    public static func decide(messageStage stage: Stage, checkpoint: Checkpoint?) -> Decision {
        guard let needed = nextStage(after: checkpoint) else { return .alreadyDone(stage, next: nil) }
        if stage < needed { return .alreadyDone(stage, next: needed) }
        if stage > needed { return .reroute(to: needed) }
        return .run(stage)
    }

    /// Human-readable plan, e.g. `resuming after audio_generated, starting at video`.
    public static func describe(checkpoint: Checkpoint?) -> String {
        guard let checkpoint else { return "starting at script" }
        guard let next = checkpoint.stage.next else { return "video already generated, nothing to do" }
        return "resuming after \(checkpoint.rawValue), starting at \(next.rawValue)"
    }

    /// The stages a resume skips, in order.
    public static func skipped(checkpoint: Checkpoint?) -> [Stage] {
        guard let checkpoint else { return [] }
        return Stage.allCases.filter { $0 <= checkpoint.stage }
    }
}
