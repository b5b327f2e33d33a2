import CSQLite
import Foundation
import Shared

/// Ideas and jobs in an SQLite file (WAL journal, synchronous commits), for the one-machine mode. Each record
/// is a JSON document in its table; every change is one transaction, so `kill -9` at any point leaves either
/// the state before it or the state after it.
///
/// `@unchecked Sendable`: the connection is used only from `pool`'s single thread.
public final class SQLiteRecords: RecordBackend, @unchecked Sendable {
    private let db: OpaquePointer
    private let pool = BlockingPool(threads: 1, name: "sqlite")
    public let path: String

    public init(path: String) throws {
        self.path = path
        try FileManager.default.createDirectory(at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        guard sqlite3_open_v2(path, &handle, flags, nil) == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(handle)
            throw StoreError.backend("embedded store \(path): \(message)")
        }
        db = handle
        sqlite3_busy_timeout(db, 10_000)
        try Self.exec(db, """
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = FULL;
            CREATE TABLE IF NOT EXISTS ideas (id TEXT PRIMARY KEY, created_at REAL NOT NULL, doc TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, idea_id TEXT NOT NULL, created_at REAL NOT NULL, doc TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS jobs_idea ON jobs (idea_id);
            CREATE INDEX IF NOT EXISTS ideas_created ON ideas (created_at);
            """)
    }

    deinit {
        pool.shutdown()
        sqlite3_close_v2(db)
    }

    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any RecordTransaction) throws -> T) async throws -> T {
        try await pool.run { [self] in
            try Self.exec(self.db, "BEGIN IMMEDIATE")
            do {
                let result = try body(Transaction(db: self.db))
                try Self.exec(self.db, "COMMIT")
                return result
            } catch {
                try? Self.exec(self.db, "ROLLBACK")
                throw error
            }
        }
    }

    static func exec(_ db: OpaquePointer, _ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        guard sqlite3_exec(db, sql, nil, nil, &error) == SQLITE_OK else {
            let message = error.map { String(cString: $0) } ?? "error"
            sqlite3_free(error)
            throw StoreError.backend("embedded store: \(message)")
        }
    }

    private struct Transaction: RecordTransaction {
        let db: OpaquePointer
        static let encoder: JSONEncoder = { let e = JSONEncoder(); e.outputFormatting = [.sortedKeys]; return e }()

        func query(_ sql: String, _ args: [String], _ row: (OpaquePointer) throws -> Void) throws {
            var stmt: OpaquePointer?
            guard sqlite3_prepare_v2(db, sql, -1, &stmt, nil) == SQLITE_OK, let stmt else {
                throw StoreError.backend("embedded store: \(String(cString: sqlite3_errmsg(db)))")
            }
            defer { sqlite3_finalize(stmt) }
            for (i, a) in args.enumerated() { _ = rf_sqlite3_bind_text(stmt, Int32(i + 1), a, -1) }
            while true {
                let rc = sqlite3_step(stmt)
                if rc == SQLITE_ROW { try row(stmt); continue }
                if rc == SQLITE_DONE { return }
                if rc == SQLITE_CONSTRAINT { throw StoreError.duplicate(String(cString: sqlite3_errmsg(db))) }
                throw StoreError.backend("embedded store: \(String(cString: sqlite3_errmsg(db)))")
            }
        }

        func docs<T: Decodable>(_ type: T.Type, _ sql: String, _ args: [String]) throws -> [T] {
            var out: [T] = []
            try query(sql, args) { stmt in
                let text = String(cString: sqlite3_column_text(stmt, 0))
                out.append(try JSONDecoder().decode(T.self, from: Data(text.utf8)))
            }
            return out
        }

        func json<T: Encodable>(_ v: T) throws -> String { String(decoding: try Self.encoder.encode(v), as: UTF8.self) }

        func idea(_ id: String) throws -> IdeaRecord? { try docs(IdeaRecord.self, "SELECT doc FROM ideas WHERE id = ?", [id]).first }
        func job(_ id: String) throws -> JobRecord? { try docs(JobRecord.self, "SELECT doc FROM jobs WHERE id = ?", [id]).first }
        func insert(_ idea: IdeaRecord) throws {
            try query("INSERT INTO ideas (id, created_at, doc) VALUES (?, ?, ?)",
                      [idea.id, String(idea.createdAt.timeIntervalSince1970), try json(idea)]) { _ in }
        }
        func insert(_ job: JobRecord) throws {
            try query("INSERT INTO jobs (id, idea_id, created_at, doc) VALUES (?, ?, ?, ?)",
                      [job.jobID, job.ideaID, String(job.createdAt.timeIntervalSince1970), try json(job)]) { _ in }
        }
        func update(_ idea: IdeaRecord) throws { try query("UPDATE ideas SET doc = ? WHERE id = ?", [try json(idea), idea.id]) { _ in } }
        func update(_ job: JobRecord) throws { try query("UPDATE jobs SET doc = ? WHERE id = ?", [try json(job), job.jobID]) { _ in } }
        func ideas(limit: Int) throws -> [IdeaRecord] {
            try docs(IdeaRecord.self, "SELECT doc FROM ideas ORDER BY created_at DESC, id DESC LIMIT ?", [String(limit)])
        }
        func jobs(ideaID: String) throws -> [JobRecord] {
            try docs(JobRecord.self, "SELECT doc FROM jobs WHERE idea_id = ? ORDER BY created_at", [ideaID])
        }
    }
}

extension RecordJobStore {
    /// The embedded store: an SQLite file.
    public static func sqlite(path: String) throws -> RecordJobStore { RecordJobStore(backend: try SQLiteRecords(path: path)) }
}
