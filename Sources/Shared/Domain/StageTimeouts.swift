import Foundation

/// How long one run of each stage may take by the wall clock, whatever it waits for (`REELFORGE_STAGE_TIMEOUTS`,
/// e.g. `video=3600,audio=900`): a run past its limit is stopped and counts as a transient failure (retried, with
/// its attempt spent). The defaults fit a 10-minute video on a slow machine.
public struct StageTimeouts: Sendable, Hashable {
    public var limits: [Stage: Duration]

    public static let variable = "REELFORGE_STAGE_TIMEOUTS"
    public static let defaults = StageTimeouts(limits: [.script: .seconds(300), .adapt: .seconds(120), .audio: .seconds(1800), .video: .seconds(3600)])

    public init(limits: [Stage: Duration]) { self.limits = limits }

    /// `stage=seconds` pairs separated by commas, over the defaults; seconds from 1 to 86400.
    public init(parsing text: String, name: String = variable) throws {
        self = Self.defaults
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
            let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, let stage = Stage(rawValue: kv[0].lowercased()), let seconds = Double(kv[1]), (1...86_400).contains(seconds) else {
                throw ConfigError.invalid(name, "must be stage=seconds pairs separated by commas (script, adapt, audio, video; 1 to 86400), e.g. video=3600")
            }
            limits[stage] = .milliseconds(Int64(seconds * 1000))
        }
    }

    public subscript(stage: Stage) -> Duration? { limits[stage] }
}
