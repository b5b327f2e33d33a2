import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Shared
import Synchronization
import Tracing

/// HTTP for the providers, through URLSession (libcurl on Linux). Failures come back as StageFailures
/// classified for the retry policy; no header value (keys) ever goes into an error.
public struct ProviderHTTP: Sendable {
    public var timeout: Duration

    public init(timeout: Duration) { self.timeout = timeout }

    public struct Response: Sendable {
        public var status: Int
        public var body: Data
        public var retryAfter: Duration?
    }

    static let session: URLSession = {
        let c = URLSessionConfiguration.ephemeral
        c.requestCachePolicy = .reloadIgnoringLocalCacheData
        c.httpMaximumConnectionsPerHost = 8
        return URLSession(configuration: c)
    }()

    /// One provider call, in a `provider POST <host>` client span; a stage run that lost its lease stops before
    /// it (`StageSafePoint`) instead of paying. `call` names the provider (and model, units) whose shared limits
    /// admit it (`ProviderGovernor`).
    public func postJSON(_ url: URL, headers: [String: String], body: JSONValue, call: ProviderCall) async throws -> Response {
        try await StageSafePoint.check()
        return try await governed(call) { try await self.tracedPost(url, headers: headers, body: body) }
    }

    /// `body` under the fleet's shared limits of `call` when the stage run has a governor; as it is otherwise.
    func governed(_ call: ProviderCall, _ body: () async throws -> Response) async throws -> Response {
        guard let governor = ProviderGovernor.current else { return try await body() }
        return try await governor.perform(call, hold: timeout + .seconds(1), body, classify: Self.outcome)
    }

    /// How an answer counts for the limits: 429 throttles, 408 and 5xx (and no answer) are failures.
    public static func outcome(_ r: Response) -> CallOutcome {
        switch r.status {
        case 429: return .throttled(retryAfter: r.retryAfter)
        case 0, 408, 500...599: return .failed
        default: return .answered
        }
    }

    private func tracedPost(_ url: URL, headers: [String: String], body: JSONValue) async throws -> Response {
        try await withSpan("provider POST \(url.host ?? "-")", ofKind: .client) { span in
            span.attributes["http.request.method"] = "POST"
            span.attributes["server.address"] = url.host ?? ""
            let response = try await send(url, headers: headers, body: body)
            span.attributes["http.response.status_code"] = response.status
            if response.status >= 400 { span.setStatus(SpanStatus(code: .error, message: "HTTP \(response.status)")) }
            return response
        }
    }

    private func send(_ url: URL, headers: [String: String], body: JSONValue) async throws -> Response {
        var request = URLRequest(url: url, timeoutInterval: timeout.seconds)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        request.httpBody = Data(body.jsonText.utf8)
        return try await send(request)
    }

    /// One request with a hard deadline; transport failures classified for the retry policy.
    func send(_ request: URLRequest) async throws -> Response {
        let url = request.url!
        let host = url.host ?? "the provider"
        let prepared = request
        do {
            let (data, response) = try await Self.firstOf(prepared, deadline: timeout + .seconds(1))
            let http = response as? HTTPURLResponse
            let retryAfter = (http?.value(forHTTPHeaderField: "Retry-After")).flatMap(Self.parseRetryAfter)
            return Response(status: http?.statusCode ?? 0, body: data, retryAfter: retryAfter)
        } catch let e as URLError {
            switch e.code {
            case .timedOut: throw StageFailure.transient("\(host) did not answer within \(timeout.compact)")
            case .cannotConnectToHost, .networkConnectionLost, .cannotFindHost, .dnsLookupFailed, .notConnectedToInternet,
                 .secureConnectionFailed:
                throw StageFailure.transient("cannot reach \(host): \(e.code.rawValue)")
            default: throw StageFailure.transient("request to \(host) failed (URLError \(e.code.rawValue))")
            }
        } catch is CancellationError {
            throw CancellationError()
        } catch let f as StageFailure {
            throw f
        } catch {
            throw StageFailure.transient("request to \(host) failed: \(Redactor.shared.redact("\(error)"))")
        }
    }

