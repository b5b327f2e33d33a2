import AdaptStage
import AudioStage
import Foundation
import Logging
import ReelForgeTestKit
import ScriptStage
import Shared
import Synchronization
import Testing
import VideoStage
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Stock footage behind the paragraphs, against scripts/fake-footage (the Pexels and Pixabay formats, real clips
/// of one colour each: 11 red, 12 green, 13 blue; 10 is landscape).
@Suite("Stock footage", .serialized)  // each test runs a whole pipeline and renders: one at a time
struct FootageTests {
    static let base = ProcessInfo.processInfo.environment["REELFORGE_TEST_FOOTAGE_URL"] ?? "http://127.0.0.1:1"

    /// The stand-in's request counts under a scope.
    static func calls(_ scope: String) async throws -> (searches: Int, downloads: Int) {
        let (data, _) = try await URLSession.shared.data(from: URL(string: "\(base)/_calls/\(scope)")!)
        let json = try JSONValue.parse(data)
        return (Int(json["searches"]?.intValue ?? -1), Int(json["downloads"]?.intValue ?? -1))
    }

    /// A video stage that fails after its first complete run (footage fetched and stored, video rendered), as a
    /// render that breaks at the end would.
    final class FailingOnce: StageExecutor {
        let stage = Stage.video
        let inner: VideoStageExecutor
        let failures = Mutex(1)
        init(inner: VideoStageExecutor) { self.inner = inner }
        func run(_ input: StageInput, logger: Logger) async throws -> StageOutput {
            let output = try await inner.run(input, logger: logger)
            if failures.withLock({ n in defer { n -= 1 }; return n > 0 }) { throw StageFailure.transient("the render broke at the end (test)") }
            return output
        }
    }

    /// The whole pipeline in process (template script, rules, espeak-ng, the real renderer at 180x320) with the
    /// footage step on `sources` of the stand-in's `scope`; ideas share one store.
    struct Harness {
        let queue = MemoryWorkQueue()
        let store = RecordJobStore.memory()
        let artifacts: DirectoryArtifactStore

        init() throws { artifacts = try DirectoryArtifactStore(root: temporaryDirectory("footage-artifacts")) }

        static func video(_ scope: String, sources: [FootageSource] = [.pexels], maxBytes: Int = 200 << 20) -> VideoStageExecutor {
            var options = RenderOptions()
            options.width = 180; options.height = 320; options.fps = 10; options.preset = "ultrafast"
            let url = URL(string: "\(FootageTests.base)/\(scope)")!
            let searches: [any FootageSearch] = sources.map { source -> any FootageSearch in
                source == .pexels ? PexelsSearch(key: "test-key", base: url, timeout: .seconds(10)) as any FootageSearch
                    : PixabaySearch(key: "test-key", base: url, timeout: .seconds(10))
            }
            return VideoStageExecutor(renderer: VideoRenderer(options: options), footage: FootageFetcher(stock: searches, maxBytes: maxBytes, timeout: .seconds(10)))
        }

        func make(_ idea: String, video: any StageExecutor, seconds: Int = 20, footage: [FootageSource]? = nil,
                  writer: any ScriptWriter = TemplateScriptWriter()) async throws -> (IdeaRecord, JobRecord) {
            let executors: [any StageExecutor] = [ScriptStageExecutor(writer: writer), AdaptStageExecutor(),
                                                  AudioStageExecutor(synthesizer: EspeakSynthesizer()), video]
            let runner = StageRunner(queue: queue, store: store, artifacts: artifacts, executors: executors,
                                     settings: RunnerSettings(workerID: "w", retry: RetryPolicy(delays: [.milliseconds(200), .seconds(1)], maxRetries: 3, jitter: 0, jitterBuckets: 1),
                                                              workRoot: temporaryDirectory("footage-work")),
                                     logger: testLogger())
            let serving = Task { try await runner.serve(stages: Stage.allCases, concurrency: 1) }
            defer { serving.cancel() }
            let s = try await Operations(queue: queue, store: store, maxRetries: 3).submit(idea: idea, seconds: seconds, footage: footage)
            _ = try await eventually(timeout: .seconds(300)) {
                let status = try await store.idea(s.ideaID)?.status
                return status == .completed || status == .failed
            }
            return (try #require(try await store.idea(s.ideaID)), try #require(try await store.job(s.jobID)))
        }

        func plan(_ idea: IdeaRecord) async throws -> FootagePlan {
            let file = temporaryDirectory("plan").appendingPathComponent("footage.json")
            try await artifacts.get(id: ArtifactKey.artifact(ideaID: idea.id, stage: .video, name: FootageFetcher.planName), to: file)
            return try JSONDecoder().decode(FootagePlan.self, from: Data(contentsOf: file))
        }

        func file(_ idea: IdeaRecord, _ name: String) async throws -> URL {
            let ref = try #require(idea.artifacts[.video]?.files[name])
            let url = temporaryDirectory("out").appendingPathComponent(name)
            try await artifacts.get(id: ref.id, to: url)
            return url
        }
    }

    /// The colours of the video's top half, every half second, with runs of the same colour merged.
    static func colours(of video: URL) async throws -> [String] {
        let data = try await runProgram("/usr/bin/ffmpeg", ["-v", "error", "-i", video.path, "-vf", "fps=2,crop=iw:ih/2:0:0,scale=1:1",
                                                            "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]).output
        var names: [String] = []
        for i in stride(from: 0, to: data.count - 2, by: 3) {
            let (r, g, b) = (Int(data[i]), Int(data[i + 1]), Int(data[i + 2]))
            let name = r > 150 && g < 90 && b < 90 ? "red" : g > 90 && r < 90 && b < 90 ? "green" : b > 150 && r < 90 && g < 90 ? "blue"
                : r > 150 && b > 150 && g < 90 ? "magenta" : r > 200 && (100...200).contains(g) && b < 80 ? "orange"
                : r > 90 && b > 90 && g < 60 ? "purple" : "other"
            if names.last != name { names.append(name) }
        }
        return names
    }

    @Test func paragraphsGetTheExpectedClipsInOrderAndTheCreditsNameThem() async throws {
        let h = try Harness()
        let scope = "ok/\(UUID().uuidString.prefix(8))"
        let (idea, _) = try await h.make("why octopuses have three hearts", video: Harness.video(scope))
        #expect(idea.status == .completed, "\(idea.errors.map(\.message))")
        let plan = try await h.plan(idea)
        let paragraphs = try #require(try? idea.artifacts[.adapt]?.output(AdaptedText.self).text).components(separatedBy: "\n\n").count
        #expect(plan.items.count == paragraphs && paragraphs >= 2)
        // Portrait clips first, each used once, in the provider's order: 11, 12, 13, then the landscape 10.
        #expect(plan.items.map(\.sourceID) == Array(["11", "12", "13", "10"].prefix(paragraphs)))
        #expect(plan.items.map(\.paragraph) == Array(0..<paragraphs))
        let seen = try await Self.colours(of: try await h.file(idea, RenderedVideo.mp4.name)).filter { $0 != "other" }
        #expect(seen == Array(["red", "green", "blue"].prefix(min(3, paragraphs))), "the frames show the clips in order: \(seen)")
        let credits = try String(contentsOf: try await h.file(idea, RenderedVideo.credits.name), encoding: .utf8)
        for item in plan.items {
            #expect(credits.contains("Author \(item.sourceID)") && credits.contains("https://www.pexels.com/video/clip-\(item.sourceID)/"))
        }
        #expect(credits.contains("Pexels License"))
    }

    @Test func aRenderThatFailsRunsAgainWithoutAnyNewRequest() async throws {
        let h = try Harness()
        let scope = "ok/\(UUID().uuidString.prefix(8))"
        let failing = FailingOnce(inner: Harness.video(scope))
        let (idea, job) = try await h.make("why octopuses have three hearts", video: failing)
        #expect(idea.status == .completed && job.attempts[.video] == 2, "\(idea.errors.map(\.message))")
        let after = try await Self.calls(scope)
        let plan = try await h.plan(idea)
        // One search a paragraph and one download a clip: all made by the first attempt, none by the second.
        #expect(after.downloads == plan.items.count && after.searches == plan.items.count, "\(after)")
    }

    @Test func twoIdeasUsingTheSameClipsStoreThemOnce() async throws {
        let h = try Harness()
        let scope = "ok/\(UUID().uuidString.prefix(8))"
        let (first, _) = try await h.make("why octopuses have three hearts", video: Harness.video(scope))
        let (second, _) = try await h.make("why cats purr", video: Harness.video(scope))
        #expect(first.status == .completed && second.status == .completed)
        let used = Set(try await h.plan(first).items.map(\.artifactID)).union(try await h.plan(second).items.map(\.artifactID))
        #expect(try await h.artifacts.list(.footage) == used.sorted())
        #expect(try await Self.calls(scope).downloads == used.count, "each clip downloaded once")
    }

    @Test(arguments: [("429", "completed"), ("401", "failed"), ("empty", "completed"), ("broken", "completed"), ("big", "completed"),
                      ("videoless", "completed")])
    func providersMisbehavingEndInTheDocumentedState(_ behaviour: String, _ expected: String) async throws {
        let h = try Harness()
        let scope = "\(behaviour)/\(UUID().uuidString.prefix(8))"
        let (idea, job) = try await h.make("why octopuses have three hearts", video: Harness.video(scope, maxBytes: 1 << 20), seconds: 12)
        #expect(idea.status.rawValue == expected, "\(idea.errors.map(\.message))")
        switch behaviour {
        case "429":
            #expect(job.attempts[.video] == 2, "a 429 is transient: retried")
        case "401":
            let error = try #require(idea.errors.last)
            #expect(error.kind == "permanent" && error.message.contains("pexels") && job.attempts[.video] == 1, "\(error)")
            #expect(!error.message.contains("test-key"))
        case "empty":
            #expect(try await h.plan(idea).items.isEmpty, "no results is not an error: the background stays")
            #expect(try String(contentsOf: try await h.file(idea, RenderedVideo.credits.name), encoding: .utf8).contains("No stock footage"))
        case "broken", "big":
            // Clip 11 cannot be decoded (or is over the cap): the next one is taken, and nothing of it is stored.
            let ids = try await h.plan(idea).items.map(\.sourceID)
            #expect(ids.first == "12" && !ids.contains("11"), "\(ids)")
            #expect(!(try await h.artifacts.list(.footage)).contains { $0.contains("pexels-11") })
        default:
            #expect(try await h.plan(idea).items.allSatisfy { $0.kind == .image }, "no videos: photos")
        }
    }

    @Test func pixabayIsTheFallbackWhenPexelsFindsNothing() async throws {
        let h = try Harness()
        let scope = "ok/\(UUID().uuidString.prefix(8))"
        let empty = URL(string: "\(Self.base)/empty/\(UUID().uuidString.prefix(8))")!
        var options = RenderOptions()
        options.width = 180; options.height = 320; options.fps = 10; options.preset = "ultrafast"
        let fetcher = FootageFetcher(stock: [PexelsSearch(key: "test-key", base: empty), PixabaySearch(key: "test-key", base: URL(string: "\(Self.base)/\(scope)")!)])
        let (idea, _) = try await h.make("why octopuses have three hearts", video: VideoStageExecutor(renderer: VideoRenderer(options: options), footage: fetcher), seconds: 12)
        #expect(idea.status == .completed)
        let plan = try await h.plan(idea)
        #expect(!plan.items.isEmpty && plan.items.allSatisfy { $0.source == "pixabay" })
        #expect(plan.credits.contains("Pixabay Content License"))
    }

    /// `reelforge make --footage pexels` with PEXELS_BASE_URL at the stand-in: a 9:16 video whose frames show the
    /// clips behind the captions, and credits.txt beside it.
    @Test func makeWithFootageShowsTheClipsBehindTheCaptions() async throws {
        let dir = temporaryDirectory("footage-make")
        let scope = "ok/\(UUID().uuidString.prefix(8))"
        let (output, status) = try await Proc.run("reelforge", [
            "make", "why octopuses have three hearts", "--footage", "pexels", "--duration", "12", "--json",
            "--home", dir.appendingPathComponent(".reelforge").path, "--out", dir.appendingPathComponent("out").path,
        ], env: ["REELFORGE_WORK_DIR": dir.appendingPathComponent("work").path, "PEXELS_API_KEY": "test-key",
                 "PEXELS_BASE_URL": "\(Self.base)/\(scope)"], logDir: dir)
        #expect(status == 0, "\(output)")
        let summary = try JSONValue.parse(Data(output[try #require(output.firstIndex(of: "{"))...].utf8))
        let video = URL(fileURLWithPath: try #require(summary["video"]?.stringValue))
        let probe = try MediaProbe(url: video)
        #expect(probe.video?.width == 1080 && probe.video?.height == 1920)
        #expect(try await Self.colours(of: video).filter { $0 != "other" } == ["red", "green"])
        // The captions are drawn over the footage: white text in the lower part of a frame at 1 s.
        let frame = dir.appendingPathComponent("frame.rgb")
        _ = try await runProgram("/usr/bin/ffmpeg", ["-v", "error", "-y", "-ss", "1", "-i", video.path, "-frames:v", "1",
                                                     "-vf", "crop=iw:ih/4:0:3*ih/4", "-f", "rawvideo", "-pix_fmt", "rgb24", frame.path])
        let pixels = try Data(contentsOf: frame)
        var white = 0, red = 0
        for i in stride(from: 0, to: pixels.count - 2, by: 3) {
            if pixels[i] > 230 && pixels[i + 1] > 230 && pixels[i + 2] > 230 { white += 1 }
            if pixels[i] > 200 && pixels[i + 1] < 60 && pixels[i + 2] < 60 { red += 1 }
        }
        #expect(white > 2_000 && red > 100_000, "caption pixels \(white), footage pixels \(red)")
        let credits = try String(contentsOfFile: try #require(summary["credits"]?.stringValue), encoding: .utf8)
        #expect(credits.contains("Author 11") && credits.contains("Author 12"))
    }

    /// A job's own `footage` (the message's field, `reelforge submit --footage`) over the worker's default, and a
    /// source the worker has no key for: parked for good, with the reason.
    @Test func aJobsOwnSourcesOverTheWorkers() async throws {
        let h = try Harness()
        let scope = "ok/\(UUID().uuidString.prefix(8))"
        var options = RenderOptions()
        options.width = 180; options.height = 320; options.fps = 10; options.preset = "ultrafast"
        let pixabay = PixabaySearch(key: "test-key", base: URL(string: "\(Self.base)/\(scope)")!)
        // The worker's own list is empty (REELFORGE_FOOTAGE unset) but it has a Pixabay key.
        let video = VideoStageExecutor(renderer: VideoRenderer(options: options), footage: FootageFetcher(sources: [], stock: [pixabay]))
        let (plain, _) = try await h.make("why cats purr", video: video, seconds: 12)
        let noPlan = (try? await h.plan(plain)) == nil
        #expect(plain.status == .completed && noPlan, "no footage asked for: no footage step")
        let (asked, _) = try await h.make("why octopuses have three hearts", video: video, seconds: 12, footage: [.pixabay])
        #expect(asked.status == .completed && asked.footage == [.pixabay])
        #expect(try await h.plan(asked).items.first?.source == "pixabay")
        let (missing, job) = try await h.make("why dogs dream", video: video, seconds: 12, footage: [.pexels])
        #expect(missing.status == .failed && job.attempts[.video] == 1)
        #expect(missing.errors.last?.message.contains("PEXELS_API_KEY") == true, "\(missing.errors.map(\.message))")
    }
}

