import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Shared

/// `/v1/videos`: create (one, or a batch), list, get, files, live events, cancel, retry. Every write goes through
/// `Operations`, as the CLI's do.
struct VideoRoutes: Sendable {
    let operations: Operations
    let artifacts: any ArtifactStore
    let files: FileServer
    /// Whether a `callback_url` is accepted (a webhook notifier runs).
    let callbacks: Bool
    var store: any JobStore { operations.store }

    static let fields: Set<String> = ["idea", "language", "duration_seconds", "background", "footage", "format", "style", "callback_url", "priority"]
    static let maxBatch = 1_000

    func add(to group: RouterGroup<ApiContext>) {
        group.post("videos") { request, context in try await create(request, context: context) }
        group.post("videos/batch") { request, context in try await batch(request, context: context) }
        group.get("videos") { request, _ in try await list(request) }
        group.get("videos/{id}") { _, context in json(.ok, VideoView.detail(try await video(context), job: try await latestJob(context))) }
        group.get("videos/{id}/files/{name}") { request, context in try await file(request, context: context) }
        group.get("videos/{id}/events") { request, context in try await events(request, context: context) }
        group.post("videos/{id}/cancel") { _, context in try await cancel(context) }
        group.post("videos/{id}/retry") { request, context in try await retry(request, context: context) }
    }

    // MARK: Reading

    func video(_ context: ApiContext) async throws -> IdeaRecord {
        let id = try context.parameters.require("id")
        guard Identifier.isValid(id) else { throw ApiError.invalid("a video id is 1-64 letters, digits, '-' or '_'") }
        guard let idea = try await store.idea(id) else { throw ApiError.notFound("no video \(id)") }
        return idea
    }

    func latestJob(_ context: ApiContext) async throws -> JobRecord? {
        try await store.jobs(ideaID: try context.parameters.require("id")).last
    }

    func list(_ request: Request) async throws -> Response {
        let q = request.uri.queryParameters
        var status: JobStatus?
        if let s = q.get("status") {
            guard let v = JobStatus(rawValue: s) else { throw ApiError.invalid("status must be one of \(JobStatus.allCases.map(\.rawValue).joined(separator: ", "))") }
            status = v
        }
        var stage: Stage?
        if let s = q.get("stage") {
            guard let v = Stage(rawValue: s) else { throw ApiError.invalid("stage must be script, adapt, audio or video") }
            stage = v
        }
        let text = q.get("q")?.lowercased().trimmingCharacters(in: .whitespaces)
        if let text, text.count > 200 { throw ApiError.invalid("q is at most 200 characters") }
        var limit = 50
        if let l = q.get("limit") {
            guard let n = Int(l), (1...200).contains(n) else { throw ApiError.invalid("limit must be an integer from 1 to 200") }
            limit = n
        }
        var cursor = try q.get("cursor").map(Self.cursor(parsing:))
        var found: [IdeaRecord] = []
        var more = true
        // Filters the store cannot apply (stage, text) are applied page by page, at most 20 pages a request; the
        // cursor then marks how far the scan went.
        scan: for _ in 0..<20 {
            let page = try await store.ideas(IdeaQuery(status: status, after: cursor, limit: 200))
            for idea in page {
                if found.count == limit { break scan }
                cursor = IdeaQuery.Cursor(createdAt: idea.createdAt, id: idea.id)
                if let stage, VideoView.stage(of: idea) != stage { continue }
                if let text, !text.isEmpty, !idea.idea.lowercased().contains(text), idea.id != text { continue }
                found.append(idea)
            }
            if page.count < 200 { more = false; break }
        }
        var videos: [JSONValue] = []
        for idea in found { videos.append(.object(VideoView.summary(idea, job: try await store.jobs(ideaID: idea.id).last))) }
        let next: JSONValue = more ? cursor.map { .string(Self.cursorText($0)) } ?? .null : .null
        return json(.ok, ["videos": .array(videos), "next_cursor": next])
    }

