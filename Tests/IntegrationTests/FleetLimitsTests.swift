import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MongoStore
import RabbitMQBroker
import ReelForgeTestKit
import Shared
import Synchronization
import Testing

/// Fleet-safe providers with real processes: two copies of each worker against RabbitMQ, the MongoDB-protocol
/// store and the provider stand-in's `limited` LLM (scripts/fake-providers: 5 requests a second, 2 in flight, 429
/// beyond), which the workers share through REELFORGE_PROVIDER_LIMITS. What is asserted is what the stand-in saw.
@Suite("Fleet provider limits", .enabled(if: TestServices.available && ProcessInfo.processInfo.environment["REELFORGE_TEST_PROVIDERS_URL"] != nil),
       .serialized)
struct FleetLimitsTests {
    static let providers = ProcessInfo.processInfo.environment["REELFORGE_TEST_PROVIDERS_URL"] ?? "http://127.0.0.1:1"
    let logs = temporaryDirectory("fleet-logs")
    let key = "fleet\(UUID().uuidString.prefix(8).lowercased())"
    let env: [String: String]
    let store: MongoJobStore
    let queue: RabbitMQWorkQueue
    let retry = RetryPolicy(delays: [.seconds(1), .seconds(2), .seconds(4)], maxRetries: 3, jitter: 0, jitterBuckets: 1)

    init() throws {
        let uri = TestServices.freshMongoURI()
        let prefix = TestServices.freshPrefix()
        env = [
            "AMQP_URL": TestServices.amqpURL!, "MONGODB_URI": uri, "REELFORGE_QUEUE_PREFIX": prefix,
            "REELFORGE_RETRY_DELAYS": "1s,2s,4s", "REELFORGE_RETRY_JITTER": "0", "REELFORGE_LEASE_SECONDS": "10",
            "REELFORGE_SHUTDOWN_GRACE_SECONDS": "10", "REELFORGE_WORK_DIR": temporaryDirectory("work").path,
            "REELFORGE_FAILPOINTS": "", "REELFORGE_HTTP_PORT": "0", "REELFORGE_PREFETCH": "4",
            "REELFORGE_SCRIPT_PROVIDER": "openai", "OPENAI_API_KEY": "test-key",
            "OPENAI_BASE_URL": "\(Self.providers)/limited/\(key)/v1",
            "REELFORGE_PROVIDER_LIMITS": "openai:rps=5,concurrent=2,failures=3,cooldown=5s",
            "REELFORGE_TTS_PROVIDER": "espeak", "REELFORGE_VIDEO_SIZE": "180x320",
        ]
        store = MongoJobStore(client: try MongoClient(uri: uri))
        queue = try RabbitMQWorkQueue(url: TestServices.amqpURL!, topology: Topology(prefix: prefix, retry: retry, deliveryLimit: 10),
                                      logger: testLogger("fleet"))
    }

    func quota() async throws -> JSONValue {
        let (data, _) = try await URLSession.shared.data(from: URL(string: "\(Self.providers)/_quota/limited/\(key)")!)
        return try JSONValue.parse(data)
    }

    func submit(_ count: Int, label: String) async throws -> [String] {
        let ops = Operations(queue: queue, store: store, maxRetries: retry.maxRetries)
        var ids: [String] = []
        for i in 0..<count { ids.append(try await ops.submit(idea: "\(label) fact number \(i) about octopus hearts", seconds: 5).ideaID) }
        return ids
    }

    func waitCompleted(_ ids: [String], timeout: Duration, workers: [Proc]) async throws -> Bool {
        let ok = try await eventually(timeout: timeout) {
            var done = 0
            for id in ids where try await store.idea(id)?.status == .completed { done += 1 }
            return done == ids.count
        }
        if !ok { for w in workers { print("---- \(w.log.lastPathComponent)\n\(w.output.suffix(2500))") } }
        return ok
    }

    func cli(_ args: String...) async throws -> String {
        let (out, status) = try await Proc.run("reelforge", args, env: env, logDir: logs)
        #expect(status == 0, "reelforge \(args.joined(separator: " ")) exited \(status): \(out)")
        return out
    }

