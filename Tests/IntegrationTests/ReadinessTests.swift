import Foundation
import ReelForgeTestKit
import Shared
import Synchronization
import Testing
import WorkerRuntime

/// The verdict of /readyz without servers: consuming and every check passing, with a deadline and a short cache.
@Suite("Readiness verdicts")
struct ReadinessTests {
    struct Down: Error, CustomStringConvertible { var description: String { "connection refused" } }

    @Test func readyOnlyWhileConsumingAndEveryCheckPasses() async {
        let storeUp = Atomic<Bool>(true)
        let readiness = Readiness(checks: [
            ("MongoDB", { if !storeUp.load(ordering: .relaxed) { throw Down() } }),
            ("RabbitMQ", {}),
        ], cacheFor: .zero)
        #expect(await readiness.verdict() == .notReady("not consuming (starting or shutting down)"))
        readiness.setConsuming(true)
        #expect(await readiness.verdict() == .ready)
        storeUp.store(false, ordering: .relaxed)
        #expect(await readiness.verdict() == .notReady("MongoDB unreachable: connection refused"))
        storeUp.store(true, ordering: .relaxed)
        #expect(await readiness.verdict() == .ready)
        readiness.setConsuming(false)
        #expect(await readiness.verdict() != .ready)
        // A signal during start-up: the start that finishes afterwards does not make the worker ready again.
        readiness.shutDown()
        readiness.setConsuming(true)
        #expect(await readiness.verdict() == .notReady("not consuming (starting or shutting down)"))
    }

    @Test func aCheckThatHangsCountsAsFailedAtItsDeadline() async {
        let readiness = Readiness(checks: [("RabbitMQ", { try await Task.sleep(for: .seconds(30)) })],
                                  timeout: .milliseconds(200))
        readiness.setConsuming(true)
        let started = ContinuousClock.now
        #expect(await readiness.verdict() == .notReady("RabbitMQ unreachable: no answer within 200ms"))
        // Well before the hanging check itself would end (30 s), however loaded the machine.
        #expect(ContinuousClock.now - started < .seconds(20))
    }

    @Test func probesTogetherShareOneCheckAndAVerdictIsCached() async {
        let calls = Atomic<Int>(0)
        let readiness = Readiness(checks: [("MongoDB", {
            calls.add(1, ordering: .relaxed)
            try await Task.sleep(for: .milliseconds(100))
        })], cacheFor: .seconds(30))
        readiness.setConsuming(true)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<20 { group.addTask { _ = await readiness.verdict() } }
        }
        #expect(await readiness.verdict() == .ready)
        #expect(calls.load(ordering: .relaxed) == 1)
    }

    @Test func anUnsetPortGivesWayAndASetPortDoesNot() throws {
        #expect(try ReelForgeConfig.fromEnvironment([:]).probePort == .preferred(9090))
        #expect(try ReelForgeConfig.fromEnvironment(["REELFORGE_HTTP_PORT": ""]).probePort == .preferred(9090))
        #expect(try ReelForgeConfig.fromEnvironment(["REELFORGE_HTTP_PORT": "9090"]).probePort == .fixed(9090))
        #expect(try ReelForgeConfig.fromEnvironment(["REELFORGE_HTTP_PORT": "0"]).probePort == .fixed(0))
        #expect(try ReelForgeConfig.fromEnvironment(["REELFORGE_HTTP_PORT": "off"]).probePort == nil)
    }
}