    /// A cursor is opaque to clients: base64url of "seconds:id", the seconds (since 2001, as `Date` keeps them)
    /// written so that they read back exactly.
    static func cursorText(_ c: IdeaQuery.Cursor) -> String {
        let raw = "\(c.createdAt.timeIntervalSinceReferenceDate):\(c.id)"
        return Data(raw.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func cursor(parsing text: String) throws -> IdeaQuery.Cursor {
        var b64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.count % 4 != 0 { b64 += "=" }
        guard text.count <= 200, let data = Data(base64Encoded: b64), let raw = String(data: data, encoding: .utf8),
              let colon = raw.firstIndex(of: ":"), let seconds = Double(raw[..<colon]), seconds.isFinite,
              Identifier.isValid(String(raw[raw.index(after: colon)...])) else {
            throw ApiError.invalid("cursor is not one this API gave")
        }
        return IdeaQuery.Cursor(createdAt: Date(timeIntervalSinceReferenceDate: seconds), id: String(raw[raw.index(after: colon)...]))
    }

    func file(_ request: Request, context: ApiContext) async throws -> Response {
        let idea = try await video(context)
        let name = try context.parameters.require("name")
        let ref = Stage.allCases.reversed().lazy.compactMap { idea.artifacts[$0]?.files[name] }.first
        guard let ref else { throw ApiError.notFound("video \(idea.id) has no file \(name)") }
        return try await files.serve(ref, request: request, context: context, store: artifacts)
    }

    /// Server-Sent Events: the video at once and whenever it changes, a comment every 15 s, the end after a final
    /// state. The store is polled (the API keeps no state, so any instance serves any client).
    func events(_ request: Request, context: ApiContext) async throws -> Response {
        let first = try await video(context)
        let id = first.id
        let store = self.store
        let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-store", HTTPField.Name("X-Accel-Buffering")!: "no"]
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            _ = try? await request.body.consumeWithCancellationOnInboundClose { _ in
                var last = ""
                var quiet = ContinuousClock.now
                while true {
                    guard let idea = try await store.idea(id) else { break }
                    let text = JSONValue.object(VideoView.summary(idea, job: try await store.jobs(ideaID: id).last)).jsonText
                    if text != last {
                        try await writer.write(ByteBuffer(string: "event: video\ndata: \(text)\n\n"))
                        last = text; quiet = .now
                        if idea.status.isFinal { break }
                    } else if ContinuousClock.now - quiet > .seconds(15) {
                        try await writer.write(ByteBuffer(string: ": ping\n\n"))
                        quiet = .now
                    }
                    try await Task.sleep(for: .milliseconds(500))
                }
            }
            try await writer.finish(nil)
        })
    }

    // MARK: Writing

    func create(_ request: Request, context: ApiContext) async throws -> Response {
        let object = try await Self.jsonObject(request, limit: 64 << 10)
        let key = try Self.idempotencyKey(request)
        let (status, idea) = try await create(object, idempotencyKey: key)
        return json(status, VideoView.detail(idea, job: try await store.jobs(ideaID: idea.id).last),
                    headers: [.location: "/v1/videos/\(idea.id)"])
    }

    /// One video from the fields of a JSON object, by the message codec's rules. With an idempotency key the
    /// ids come from the key: the store refuses a second job of that id, and the first one is answered (200).
    func create(_ o: [String: JSONValue], idempotencyKey: String?) async throws -> (HTTPResponse.Status, IdeaRecord) {
        if let unknown = o.keys.sorted().first(where: { !Self.fields.contains($0) }) {
            throw ApiError.invalid("unknown field '\(unknown.prefix(40))' (expected \(Self.fields.sorted().joined(separator: ", ")))")
        }
        let new: JobMessage.NewIdea
        do { new = try JobMessageCodec.idea(fields: o) } catch { throw ApiError.invalid(error.description) }
        let callback = try o["callback_url"].map(Self.callbackURL)
        let priority: Priority
        do { priority = try JobMessageCodec.choice(o, "priority", Priority.self) ?? .normal } catch { throw ApiError.invalid(error.description) }
        if callback != nil && !callbacks {
            throw ApiError.invalid("this server sends no webhooks (no REELFORGE_WEBHOOK_SECRET): 'callback_url' cannot be used")
        }
        guard let key = idempotencyKey else {
            let s = try await operations.submit(new, callbackURL: callback, priority: priority)
            return (.created, try await stored(s.ideaID))
        }
        let digest = SHA256.hash(data: Data("reelforge-idempotency\u{0}\(key)".utf8)).map { String(format: "%02x", $0) }.joined().prefix(24)
        let ids = (idea: "idea_\(digest)", job: "job_\(digest)")
        do {
            let s = try await operations.submit(new, ids: ids, callbackURL: callback, priority: priority)
            return (.created, try await stored(s.ideaID))
        } catch StoreError.duplicate {
            let idea = try await stored(ids.idea)
            guard Self.same(idea, new, callback) else {
                throw ApiError(.conflict, "idempotency_conflict", "this Idempotency-Key was used for another request")
            }
            // The first request may have stored the video and stopped before its message was sent: send it again
            // (a second message of a stage that has started finds its lease or its checkpoint).
            if idea.status == .queued, idea.lastSuccessfulStep == nil, let job = try await store.job(ids.job) {
                try await operations.publishFirst(idea: idea, job: job)
            }
            return (.ok, idea)
        }
    }

