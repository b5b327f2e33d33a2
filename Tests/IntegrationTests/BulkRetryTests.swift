import Foundation
import ReelForgeTestKit
import Shared
import Testing

/// `reelforge retry --from STAGE` over a selection: a re-render of many completed videos pays for no script, no
/// adaptation and no voice again.
@Suite("Bulk re-runs")
struct BulkRetryTests {
    @Test func reRenderingTwentyVideosCallsNoEarlierStageAndLeavesTheirLedgerAlone() async throws {
        let queue = MemoryWorkQueue(), store = RecordJobStore.memory()
        let artifacts = try DirectoryArtifactStore(root: temporaryDirectory("bulk-artifacts"))
        let executors = Stage.allCases.map { CountingExecutor($0) }
        let runner = StageRunner(queue: queue, store: store, artifacts: artifacts, executors: executors,
                                 settings: RunnerSettings(workerID: "bulk", workRoot: temporaryDirectory("bulk-work")), logger: testLogger())
        // Generous waits: beside the parallel suite on two cores this in-process pipeline took 55 s once; the test
        // counts calls, it does not time them.
        let serving = Task { try await runner.serve(stages: Stage.allCases, concurrency: 4) }
        defer { serving.cancel() }
        let ops = Operations(queue: queue, store: store, artifacts: artifacts, maxRetries: 2)
        var ids: [String] = []
        for n in 0..<20 { ids.append(try await ops.submit(idea: "bulk idea number \(n)", seconds: 10).ideaID) }
        let other = try await ops.submit(idea: "not selected", seconds: 10).ideaID
        #expect(try await eventually(timeout: .seconds(180)) {
            for id in ids + [other] where try await store.idea(id)?.status != .completed { return false }
            return true
        })
        var before: [IdeaRecord] = []
        for id in ids { before.append(try #require(try await store.idea(id))) }
        let calls = { (s: Stage) in executors[s.index].totalCalls }

        // The dry run: what would run and what the stages from `video` cost the last time (the counting provider
        // charges 0.01 a call), sending nothing.
        let plan = try await ops.plan(Operations.Selection(ids: ids + ["idea_unknown"], status: .completed), from: .video)
        #expect(plan.ideas.count == 20 && abs(plan.estimatedUSD - Double(20) * (before[0].costs.filter { $0.stage == .video }.reduce(0) { $0 + $1.costUSD })) < 1e-9)
        #expect(calls(.video) == 21)

        let sent = try await ops.retryAll(plan, from: .video, perSecond: 200)
        #expect(sent == 20)
        #expect(await eventually(timeout: .seconds(180)) { calls(.video) == 41 })
        #expect(try await eventually(timeout: .seconds(120)) {
            for id in ids where try await store.idea(id)?.status != .completed { return false }
            return true
        })
        // No script, adaptation or voice again, and their ledger entries are the same; each video rendered twice.
        #expect(calls(.script) == 21 && calls(.adapt) == 21 && calls(.audio) == 21)
        for (id, old) in zip(ids, before) {
            let now = try #require(try await store.idea(id))
            #expect(now.costs.filter { $0.stage < .video } == old.costs.filter { $0.stage < .video })
            #expect(now.costs.filter { $0.stage == .video }.count == 2 && executors[Stage.video.index].calls(for: id) == 2)
        }
        #expect(executors[Stage.video.index].calls(for: other) == 1, "an idea outside the selection is left alone")

        // A selection by status and creation time.
        let window = try await ops.plan(Operations.Selection(status: .completed, createdAfter: before[10].createdAt), from: .audio)
        #expect(Set(window.ideas.map(\.id)) == Set(ids[10...]).union([other]))
    }
}

