import Foundation

/// One entry of an idea's error history.
public struct ErrorEntry: Codable, Sendable, Hashable {
    public var stage: Stage
    public var kind: String          // transient | permanent | exhausted | poison | lease
    public var message: String       // already redacted
    public var attempt: Int
    public var at: Date
    /// The worker whose run ended so (nil in records from before it was kept).
    public var worker: String?
    public init(stage: Stage, kind: String, message: String, attempt: Int, at: Date, worker: String? = nil) {
        self.stage = stage; self.kind = kind; self.message = message; self.attempt = attempt; self.at = at; self.worker = worker
    }
}

/// One paid (or free) provider call, for the cost ledger.
public struct CostEntry: Codable, Sendable, Hashable {
    public var stage: Stage
    public var attempt: Int
    public var provider: String
    public var units: Double         // tokens, characters, seconds: see `unit`
    public var unit: String
    public var costUSD: Double
    public var at: Date
    /// Input and output units where the provider bills them apart (prompt and completion tokens).
    public var unitsIn: Double?
    public var unitsOut: Double?
    /// Requests made for this attempt (more than one when an invalid answer was repaired).
    public var calls: Int
    public init(stage: Stage, attempt: Int, provider: String, units: Double, unit: String, costUSD: Double, at: Date,
                unitsIn: Double? = nil, unitsOut: Double? = nil, calls: Int = 1) {
        self.stage = stage; self.attempt = attempt; self.provider = provider
        self.units = units; self.unit = unit; self.costUSD = costUSD; self.at = at
        self.unitsIn = unitsIn; self.unitsOut = unitsOut; self.calls = calls
    }
}

extension CostEntry {
    /// The same payment is in `ledger`: same stage, provider and unit, paid at the same moment (to the
    /// millisecond, the precision stores keep). How a paid result kept across attempts reaches the ledger once.
    public func isRecorded(in ledger: [CostEntry]) -> Bool {
        ledger.contains { $0.stage == stage && $0.provider == provider && $0.unit == unit && abs($0.at.timeIntervalSince(at)) < 0.001 }
    }
}

/// A stored binary artifact (GridFS file, embedded file).
public struct ArtifactRef: Codable, Sendable, Hashable {
    public var id: String
    public var name: String
    public var contentType: String
    public var size: Int
    public init(id: String, name: String, contentType: String, size: Int) {
        self.id = id; self.name = name; self.contentType = contentType; self.size = size
    }
}

/// What one stage produced: small values kept inline, files stored in the artifact store.
public struct StageArtifact: Codable, Sendable, Hashable {
    public var inline: [String: JSONValue]
    public var files: [String: ArtifactRef]
    public var attempt: Int
    public var producedAt: Date
    /// How long the run that produced it took (claim to stored result); nil in records from before it was kept.
    public var seconds: Double?
    /// The worker that produced it.
    public var worker: String?
    public init(inline: [String: JSONValue] = [:], files: [String: ArtifactRef] = [:], attempt: Int, producedAt: Date, seconds: Double? = nil,
                worker: String? = nil) {
        self.inline = inline; self.files = files; self.attempt = attempt; self.producedAt = producedAt; self.seconds = seconds
        self.worker = worker
    }
}

/// A document of the `ideas` collection.
public struct IdeaRecord: Codable, Sendable, Hashable {
    public var id: String
    public var idea: String
    public var language: String
    public var targetSeconds: Int
    /// The background the idea asked for (`BackgroundChoice`); nil for the video worker's own.
    public var background: String?
    /// The frame and caption look the idea asked for (`--format`, `--style`); nil for the video worker's own.
    public var format: VideoFormat?
    public var style: SubtitlePreset?
    /// The stock footage sources the idea asked for, in order (`--footage`); nil for the video worker's own.
    public var footage: [FootageSource]?
    /// Where the video's end (completed, failed, cancelled) is announced (`callback_url` of the API), if anywhere.
    public var callbackURL: String? {
        didSet { if callbackURL != nil && webhook == nil { webhook = WebhookState() } }
    }
    /// The announcement's delivery, for an idea with a callback URL.
    public var webhook: WebhookState?
    public var status: JobStatus
    public var lastSuccessfulStep: Checkpoint?
    public var progressPercentage: Int
    public var currentStep: Stage?
    public var artifacts: [Stage: StageArtifact]
    public var errors: [ErrorEntry]
    public var costs: [CostEntry]
    public var createdAt: Date
    public var updatedAt: Date
    /// The lease on each stage being run, whichever job runs it: one idea's stage runs in one place at a time.
    public var leases: [Stage: Lease] {
        get { stageLeases ?? [:] }
        set { stageLeases = newValue.isEmpty ? nil : newValue }
    }
    /// Stored optional, so that records written before leases moved to the idea still decode.
    private var stageLeases: [Stage: Lease]?