    func stored(_ id: String) async throws -> IdeaRecord {
        guard let idea = try await store.idea(id) else { throw ApiError.notFound("no video \(id)") }
        return idea
    }

    static func same(_ idea: IdeaRecord, _ new: JobMessage.NewIdea, _ callback: String?) -> Bool {
        (try? IdeaText.normalized(new.text)) == idea.idea && new.language == idea.language && new.targetSeconds == idea.targetSeconds
            && new.background == idea.background && new.format == idea.format && new.style == idea.style && new.footage == idea.footage
            && callback == idea.callbackURL
    }

    static func callbackURL(_ v: JSONValue) throws -> String {
        guard let s = v.stringValue, s.utf8.count <= 2048, let url = URL(string: s), let scheme = url.scheme?.lowercased(),
              scheme == "https" || scheme == "http", url.host?.isEmpty == false, url.user == nil, url.password == nil else {
            throw ApiError.invalid("field 'callback_url' must be an http or https URL without credentials, at most 2048 characters")
        }
        return s
    }

    static func idempotencyKey(_ request: Request) throws -> String? {
        guard let key = request.headers[HTTPField.Name("Idempotency-Key")!] else { return nil }
        guard (1...200).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw ApiError.invalid("Idempotency-Key must be 1 to 200 printable characters without spaces")
        }
        return key
    }

    /// A JSON object body of at most `limit` bytes.
    static func jsonObject(_ request: Request, limit: Int) async throws -> [String: JSONValue] {
        let buffer = try await body(request, limit: limit)
        let bytes = Array(buffer.readableBytesView)
        if bytes.isEmpty { return [:] }
        guard let value = try? JSONValue.parse(Data(bytes)), case .object(let o) = value else {
            throw ApiError.invalid("the body must be a JSON object")
        }
        if let key = JSONDuplicateKeys.first(in: bytes) { throw ApiError.invalid("the body has the key '\(key.prefix(40))' more than once") }
        return o
    }

    static func body(_ request: Request, limit: Int) async throws -> ByteBuffer {
        do { return try await request.body.collect(upTo: limit) } catch is NIOTooManyBytesError {
            throw ApiError(.contentTooLarge, "too_large", "the request body is over \(limit) bytes")
        }
    }

    /// Up to 1,000 videos from JSON Lines or CSV; each line is checked on its own and answered with its line number.
    func batch(_ request: Request, context: ApiContext) async throws -> Response {
        let buffer = try await Self.body(request, limit: 4 << 20)
        guard let text = String(bytes: buffer.readableBytesView, encoding: .utf8) else { throw ApiError.invalid("the body is not UTF-8") }
        let type = request.headers[.contentType]?.lowercased() ?? ""
        let rows: [(line: Int, fields: Result<[String: JSONValue], ApiError>)]
        if type.hasPrefix("text/csv") {
            rows = try BatchInput.csv(text)
        } else if type.hasPrefix("application/x-ndjson") || type.hasPrefix("application/jsonl") || type.hasPrefix("application/json") {
            rows = BatchInput.jsonLines(text)
        } else {
            throw ApiError(.unsupportedMediaType, "unsupported_media_type", "send application/x-ndjson (JSON Lines) or text/csv")
        }
        guard rows.count <= Self.maxBatch else { throw ApiError.invalid("a batch holds at most \(Self.maxBatch) videos; this one has \(rows.count)") }
        guard !rows.isEmpty else { throw ApiError.invalid("the batch holds no video") }
        var created: [JSONValue] = [], errors: [JSONValue] = []
        for row in rows {
            do {
                let (_, idea) = try await create(try row.fields.get(), idempotencyKey: nil)
                created.append(["line": .int(Int64(row.line)), "id": .string(idea.id)])
            } catch let e as ApiError {
                errors.append(["line": .int(Int64(row.line)), "error": .string(e.message)])
            }
        }
        return json(.ok, ["created": .array(created), "errors": .array(errors)])
    }

    func cancel(_ context: ApiContext) async throws -> Response {
        let idea = try await video(context)
        guard try await operations.cancel(ideaID: idea.id) else {
            throw ApiError(.conflict, "already_complete", "video \(idea.id) is complete: there is nothing to cancel")
        }
        return json(.accepted, VideoView.detail(try await stored(idea.id), job: try await store.jobs(ideaID: idea.id).last))
    }

    func retry(_ request: Request, context: ApiContext) async throws -> Response {
        let idea = try await video(context)
        let o = try await Self.jsonObject(request, limit: 4 << 10)
        if let unknown = o.keys.first(where: { $0 != "from" }) { throw ApiError.invalid("unknown field '\(unknown.prefix(40))' (expected from)") }
        var from: Stage?
        if let f = o["from"] {
            guard let s = f.stringValue, let stage = Stage(rawValue: s) else { throw ApiError.invalid("field 'from' must be script, adapt, audio or video") }
            from = stage
        }
        if !idea.status.isFinal && from == nil {
            throw ApiError(.conflict, "in_progress", "video \(idea.id) is \(idea.status.rawValue): it resumes by itself")
        }
        guard let stage = try await operations.retry(ideaID: idea.id, from: from) else {
            throw ApiError(.conflict, "already_complete", "video \(idea.id) is complete; name a stage to run again ({\"from\": \"video\"})")
        }
        var out = VideoView.detail(try await stored(idea.id), job: try await store.jobs(ideaID: idea.id).last).objectValue ?? [:]
        out["retry_from"] = .string(stage.rawValue)
        return json(.accepted, .object(out))
    }
}

