import Foundation

/// The message that moves a job to a stage. The body is JSON (docs/messages.md); the attempt number of this
/// stage travels in our own header, `x-reelforge-attempt`, never in the broker's `x-death`.
public struct JobMessage: Sendable, Hashable {
    public var jobID: String
    public var ideaID: String
    public var stage: Stage
    /// 1 for the first attempt of `stage`, 2 for its first retry, ...
    public var attempt: Int
    /// Present when a producer enqueues a job that does not exist yet in the store.
    public var newIdea: NewIdea?
    /// How many times this delivery was put back because another worker held the stage's lease.
    public var leaseWaits: Int
    /// Deliveries of this attempt that ended without an outcome (a worker died holding them), carried across
    /// the lease waits so that a crash loop reaches its limit even though each wait is a new message.
    public var redeliveries: Int
    /// The producer's W3C trace context (`traceparent`, `tracestate`) as it travels in the headers; empty when
    /// tracing is off. Written by `TracingWorkQueue` at publish time.
    public var traceHeaders: [String: String] = [:]
    /// The job's class of service: its stages are taken from the class's own queues, high first (`Priority`).
    public var priority: Priority = .normal
    /// How many times this attempt went back to wait for a provider's shared limit, pause or open circuit
    /// (`StageFailure.throttled`): waits that spend no attempt, bounded so that a provider gone for good parks.
    public var providerWaits: Int = 0

    public struct NewIdea: Sendable, Hashable {
        public var text: String
        public var language: String
        public var targetSeconds: Int
        /// The background the idea asks for (`BackgroundChoice`); nil for the worker's own.
        public var background: String?
        /// The frame and caption look the idea asks for; nil for the video worker's own.
        public var format: VideoFormat?
        public var style: SubtitlePreset?
        /// The stock footage sources the idea asks for, in order (`FootageSource`); nil for the video worker's own.
        public var footage: [FootageSource]?
        public init(text: String, language: String, targetSeconds: Int, background: String? = nil, format: VideoFormat? = nil,
                    style: SubtitlePreset? = nil, footage: [FootageSource]? = nil) {
            self.text = text; self.language = language; self.targetSeconds = targetSeconds; self.background = background
            self.format = format; self.style = style; self.footage = footage
        }
    }

    public init(jobID: String, ideaID: String, stage: Stage, attempt: Int = 1, newIdea: NewIdea? = nil, leaseWaits: Int = 0,
                redeliveries: Int = 0) {
        self.jobID = jobID; self.ideaID = ideaID; self.stage = stage; self.attempt = attempt
        self.newIdea = newIdea; self.leaseWaits = leaseWaits; self.redeliveries = redeliveries
    }
}

/// The W3C Trace Context header names, as they travel on AMQP messages.
public enum TraceHeader {
    public static let traceparent = "traceparent"
    public static let tracestate = "tracestate"
    public static let all = [traceparent, tracestate]
}

/// Header names ReelForge sets on its messages.
public enum MessageHeader {
    public static let attempt = "x-reelforge-attempt"
    public static let stage = "x-reelforge-stage"
    public static let jobID = "x-reelforge-job-id"
    public static let leaseWaits = "x-reelforge-lease-waits"
    public static let redeliveries = "x-reelforge-redeliveries"
    public static let providerWaits = "x-reelforge-provider-waits"
    public static let reason = "x-reelforge-reason"
    public static let reasonKind = "x-reelforge-reason-kind"
    public static let parkedAt = "x-reelforge-parked-at"
    public static let parkedBy = "x-reelforge-parked-by"
}

/// Why a message could not be read. Each case is a clear reason stored with the parked message.
public enum MessageError: Error, Sendable, Hashable, CustomStringConvertible {
    case tooLarge(bytes: Int, limit: Int)
    case invalidUTF8
    case malformedJSON(String)
    case notAnObject
    case missingField(String)
    case wrongType(field: String, expected: String)
    case unknownStage(String)
    case invalidIdentifier(field: String)
    case ideaTooLong(characters: Int, limit: Int)
    /// The idea breaks a rule of `IdeaText` other than its length (control characters, blank, no Latin words).
    case invalidIdea(String)
    case duplicateKey(String)
    case unsupportedVersion(Int)
    case badHeader(String)

    public var description: String {
        switch self {
        case .tooLarge(let b, let l): return "message body is \(b) bytes, over the \(l)-byte limit"
        case .invalidUTF8: return "message body is not valid UTF-8"
        case .malformedJSON(let why): return "message body is not valid JSON: \(why)"
        case .notAnObject: return "message body must be a JSON object"
        case .missingField(let f): return "message lacks required field '\(f)'"
        case .wrongType(let f, let e): return "field '\(f)' must be \(e)"
        case .unknownStage(let s): return "unknown stage '\(s.prefix(40))' (expected script, adapt, audio or video)"
        case .invalidIdentifier(let f): return "field '\(f)' must be 1-64 letters, digits, '-' or '_'"
        case .ideaTooLong(let c, let l): return "idea text is \(c) characters, over the \(l)-character limit"
        case .invalidIdea(let why): return "field 'idea': \(why)"
        case .duplicateKey(let k): return "message body has the key '\(k.prefix(40))' more than once in one object"
        case .unsupportedVersion(let v): return "message version \(v) is not supported (expected 1)"
        case .badHeader(let h): return "header \(h) is malformed"
        }
    }
}