    /// The answer to `request`, or `URLError(.timedOut)` at the deadline (URLSession's own timeout is between
    /// packets, not for the whole answer), or `CancellationError` when the caller is cancelled: whichever comes
    /// first. The URLSession task itself is never cancelled: in swift-corelibs-foundation, cancelling a task as it
    /// completes is a fatal error of its task registry. A request given up on ends by URLSession's own timeout.
    static func firstOf(_ request: URLRequest, deadline: Duration) async throws -> (Data, URLResponse) {
        let race = FirstOf()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<(Data, URLResponse), any Error>) in
                race.waiting.withLock { $0 = c }
                if Task.isCancelled { return race.finish(.failure(CancellationError())) }  // cancelled before the handler could see it
                let task = session.dataTask(with: request) { data, response, error in
                    if let data, let response { race.finish(.success((data, response))) } else { race.finish(.failure(error ?? URLError(.badServerResponse))) }
                }
                let timer = Task {
                    try? await Task.sleep(for: deadline)
                    if !Task.isCancelled { race.finish(.failure(URLError(.timedOut))) }
                }
                race.timer.withLock { $0 = timer }  // an answer before this line leaves the timer nothing to do
                task.resume()
            }
        } onCancel: {
            race.finish(.failure(CancellationError()))
        }
    }

    /// One continuation resumed once, by the answer, the deadline or the caller's cancellation.
    final class FirstOf: Sendable {
        let waiting = Mutex<CheckedContinuation<(Data, URLResponse), any Error>?>(nil)
        let timer = Mutex<Task<Void, Never>?>(nil)

        func finish(_ result: Result<(Data, URLResponse), any Error>) {
            guard let c = waiting.withLock({ w -> CheckedContinuation<(Data, URLResponse), any Error>? in defer { w = nil }; return w }) else { return }
            timer.withLock { $0?.cancel() }  // a Swift task: cancelling it is safe
            c.resume(with: result)
        }
    }

    /// `Retry-After: 7` (seconds) or an HTTP date.
    static func parseRetryAfter(_ value: String) -> Duration? {
        if let s = Double(value.trimmingCharacters(in: .whitespaces)), s >= 0 { return .milliseconds(Int64(s * 1000)) }
        // An HTTP date: "Wed, 21 Oct 2026 07:28:00 GMT".
        let parts = value.split(separator: " ")
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard parts.count == 6, let day = Int(parts[1]), let m = months.firstIndex(of: String(parts[2])), let year = Int(parts[3]),
              let date = Timestamp.parse(String(format: "%04d-%02d-%02dT%@Z", year, m + 1, day, String(parts[4]))) else { return nil }
        return .milliseconds(Int64(max(0, date.timeIntervalSinceNow) * 1000))
    }

    /// The error a provider answered with, classified; the text is cut short and redacted.
    public static func failure(_ r: Response, provider: String) -> StageFailure {
        var message = String(decoding: r.body.prefix(600), as: UTF8.self)
        if let json = try? JSONValue.parse(r.body) {
            message = json["error"]?["message"]?.stringValue ?? json["error"]?.stringValue ?? json["message"]?.stringValue ?? message
        }
        let f = StageFailure.http(status: r.status, body: "\(provider): \(Redactor.shared.redact(message))", retryAfter: r.retryAfter)
        return f
    }
}

/// The accounts more than one stage's providers use (OpenAI-compatible servers write scripts and speak), stated
/// once for the help texts of the workers that read them.
public enum ProviderAccounts {
    public static let openAI: [StageModule.Variable] = [
        ("OPENAI_API_KEY", "key for the openai providers (or OPENAI_API_KEY_FILE)"),
        ("OPENAI_API_KEY_FILE", "a file holding OPENAI_API_KEY"),
        ("OPENAI_BASE_URL", "OpenAI-compatible base URL (default https://api.openai.com/v1; Ollama, vLLM, OpenRouter, Groq...)"),
    ]
    public static let openAIBaseURL = "https://api.openai.com/v1"
}