    public init(id: String, idea: String, language: String, targetSeconds: Int, now: Date) {
        self.id = id; self.idea = idea; self.language = language; self.targetSeconds = targetSeconds
        self.status = .queued; self.lastSuccessfulStep = nil; self.progressPercentage = 0; self.currentStep = nil
        self.artifacts = [:]; self.errors = []; self.costs = []; self.createdAt = now; self.updatedAt = now
    }

    /// True when `stage` has succeeded and its checkpoint is recorded.
    public func isDone(_ stage: Stage) -> Bool {
        guard let last = lastSuccessfulStep else { return false }
        return last.stage >= stage
    }
}

/// Where the announcement of a video's end stands. Changed only by compare-and-set on `rev`
/// (`JobStore.updateWebhook`), so that one of many API instances sends it at a time.
public struct WebhookState: Codable, Sendable, Hashable {
    /// Not yet delivered, nor given up.
    public var pending = true
    public var rev = 0
    public var attempts = 0
    /// Not sent before this moment (backoff after a failed delivery).
    public var nextAt: Date?
    /// An API instance is sending it until this moment.
    public var sendingUntil: Date?
    public var deliveredAt: Date?
    public var lastError: String?
    public init() {}

    enum CodingKeys: String, CodingKey {
        case pending, rev, attempts, nextAt = "next_at", sendingUntil = "sending_until", deliveredAt = "delivered_at", lastError = "last_error"
    }
}

/// The lease a worker holds on one stage of an idea while it runs it for a job. It is held on the idea (two
/// jobs of one idea never run a stage at once) and shown on the job that holds it.
public struct Lease: Codable, Sendable, Hashable {
    public var stage: Stage
    public var owner: String
    public var expiresAt: Date
    /// The job the stage runs for (nil in records from before leases were held per idea).
    public var jobID: String?
    public init(stage: Stage, owner: String, expiresAt: Date, jobID: String? = nil) {
        self.stage = stage; self.owner = owner; self.expiresAt = expiresAt; self.jobID = jobID
    }

    /// Whether this is the lease `owner` took for `jobID`.
    public func isHeld(by owner: String, for jobID: String) -> Bool { self.owner == owner && self.jobID == jobID }
}

/// A document of the `video_queue` collection.
public struct JobRecord: Codable, Sendable, Hashable {
    public var jobID: String
    public var ideaID: String
    public var status: JobStatus
    public var startFrom: Stage
    public var retryCount: Int
    public var maxRetries: Int
    /// Attempts per stage: how many times a worker claimed and began the stage.
    public var attempts: [Stage: Int]
    /// The lease this job holds on its idea's stage, if any (a copy of `IdeaRecord.leases`, for display).
    public var lease: Lease?
    /// Stages whose message was published and confirmed (so a duplicate delivery does not forward again).
    public var dispatched: Set<Stage>
    public var lastError: ErrorEntry?
    public var createdAt: Date
    public var updatedAt: Date
    /// The job's class of service; its stages' messages go to that class's queues.
    public var priority: Priority {
        get { priorityClass ?? .normal }
        set { priorityClass = newValue == .normal ? nil : newValue }
    }
    /// Stored optional, so that records written before priorities still decode (as normal).
    private var priorityClass: Priority?

    public init(jobID: String, ideaID: String, startFrom: Stage = .script, maxRetries: Int, now: Date) {
        self.jobID = jobID; self.ideaID = ideaID; self.status = .queued; self.startFrom = startFrom
        self.retryCount = 0; self.maxRetries = maxRetries; self.attempts = [:]; self.lease = nil
        self.dispatched = [startFrom]; self.lastError = nil; self.createdAt = now; self.updatedAt = now
    }
}

/// Identifiers: letters, digits, `-` and `_`, 1 to 64 characters. Safe in file names and queue headers.
public enum Identifier {
    public static func isValid(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 64 && s.utf8.allSatisfy {
            ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x5F
        }
    }

    /// A new random identifier with a readable prefix, e.g. `idea_3f9a…`.
    public static func make(_ prefix: String) -> String {
        var g = SystemRandomNumberGenerator()
        let hex = (0..<12).map { _ in String(UInt8.random(in: 0...255, using: &g), radix: 16) }
            .map { $0.count == 1 ? "0" + $0 : $0 }.joined()
        return "\(prefix)_\(hex)"
    }
}
