import Foundation

/// An in-process ArtifactStore keeping files in a folder: an id's parts (`ArtifactKey`) are folders, so
/// `idea/<idea>/<stage>/<name>` and `media/<name>` are files in separate trees. A file from before that rule
/// (named by its flat id at the top of the folder) is still read by its id, never listed.
public final class DirectoryArtifactStore: ArtifactStore {
    public let root: URL

    public init(root: URL) throws {
        self.root = root
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    /// Where a file of this rule lives; nil for an id the rule did not make.
    private func path(_ id: String) -> URL? {
        ArtifactKey.parts(id).map { $0.reduce(root) { $0.appendingPathComponent($1) } }
    }

    /// Where an id is read from: its place under the rule, else a flat file of the old scheme.
    private func readPath(_ id: String) -> URL {
        path(id) ?? root.appendingPathComponent(SafeName.file(id))
    }

    public func put(id: String, name: String, contentType: String, from file: URL) async throws -> ArtifactRef {
        guard let target = path(id) else { throw StoreError.invalid("artifact id \(SafeName.file(id)) is outside the idea/ and media/ namespaces") }
        let folder = target.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let partial = folder.appendingPathComponent(".\(target.lastPathComponent).partial")
        try? FileManager.default.removeItem(at: partial)
        try FileManager.default.copyItem(at: file, to: partial)
        // Atomic replace: a crash leaves either the old file or the new one.
        if rename(partial.path, target.path) != 0 { throw StoreError.backend("cannot store artifact \(id)") }
        let size = (try FileManager.default.attributesOfItem(atPath: target.path)[.size] as? Int) ?? 0
        return ArtifactRef(id: id, name: name, contentType: contentType, size: size)
    }

    public func get(id: String, to file: URL) async throws {
        let source = readPath(id)
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source.path, isDirectory: &isFolder), !isFolder.boolValue else {
            throw StoreError.notFound("artifact \(id)")
        }
        try? FileManager.default.removeItem(at: file)
        try FileManager.default.copyItem(at: source, to: file)
    }

    public func delete(id: String) async throws {
        let target = readPath(id)
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: target.path, isDirectory: &isFolder), !isFolder.boolValue {
            try? FileManager.default.removeItem(at: target)
        }
    }

    public func list(_ scope: ArtifactScope) async throws -> [String] {
        let prefix = ArtifactKey.prefix(scope)
        let base = prefix.split(separator: "/").reduce(root) { $0.appendingPathComponent(String($1)) }
        // Media and footage files sit right in their folder; an idea's are one level down, in a folder per stage.
        let levels = scope == .media || scope == .footage ? [""] : ((try? FileManager.default.contentsOfDirectory(atPath: base.path)) ?? []).map { $0 + "/" }
        var ids: [String] = []
        for level in levels {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: base.appendingPathComponent(level).path)) ?? []
            ids += names.map { prefix + level + $0 }.filter { ArtifactKey.scope(of: $0) == scope }
        }
        return ids.sorted()
    }
}
