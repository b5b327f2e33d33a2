import Crypto
import Foundation
import Logging
import ServiceLifecycle
import Shared
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Announces the end of videos with a `callback_url` (completed, failed or cancelled): a POST of the video as JSON,
/// signed with HMAC-SHA256 over `TIMESTAMP.BODY` (`X-ReelForge-Timestamp`, `X-ReelForge-Signature: sha256=HEX`),
/// retried with backoff, apart from the pipeline (a slow or dead receiver delays no stage). Any number of API
/// instances run it: each announcement is taken by compare-and-set on the idea's webhook state, so one sends it.
public struct WebhookNotifier: Service, CustomStringConvertible {
    let store: any JobStore
    let secret: SymmetricKey
    let logger: Logger
    let owner: String
    let poll: Duration
    let timeout: TimeInterval

    public static let secretVariable = "REELFORGE_WEBHOOK_SECRET"
    /// After a failed delivery, the next one waits this long (then the last value again), at most `maxAttempts` times.
    public static let backoff: [TimeInterval] = [1, 5, 30, 120, 600, 1800, 3600]
    public static let maxAttempts = 10

    public var description: String { "WebhookNotifier" }

    public init(store: any JobStore, secret: String, logger: Logger, poll: Duration = .seconds(1), timeout: TimeInterval = 10) {
        self.store = store; self.secret = SymmetricKey(data: Data(secret.utf8)); self.logger = logger
        self.owner = "api-\(ProcessInfo.processInfo.hostName)-\(getpid())"; self.poll = poll; self.timeout = timeout
        Redactor.shared.register(secret)
    }

    /// `sha256=` and the hex HMAC-SHA256 of `timestamp.body`: what a receiver computes with the same secret.
    public static func signature(body: Data, timestamp: Int, key: SymmetricKey) -> String {
        var signed = Data("\(timestamp).".utf8)
        signed.append(body)
        return "sha256=" + HMAC<SHA256>.authenticationCode(for: signed, using: key).map { String(format: "%02x", $0) }.joined()
    }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do { try await sendDue() } catch is CancellationError { return } catch {
                    logger.warning("webhooks: \(Redactor.shared.redact("\(error)"))")
                }
                try await Task.sleep(for: poll)
            }
        }
    }

    /// One pass: every announcement due now, each taken before it is sent.
    func sendDue() async throws {
        let now = Date()
        for idea in try await store.webhooksDue(limit: 20) {
            guard var state = idea.webhook, let url = idea.callbackURL.flatMap(URL.init(string:)) else { continue }
            if let next = state.nextAt, next > now { continue }
            if let until = state.sendingUntil, until > now { continue }
            let rev = state.rev
            state.sendingUntil = now.addingTimeInterval(timeout + 5)
            guard try await store.updateWebhook(ideaID: idea.id, from: rev, to: state) else { continue }  // another instance took it
            let taken = rev + 1
            let job = try await store.jobs(ideaID: idea.id).last
            var payload = VideoView.detail(idea, job: job).objectValue ?? [:]
            payload["event"] = .string("video.\(idea.status.rawValue)")
            let outcome = await deliver(Data(JSONValue.object(payload).jsonText.utf8), to: url, event: "video.\(idea.status.rawValue)")
            state.sendingUntil = nil
            state.attempts += 1
            switch outcome {
            case .success:
                state.pending = false; state.deliveredAt = Date(); state.lastError = nil
                logger.info("webhook for \(idea.id) delivered (\(idea.status.rawValue), attempt \(state.attempts))")
            case .failure(let why):
                state.lastError = why
                if state.attempts >= Self.maxAttempts {
                    state.pending = false
                    logger.error("webhook for \(idea.id) given up after \(state.attempts) attempts: \(why)")
                } else {
                    state.nextAt = Date().addingTimeInterval(Self.backoff[min(state.attempts - 1, Self.backoff.count - 1)])
                    logger.warning("webhook for \(idea.id) failed (attempt \(state.attempts)): \(why); next at \(Timestamp.iso(state.nextAt!))")
                }
            }
            _ = try await store.updateWebhook(ideaID: idea.id, from: taken, to: state)
        }
    }

    enum Outcome { case success, failure(String) }

    func deliver(_ body: Data, to url: URL, event: String) async -> Outcome {
        let timestamp = Int(Date().timeIntervalSince1970)
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("ReelForge-Webhook/1", forHTTPHeaderField: "User-Agent")
        request.setValue(event, forHTTPHeaderField: "X-ReelForge-Event")
        request.setValue(String(timestamp), forHTTPHeaderField: "X-ReelForge-Timestamp")
        request.setValue(Self.signature(body: body, timestamp: timestamp, key: secret), forHTTPHeaderField: "X-ReelForge-Signature")
        request.httpBody = body
        do {
            let (_, response) = try await Self.session.data(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            return (200..<300).contains(status) ? .success : .failure("the receiver answered HTTP \(status)")
        } catch {
            return .failure("cannot deliver: \(Redactor.shared.redact(String(describing: error)).prefix(200))")
        }
    }

    /// No redirects followed (a signed body goes only where it was asked to), no cookies, no cache.
    static let session: URLSession = {
        let c = URLSessionConfiguration.ephemeral
        c.httpShouldSetCookies = false
        c.requestCachePolicy = .reloadIgnoringLocalCacheData
        return URLSession(configuration: c, delegate: NoRedirects(), delegateQueue: nil)
    }()

    final class NoRedirects: NSObject, URLSessionTaskDelegate, Sendable {
        func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                        newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
            completionHandler(nil)
        }
    }
}