func json(_ status: HTTPResponse.Status, _ value: JSONValue, headers: HTTPFields = [:]) -> Response {
    var fields = headers
    fields[.contentType] = "application/json"
    fields[.cacheControl] = "no-store"
    return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: value.jsonText)))
}

/// The lines of a batch: JSON Lines (an object a line) or CSV (a header naming the fields, then a video a line;
/// RFC 4180 quoting). Blank lines are skipped; line numbers are the body's.
enum BatchInput {
    static func jsonLines(_ text: String) -> [(line: Int, fields: Result<[String: JSONValue], ApiError>)] {
        var out: [(line: Int, fields: Result<[String: JSONValue], ApiError>)] = []
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            if let value = try? JSONValue.parse(Data(line.utf8)), case .object(let o) = value {
                out.append((i + 1, .success(o)))
            } else {
                out.append((i + 1, .failure(ApiError.invalid("line \(i + 1) is not a JSON object"))))
            }
        }
        return out
    }

    static func csv(_ text: String) throws -> [(line: Int, fields: Result<[String: JSONValue], ApiError>)] {
        let records = parse(text)
        guard let header = records.first?.cells.map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) else { return [] }
        if let unknown = header.first(where: { !VideoRoutes.fields.contains($0) }) {
            throw ApiError.invalid("the CSV header names an unknown field '\(unknown.prefix(40))'")
        }
        return records.dropFirst().filter { !($0.cells.count == 1 && $0.cells[0].isEmpty) }.map { record in
            guard record.cells.count == header.count else {
                return (record.line, .failure(ApiError.invalid("line \(record.line) has \(record.cells.count) fields; the header has \(header.count)")))
            }
            var o: [String: JSONValue] = [:]
            for (name, cell) in zip(header, record.cells) where !cell.isEmpty {
                o[name] = name == "duration_seconds" ? (Int(cell).map { .int(Int64($0)) } ?? .string(cell)) : .string(cell)
            }
            return (record.line, .success(o))
        }
    }

    /// RFC 4180 records with the line each starts on.
    static func parse(_ text: String) -> [(line: Int, cells: [String])] {
        var records: [(line: Int, cells: [String])] = []
        var cells: [String] = [], cell = "", quoted = false, line = 1, start = 1
        var chars = Array(text.replacingOccurrences(of: "\r\n", with: "\n")).makeIterator()
        var pending: Character? = chars.next()
        while let c = pending {
            pending = chars.next()
            if quoted {
                if c == "\"" {
                    if pending == "\"" { cell.append("\""); pending = chars.next() } else { quoted = false }
                } else {
                    if c == "\n" { line += 1 }
                    cell.append(c)
                }
            } else if c == "\"" && cell.isEmpty {
                quoted = true
            } else if c == "," {
                cells.append(cell); cell = ""
            } else if c == "\n" {
                cells.append(cell); records.append((start, cells)); cells = []; cell = ""; line += 1; start = line
            } else {
                cell.append(c)
            }
        }
        if !cell.isEmpty || !cells.isEmpty { cells.append(cell); records.append((start, cells)) }
        return records
    }
}