/// Encodes and decodes `JobMessage` bodies and headers, validating everything a producer can get wrong.
public struct JobMessageCodec: Sendable {
    public static let maxBodyBytes = 64 * 1024
    public static let maxIdeaCharacters = IdeaText.maxCharacters
    public static let version = 1

    public init() {}

    public func encode(_ m: JobMessage) -> (body: [UInt8], headers: [String: String]) {
        var object: [String: JSONValue] = [
            "version": .int(Int64(Self.version)),
            "job_id": .string(m.jobID), "idea_id": .string(m.ideaID), "stage": .string(m.stage.rawValue),
        ]
        if m.priority != .normal { object["priority"] = .string(m.priority.rawValue) }
        if let n = m.newIdea {
            object["idea"] = .string(n.text)
            object["language"] = .string(n.language)
            object["duration_seconds"] = .int(Int64(n.targetSeconds))
            if let b = n.background { object["background"] = .string(b) }
            if let f = n.format { object["format"] = .string(f.rawValue) }
            if let s = n.style { object["style"] = .string(s.rawValue) }
            if let f = n.footage { object["footage"] = .string(f.map(\.rawValue).joined(separator: ",")) }
        }
        var headers = [
            MessageHeader.attempt: String(m.attempt), MessageHeader.stage: m.stage.rawValue,
            MessageHeader.jobID: m.jobID,
        ]
        if m.leaseWaits > 0 { headers[MessageHeader.leaseWaits] = String(m.leaseWaits) }
        if m.redeliveries > 0 { headers[MessageHeader.redeliveries] = String(m.redeliveries) }
        if m.providerWaits > 0 { headers[MessageHeader.providerWaits] = String(m.providerWaits) }
        for key in TraceHeader.all { if let v = m.traceHeaders[key] { headers[key] = v } }
        return (Array(JSONValue.object(object).jsonText.utf8), headers)
    }

    public func decode(body: [UInt8], headers: [String: String]) throws(MessageError) -> JobMessage {
        guard body.count <= Self.maxBodyBytes else { throw .tooLarge(bytes: body.count, limit: Self.maxBodyBytes) }
        guard let text = String(validatingUTF8CString: body) else { throw .invalidUTF8 }
        let value: JSONValue
        do { value = try JSONValue.parse(Data(text.utf8)) } catch {
            throw .malformedJSON(Self.shortReason(error))
        }
        guard case .object(let o) = value else { throw .notAnObject }
        if let key = JSONDuplicateKeys.first(in: body) { throw .duplicateKey(key) }

        if let v = o["version"] {
            guard let n = v.intValue else { throw .wrongType(field: "version", expected: "an integer") }
            guard n == Self.version else { throw .unsupportedVersion(n) }
        }
        let jobID = try Self.identifier(o, "job_id")
        let ideaID = try Self.identifier(o, "idea_id")
        guard let stageValue = o["stage"] else { throw .missingField("stage") }
        guard let stageText = stageValue.stringValue else { throw .wrongType(field: "stage", expected: "a string") }
        guard let stage = Stage(rawValue: stageText) else { throw .unknownStage(stageText) }

        let newIdea = try Self.newIdea(o)
        let attempt = try Self.headerInt(headers, MessageHeader.attempt, default: 1, range: 1...1_000)
        let waits = try Self.headerInt(headers, MessageHeader.leaseWaits, default: 0, range: 0...1_000_000)
        let redeliveries = try Self.headerInt(headers, MessageHeader.redeliveries, default: 0, range: 0...1_000_000)
        var message = JobMessage(jobID: jobID, ideaID: ideaID, stage: stage, attempt: attempt, newIdea: newIdea, leaseWaits: waits,
                                 redeliveries: redeliveries)
        message.traceHeaders = Self.traceHeaders(headers)
        message.priority = try Self.choice(o, "priority", Priority.self) ?? .normal
        message.providerWaits = try Self.headerInt(headers, MessageHeader.providerWaits, default: 0, range: 0...1_000_000)
        return message
    }

