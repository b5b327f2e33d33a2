import Foundation
import ReelForgeTestKit
import Shared
import Testing
@testable import VideoStage

/// Backgrounds that change at paragraph boundaries: a sequence, or a folder chosen from by the script's keywords.
@Suite("Background sequences")
struct BackgroundPlanTests {
    let red = RGB(r: 200, g: 30, b: 30), blue = RGB(r: 30, g: 30, b: 200)

    @Test func aFolderGivesEachParagraphTheFileItsKeywordsName() throws {
        let dir = temporaryDirectory("library")
        for name in ["coral-reef.png", "deep-ocean.mp4", "octopus_arms.jpg", "notes.txt", ".hidden.png"] {
            _ = FileManager.default.createFile(atPath: dir.appendingPathComponent(name).path, contents: Data([0]))
        }
        let files = BackgroundLibrary.files(in: dir)
        #expect(files.map(\.lastPathComponent) == ["coral-reef.png", "deep-ocean.mp4", "octopus_arms.jpg"])
        let chosen = BackgroundLibrary.choose(from: files, keywords: [["Octopuses", "arms"], ["coral reefs"], ["deep sea", "ocean"],
                                                                      ["octopus"], ["nothing", "matches"], ["nothing"]])
        #expect(chosen.map(\.lastPathComponent) == ["octopus_arms.jpg", "coral-reef.png", "deep-ocean.mp4", "octopus_arms.jpg",
                                                    // no match: the least used, never the one just shown
                                                    "coral-reef.png", "deep-ocean.mp4"])
        guard case .library(let folder) = try BackgroundSource(parsing: dir.path) else { Issue.record("a folder is a library"); return }
        #expect(folder.standardizedFileURL.path == dir.standardizedFileURL.path)
        // Plurals meet singulars both ways.
        let names = ["octopus_arms.jpg", "ocean-waves.mp4", "old-houses.png", "berry.png", "glass.png"]
        for (keyword, file) in [("octopuses", 0), ("wave", 1), ("house", 2), ("berries", 3), ("glasses", 4)] {
            #expect(BackgroundLibrary.choose(names: names, keywords: [[keyword]]) == [file], "\(keyword) → \(names[file])")
        }
        // A folder or the whole media library cannot be one item of a list.
        #expect(throws: StageFailure.self) { try BackgroundSource(parsing: "#000000,\(dir.path)") }
        #expect(throws: StageFailure.self) { try BackgroundSource(parsing: "#000000,media:") }
        let empty = temporaryDirectory("empty-library")
        #expect(throws: StageFailure.self) { try BackgroundSource(parsing: empty.path) }
    }

    @Test func theStoredLibraryFetchesOnlyTheFilesItsParagraphsChoose() async throws {
        let dir = temporaryDirectory("media")
        try await storedLibrary(try DirectoryArtifactStore(root: dir.appendingPathComponent("store")), dir: dir)
    }

    @Test(.enabled(if: TestServices.available)) func theStoredLibraryWorksOnGridFS() async throws {
        let store = try TestServices.mongoStore().1
        for name in try await MediaLibrary.names(in: store) { try await MediaLibrary.remove(name, from: store) }
        try await storedLibrary(store, dir: temporaryDirectory("media-gridfs"))
    }

    func storedLibrary(_ store: any ArtifactStore, dir: URL) async throws {
        let blank = dir.appendingPathComponent("blank")
        _ = FileManager.default.createFile(atPath: blank.path, contents: Data([1, 2, 3]))
        for name in ["coral-reef.png", "deep-ocean.mp4", "volcano.jpg"] { try await MediaLibrary.put(blank, name: name, in: store) }
        await #expect(throws: StageFailure.self) { try await MediaLibrary.put(blank, name: "notes.txt", in: store) }
        await #expect(throws: StageFailure.self) { try await MediaLibrary.put(blank, name: "../x.png", in: store) }
        #expect(try await MediaLibrary.names(in: store) == ["coral-reef.png", "deep-ocean.mp4", "volcano.jpg"])
        #expect(try BackgroundSource(parsing: "media:") == .stored(name: nil))
        #expect(try BackgroundSource(parsing: "media:volcano.jpg") == .stored(name: "volcano.jpg"))

        let fetched = dir.appendingPathComponent("fetched")
        let resolved = try await MediaLibrary.resolve(.stored(name: nil), paragraphs: [ParagraphTiming(start: 0, keywords: ["ocean"]),
                                                                                       ParagraphTiming(start: 3, keywords: ["reef"])],
                                                      store: store, into: fetched)
        #expect(resolved == .sequence([.video(fetched.appendingPathComponent("deep-ocean.mp4")), .image(fetched.appendingPathComponent("coral-reef.png"))]))
        #expect(try FileManager.default.contentsOfDirectory(atPath: fetched.path).sorted() == ["coral-reef.png", "deep-ocean.mp4"], "only the chosen are fetched")
        await #expect(throws: StageFailure.self) {
            try await MediaLibrary.resolve(.stored(name: "missing.png"), paragraphs: [], store: store, into: fetched)
        }
    }

    @Test func anIdeasBackgroundIsParsedWithoutTouchingTheFileSystem() throws {
        for name in BackgroundChoice.colourNames { #expect(RGB(parsing: name) != nil, "\(name) is a colour the renderer knows") }
        #expect(try BackgroundSource(choice: "#C81E1E") == .gradient(top: red, bottom: red))
        #expect(try BackgroundSource(choice: "#C81E1E:#1E1EC8, media:reef.mp4")
                == .sequence([.gradient(top: red, bottom: blue), .stored(name: "reef.mp4")]))
        #expect(try BackgroundSource(choice: "media:") == .stored(name: nil))
        #expect(throws: StageFailure.self) { try BackgroundSource(choice: "/etc/hosts") }
    }

    /// The video stage renders over the background the idea asked for, fetching it from the media library.
    @Test func theVideoStageUsesTheIdeasOwnBackground() async throws {
        let dir = temporaryDirectory("idea-background")
        let store = try DirectoryArtifactStore(root: dir.appendingPathComponent("store"))
        let (wav, speech) = try await MediaFixtures.narration("A video over the picture this idea asked for.", in: dir)
        let timings = dir.appendingPathComponent("timings.json")
        try JSONEncoder().encode(speech.words).write(to: timings)
        let picture = dir.appendingPathComponent("orange.png")
        _ = try await runProgram("/usr/bin/ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "color=c=0xE06010:s=320x320", "-frames:v", "1", picture.path])
        try await MediaLibrary.put(picture, name: "orange.png", in: store)
        var idea = IdeaRecord(id: "idea_bg", idea: "a picture", language: "en", targetSeconds: 5, now: Date())
        idea.background = "media:orange.png"
        idea.artifacts[.adapt] = StageArtifact(inline: ["text": .string("A video over the picture this idea asked for."), "cues": .array([])],
                                               attempt: 1, producedAt: Date())
        idea.artifacts[.audio] = StageArtifact(files: [
            "narration.wav": try await store.put(id: ArtifactKey.artifact(ideaID: "idea_bg", stage: .audio, name: "narration.wav"), name: "narration.wav", contentType: "audio/wav", from: wav),
            "timings.json": try await store.put(id: ArtifactKey.artifact(ideaID: "idea_bg", stage: .audio, name: "timings.json"), name: "timings.json", contentType: "application/json", from: timings),
        ], attempt: 1, producedAt: Date())
        var options = RenderOptions()
        options.width = 320; options.height = 568
        options.background = .gradient(top: blue, bottom: blue)  // the worker's own, overridden by the idea's
        let work = dir.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let output = try await VideoStageExecutor(renderer: VideoRenderer(options: options))
            .run(StageInput(idea: idea, jobID: "job_bg", attempt: 1, workDir: work, artifacts: store), logger: testLogger())
        let video = try #require(output.files["video.mp4"]?.url)
        let p = try VideoFrames.pictures(in: video, at: [1.0])[0]
        #expect(p.v(160, 100) > 170 && p.u(160, 100) < 110, "orange from the library, not the worker's blue")
    }

    @Test func segmentsFollowParagraphsAndMergeRepeats() throws {
        let seq = BackgroundSource.sequence([.gradient(top: red, bottom: red), .gradient(top: blue, bottom: blue)])
        #expect(try BackgroundSource(parsing: "#C81E1E, #1E1EC8") == seq)
        let paragraphs = [ParagraphTiming(start: 0.2), ParagraphTiming(start: 4), ParagraphTiming(start: 9), ParagraphTiming(start: 30)]
        let segments = seq.segments(paragraphs: paragraphs, cues: [], duration: 12)
        #expect(segments.map(\.start) == [0, 4, 9], "the first starts the video; a paragraph past the end is dropped")
        #expect(segments.map(\.source) == [.gradient(top: red, bottom: red), .gradient(top: blue, bottom: blue), .gradient(top: red, bottom: red)])
        // The same background twice in a row is one segment.
        let same = BackgroundSource.sequence([.gradient(top: red, bottom: red), .gradient(top: red, bottom: red)])
        #expect(same.segments(paragraphs: paragraphs, cues: [], duration: 12).count == 1)
        // Without paragraph times (an SRT on its own): shared out at the cue starts nearest to equal parts.
        let cues = (0..<6).map { TimedCue(index: $0 + 1, start: Double($0) * 2, end: Double($0) * 2 + 1.9, lines: ["x"]) }
        #expect(seq.segments(paragraphs: [], cues: cues, duration: 12).map(\.start) == [0, 6])
    }

    @Test func paragraphsAreTimedByTheirFirstSpokenWord() {
        let words = ["Octopuses", "have", "three", "hearts.", "Their", "blood", "is", "blue."].enumerated().map {
            WordTiming(word: $1, start: Double($0) * 0.5, end: Double($0) * 0.5 + 0.4)
        }
        #expect(SubtitleTiming.paragraphStarts(["Octopuses have three hearts.", "Their blood is blue."], words: words) == [0, 2])
        // A paragraph without letters keeps its place: it starts with the next one.
        #expect(SubtitleTiming.paragraphStarts(["Octopuses have three hearts.", "***", "Their blood is blue."], words: words) == [0, 2, 2])
        #expect(SubtitleTiming.paragraphStarts(["Anything"], words: []) == [])
    }

    @Test func theVideoStageTimesTheAdaptedParagraphsWithTheScriptsKeywords() throws {
        let words = ["Octopuses", "have", "three", "hearts.", "Their", "blood", "is", "blue."].enumerated().map {
            WordTiming(word: $1, start: Double($0) * 0.5, end: Double($0) * 0.5 + 0.4)
        }
        // Stored shapes: the adapt artifact's inline text, a script artifact whose script carries only keywords.
        let adapted = try StageArtifact(inline: ["text": .string("Octopuses have three hearts.\n\nTheir blood is blue.")],
                                        attempt: 1, producedAt: Date()).output(AdaptedText.self)
        let script = try StageArtifact(inline: ["script": .object(["keywords": .array([.array([.string("octopus")]), .array([.string("blue"), .string("blood")])])])],
                                       attempt: 1, producedAt: Date()).output(WrittenScript.self)
        #expect(VideoStageExecutor.paragraphs(adapted: adapted, script: script, words: words)
                == [ParagraphTiming(start: 0, keywords: ["octopus"]), ParagraphTiming(start: 2, keywords: ["blue", "blood"])])
        #expect(VideoStageExecutor.paragraphs(adapted: adapted, script: nil, words: words).map(\.start) == [0, 2])
    }

    @Test func theBackgroundChangesAtTheParagraphBoundary() async throws {
        let dir = temporaryDirectory("sequence")
        let clip = try await MediaFixtures.clip("color=c=0x10C010:s=320x240:r=25", seconds: 0.6, in: dir)
        let (wav, speech) = try await MediaFixtures.narration("Red first. Then blue. And green at the end.", in: dir)
        var options = RenderOptions()
        options.width = 320; options.height = 568
        options.background = .sequence([.gradient(top: red, bottom: red), .gradient(top: blue, bottom: blue), .video(clip)])
        let cut1 = speech.duration / 3, cut2 = speech.duration * 2 / 3
        let out = dir.appendingPathComponent("v.mp4")
        let result = try await VideoRenderer(options: options).render(
            audio: wav, paragraphs: [ParagraphTiming(start: 0), ParagraphTiming(start: cut1), ParagraphTiming(start: cut2)], to: out)
        #expect(result.backgrounds.map(\.start) == [0, cut1, cut2])
        let times = [cut1 - 0.1, cut1 + 0.1, cut2 - 0.1, cut2 + 0.1, speech.duration - 0.05]
        let pictures = try VideoFrames.pictures(in: out, at: times)
        // Cr is high for red, Cb for blue; green has both low.
        let (u, v) = (pictures.map { Int($0.u(160, 100)) }, pictures.map { Int($0.v(160, 100)) })
        #expect(v[0] > 180, "red before the first cut")
        #expect(u[1] > 180 && u[2] > 180, "blue between the cuts")
        #expect(u[3] < 100 && v[3] < 100 && u[4] < 100 && v[4] < 100, "the (looping) green clip after the second")
    }
}
