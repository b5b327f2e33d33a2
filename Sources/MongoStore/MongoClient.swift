import CMongoC
import Foundation
import Shared

/// A libmongoc client pool. Every call blocks, so callers use it from `BlockingPool` threads.
///
/// `@unchecked Sendable`: `mongoc_client_pool_t` is thread-safe by contract; each call pops its own client.
public final class MongoClient: @unchecked Sendable {
    private let pool: OpaquePointer
    private let uri: OpaquePointer
    public let databaseName: String
    public let redactedURI: String
    let blocking: BlockingPool

    private static let initialised: Bool = {
        mongoc_init()
        MongoLog.install()
        return true
    }()

    /// `uri` is a standard `mongodb://` or `mongodb+srv://` URI; the database is its path (default `reelforge`).
    /// `timeoutMS` bounds server selection and connecting unless the URI sets them (the CLI fails fast with 2000).
    public init(uri text: String, defaultDatabase: String = "reelforge", threads: Int = 4, timeoutMS: Int32 = 5000) throws {
        _ = Self.initialised
        redactedURI = Redactor.shared.redact(text)
        // libmongoc splits user information at the first '@': a raw '@' in a password would reach the host name,
        // and the rest of the password its error messages.
        if let start = text.range(of: "://")?.upperBound,
           text[start...].prefix(while: { $0 != "/" && $0 != "?" }).filter({ $0 == "@" }).count > 1 {
            throw ConfigError.invalid("MONGODB_URI", "has a raw '@' in its user name or password (\(redactedURI)): write it as %40")
        }
        var error = bson_error_t()
        guard let uri = mongoc_uri_new_with_error(text, &error) else {
            throw ConfigError.invalid("MONGODB_URI", "is not a MongoDB URI (\(redactedURI)): \(Self.message(&error))")
        }
        if let pw = mongoc_uri_get_password(uri) { Redactor.shared.register(String(cString: pw)) }
        if let db = mongoc_uri_get_database(uri), db.pointee != 0 {
            databaseName = String(cString: db)
        } else {
            databaseName = defaultDatabase
        }
        if !mongoc_uri_has_option(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS) {
            mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, timeoutMS)
        }
        if !mongoc_uri_has_option(uri, MONGOC_URI_CONNECTTIMEOUTMS) {
            mongoc_uri_set_option_as_int32(uri, MONGOC_URI_CONNECTTIMEOUTMS, timeoutMS)
        }
        guard let pool = mongoc_client_pool_new(uri) else {
            mongoc_uri_destroy(uri)
            throw ConfigError.invalid("MONGODB_URI", "cannot be used (\(redactedURI))")
        }
        mongoc_client_pool_set_error_api(pool, 2)  // MONGOC_ERROR_API_VERSION_2
        _ = mongoc_client_pool_set_appname(pool, "reelforge")
        self.uri = uri
        self.pool = pool
        self.blocking = BlockingPool(threads: threads, name: "mongo")
    }

    deinit {
        blocking.shutdown()
        mongoc_client_pool_destroy(pool)
        mongoc_uri_destroy(uri)
    }

    static func message(_ e: inout bson_error_t) -> String {
        withUnsafeBytes(of: &e.message) { raw in
            Redactor.shared.redact(String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self))
        }
    }

    /// Runs `body` with a client popped from the pool, on a blocking thread.
    func withClient<T: Sendable>(_ body: @escaping @Sendable (OpaquePointer) throws -> T) async throws -> T {
        return try await blocking.run { [self] in
            guard let client = mongoc_client_pool_pop(self.pool) else { throw StoreError.backend("no client available") }
            defer { mongoc_client_pool_push(self.pool, client) }
            return try body(client)
        }
    }

    /// Runs a database command given as (extended) JSON and returns the reply as JSON.
    public func command(_ json: String) async throws -> JSONValue {
        let db = databaseName
        return try await withClient { client in try Self.runCommand(client: client, database: db, json: json) }
    }

    static func runCommand(client: OpaquePointer, database: String, json: String) throws -> JSONValue {
        let cmd = try bson(json)
        defer { bson_destroy(cmd) }
        let reply = rf_bson_alloc_uninit()!
        defer { rf_bson_free_uninit(reply) }
        var error = bson_error_t()
        let ok = mongoc_client_command_with_opts(client, database, cmd, nil, nil, reply, &error)
        let value = try jsonValue(of: reply)
        guard ok else {
            let code = Int(error.code)
            let text = message(&error)
            if code == 11000 || text.contains("E11000") { throw StoreError.duplicate(text) }
            throw StoreError.backend("command failed (\(error.domain).\(code)): \(text)")
        }
        // Write errors arrive in an ok reply.
        if let errors = value["writeErrors"]?.arrayValue, let first = errors.first {
            let code = first["code"]?.intValue ?? 0
            let text = Redactor.shared.redact(first["errmsg"]?.stringValue ?? "write error")
            if code == 11000 { throw StoreError.duplicate(text) }
            throw StoreError.backend("write error \(code): \(text)")
        }
        return value
    }

    static func bson(_ json: String) throws -> OpaquePointer {
        var error = bson_error_t()
        let bytes = Array(json.utf8)
        guard let doc = bytes.withUnsafeBufferPointer({ bson_new_from_json($0.baseAddress, $0.count, &error) }) else {
            throw StoreError.backend("cannot build a document: \(message(&error))")
        }
        return doc
    }

    static func jsonValue(of doc: OpaquePointer) throws -> JSONValue {
        var length = 0
        guard let text = bson_as_relaxed_extended_json(doc, &length) else { return .null }
        defer { bson_free(text) }
        return try JSONValue.parse(Data(bytes: text, count: length))
    }

    /// A GridFS bucket of this database, opened for one call.
    func withBucket<T: Sendable>(_ name: String, _ body: @escaping @Sendable (OpaquePointer) throws -> T) async throws -> T {
        let db = databaseName
        return try await withClient { client in
            guard let database = mongoc_client_get_database(client, db) else { throw StoreError.backend("no database") }
            defer { mongoc_database_destroy(database) }
            let opts = try Self.bson(#"{"bucketName": \#(JSONValue.string(name).jsonText)}"#)
            defer { bson_destroy(opts) }
            var error = bson_error_t()
            guard let bucket = mongoc_gridfs_bucket_new(database, opts, nil, &error) else {
                throw StoreError.backend("GridFS bucket: \(Self.message(&error))")
            }
            defer { mongoc_gridfs_bucket_destroy(bucket) }
            return try body(bucket)
        }
    }
}

