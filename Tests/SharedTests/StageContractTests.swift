import Foundation
import ReelForgeTestKit
import Shared
import Testing

/// The typed stage outputs read what the stages stored before they existed (the inline dictionaries below are the
/// shapes the old code wrote, key for key) and write the same keys, files and content types.
@Suite("Stage contracts")
struct StageContractTests {
    static let script = Script(title: "Three hearts", hook: "Octopuses have three hearts.",
                               paragraphs: ["Octopuses have three hearts.", "Their blood is blue."],
                               hashtags: ["#octopus"], keywords: [["octopus"], ["blue", "blood"]], language: "en")
    static let cues: JSONValue = [["index": 1, "text": "Octopuses have three hearts.", "lines": ["Octopuses have", "three hearts."]]]

    /// What `ScriptStageExecutor` stored before the contracts.
    static func oldScriptInline() throws -> [String: JSONValue] {
        ["script": try JSONValue.encoding(script), "title": .string(script.title), "text": .string(script.narration),
         "writer": "template"]
    }
    /// What `AdaptStageExecutor` stored before the contracts (and, without speech text and pause style, before
    /// the cloud speech providers).
    static let oldAdaptInline: [String: JSONValue] = [
        "text": "Octopuses have three hearts.\n\nTheir blood is blue.", "speech_text": "Octopuses have three hearts. <break time=\"0.4s\"/> Their blood is blue.",
        "pause_style": "elevenlabs", "cues": cues, "adapter": "rules"]
    static let oldAudioInline: [String: JSONValue] = [
        "duration_seconds": .double(3.25), "words": .int(8), "provider": "espeak-ng", "sample_rate": .int(48_000),
        "loudness_lufs": .double(-16), "pieces": .int(1)]
    static let oldVideoInline: [String: JSONValue] = [
        "duration_seconds": .double(3.75), "frames": .int(113), "width": .int(1080), "height": .int(1920), "fps": .int(30),
        "cues": .int(1), "render_seconds": .double(2.5)]

    static func artifact(_ inline: [String: JSONValue]) -> StageArtifact {
        StageArtifact(inline: inline, attempt: 1, producedAt: Date(timeIntervalSince1970: 1_700_000_000))
    }

    /// The artifact as the stores keep it (JSON text) and read it back, as a job resumed from the store does.
    static func stored(_ inline: [String: JSONValue]) throws -> StageArtifact {
        try JSONDecoder().decode(StageArtifact.self, from: JSONEncoder().encode(artifact(inline)))
    }

