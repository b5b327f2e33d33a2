import CMongoC
import Foundation
import Shared

/// Binary artifacts in a GridFS bucket (default `artifacts`). File ids are ours (`ArtifactKey`: `idea/<idea>/<stage>/<name>`
/// or `media/<name>`), so a stage that runs again replaces its file instead of adding a second one. Each file's
/// `metadata.namespace` (`idea` or `media`) and `metadata.idea_id` say where it belongs; listing filters on them,
/// so files from before the namespaces (no `metadata.namespace`) are never listed.
public final class GridFSArtifactStore: ArtifactStore {
    public let client: MongoClient
    public let bucket: String

    public init(client: MongoClient, bucket: String = "artifacts") {
        self.client = client; self.bucket = bucket
    }

    public func put(id: String, name: String, contentType: String, from file: URL) async throws -> ArtifactRef {
        let size = (try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
        let path = file.path
        let bucketName = bucket
        guard let scope = ArtifactKey.scope(of: id) else {
            throw StoreError.invalid("artifact id \(SafeName.file(id)) is outside the idea/ and media/ namespaces")
        }
        var metadata = Self.filter(scope)
        metadata["name"] = .string(name)
        metadata["content_type"] = .string(contentType)
        let meta = JSONValue.object(["metadata": .object(metadata)]).jsonText
        try await client.withBucket(bucketName) { b in
            Self.deleteFile(bucket: b, id: id)
            guard let source = mongoc_stream_file_new_for_path(path, O_RDONLY, 0) else {
                throw StoreError.backend("cannot read \(SafeName.file(file.lastPathComponent))")
            }
            defer { mongoc_stream_close(source); mongoc_stream_destroy(source) }
            let opts = try MongoClient.bson(meta)
            defer { bson_destroy(opts) }
            var error = bson_error_t()
            let ok = id.withCString { cid in
                var value = rf_bson_value_utf8(cid, UInt32(strlen(cid)))
                return mongoc_gridfs_bucket_upload_from_stream_with_id(b, &value, id, source, opts, &error)
            }
            guard ok else { throw StoreError.backend("GridFS upload of \(id): \(MongoClient.message(&error))") }
        }
        return ArtifactRef(id: id, name: name, contentType: contentType, size: size)
    }

    /// Removes a file and any chunks a crashed upload left behind.
    static func deleteFile(bucket: OpaquePointer, id: String) {
        var error = bson_error_t()
        _ = id.withCString { cid in
            var value = rf_bson_value_utf8(cid, UInt32(strlen(cid)))
            return mongoc_gridfs_bucket_delete_by_id(bucket, &value, &error)
        }
    }

    public func get(id: String, to file: URL) async throws {
        let path = file.path
        try await client.withBucket(bucket) { b in
            // Open the download ourselves: mongoc 1.23's download_to_stream aborts on a missing id.
            var error = bson_error_t()
            let source = id.withCString { cid -> UnsafeMutablePointer<mongoc_stream_t>? in
                var value = rf_bson_value_utf8(cid, UInt32(strlen(cid)))
                return mongoc_gridfs_bucket_open_download_stream(b, &value, &error)
            }
            guard let source else {
                let text = MongoClient.message(&error)
                if text.lowercased().contains("no file") || text.lowercased().contains("not found") {
                    throw StoreError.notFound("artifact \(id)")
                }
                throw StoreError.backend("GridFS download of \(id): \(text)")
            }
            defer { mongoc_stream_close(source); mongoc_stream_destroy(source) }
            guard FileManager.default.createFile(atPath: path, contents: nil), let out = FileHandle(forWritingAtPath: path) else {
                throw StoreError.backend("cannot write \(SafeName.file(file.lastPathComponent))")
            }
            defer { try? out.close() }
            var buffer = [UInt8](repeating: 0, count: 256 * 1024)
            while true {
                let n = buffer.withUnsafeMutableBytes { mongoc_stream_read(source, $0.baseAddress, $0.count, 1, 30_000) }
                if n < 0 { throw StoreError.backend("GridFS download of \(id) failed while reading") }
                if n == 0 { break }
                try out.write(contentsOf: buffer[0..<n])
            }
        }
    }

    public func delete(id: String) async throws {
        try await client.withBucket(bucket) { b in Self.deleteFile(bucket: b, id: id) }
    }

    /// The metadata that places a file in its namespace.
    static func filter(_ scope: ArtifactScope) -> [String: JSONValue] {
        switch scope {
        case .idea(let id): return ["namespace": "idea", "idea_id": .string(id)]
        case .media: return ["namespace": "media"]
        case .footage: return ["namespace": "footage"]
        }
    }

    public func list(_ scope: ArtifactScope) async throws -> [String] {
        var query: [String: JSONValue] = [:]
        for (key, value) in Self.filter(scope) { query["metadata." + key] = value }
        let filter = JSONValue.object(query).jsonText
        return try await client.withBucket(bucket) { b in
            let f = try MongoClient.bson(filter)
            defer { bson_destroy(f) }
            guard let cursor = mongoc_gridfs_bucket_find(b, f, nil) else { return [] }
            defer { mongoc_cursor_destroy(cursor) }
            var ids: [String] = []
            var doc: OpaquePointer?
            while mongoc_cursor_next(cursor, &doc) {
                if let doc, let v = try? MongoClient.jsonValue(of: doc), let id = v["_id"]?.stringValue,
                   ArtifactKey.scope(of: id) == scope { ids.append(id) }
            }
            var error = bson_error_t()
            if mongoc_cursor_error(cursor, &error) { throw StoreError.backend("GridFS find: \(MongoClient.message(&error))") }
            return ids.sorted()
        }
    }
}