    /// The trace headers worth keeping: printable ASCII within the W3C length limits. Anything else is dropped
    /// rather than refused: tracing never stops a job.
    static func traceHeaders(_ h: [String: String]) -> [String: String] {
        var kept: [String: String] = [:]
        for key in TraceHeader.all {
            if let v = h[key], v.utf8.count <= 512, v.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) { kept[key] = v }
        }
        return kept
    }

    /// The fields of a new idea (`idea`, `language`, `duration_seconds`, `background`, `format`, `style`,
    /// `footage`) read from a JSON object by the message's own rules: what the HTTP API accepts too.
    public static func idea(fields o: [String: JSONValue]) throws(MessageError) -> JobMessage.NewIdea {
        guard let idea = try newIdea(o) else { throw .missingField("idea") }
        return idea
    }

    /// The idea fields of a message that may create its job; nil without `idea`.
    private static func newIdea(_ o: [String: JSONValue]) throws(MessageError) -> JobMessage.NewIdea? {
        guard let ideaValue = o["idea"] else { return nil }
        guard let raw = ideaValue.stringValue else { throw .wrongType(field: "idea", expected: "a string") }
        let text = try ideaText(raw)
        var language = "en"
        if let l = o["language"] {
            guard let s = l.stringValue, IdeaText.languages.contains(s) else {
                throw .wrongType(field: "language", expected: "\"en\" or \"fr\"")
            }
            language = s
        }
        var seconds = 30
        if let d = o["duration_seconds"] {
            guard let n = d.intValue, IdeaText.seconds.contains(n) else {
                throw .wrongType(field: "duration_seconds", expected: "an integer from \(IdeaText.seconds.lowerBound) to \(IdeaText.seconds.upperBound)")
            }
            seconds = n
        }
        var background: String?
        if let b = o["background"] {
            guard let s = b.stringValue else { throw .wrongType(field: "background", expected: "a string") }
            if let problem = BackgroundChoice.problem(s) { throw .wrongType(field: "background", expected: "a colour, gradient or media: name (\(problem))") }
            background = s
        }
        return .init(text: text, language: language, targetSeconds: seconds, background: background,
                     format: try choice(o, "format", VideoFormat.self), style: try choice(o, "style", SubtitlePreset.self),
                     footage: try footage(o))
    }

    /// The optional `footage` field: sources of the fixed list, comma-separated, in order (never a URL or a path).
    private static func footage(_ o: [String: JSONValue]) throws(MessageError) -> [FootageSource]? {
        guard let v = o["footage"] else { return nil }
        let expected = "a comma-separated list of " + FootageSource.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
        guard let s = v.stringValue, let list = try? FootageSource.list(s, name: "footage"), !list.isEmpty else {
            throw .wrongType(field: "footage", expected: expected)
        }
        return list
    }

    /// An optional field whose value is one of a fixed list (`format`, `style`, `priority`).
    public static func choice<T: RawRepresentable & CaseIterable>(_ o: [String: JSONValue], _ field: String,
                                                                   _: T.Type) throws(MessageError) -> T? where T.RawValue == String {
        guard let v = o[field] else { return nil }
        guard let s = v.stringValue, let value = T(rawValue: s) else {
            throw .wrongType(field: field, expected: "one of " + T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))
        }
        return value
    }

    /// The idea's text by the one rule of `IdeaText`.
    static func ideaText(_ raw: String) throws(MessageError) -> String {
        do throws(IdeaText.Problem) {
            return try IdeaText.normalized(raw)
        } catch {
            if case .tooLong(let c, let l) = error { throw .ideaTooLong(characters: c, limit: l) }
            throw .invalidIdea(error.description)
        }
    }

    private static func identifier(_ o: [String: JSONValue], _ field: String) throws(MessageError) -> String {
        guard let v = o[field] else { throw .missingField(field) }
        guard let s = v.stringValue else { throw .wrongType(field: field, expected: "a string") }
        guard Identifier.isValid(s) else { throw .invalidIdentifier(field: field) }
        return s
    }

    private static func headerInt(_ h: [String: String], _ name: String, default d: Int, range: ClosedRange<Int>) throws(MessageError) -> Int {
        guard let raw = h[name] else { return d }
        guard let n = Int(raw), range.contains(n) else { throw .badHeader(name) }
        return n
    }

    /// What is wrong with a body JSONDecoder refused, in words a producer can act on (never just "DecodingError").
    static func shortReason(_ error: Error) -> String {
        switch error as? DecodingError {
        case .dataCorrupted(let ctx)?:
            return ctx.underlyingError.map { "\($0.localizedDescription)" } ?? ctx.debugDescription
        case .typeMismatch(_, let ctx)?, .valueNotFound(_, let ctx)?, .keyNotFound(_, let ctx)?:
            var path = ""
            for key in ctx.codingPath { path += key.intValue.map { "[\($0)]" } ?? (path.isEmpty ? "" : ".") + key.stringValue }
            return "the value \(path.isEmpty ? "of the body" : "at '\(path.prefix(80))'") cannot be read: a number beyond ±1.8e308 "
                + "or malformed, or a string with an unpaired \\u surrogate"
        default:
            return String(describing: error).prefix(200).description
        }
    }
}

extension String {
    /// Strict UTF-8 decoding of bytes (nil on any invalid sequence).
    init?(validatingUTF8CString bytes: [UInt8]) {
        var it = bytes.makeIterator()
        var decoder = UTF8()
        var scalars = String.UnicodeScalarView()
        loop: while true {
            switch decoder.decode(&it) {
            case .scalarValue(let s): scalars.append(s)
            case .emptyInput: break loop
            case .error: return nil
            }
        }
        self = String(scalars)
    }
}
