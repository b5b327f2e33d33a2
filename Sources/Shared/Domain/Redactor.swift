import Foundation
import Synchronization

/// Removes secrets from any text before it is logged, stored or sent: every registered secret value, the
/// password of any `scheme://user:password@host` URI, and `Bearer`/`api key` tokens.
public final class Redactor: Sendable {
    public static let shared = Redactor()

    private let secrets = Mutex<[String]>([])

    public init() {}

    /// Registers a secret value (an API key, a password). Values shorter than 4 characters are ignored.
    public func register(_ secret: String?) {
        guard let secret, secret.count >= 4 else { return }
        secrets.withLock { list in
            if !list.contains(secret) { list.append(secret); list.sort { $0.count > $1.count } }
        }
    }

    /// Registers the password of a `scheme://user:password@host` URI, so that it is hidden even on its own.
    public func registerPassword(ofURI uri: String) {
        guard let schemeEnd = uri.range(of: "://") else { return }
        let rest = uri[schemeEnd.upperBound...]
        // The user information ends at the last '@' before the path: a password may hold a raw '@'.
        let authority = rest[..<(rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex)]
        guard let at = authority.lastIndex(of: "@") else { return }
        let credentials = rest[..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return }
        let password = String(credentials[credentials.index(after: colon)...])
        register(password.removingPercentEncoding ?? password)
        register(password)
    }

    public func redact(_ text: String) -> String {
        var out = text
        for s in secrets.withLock({ $0 }) where out.contains(s) {
            out = out.replacingOccurrences(of: s, with: "***")
        }
        out = Self.redactURIPasswords(out)
        out = Self.redactTokens(out)
        return out
    }

    /// `amqp://user:pw@host` → `amqp://user:***@host`. The password runs to the last '@' before the path, so a
    /// raw '@' in it (`rtuser:Pa55@q7Z@host`) is hidden whole.
    static func redactURIPasswords(_ text: String) -> String {
        guard text.contains("://") else { return text }
        let pattern = #"([A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*):([^/?#\s]*)@"#
        guard let re = try? NSRegularExpression(pattern: pattern) else { return text }
        let range = NSRange(text.startIndex..., in: text)
        return re.stringByReplacingMatches(in: text, range: range, withTemplate: "$1:***@")
    }

    static func redactTokens(_ text: String) -> String {
        let lower = text.lowercased()
        guard lower.contains("bearer") || lower.contains("key") || lower.contains("token") || lower.contains("sk-") else { return text }
        let patterns = [
            #"(?i)(bearer\s+)[A-Za-z0-9._\-+/=]{6,}"#,
            #"(?i)((?:api[_-]?key|x-api-key|xi-api-key|token|password|secret)["']?\s*[:=]\s*["']?)[^\s"',;&]{4,}"#,
            #"\bsk-[A-Za-z0-9_\-]{8,}"#,
        ]
        var out = text
        for p in patterns {
            guard let re = try? NSRegularExpression(pattern: p) else { continue }
            let range = NSRange(out.startIndex..., in: out)
            let template = re.numberOfCaptureGroups > 0 ? "$1***" : "***"
            out = re.stringByReplacingMatches(in: out, range: range, withTemplate: template)
        }
        return out
    }
}
