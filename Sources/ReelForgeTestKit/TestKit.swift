import Foundation
import Logging
import Shared
import Synchronization

/// A stage executor for tests: writes a small real file, counts its successful calls per idea, and can be told
/// to fail.
public final class CountingExecutor: StageExecutor {
    public let stage: Stage
    private let calls = Mutex<[String: Int]>([:])
    private let failures = Mutex<[StageFailure]>([])
    private let delay: Duration

    public init(_ stage: Stage, delay: Duration = .zero) { self.stage = stage; self.delay = delay }

    /// Makes the next calls fail with these failures, in order.
    public func failNext(_ list: [StageFailure]) { failures.withLock { $0.append(contentsOf: list) } }

    public func calls(for ideaID: String) -> Int { calls.withLock { $0[ideaID] ?? 0 } }
    public var totalCalls: Int { calls.withLock { $0.values.reduce(0, +) } }

    public func run(_ input: StageInput, logger: Logger) async throws -> StageOutput {
        if delay > .zero { try await Task.sleep(for: delay) }
        if let f = failures.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { throw f }
        if let previous = stage.previous {
            _ = try input.inline(of: previous)  // the earlier stage's artifact must be there
        }
        let url = input.workDir.appendingPathComponent("\(stage.rawValue).txt")
        try Data("\(stage.rawValue) of \(input.idea.id) attempt \(input.attempt)\n".utf8).write(to: url)
        calls.withLock { $0[input.idea.id, default: 0] += 1 }
        return StageOutput(inline: ["text": .string("\(stage.rawValue) for \(input.idea.idea)")],
                           files: ["\(stage.rawValue).txt": .init(url: url, contentType: "text/plain")],
                           costs: [CostEntry(stage: stage, attempt: input.attempt, provider: "counting", units: 1, unit: "calls",
                                             costUSD: 0.01, at: Date())])
    }
}

/// Collects runner events for assertions.
public final class EventLog: Sendable {
    private let events = Mutex<[RunnerEvent]>([])
    public init() {}
    public func record(_ e: RunnerEvent) { events.withLock { $0.append(e) } }
    public var all: [RunnerEvent] { events.withLock { $0 } }
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes; returns whether it held.
public func eventually(timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}

/// A logger that drops everything (tests assert behaviour, not lines), unless REELFORGE_TEST_LOGS=1.
public func testLogger(_ label: String = "test") -> Logger {
    if ProcessInfo.processInfo.environment["REELFORGE_TEST_LOGS"] == "1" {
        return Logger(label: label, factory: { StreamLogHandler.standardError(label: $0) })
    }
    return Logger(label: label, factory: { _ in SwiftLogNoOpLogHandler() })
}

/// A fresh temporary folder.
public func temporaryDirectory(_ name: String = "reelforge-test") -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString.prefix(8))")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Runs a blocking call on a thread of its own. Swift's cooperative pool has as many threads as cores (two on the
/// CI machine) and every parallel test shares it: one blocking wait there stalls the timing of all the others.
public func offThePool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { c in Thread.detachNewThread { c.resume(returning: body()) } }
}

/// `offThePool` for a call that throws.
public func offThePoolThrowing<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { c in Thread.detachNewThread { c.resume(with: Result { try body() }) } }
}

/// Runs a program to its end off the cooperative pool and returns what it wrote to standard output, and its exit
/// status; its standard error is dropped unless `withErrors` (then it joins the output).
public func runProgram(_ path: String, _ arguments: [String], environment: [String: String]? = nil,
                       withErrors: Bool = false) async throws -> (output: Data, status: Int32) {
    try await offThePoolThrowing {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        if let environment { p.environment = environment }
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = withErrors ? pipe : FileHandle.nullDevice
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (data, p.terminationStatus)
    }
}
