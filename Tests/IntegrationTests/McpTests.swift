import Foundation
import ReelForgeTestKit
import Shared
import Testing

/// `reelforge mcp` as an AI agent's client runs it: JSON-RPC over its stdin and stdout, on the embedded store.
@Suite("MCP server")
struct McpTests {
    @Test func anAgentCreatesAVideoFollowsItAndGetsClearToolErrors() async throws {
        let dir = temporaryDirectory("mcp")
        let p = Process()
        p.executableURL = TestServices.binDir.appendingPathComponent("reelforge")
        p.arguments = ["mcp", "--home", dir.appendingPathComponent("home").path]
        p.environment = ProcessInfo.processInfo.environment.merging([
            "REELFORGE_VIDEO_SIZE": "180x320", "REELFORGE_VIDEO_FPS": "10", "REELFORGE_WORK_DIR": dir.appendingPathComponent("work").path,
        ]) { $1 }.filter { $0.key != "AMQP_URL" && $0.key != "MONGODB_URI" }
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try p.run()
        defer { if p.isRunning { p.terminate() } }
        let lines = LineReader(output.fileHandleForReading)
        func send(_ json: String) { input.fileHandleForWriting.write(Data((json + "\n").utf8)) }
        func answer(_ id: Int) async throws -> JSONValue {
            for _ in 0..<600 {
                if let found = lines.all().compactMap({ try? JSONValue.parse(Data($0.utf8)) }).first(where: { $0["id"]?.intValue == id }) { return found }
                try await Task.sleep(for: .milliseconds(100))
            }
            Issue.record("no answer to request \(id)")
            return .null
        }
        func tool(_ id: Int, _ name: String, _ arguments: String) async throws -> JSONValue {
            send(#"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"\#(name)","arguments":\#(arguments)}}"#)
            return try await answer(id)["result"] ?? .null
        }

        send(#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"test","version":"1"}}}"#)
        #expect(try await answer(1)["result"]?["serverInfo"]?["name"]?.stringValue == "reelforge")
        send(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
        send(#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#)
        let names = (try await answer(2)["result"]?["tools"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        #expect(names == ["create_video", "get_video", "list_videos"])

        let created = try await tool(3, "create_video", #"{"idea": "why cats purr", "duration_seconds": 6, "style": "shorts"}"#)
        let id = try #require(created["structuredContent"]?["id"]?.stringValue)
        #expect(created["isError"] == nil || created["isError"] == .bool(false))
        var status = ""
        for n in 0..<120 where status != "completed" {
            status = try await tool(10 + n, "get_video", #"{"id": "\#(id)"}"#)["structuredContent"]?["status"]?.stringValue ?? ""
            if status != "completed" { try await Task.sleep(for: .milliseconds(500)) }
        }
        #expect(status == "completed", "the video is made while the session lasts")
        let listed = try await tool(200, "list_videos", #"{"status": "completed"}"#)
        #expect(listed["structuredContent"]?["videos"]?.arrayValue?.first?["id"]?.stringValue == id)

        // Bad arguments are tool errors with the reason, and the server keeps serving.
        let bad = try await tool(201, "create_video", #"{"idea": "why cats purr", "language": "de"}"#)
        #expect(bad["isError"] == .bool(true) && bad["content"]?.arrayValue?.first?["text"]?.stringValue?.contains("language") == true)
        let missing = try await tool(202, "get_video", #"{"id": "idea_nope"}"#)
        #expect(missing["isError"] == .bool(true))
        #expect(try await tool(203, "list_videos", "{}")["structuredContent"]?["videos"]?.arrayValue?.count == 1)
        try input.fileHandleForWriting.close()
        for _ in 0..<100 where p.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        #expect(!p.isRunning && p.terminationStatus == 0, "the server ends when its client closes stdin")
    }
}

/// The lines a process wrote so far, read on a thread of its own.
final class LineReader: @unchecked Sendable {
    private let lock = NSLock()
    private var text = ""

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            while true {
                let data = handle.availableData
                if data.isEmpty { return }
                lock.lock(); text += String(decoding: data, as: UTF8.self); lock.unlock()
            }
        }
    }

    func all() -> [String] {
        lock.lock(); defer { lock.unlock() }
        return text.split(separator: "\n").map(String.init)
    }
}