/// Extended JSON for values libbson must see as BSON types.
enum EJSON {
    static func date(_ d: Date) -> JSONValue {
        ["$date": ["$numberLong": .string(String(Int64((d.timeIntervalSince1970 * 1000).rounded())))]]
    }

    /// Reads a date written as relaxed or canonical extended JSON, an ISO string or milliseconds.
    static func readDate(_ v: JSONValue?) -> Date? {
        guard let v else { return nil }
        if let inner = v["$date"] {
            if let s = inner.stringValue { return iso(s) }
            if let n = inner["$numberLong"]?.stringValue, let ms = Double(n) { return Date(timeIntervalSince1970: ms / 1000) }
            if let ms = inner.doubleValue { return Date(timeIntervalSince1970: ms / 1000) }
        }
        if let s = v.stringValue { return iso(s) }
        if let ms = v.doubleValue { return Date(timeIntervalSince1970: ms / 1000) }
        return nil
    }

    static func iso(_ s: String) -> Date? { Timestamp.parse(s) }

    static func int(_ v: JSONValue?) -> Int? {
        guard let v else { return nil }
        if let i = v.intValue { return i }
        if let s = v["$numberLong"]?.stringValue ?? v["$numberInt"]?.stringValue { return Int(s) }
        return nil
    }

    static func double(_ v: JSONValue?) -> Double? {
        guard let v else { return nil }
        if let d = v.doubleValue { return d }
        if let s = v["$numberDouble"]?.stringValue { return Double(s) }
        return int(v).map(Double.init)
    }
}
