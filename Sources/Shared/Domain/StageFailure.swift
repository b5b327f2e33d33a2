/// How a stage failed, which decides what the retry policy does with it.
public enum FailureKind: Sendable, Hashable {
    /// Worth retrying later (timeouts, 5xx, 429, connection failures). `retryAfter` honours a server's Retry-After.
    case transient(retryAfter: Duration?)
    /// Retrying cannot help (bad credentials, rejected content, invalid input): park at once.
    case permanent
    /// Nothing failed: the provider's shared limit, a 429 pause or an open circuit makes the call wait `wait`.
    /// The job comes back through a delay queue without spending an attempt (`ProviderGovernor`).
    case throttled(wait: Duration)

    public var label: String {
        switch self {
        case .transient: return "transient"
        case .permanent: return "permanent"
        case .throttled: return "throttled"
        }
    }
}

/// The one error type stages throw to the StageRunner. `message` must not contain secrets; the runner redacts
/// it once more before storing or logging it.
public struct StageFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public var kind: FailureKind
    public var message: String

    public init(_ kind: FailureKind, _ message: String) {
        self.kind = kind; self.message = message
    }

    public static func transient(_ message: String, retryAfter: Duration? = nil) -> StageFailure {
        .init(.transient(retryAfter: retryAfter), message)
    }
    public static func permanent(_ message: String) -> StageFailure { .init(.permanent, message) }
    public static func throttled(_ message: String, wait: Duration) -> StageFailure { .init(.throttled(wait: wait), message) }

    public var description: String { "\(kind.label): \(message)" }

    /// Classifies an HTTP status the way every provider does.
    public static func http(status: Int, body: String, retryAfter: Duration? = nil) -> StageFailure {
        let text = "HTTP \(status): \(body.prefix(300))"
        switch status {
        case 408, 409, 425, 429, 500...599: return .transient(text, retryAfter: retryAfter)
        default: return .permanent(text)
        }
    }
}
