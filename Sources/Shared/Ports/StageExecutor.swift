import Foundation
import Logging

/// Everything a stage sees of a job: the idea, the artifacts of earlier stages, a private work folder.
public struct StageInput: Sendable {
    public var idea: IdeaRecord
    public var jobID: String
    public var attempt: Int
    public var workDir: URL
    public var artifacts: any ArtifactStore
    /// Reports how far a long stage is (0...1) with a short detail such as `186/310 frames`.
    public var progress: @Sendable (Double, String) -> Void

    public init(idea: IdeaRecord, jobID: String, attempt: Int, workDir: URL, artifacts: any ArtifactStore,
                progress: @escaping @Sendable (Double, String) -> Void = { _, _ in }) {
        self.idea = idea; self.jobID = jobID; self.attempt = attempt; self.workDir = workDir; self.artifacts = artifacts
        self.progress = progress
    }

    /// The inline values an earlier stage produced.
    public func inline(of stage: Stage) throws -> [String: JSONValue] {
        guard let a = idea.artifacts[stage] else {
            throw StageFailure.permanent("the \(stage) artifact is missing from the idea")
        }
        return a.inline
    }

    /// Downloads a file an earlier stage produced into the work folder.
    public func file(_ name: String, of stage: Stage) async throws -> URL {
        guard let ref = idea.artifacts[stage]?.files[name] else {
            throw StageFailure.permanent("the \(stage) artifact '\(name)' is missing from the idea")
        }
        let url = workDir.appendingPathComponent("\(stage.rawValue)-\(SafeName.file(ref.name))")
        try await artifacts.get(id: ref.id, to: url)
        return url
    }
}

/// What a stage produced: inline values for the idea document, files for the artifact store, the provider
/// calls it paid for.
public struct StageOutput: Sendable {
    public struct File: Sendable {
        public var url: URL
        public var contentType: String
        public init(url: URL, contentType: String) { self.url = url; self.contentType = contentType }
    }
    public var inline: [String: JSONValue]
    public var files: [String: File]
    public var costs: [CostEntry]

    public init(inline: [String: JSONValue] = [:], files: [String: File] = [:], costs: [CostEntry] = []) {
        self.inline = inline; self.files = files; self.costs = costs
    }
}

/// The work of one stage (script writing, adapting, speech, rendering), given its providers.
public protocol StageExecutor: Sendable {
    var stage: Stage { get }
    func run(_ input: StageInput, logger: Logger) async throws -> StageOutput
}

/// File names that cannot escape a folder.
public enum SafeName {
    public static func file(_ name: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        var s = String(name.map { allowed.contains($0) ? $0 : "_" })
        while s.hasPrefix(".") { s.removeFirst() }
        if s.isEmpty { s = "file" }
        return String(s.prefix(120))
    }
}
