import Foundation
import Logging
import Shared

/// Log lines on standard error, as text or JSON, with every message and value passed through the Redactor.
public struct ReelForgeLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String
    let json: Bool

    public init(label: String, json: Bool, level: Logger.Level) {
        self.label = label; self.json = json; self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let r = Redactor.shared
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { $1 } }
        let time = Timestamp.iso(Date())
        let line: String
        if json {
            var o: [String: JSONValue] = ["ts": .string(time), "level": .string(event.level.rawValue), "logger": .string(label),
                                          "msg": .string(r.redact(event.message.description))]
            for (k, v) in all { o[k] = .string(r.redact(v.description)) }
            line = JSONValue.object(o).jsonText
        } else {
            let order = ["job_id", "idea_id", "stage", "attempt"]
            let keys = order.filter { all[$0] != nil } + all.keys.filter { !order.contains($0) }.sorted()
            let meta = keys.map { "\($0)=\(r.redact(all[$0]!.description))" }.joined(separator: " ")
            line = "\(time) \(event.level.rawValue.uppercased()) [\(label)]\(meta.isEmpty ? "" : " " + meta) \(r.redact(event.message.description))"
        }
        // A closed standard error (EPIPE: SIGPIPE is ignored) loses the line instead of stopping the process.
        try? FileHandle.standardError.write(contentsOf: Data((line + "\n").utf8))
    }
}

public enum LoggingSetup {
    /// Bootstraps swift-log once for an executable.
    public static func bootstrap(_ config: ReelForgeConfig) {
        let level = Logger.Level(rawValue: config.logLevel.lowercased()) ?? .info
        let json = config.logFormat == .json
        LoggingSystem.bootstrap { label in ReelForgeLogHandler(label: label, json: json, level: level) }
    }
}
