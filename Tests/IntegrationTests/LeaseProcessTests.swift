import Foundation
import MongoStore
import RabbitMQBroker
import ReelForgeTestKit
import Shared
import Testing

/// Issue 12 item 4 against the real worker processes: an idea named like the media library stays out of it.
extension WorkerProcessTests {
    func bytes(_ id: String) async throws -> Data {
        let file = temporaryDirectory().appendingPathComponent("artifact.bin")
        try await artifacts.get(id: id, to: file)
        return try Data(contentsOf: file)
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
}