    func openaiRow() async throws -> JSONValue? {
        let out = try await cli("providers", "--json")
        let json = try JSONValue.parse(Data(out[try #require(out.firstIndex(of: "{"))...].utf8))
        return json["providers"]?.arrayValue?.first { $0["provider"]?.stringValue == "openai" }
    }

    /// Two copies of each worker and 100 jobs against a provider enforcing 5 requests/s and 2 in flight; then a
    /// 30-second outage of it with 20 more jobs; then a bulk re-run of 20 videos that pays for nothing again.
    @Test func aFleetSharesTheQuotaRidesOutAnOutageAndReRendersForFree() async throws {
        try await queue.declareTopology()
        var workers: [Proc] = []
        for name in ["ScriptWorker", "AudioWorker", "VideoWorker"] { for _ in 0..<2 { workers.append(try Proc(name, env: env, logDir: logs)) } }
        defer { for w in workers { w.kill9() } }

        // 1. The shared quota: 100 jobs.
        let first = try await submit(100, label: "quota")
        #expect(try await waitCompleted(first, timeout: .seconds(400), workers: workers))
        let q = try await quota()
        let calls = q["calls"]?.intValue ?? 0, ok = q["ok"]?.intValue ?? 0, throttled = q["throttled"]?.intValue ?? 0
        #expect(ok == 100, "\(q)")
        #expect(Double(throttled) < 0.02 * Double(calls), "429s: \(throttled) of \(calls) calls")
        #expect(q["over_concurrency"]?.intValue == 0 && (q["max_in_flight"]?.intValue ?? 9) <= 2, "\(q)")
        let span = (q["last_ok"]?.doubleValue ?? 0) - (q["first_ok"]?.doubleValue ?? 0)
        let throughput = Double(ok - 1) / max(span, 0.001)
        print("fleet quota: \(calls) calls, \(throttled) 429s, max in flight \(q["max_in_flight"]?.intValue ?? -1), \(String(format: "%.2f", throughput)) calls/s over \(String(format: "%.1f", span)) s (quota 5/s)")
        #expect(throughput >= 0.8 * 5, "throughput \(throughput)/s")
        for id in first.prefix(5) {
            let job = try #require(try await store.jobs(ideaID: id).last)
            #expect(job.attempts[.script] == 1, "waiting for the quota must not spend attempts: \(job.attempts)")
        }
        let row = try #require(try await openaiRow())
        #expect(row["circuit"]?.stringValue == "closed" && row["limits"]?.stringValue?.contains("rps=5") == true && (row["calls"]?.intValue ?? 0) >= 100)
        #expect((row["spend_today_usd"]?.doubleValue ?? 0) > 0, "today's spend of the 100 scripts: \(row)")

        // 2. The provider fails every call for 30 s: jobs wait, nothing is parked, the circuit opens and closes.
        var request = URLRequest(url: URL(string: "\(Self.providers)/_outage/limited/\(key)")!)
        request.httpMethod = "POST"
        request.httpBody = Data(#"{"seconds": 30}"#.utf8)
        _ = try await URLSession.shared.data(for: request)
        let outageStart = Date()
        let second = try await submit(20, label: "outage")
        #expect(try await waitCompleted(second, timeout: .seconds(240), workers: workers))
        #expect(Date().timeIntervalSince(outageStart) >= 30, "the jobs cannot have finished while the provider was down")
        let after = try await quota()
        let outageCalls = after["outage_calls"]?.intValue ?? -1
        print("fleet outage: \(outageCalls) calls reached the failing provider in 30 s; state \(try await openaiRow().map { "\($0)" } ?? "-")")
        #expect((1...9).contains(outageCalls), "calls during the outage: \(outageCalls)")
        let depths = try await queue.depths()
        #expect(Stage.allCases.allSatisfy { depths["\($0.rawValue).parked"] == 0 }, "\(depths)")
        for id in second { #expect(try await store.idea(id)?.errors.allSatisfy { $0.kind != "exhausted" } == true) }
        let outageRow = try #require(try await openaiRow())
        #expect(outageRow["circuit"]?.stringValue == "closed")
        #expect((outageRow["circuit_opened"]?.intValue ?? 0) >= 1)
        #expect((1...9).contains(outageRow["probes"]?.intValue ?? 0), "probes: \(outageRow)")
        let logged = workers.filter { $0.log.lastPathComponent.hasPrefix("ScriptWorker") }.map(\.output).joined()
        #expect(logged.contains("circuit opened") && logged.contains("circuit half_open → closed"), "the circuit's changes are logged")
        // Each script worker's /metrics shows the circuit and the waits.
        if let port = logged.components(separatedBy: "/metrics on port ").dropFirst().first?.prefix(while: \.isNumber),
           let (data, _) = try? await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/metrics")!) {
            let text = String(decoding: data, as: UTF8.self)
            #expect(text.contains(#"reelforge_provider_circuit_state{provider="openai"}"#), "\(text.suffix(1500))")
        }

        // 3. A bulk re-run from video of 20 completed ideas: the videos are made again, nothing else is paid again.
        let chosen = Array(first.prefix(20))
        var before: [String: (ledger: [CostEntry], video: Date)] = [:]
        for id in chosen {
            let idea = try #require(try await store.idea(id))
            before[id] = (idea.costs.filter { $0.stage < .video }, try #require(idea.artifacts[.video]?.producedAt))
        }
        let callsBefore = try await quota()["calls"]?.intValue ?? -1
        let file = temporaryDirectory().appendingPathComponent("ids.txt")
        try chosen.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        let dry = try await cli("retry", "--from", "video", "--ids-file", file.path, "--dry-run")
        #expect(dry.contains("would re-run 20 idea(s) from video"))
        let out = try await cli("retry", "--from", "video", "--ids-file", file.path, "--rate", "50", "--priority", "bulk")
        #expect(out.contains("re-running 20 idea(s) from video"))
        let reRendered = try await eventually(timeout: .seconds(180)) {
            for id in chosen {
                guard let idea = try await store.idea(id), idea.status == .completed,
                      let at = idea.artifacts[.video]?.producedAt, at > before[id]!.video else { return false }
            }
            return true
        }
        #expect(reRendered)
        #expect(try await quota()["calls"]?.intValue == callsBefore, "a re-render from video calls the LLM again")
        for id in chosen {
            let idea = try #require(try await store.idea(id))
            #expect(idea.costs.filter { $0.stage < .video } == before[id]!.ledger, "the ledger of script, adapt and audio is unchanged")
        }
        for w in workers { _ = await w.terminate() }
        await queue.close()
    }
}

/// Classes of service on the real broker: a high-priority job among 300 bulk ones is served at the next free slot of
/// each stage, whatever the bulk backlog (counted in stage runs, not seconds). Part of the fleet suite, which
/// `scripts/test` runs on its own: 1200 stage runs load the machine.
extension FleetLimitsTests {
    @Test func aHighPriorityJobOvertakesThreeHundredBulkOnes() async throws {
        let queue = try TestServices.rabbitQueue()
        try await queue.declareTopology()
        let store = RecordJobStore.memory()
        let artifacts = try DirectoryArtifactStore(root: temporaryDirectory("prio-artifacts"))
        let executors = Stage.allCases.map { CountingExecutor($0, delay: .milliseconds(15)) }
        let started = Mutex<[(job: String, stage: Stage)]>([])
        let completed = Mutex<[String]>([])
        let runners = (0..<2).map { n in
            StageRunner(queue: queue, store: store, artifacts: artifacts, executors: executors,
                        settings: RunnerSettings(workerID: "prio-\(n)", retry: RetryPolicy(delays: [.milliseconds(200)], maxRetries: 3, jitter: 0, jitterBuckets: 1),
                                                 workRoot: temporaryDirectory("prio-work")),
                        logger: testLogger("prio"),
                        onEvent: { e in
                            if case .started(let job, let stage, _) = e { started.withLock { $0.append((job, stage)) } }
                            if case .completed(let job, _) = e { completed.withLock { $0.append(job) } }
                        })
        }
        let ops = Operations(queue: queue, store: store, maxRetries: 3)
        for i in 0..<300 { _ = try await ops.submit(idea: "bulk idea \(i)", seconds: 5, priority: .bulk) }
        let serving = runners.map { r in Task { try await r.serve(stages: Stage.allCases, concurrency: 2) } }
        // The bulk backlog is being worked on...
        #expect(await eventually(timeout: .seconds(60)) { started.withLock { $0.count } >= 40 })
        let high = try await ops.submit(idea: "the urgent one", seconds: 5, priority: .high)
        let before = started.withLock { $0.count }
        #expect(await eventually(timeout: .seconds(60)) { completed.withLock { $0.contains(high.jobID) } })
        let runs = started.withLock { $0 }
        let highRuns = runs.enumerated().filter { $0.element.job == high.jobID }
        let others = runs[before..<(highRuns.last?.offset ?? runs.count)].filter { $0.job != high.jobID }.count
        let bulkDone = completed.withLock { $0.count } - 1
        print("priority: the high job's 4 stage runs started among \(others) bulk runs (4 slots); \(bulkDone) of 300 bulk jobs were complete")
        #expect(highRuns.count == 4)
        // Four slots: each of its stages waits at most for the runs in progress, so a few runs per stage at most.
        #expect(others <= 4 * 4 * 2, "bulk runs started while the high job was waiting or running: \(others)")
        #expect(bulkDone < 100, "the high job finished early in the backlog")
        for t in serving { t.cancel(); _ = await t.result }
        try? await queue.deleteTopology()
        await queue.close()
    }

    @Test func delayedMessagesComeBackToTheirClass() async throws {
        let queue = try TestServices.rabbitQueue()
        try await queue.declareTopology()
        for p in Priority.allCases {
            var m = JobMessage(jobID: "job_\(p)", ideaID: "idea_\(p)", stage: .audio, attempt: 2)
            m.priority = p
            try await queue.publishDelayed(m, stage: .audio, delay: .milliseconds(200))
        }
        let source = try await queue.consume(stages: [.audio], prefetch: 5)
        var seen: [String: Priority] = [:]
        for _ in 0..<3 {
            let d = try #require(try await source.next())
            seen[try JobMessageCodec().decode(body: d.body, headers: d.headers).jobID] = d.queuePriority
            try await source.ack(d)
        }
        // High comes back to its own queue; bulk shares the normal delay queues (the runner moves it down).
        #expect(seen == ["job_high": .high, "job_normal": .normal, "job_bulk": .normal])
        await source.stop()
        try? await queue.deleteTopology()
        await queue.close()
    }

    /// The ProviderStates contract's shared concurrency on MongoDB (its polling loads the server: here, alone).
    @Test func twoGovernorsShareOneMongoStore() async throws {
        try await ProviderStatesContract.sharedConcurrency(MongoProviderStates(client: try MongoClient(uri: TestServices.freshMongoURI())))
    }
}
