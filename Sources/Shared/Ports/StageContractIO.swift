import Foundation

// The one way a stage's typed output is written (`StageOutput(contract:files:costs:)`) and read back by a later
// stage (`input.output(SpokenNarration.self)`, `input.file(SpokenNarration.wav)`) or by the CLI (`artifact.output(...)`).

extension StageArtifact {
    /// The stage's inline values as its contract. A value of the wrong type is a permanent failure: running the
    /// stage that reads it again cannot fix it.
    public func output<C: StageContract>(_ type: C.Type) throws -> C {
        do { return try JSONValue.object(inline).decode(C.self) } catch {
            throw StageFailure.permanent("the \(C.stage) artifact does not match its contract: \(error)")
        }
    }

    /// The stored file `file`, if the stage stored it.
    public func ref<C: StageContract>(_ file: StageFile<C>) -> ArtifactRef? { files[file.name] }
}

extension StageInput {
    /// The typed output an earlier stage stored on the idea.
    public func output<C: StageContract>(_ type: C.Type) throws -> C {
        guard let a = idea.artifacts[C.stage] else {
            throw StageFailure.permanent("the \(C.stage) artifact is missing from the idea")
        }
        return try a.output(C.self)
    }

    /// Downloads a file an earlier stage stored into the work folder.
    public func file<C: StageContract>(_ file: StageFile<C>) async throws -> URL {
        try await self.file(file.name, of: C.stage)
    }
}

extension StageOutput {
    /// A stage's typed output: the contract kept inline, each file stored under its contract name and type.
    public init<C: StageContract>(contract: C, files: [StageFile<C>: URL], costs: [CostEntry] = []) throws {
        guard case .object(let inline) = try JSONValue.encoding(contract) else {
            throw StageFailure.permanent("the \(C.stage) output does not encode as a JSON object")
        }
        var stored: [String: File] = [:]
        for (file, url) in files { stored[file.name] = File(url: url, contentType: file.contentType) }
        self.init(inline: inline, files: stored, costs: costs)
    }
}
