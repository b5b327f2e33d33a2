import Foundation

/// The four stages of the pipeline, in order.
public enum Stage: String, CaseIterable, Codable, Sendable, Comparable, CustomStringConvertible {
    case script, adapt, audio, video

    public var index: Int { Stage.allCases.firstIndex(of: self)! }
    public var next: Stage? { index + 1 < Stage.allCases.count ? Stage.allCases[index + 1] : nil }
    public var previous: Stage? { index > 0 ? Stage.allCases[index - 1] : nil }
    /// The checkpoint a success of this stage records.
    public var checkpoint: Checkpoint { Checkpoint.allCases[index] }
    /// `progress_percentage` once this stage succeeded: 25, 50, 75, 100.
    public var progressAfter: Int { (index + 1) * 100 / Stage.allCases.count }
    public var description: String { rawValue }

    public static func < (lhs: Stage, rhs: Stage) -> Bool { lhs.index < rhs.index }

    /// Parses `script`, `adapt`, `audio`, `video` (case-insensitive).
    public init?(parsing text: String) {
        self.init(rawValue: text.lowercased().trimmingCharacters(in: .whitespaces))
    }
}

/// The durable checkpoint names kept in `ideas.last_successful_step`.
public enum Checkpoint: String, CaseIterable, Codable, Sendable, Comparable, CustomStringConvertible {
    case scriptGenerated = "script_generated"
    case scriptAdapted = "script_adapted"
    case audioGenerated = "audio_generated"
    case videoGenerated = "video_generated"

    public var stage: Stage { Stage.allCases[Checkpoint.allCases.firstIndex(of: self)!] }
    public var description: String { rawValue }
    public static func < (lhs: Checkpoint, rhs: Checkpoint) -> Bool { lhs.stage < rhs.stage }
}

/// `status` of an idea (`ideas`) and of a job (`video_queue`).
public enum JobStatus: String, Codable, Sendable, CaseIterable {
    case queued, processing, completed, failed
    /// Stopped on request (`reelforge cancel`, the API): no stage starts again unless it is retried.
    case cancelled

    /// Nothing more happens by itself: completed, failed or cancelled.
    public var isFinal: Bool { self == .completed || self == .failed || self == .cancelled }
}
