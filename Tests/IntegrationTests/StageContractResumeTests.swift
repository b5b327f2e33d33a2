import AdaptStage
import AudioStage
import Foundation
import ReelForgeTestKit
import Shared
import Testing
import VideoStage

/// A job stored before the typed stage contracts resumes: each stage reads the earlier stage's artifact in the
/// shape the old code stored it (string-keyed inline values, files under their old names) and produces its own.
@Suite("Stage contract resume")
struct StageContractResumeTests {
    static let text = "Octopuses have three hearts.\n\nTheir blood is blue."

    static func input(_ idea: IdeaRecord, _ store: DirectoryArtifactStore, _ dir: URL) throws -> StageInput {
        let work = dir.appendingPathComponent("work-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        return StageInput(idea: idea, jobID: "job_old", attempt: 2, workDir: work, artifacts: store)
    }

    /// Stores a stage's files under the names it gave them, as the runner does.
    static func files(_ output: StageOutput, stage: Stage, store: DirectoryArtifactStore) async throws -> [String: ArtifactRef] {
        var refs: [String: ArtifactRef] = [:]
        for (name, f) in output.files {
            refs[name] = try await store.put(id: ArtifactKey.artifact(ideaID: "idea_old", stage: stage, name: name), name: name,
                                             contentType: f.contentType, from: f.url)
        }
        return refs
    }

    @Test func adaptAudioAndVideoResumeFromArtifactsStoredByTheOldCode() async throws {
        let dir = temporaryDirectory("contract-resume")
        let store = try DirectoryArtifactStore(root: dir.appendingPathComponent("store"))
        var idea = IdeaRecord(id: "idea_old", idea: "octopuses", language: "en", targetSeconds: 10, now: Date())
        // The script stage's inline values as the old code wrote them.
        idea.artifacts[.script] = StageArtifact(inline: [
            "script": ["title": "Hearts", "hook": "Octopuses have three hearts.", "paragraphs": ["Octopuses have three hearts.", "Their blood is blue."],
                       "hashtags": ["#octopus"], "keywords": [["octopus"], ["blood"]], "language": "en"],
            "title": "Hearts", "text": .string(Self.text), "writer": "template"], attempt: 1, producedAt: Date())
        let adapted = try await AdaptStageExecutor().run(Self.input(idea, store, dir), logger: testLogger())
        #expect(adapted.inline["text"] == .string(Self.text) && adapted.inline["adapter"] == "rules")
        #expect(adapted.inline["cues"]?.arrayValue?.isEmpty == false && adapted.files["adapted.json"]?.contentType == "application/json")

        // The adapt artifact of the first version: no speech text, no pause style.
        idea.artifacts[.adapt] = StageArtifact(inline: ["text": .string(Self.text), "cues": adapted.inline["cues"]!, "adapter": "rules"],
                                               attempt: 1, producedAt: Date())
        let audio = try await AudioStageExecutor(synthesizer: EspeakSynthesizer()).run(Self.input(idea, store, dir), logger: testLogger())
        #expect(Set(audio.files.keys) == ["narration.wav", "timings.json"])
        let wav = try Data(contentsOf: #require(audio.files["narration.wav"]).url)
        #expect(wav.prefix(4) == Data("RIFF".utf8) && wav.count > 48_000)
        #expect((audio.inline["words"]?.intValue ?? 0) >= 8 && audio.inline["provider"] == "espeak-ng")

        // The audio artifact of the first version: three inline values, the files under their old names.
        idea.artifacts[.audio] = StageArtifact(inline: ["duration_seconds": audio.inline["duration_seconds"]!, "words": audio.inline["words"]!,
                                                        "provider": "espeak-ng"],
                                               files: try await Self.files(audio, stage: .audio, store: store), attempt: 1, producedAt: Date())
        var options = RenderOptions()
        options.width = 180; options.height = 320; options.fps = 10
        let video = try await VideoStageExecutor(renderer: VideoRenderer(options: options)).run(Self.input(idea, store, dir), logger: testLogger())
        #expect(Set(video.files.keys) == ["video.mp4", "subtitles.srt", "subtitles.vtt", "thumbnail.png", "credits.txt"])
        #expect(video.inline["cues"]?.intValue == adapted.inline["cues"]?.arrayValue?.count)
        #expect((video.inline["frames"]?.intValue ?? 0) > 10 && video.inline["width"] == 180)
        let srt = try String(contentsOf: #require(video.files["subtitles.srt"]).url, encoding: .utf8)
        #expect(srt.contains("Octopuses") && srt.contains("-->"))
    }
}
