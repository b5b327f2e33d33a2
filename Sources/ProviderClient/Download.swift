import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Shared
import Tracing

extension ProviderHTTP {
    /// A GET, in a `provider GET <host>` client span; failures classified as for POST.
    public func get(_ url: URL, headers: [String: String], call: ProviderCall) async throws -> Response {
        try await StageSafePoint.check()
        return try await governed(call) {
            try await withSpan("provider GET \(url.host ?? "-")", ofKind: .client) { span in
                span.attributes["http.request.method"] = "GET"
                span.attributes["server.address"] = url.host ?? ""
                var request = URLRequest(url: url, timeoutInterval: timeout.seconds)
                for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
                let response = try await send(request)
                span.attributes["http.response.status_code"] = response.status
                return response
            }
        }
    }

    /// Why a download was given up, when the file is not to be used (the next candidate is taken).
    public enum DownloadProblem: Error, Sendable, Equatable { case tooLarge(Int), status(Int) }

    /// Streams `url` into `file`, at most `maxBytes` (more ends the download: `.tooLarge`); a transfer that
    /// receives nothing for the timeout fails as a transient failure. Returns the bytes written.
    public func download(_ url: URL, to file: URL, maxBytes: Int) async throws -> Int {
        try await StageSafePoint.check()
        return try await withSpan("provider download \(url.host ?? "-")", ofKind: .client) { span in
            _ = FileManager.default.createFile(atPath: file.path, contents: nil)
            let handle = try FileHandle(forWritingTo: file)
            defer { try? handle.close() }
            let receiver = CappedReceiver(handle: handle, cap: maxBytes)
            let configuration = URLSessionConfiguration.ephemeral
            configuration.timeoutIntervalForRequest = timeout.seconds  // between two packets: a stalled transfer
            let session = URLSession(configuration: configuration, delegate: receiver, delegateQueue: nil)
            defer { session.finishTasksAndInvalidate() }
            let written = try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (c: CheckedContinuation<Int, Error>) in
                    receiver.start(session.dataTask(with: URLRequest(url: url, timeoutInterval: timeout.seconds)), c)
                }
            } onCancel: { receiver.cancel() }
            span.attributes["http.response.body.size"] = written
            return written
        }
    }
}

/// Writes a download's bytes to a file as they come, and ends it past the cap.
private final class CappedReceiver: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private let lock = NSLock()
    private let handle: FileHandle
    private let cap: Int
    private var written = 0
    private var status = 0
    private var problem: ProviderHTTP.DownloadProblem?
    private var task: URLSessionDataTask?
    private var continuation: CheckedContinuation<Int, Error>?

    init(handle: FileHandle, cap: Int) { self.handle = handle; self.cap = cap }

    func start(_ task: URLSessionDataTask, _ c: CheckedContinuation<Int, Error>) {
        lock.withLock { self.task = task; continuation = c }
        task.resume()
    }

    func cancel() { lock.withLock { task }?.cancel() }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        let http = response as? HTTPURLResponse
        let code = http?.statusCode ?? 0
        lock.withLock {
            status = code
            if !(200..<300).contains(code) { problem = .status(code) }
            else if response.expectedContentLength > Int64(cap) { problem = .tooLarge(Int(response.expectedContentLength)) }
        }
        completionHandler(lock.withLock { problem } == nil ? .allow : .cancel)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let over: Bool = lock.withLock {
            written += data.count
            if written > cap { problem = .tooLarge(written); return true }
            return false
        }
        if over { dataTask.cancel() } else { handle.write(data) }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        let (c, written, problem) = lock.withLock { () -> (CheckedContinuation<Int, Error>?, Int, ProviderHTTP.DownloadProblem?) in
            defer { continuation = nil }
            return (continuation, self.written, self.problem)
        }
        if let problem { c?.resume(throwing: problem); return }
        if let e = error as? URLError {
            c?.resume(throwing: e.code == .timedOut ? StageFailure.transient("a download stalled (nothing for a while)")
                                                     : e.code == .cancelled ? CancellationError() as Error
                                                     : StageFailure.transient("a download failed (URLError \(e.code.rawValue))"))
            return
        }
        if let error { c?.resume(throwing: StageFailure.transient("a download failed: \(Redactor.shared.redact("\(error)"))")); return }
        c?.resume(returning: written)
    }
}
