import Foundation

/// An in-process ArtifactStore keeping files in a folder.
public final class DirectoryArtifactStore: ArtifactStore {
    public let root: URL

    public init(root: URL) throws {
        self.root = root
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    private func path(_ id: String) -> URL { root.appendingPathComponent(SafeName.file(id)) }

    public func put(id: String, name: String, contentType: String, from file: URL) async throws -> ArtifactRef {
        let target = path(id)
        let partial = root.appendingPathComponent(".\(SafeName.file(id)).partial")
        try? FileManager.default.removeItem(at: partial)
        try FileManager.default.copyItem(at: file, to: partial)
        // Atomic replace: a crash leaves either the old file or the new one.
        if rename(partial.path, target.path) != 0 { throw StoreError.backend("cannot store artifact \(id)") }
        let size = (try FileManager.default.attributesOfItem(atPath: target.path)[.size] as? Int) ?? 0
        return ArtifactRef(id: id, name: name, contentType: contentType, size: size)
    }

    public func get(id: String, to file: URL) async throws {
        let source = path(id)
        guard FileManager.default.fileExists(atPath: source.path) else { throw StoreError.notFound("artifact \(id)") }
        try? FileManager.default.removeItem(at: file)
        try FileManager.default.copyItem(at: source, to: file)
    }

    public func delete(id: String) async throws { try? FileManager.default.removeItem(at: path(id)) }

    public func list(ideaID: String) async throws -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.filter { $0.hasPrefix(SafeName.file(ideaID) + ".") }.sorted()
    }
}
