import Foundation
import Shared

/// The shared media library: background images and clips kept in the artifact store (GridFS in a deployment,
/// the embedded store's folder on one machine) in the namespace `media/` of `ArtifactKey`, apart from every
/// idea's files, so that every video worker reads the same files without a shared disk. `reelforge media
/// put|list|rm` manages it; `media:NAME` and `media:` name its files as backgrounds.
public enum MediaLibrary {
    public static let scheme = "media:"

    public static func id(_ name: String) -> String { ArtifactKey.media(name) }

    public static func contentType(_ name: String) -> String {
        switch (name as NSString).pathExtension.lowercased() {
        case "png": return "image/png"
        case "jpg", "jpeg": return "image/jpeg"
        case "webp": return "image/webp"
        case "mp4", "m4v": return "video/mp4"
        case "mov": return "video/quicktime"
        case "webm": return "video/webm"
        default: return "application/octet-stream"
        }
    }

    /// Stores a file under `name` (replacing one of that name).
    @discardableResult
    public static func put(_ file: URL, name: String, in store: any ArtifactStore) async throws -> ArtifactRef {
        try checkName(name)
        guard BackgroundSource.isMediaFile(name) else {
            throw StageFailure.permanent("'\(name)' is neither an image nor a video by its extension")
        }
        return try await store.put(id: id(name), name: name, contentType: contentType(name), from: file)
    }

    private static func checkName(_ name: String) throws {
        guard BackgroundChoice.isMediaName(name) else { throw StageFailure.permanent("'\(name)' is not a media name (\(BackgroundChoice.mediaNameRule))") }
    }

    /// The names in the library, sorted.
    public static func names(in store: any ArtifactStore) async throws -> [String] {
        let prefix = ArtifactKey.prefix(.media)
        return try await store.list(.media).map { String($0.dropFirst(prefix.count)) }.filter(BackgroundSource.isMediaFile).sorted()
    }

    public static func remove(_ name: String, from store: any ArtifactStore) async throws {
        try checkName(name)
        try await store.delete(id: id(name))
    }

    /// `source` with every stored file fetched into `folder`: `media:NAME` becomes that file, `media:` a
    /// sequence of one file a paragraph chosen by the paragraphs' keywords (only the chosen ones are fetched).
    public static func resolve(_ source: BackgroundSource, paragraphs: [ParagraphTiming], store: any ArtifactStore,
                               into folder: URL) async throws -> BackgroundSource {
        switch source {
        case .stored(let name?):
            return BackgroundSource.file(try await fetch(name, store: store, into: folder))
        case .stored(name: nil):
            let names = try await names(in: store)
            guard !names.isEmpty else { throw StageFailure.permanent("the media library is empty: add files with 'reelforge media put'") }
            let chosen = BackgroundLibrary.choose(names: names, keywords: (paragraphs.isEmpty ? [ParagraphTiming(start: 0)] : paragraphs).map(\.keywords))
            var files: [String: BackgroundSource] = [:]
            var list: [BackgroundSource] = []
            for i in chosen {
                if files[names[i]] == nil { files[names[i]] = BackgroundSource.file(try await fetch(names[i], store: store, into: folder)) }
                list.append(files[names[i]]!)
            }
            return list.count == 1 ? list[0] : .sequence(list)
        case .sequence(let list):
            var out: [BackgroundSource] = []
            for s in list { out.append(try await resolve(s, paragraphs: [], store: store, into: folder)) }
            return .sequence(out)
        default:
            return source
        }
    }

    private static func fetch(_ name: String, store: any ArtifactStore, into folder: URL) async throws -> URL {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent(name)
        do { try await store.get(id: id(name), to: file) } catch let e as StoreError {
            if case .notFound = e { throw StageFailure.permanent("no '\(name)' in the media library") }
            throw e
        }
        return file
    }
}