    @Test func todaysStoredArtifactsDecodeAsContracts() throws {
        let written = try Self.stored(Self.oldScriptInline()).output(WrittenScript.self)
        #expect(written.script == Self.script && written.text == Self.script.narration && written.writer == "template")
        #expect(written.title == "Three hearts" && written.keywords == [["octopus"], ["blue", "blood"]])

        let adapted = try Self.stored(Self.oldAdaptInline).output(AdaptedText.self)
        #expect(adapted.text == "Octopuses have three hearts.\n\nTheir blood is blue." && adapted.pauseStyle == .elevenlabs)
        #expect(adapted.speechText?.contains("<break time=\"0.4s\"/>") == true && adapted.adapter == "rules")
        #expect(adapted.cues == [Cue(index: 1, text: "Octopuses have three hearts.", lines: ["Octopuses have", "three hearts."])])

        let narration = try Self.stored(Self.oldAudioInline).output(SpokenNarration.self)
        #expect(narration == SpokenNarration(durationSeconds: 3.25, words: 8, provider: "espeak-ng", sampleRate: 48_000,
                                       loudnessLUFS: -16, pieces: 1))
        let video = try Self.stored(Self.oldVideoInline).output(RenderedVideo.self)
        #expect(video == RenderedVideo(durationSeconds: 3.75, frames: 113, width: 1080, height: 1920, fps: 30, cues: 1, renderSeconds: 2.5))
    }

    /// The first stored shapes: the adapter without speech text or pause style, the audio stage without sample
    /// rate, loudness or pieces; a script reduced to its keywords; a pause style this version does not know.
    @Test func olderAndPartialShapesDecodeWithTheirGaps() throws {
        let adapted = try Self.stored(["text": "Hello.", "cues": Self.cues, "adapter": "rules"]).output(AdaptedText.self)
        #expect(adapted.speechText == nil && adapted.pauseStyle == nil && adapted.cues.count == 1)
        let noCues = try Self.stored(["text": "Hello.", "pause_style": "whisper"]).output(AdaptedText.self)
        #expect(noCues.cues.isEmpty && noCues.pauseStyle == nil && noCues.speechText == nil)
        let narration = try Self.stored(["duration_seconds": .double(2.5), "words": .int(4), "provider": "espeak-ng"]).output(SpokenNarration.self)
        #expect(narration.durationSeconds == 2.5 && narration.words == 4 && narration.sampleRate == nil && narration.pieces == nil)
        let partial = try Self.stored(["script": ["keywords": [["octopus"], ["blood"]]], "text": "Hi."]).output(WrittenScript.self)
        #expect(partial.script == nil && partial.keywords == [["octopus"], ["blood"]] && partial.text == "Hi.")
        let empty = try Self.stored([:]).output(AdaptedText.self)
        #expect(empty.text.isEmpty, "a missing text reads as empty: the next stage reports it as it did")
    }

    @Test func aValueOfTheWrongTypeIsAPermanentFailure() throws {
        let cases: [([String: JSONValue], (StageArtifact) throws -> Void)] = [
            (["text": .int(3)], { _ = try $0.output(AdaptedText.self) }),
            (["cues": "not cues"], { _ = try $0.output(AdaptedText.self) }),
            (["duration_seconds": "long", "words": 1, "provider": "x"], { _ = try $0.output(SpokenNarration.self) }),
            (["frames": .int(3)], { _ = try $0.output(RenderedVideo.self) }),
        ]
        for (inline, read) in cases {
            let error = #expect(throws: StageFailure.self) { try read(Self.artifact(inline)) }
            #expect(error?.kind == .permanent && error?.message.contains("does not match its contract") == true)
        }
    }

    /// Encoding writes the keys, values, file names and content types the old code wrote.
    @Test func outputsStoreTheOldKeysFilesAndContentTypes() throws {
        let dir = URL(fileURLWithPath: "/tmp/contract")
        let script = try StageOutput(contract: WrittenScript(script: Self.script, writer: "template"),
                                     files: [WrittenScript.json: dir.appendingPathComponent("script.json")])
        #expect(script.inline == (try Self.oldScriptInline()))
        #expect(script.files.mapValues(\.contentType) == ["script.json": "application/json"])

        let adapted = try StageOutput(contract: Self.stored(Self.oldAdaptInline).output(AdaptedText.self),
                                      files: [AdaptedText.json: dir.appendingPathComponent("adapted.json")])
        #expect(adapted.inline == Self.oldAdaptInline)
        #expect(adapted.files.mapValues(\.contentType) == ["adapted.json": "application/json"])

        let audio = try StageOutput(contract: Self.stored(Self.oldAudioInline).output(SpokenNarration.self),
                                    files: [SpokenNarration.wav: dir, SpokenNarration.timings: dir])
        #expect(audio.inline.mapValues(\.doubleValue) == Self.oldAudioInline.mapValues(\.doubleValue))
        #expect(audio.inline["provider"] == "espeak-ng" && audio.inline.keys.sorted() == Self.oldAudioInline.keys.sorted())
        #expect(audio.files.mapValues(\.contentType) == ["narration.wav": "audio/wav", "timings.json": "application/json"])

        let video = try StageOutput(contract: Self.stored(Self.oldVideoInline).output(RenderedVideo.self),
                                    files: [RenderedVideo.mp4: dir, RenderedVideo.srt: dir, RenderedVideo.vtt: dir, RenderedVideo.thumbnail: dir])
        #expect(video.inline == Self.oldVideoInline)
        #expect(video.files.mapValues(\.contentType) == ["video.mp4": "video/mp4", "subtitles.srt": "application/x-subrip",
                                                        "subtitles.vtt": "text/vtt", "thumbnail.png": "image/png"])
    }

    @Test func aStageReadsTheEarlierStagesContractAndFailsPermanentlyWithoutIt() throws {
        var idea = IdeaRecord(id: "idea_c", idea: "octopuses", language: "en", targetSeconds: 10, now: Date())
        idea.artifacts[.adapt] = try Self.stored(Self.oldAdaptInline)
        let input = StageInput(idea: idea, jobID: "job_c", attempt: 1, workDir: URL(fileURLWithPath: "/tmp"),
                               artifacts: try DirectoryArtifactStore(root: temporaryDirectory("contract")))
        #expect(try input.output(AdaptedText.self).cues.count == 1)
        let error = #expect(throws: StageFailure.self) { try input.output(SpokenNarration.self) }
        #expect(error?.kind == .permanent && error?.message == "the audio artifact is missing from the idea")
    }
}
