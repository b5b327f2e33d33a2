import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Shared

/// What a token may do: `viewer` reads; `operator` also creates, cancels, retries and replays.
public enum ApiRole: String, Sendable, Comparable, CaseIterable {
    case viewer, `operator`

    public static func < (a: ApiRole, b: ApiRole) -> Bool { a == .viewer && b == .operator }
}

/// The API's bearer tokens (`REELFORGE_API_TOKENS_FILE`: a token and its role per line, `#` comments). Only
/// their SHA-256 digests are kept, and a presented token is compared with every one of them in constant time, so
/// neither its length nor its first matching bytes show in the answer time.
public struct ApiTokens: Sendable {
    struct Entry: Sendable { var digest: [UInt8]; var role: ApiRole }
    let entries: [Entry]

    public static let variable = "REELFORGE_API_TOKENS_FILE"

    /// Reads `text` (the file's content); `source` names it in errors (never a token).
    public init(parsing text: String, source: String = variable) throws {
        var entries: [Entry] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if words.isEmpty { continue }
            guard words.count == 2, let role = ApiRole(rawValue: String(words[1])) else {
                throw ConfigError.invalid(source, "line \(n + 1) must be a token and its role (viewer or operator)")
            }
            guard words[0].utf8.count >= 16, words[0].utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
                throw ConfigError.invalid(source, "line \(n + 1): a token must be at least 16 printable characters without spaces")
            }
            Redactor.shared.register(String(words[0]))
            entries.append(Entry(digest: Self.digest(String(words[0])), role: role))
        }
        guard !entries.isEmpty else { throw ConfigError.invalid(source, "holds no token") }
        self.entries = entries
    }

    /// One operator token, e.g. made at start when no tokens file is given.
    public init(operatorToken token: String) {
        Redactor.shared.register(token)
        entries = [Entry(digest: Self.digest(token), role: .operator)]
    }

    static func digest(_ token: String) -> [UInt8] { Array(SHA256.hash(data: Data(token.utf8))) }

    /// The role of a presented token, or nil; every entry is compared, whatever matches.
    public func role(of token: String) -> ApiRole? {
        let presented = Self.digest(token)
        var found: ApiRole?
        for entry in entries {
            var difference: UInt8 = 0
            for (a, b) in zip(entry.digest, presented) { difference |= a ^ b }
            if difference == 0 { found = max(found ?? entry.role, entry.role) }
        }
        return found
    }

    /// A new random token (32 bytes, base64url).
    public static func generate() -> String {
        var g = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &g) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// The request context of the API: Hummingbird's, with the caller's role once the token was checked.
public struct ApiContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var role: ApiRole?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    /// Bodies decoded by Hummingbird (none: the API reads them itself with its own limits).
    public var maxUploadSize: Int { 1 << 20 }
}

/// An error answered as `{"error": {"code": ..., "message": ...}}` with its status.
public struct ApiError: Error, HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status; self.code = code; self.message = message
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        json(status, ["error": ["code": .string(code), "message": .string(Redactor.shared.redact(message))]], headers: headers)
    }

    static func notFound(_ what: String) -> ApiError { ApiError(.notFound, "not_found", what) }
    static func invalid(_ why: String) -> ApiError { ApiError(.badRequest, "invalid_request", why) }
}

/// Checks the bearer token of every `/v1` request: none or unknown is 401; a viewer token on an operator
/// endpoint (any method but GET and HEAD) is 403.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = ApiContext
    let tokens: ApiTokens

    func handle(_ request: Request, context: ApiContext, next: (Request, ApiContext) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
              let role = tokens.role(of: String(header.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)) else {
            var e = ApiError(.unauthorized, "unauthorized", "a bearer token is required (Authorization: Bearer TOKEN)")
            e.headers[.wwwAuthenticate] = "Bearer realm=\"reelforge\""
            throw e
        }
        if request.method != .get && request.method != .head && role < .operator {
            throw ApiError(.forbidden, "forbidden", "this needs an operator token; yours is a viewer token")
        }
        var context = context
        context.role = role
        return try await next(request, context)
    }
}

/// The outermost middleware: every answer that is not the API's own error becomes one (a route that does not
/// exist, a body over the limit, an unexpected error: 500 with no detail beyond a redacted line in the log).
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = ApiContext
    let logger: Logger

    func handle(_ request: Request, context: ApiContext, next: (Request, ApiContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let e as ApiError {
            throw e
        } catch let e as HTTPResponseError {
            let code = e.status == .notFound ? "not_found" : e.status == .contentTooLarge ? "too_large" : "http_\(e.status.code)"
            let message = e.status == .notFound ? "no such endpoint: \(request.method) \(request.uri.path)"
                : e.status == .contentTooLarge ? "the request body is too large" : e.status.reasonPhrase
            throw ApiError(e.status, code, message)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            logger.error("\(request.method) \(request.uri.path) failed: \(Redactor.shared.redact("\(error)"))")
            throw ApiError(.internalServerError, "internal", "the server could not answer this request; see its log")
        }
    }
}
