import Foundation
import MongoStore
import RabbitMQBroker
import ReelForgeTestKit
import Shared
import Testing

/// Issue 12 items 4 and 6 against the real worker processes: an idea named like the media library stays out
/// of it, and a video worker that lost its lease while stopped stops rendering as soon as it runs again.
extension WorkerProcessTests {
    func proc(_ name: String, _ extra: [String: String]) throws -> Proc {
        try Proc(name, env: env.merging(extra) { $1 }, logDir: logs)
    }

    func bytes(_ id: String) async throws -> Data {
        let file = temporaryDirectory().appendingPathComponent("artifact.bin")
        try await artifacts.get(id: id, to: file)
        return try Data(contentsOf: file)
    }

    /// CPU seconds a process has used (user + system, from /proc).
    static func cpuSeconds(_ pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return -1 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, utime and stime are fields 14 and 15 (in clock ticks).
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return -1 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    @Test func anIdeaNamedLikeTheMediaLibraryStaysOutOfIt() async throws {
        let workers = [try start("ScriptWorker"), try start("AudioWorker"), try start("VideoWorker")]
        let clip = temporaryDirectory().appendingPathComponent("clip.mp4")
        try Data("the library's own clip".utf8).write(to: clip)
        _ = try await cli("media", "put", clip.path, "--name", "video.video.mp4")
        // A producer's message may carry any valid idea id: `media` wrote `media.video.video.mp4` before.
        let queue = try RabbitMQWorkQueue(url: env["AMQP_URL"]!, topology: .init(prefix: env["REELFORGE_QUEUE_PREFIX"]!), logger: testLogger())
        try await queue.declareTopology()
        try await queue.publish(JobMessage(jobID: Identifier.make("job"), ideaID: "media", stage: .script,
                                           newIdea: .init(text: "why the sea is salty", language: "en", targetSeconds: 5)), to: .script)
        await queue.close()
        let idea = try await waitFor("media", .completed, workers)
        try await checkVideo(idea)

        // `media list` shows the library's file only, byte for byte the one put; none of the idea's files.
        let listed = try await cli("media", "list", "--json")
        #expect(try JSONDecoder().decode([String].self, from: Data(listed[try #require(listed.firstIndex(of: "["))...].utf8)) == ["video.video.mp4"])
        #expect(try await bytes(ArtifactKey.media("video.video.mp4")) == Data("the library's own clip".utf8))
        let video = try #require(idea.artifacts[.video]?.files["video.mp4"])
        #expect(video.id == ArtifactKey.artifact(ideaID: "media", stage: .video, name: "video.mp4"))
        let before = try await bytes(video.id)

        // `media put --name` with the names the idea's files had as media keys cannot overwrite them.
        _ = try await cli("media", "put", clip.path, "--name", "video.video.mp4")
        _ = try await cli("media", "put", clip.path, "--name", "video.thumbnail.png")
        #expect(try await bytes(video.id) == before)
        let own = try await artifacts.list(ideaID: "media")
        #expect(own.contains(video.id) && own.allSatisfy { $0.hasPrefix("idea/media/") }, "\(own)")
        _ = try await cli("media", "rm", "video.thumbnail.png")

        // Nor can an idea's file serve as a background from the library.
        let out = try await cli("submit", "why the moon has phases", "--json", "--duration", "5", "--background", "media:video.thumbnail.png")
        let other = try JSONDecoder().decode(Operations.Submitted.self, from: Data(out[try #require(out.firstIndex(of: "{"))...].utf8))
        let failed = try await waitFor(other.ideaID, .failed, workers)
        #expect(failed.errors.last?.message.contains("no 'video.thumbnail.png' in the media library") == true, "\(failed.errors)")
        for w in workers { _ = await w.terminate() }
    }

    @Test func aVideoWorkerThatLostItsLeaseStopsWithinSeconds() async throws {
        let small = ["REELFORGE_VIDEO_SIZE": "360x640", "REELFORGE_LEASE_SECONDS": "3"]
        let workers = [try proc("ScriptWorker", small), try proc("AudioWorker", small)]
        let first = try proc("VideoWorker", small.merging(["REELFORGE_WORKER_ID": "video-first"]) { $1 })
        let out = try await cli("submit", "why the sea is salty", "--json", "--duration", "90")
        let s = try JSONDecoder().decode(Operations.Submitted.self, from: Data(out[try #require(out.firstIndex(of: "{"))...].utf8))
        let claimed = try await eventually(timeout: .seconds(120)) { try await store.job(s.jobID)?.lease?.stage == .video }
        #expect(claimed)
        try await Task.sleep(for: .milliseconds(1500))  // rendering now
        // Stopped past its lease (3 s); meanwhile another worker takes the stage over.
        kill(first.process.processIdentifier, SIGSTOP)
        try await Task.sleep(for: .seconds(5))
        let second = try proc("VideoWorker", small.merging(["REELFORGE_WORKER_ID": "video-second"]) { $1 })
        _ = try await cli("retry", s.ideaID)
        let takenOver = try await eventually(timeout: .seconds(30)) { try await store.job(s.jobID)?.lease?.owner == "video-second" }
        #expect(takenOver, "the second worker should hold the lease")

        kill(first.process.processIdentifier, SIGCONT)
        let noticed = await eventually(timeout: .seconds(10)) { first.output.contains("lost the lease on video") }
        #expect(noticed, "the first worker must notice within seconds:\n\(first.output.suffix(2000))")
        // It no longer renders: next to no CPU from now on (a render takes a core or more).
        let cpu = Self.cpuSeconds(first.process.processIdentifier)
        try await Task.sleep(for: .seconds(3))
        let used = Self.cpuSeconds(first.process.processIdentifier) - cpu
        #expect(cpu >= 0 && used < 0.6, "the first worker used \(used) s of CPU in 3 s after losing its lease")

        let idea = try await waitFor(s.ideaID, .completed, workers + [first, second], timeout: .seconds(300))
        let mp4 = try await bytes(try #require(idea.artifacts[.video]?.files["video.mp4"]).id)
        #expect(mp4.count > 10_000 && String(decoding: mp4[4..<8], as: UTF8.self) == "ftyp")
        #expect(!first.output.contains("rendered "), "the first worker's render never finished")
        #expect(!first.output.contains("video_generated recorded"))
        #expect(second.output.contains("video_generated recorded"))
        #expect(idea.costs.filter { $0.stage == .video }.count == 1, "the video was paid once")
        for w in workers + [first, second] { _ = await w.terminate() }
    }
}
