import Foundation
import MCP
import Shared

/// The MCP server for AI agents (`reelforge mcp`, over stdio): tools to create a video, get its status and list
/// recent ones, over the same `Operations` and rules as the HTTP API (a created video is the API's VIDEO).
public struct McpTools: Sendable {
    let operations: Operations
    var store: any JobStore { operations.store }

    public init(operations: Operations) { self.operations = operations }

    static let tools: [Tool] = [
        Tool(name: "create_video", title: "Create a video",
             description: "Start a narrated, subtitled short video from an idea. Returns the video (its id, status and stage); it is made in the background.",
             inputSchema: ["type": "object", "required": ["idea"], "additionalProperties": false, "properties": [
                "idea": ["type": "string", "description": "What the video is about, e.g. 'why octopuses have three hearts'"],
                "language": ["type": "string", "enum": ["en", "fr"]],
                "duration_seconds": ["type": "integer", "minimum": 5, "maximum": 600],
                "format": ["type": "string", "enum": ["9:16", "1:1", "16:9"]],
                "style": ["type": "string", "enum": ["classic", "shorts"]],
                "background": ["type": "string"],
                "footage": ["type": "string", "description": "sources in order: pexels, pixabay, library, generated"],
             ]]),
        Tool(name: "get_video", title: "Get a video",
             description: "A video's status, checkpoint, stage, progress, errors, costs and files.",
             inputSchema: ["type": "object", "required": ["id"], "additionalProperties": false, "properties": ["id": ["type": "string"]]],
             annotations: .init(readOnlyHint: true)),
        Tool(name: "list_videos", title: "List recent videos",
             description: "The newest videos, optionally of one status.",
             inputSchema: ["type": "object", "additionalProperties": false, "properties": [
                "status": ["type": "string", "enum": ["queued", "processing", "completed", "failed", "cancelled"]],
                "limit": ["type": "integer", "minimum": 1, "maximum": 100],
             ]],
             annotations: .init(readOnlyHint: true)),
    ]

    /// Serves the tools on stdin/stdout until the client closes stdin.
    public func serveStdio() async throws {
        let server = Server(name: "reelforge", version: "1.0.0", capabilities: .init(tools: .init(listChanged: false)))
        await server.withMethodHandler(ListTools.self) { _ in .init(tools: Self.tools) }
        await server.withMethodHandler(CallTool.self) { params in await call(params.name, params.arguments ?? [:]) }
        try await server.start(transport: StdioTransport())
        await server.waitUntilCompleted()
    }

    /// One tool call; a bad argument or an unknown video is a tool error with its reason, not a protocol error.
    public func call(_ name: String, _ arguments: [String: Value]) async -> CallTool.Result {
        do {
            let result: JSONValue
            switch name {
            case "create_video":
                var fields: [String: JSONValue] = [:]
                for (k, v) in arguments { fields[k] = Self.json(v) }
                if let unknown = fields.keys.first(where: { !VideoRoutes.fields.contains($0) || $0 == "callback_url" }) {
                    throw McpFailure("unknown argument '\(unknown.prefix(40))'")
                }
                let new: JobMessage.NewIdea
                do { new = try JobMessageCodec.idea(fields: fields) } catch { throw McpFailure(error.description) }
                let submitted = try await operations.submit(new)
                result = try await video(submitted.ideaID)
            case "get_video":
                guard let id = arguments["id"]?.stringValue, Identifier.isValid(id) else { throw McpFailure("'id' must be a video id") }
                result = try await video(id)
            case "list_videos":
                var status: JobStatus?
                if let s = arguments["status"]?.stringValue {
                    guard let v = JobStatus(rawValue: s) else { throw McpFailure("unknown status '\(s.prefix(20))'") }
                    status = v
                }
                let limit = min(100, max(1, arguments["limit"]?.intValue ?? 20))
                var videos: [JSONValue] = []
                for idea in try await store.ideas(IdeaQuery(status: status, limit: limit)) {
                    videos.append(.object(VideoView.summary(idea, job: try await store.jobs(ideaID: idea.id).last)))
                }
                result = ["videos": .array(videos)]
            default:
                throw McpFailure("no tool '\(name.prefix(40))' (create_video, get_video, list_videos)")
            }
            let structured: Value? = Self.value(result)
            return CallTool.Result(content: [Self.text(result.jsonText)], structuredContent: structured, isError: nil, _meta: nil)
        } catch let f as McpFailure {
            return .init(content: [Self.text(f.message)], isError: true)
        } catch {
            return .init(content: [Self.text(Redactor.shared.redact("\(error)"))], isError: true)
        }
    }

    func video(_ id: String) async throws -> JSONValue {
        guard let idea = try await store.idea(id) else { throw McpFailure("no video \(id)") }
        return VideoView.detail(idea, job: try await store.jobs(ideaID: id).last)
    }

    struct McpFailure: Error { let message: String; init(_ m: String) { message = m } }

    static func text(_ s: String) -> Tool.Content { .text(text: s, annotations: nil, _meta: nil) }

    static func json(_ v: Value) -> JSONValue {
        switch v {
        case .null, .data: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(Int64(i))
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .array(let a): return .array(a.map(json))
        case .object(let o): return .object(o.mapValues(json))
        }
    }

    static func value(_ j: JSONValue) -> Value {
        switch j {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(Int(i))
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .array(let a): return .array(a.map(value))
        case .object(let o): return .object(o.mapValues(value))
        }
    }
}
