import Foundation
import ReelForgeTestKit
import Shared
import Testing
import VideoStage

/// Framing for each platform, as a user sees it: `make --format 16:9 --style shorts` gives a 1920x1080 video
/// whose captions stay inside the safe area documented in docs/configuration.md ("Framing for each platform"),
/// the idea keeps its frame across a resume, and the choice travels through the store and the message.
@Suite("Framing for each platform", .serialized)
struct FramingTests {
    let dir = temporaryDirectory("framing")
    /// A flat background, so that every pixel that differs from it belongs to a caption.
    static let background = "#203040"

    /// The documented safe area in pixels (docs/configuration.md), written out here rather than taken from
    /// `SafeArea`, so that a change of the code that leaves the docs behind fails.
    static let documented: [String: (x: ClosedRange<Int>, y: ClosedRange<Int>)] = [
        "1920x1080": (116...1592, 152...702), "1080x1080": (66...896, 152...702), "1080x1920": (66...896, 270...1248),
    ]

    func make(_ args: [String], failpoints: String = "") async throws -> (output: String, status: Int32) {
        let env = ["REELFORGE_FAILPOINTS": failpoints, "REELFORGE_WORK_DIR": dir.appendingPathComponent("work").path,
                   "REELFORGE_BACKGROUND": Self.background]
        let p = try Proc("reelforge", ["make"] + args + ["--json", "--home", dir.appendingPathComponent(".reelforge").path,
                                                        "--out", dir.appendingPathComponent("out").path], env: env, logDir: dir)
        for _ in 0..<2400 where p.process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        return (p.output, p.process.terminationStatus)
    }

    func video(_ output: String) throws -> URL {
        let summary = try JSONValue.parse(Data(output[try #require(output.firstIndex(of: "{"))...].utf8))
        return URL(fileURLWithPath: try #require(summary["video"]?.stringValue, "\(output)"))
    }

    /// Where a picture's caption pixels are: those whose luma differs from the background's (the most common
    /// luma) by more than the encoder's noise; and how many of them are gold (the highlighted word).
    struct Captions { var pixels = 0, gold = 0, minX = Int.max, minY = Int.max, maxX = -1, maxY = -1 }

    static func captions(_ p: DecodedPicture) -> Captions {
        var histogram = [Int](repeating: 0, count: 256)
        for v in p.luma { histogram[Int(v)] += 1 }
        let background = histogram.indices.max { histogram[$0] < histogram[$1] }!
        var c = Captions()
        for row in 0..<p.height {
            for x in 0..<p.width where abs(Int(p.y(x, row)) - background) > 24 {
                c.pixels += 1
                c.minX = min(c.minX, x); c.maxX = max(c.maxX, x); c.minY = min(c.minY, row); c.maxY = max(c.maxY, row)
                if p.y(x, row) > 150 && p.u(x, row) < 80 { c.gold += 1 }  // #FFD700: bright, far from blue
            }
        }
        return c
    }

    /// The caption boxes of pictures spread over the video, and the video's size.
    func captionsThroughout(_ video: URL) throws -> (size: String, captions: [Captions]) {
        let v = try #require(try MediaProbe(url: video).video)
        let times = stride(from: 0.4, to: v.duration - 0.2, by: 0.7).map { $0 }
        return ("\(v.width)x\(v.height)", try VideoFrames.pictures(in: video, at: times).map(Self.captions))
    }

    @Test func shortsCaptionsOfALandscapeVideoStayInsideTheSafeArea() async throws {
        let made = try await make(["why octopuses have three hearts", "--duration", "8", "--format", "16:9", "--style", "shorts"])
        #expect(made.status == 0, "\(made.output)")
        let (size, captions) = try captionsThroughout(try video(made.output))
        #expect(size == "1920x1080")
        let safe = try #require(Self.documented[size])
        let shown = captions.filter { $0.pixels > 2_000 }
        #expect(shown.count >= captions.count / 2, "captions show in most pictures: \(captions.map(\.pixels))")
        for c in shown {
            #expect(safe.x.contains(c.minX) && safe.x.contains(c.maxX) && safe.y.contains(c.minY) && safe.y.contains(c.maxY),
                    "caption pixels x \(c.minX)-\(c.maxX), y \(c.minY)-\(c.maxY) outside the safe area x \(safe.x), y \(safe.y)")
        }
        #expect(shown.contains { $0.gold > 200 }, "the spoken word is highlighted in gold: \(shown.map(\.gold))")
        // Large: a line of shorts captions (64 px, a 5 px outline) is taller than a line of the classic 50 px text;
        // a few words at a time: never more than two lines (2 × 64 × 1.15 px and the outline).
        let heights = shown.map { $0.maxY - $0.minY }
        #expect(heights.contains { $0 > 70 } && heights.allSatisfy { $0 < 170 }, "caption heights \(heights)")

        // The check can fail: classic captions of the same frame sit 120 px above the bottom, under the apps' buttons.
        let classic = try await make(["why octopuses have three hearts", "--duration", "8", "--format", "16:9", "--style", "classic"])
        #expect(classic.status == 0, "\(classic.output)")
        let plain = try captionsThroughout(try video(classic.output))
        #expect(plain.size == "1920x1080")
        #expect(plain.captions.contains { $0.pixels > 2_000 && $0.maxY > safe.y.upperBound }, "\(plain.captions.map(\.maxY))")
        #expect(plain.captions.allSatisfy { $0.gold == 0 }, "classic highlights nothing")
    }

    /// A small frame is the same video, smaller: classic captions scale with the frame's short side, so a
    /// 360x640 preview shows the two lines a 1080x1920 video shows, a third the size (at a fixed 50 px, a line of
    /// 32 characters did not fit 360 px, and the cue was cut to "matter / more…").
    @Test func classicCaptionsOfASmallFrameAreTheSameCaptionsSmaller() async throws {
        let narration = dir.appendingPathComponent("silence.wav"), srt = dir.appendingPathComponent("cue.srt")
        _ = try await runProgram("/usr/bin/ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono", "-t", "2", narration.path])
        try "1\n00:00:00,000 --> 00:00:02,000\nmatter more than\nanyone expected.\n".write(to: srt, atomically: true, encoding: .utf8)
        var boxes: [Captions] = []
        for size in ["1080x1920", "360x640"] {
            let out = dir.appendingPathComponent("\(size).mp4")
            let p = try Proc("reelforge", ["render", "--audio", narration.path, "--subtitles", srt.path, "--background", Self.background,
                                          "--size", size, "--preset", "ultrafast", "--out", out.path], env: [:], logDir: dir)
            for _ in 0..<1200 where p.process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
            #expect(p.process.terminationStatus == 0, "\(p.output)")
            boxes.append(try #require(try VideoFrames.pictures(in: out, at: [1]).first.map(Self.captions)))
        }
        let (large, small) = (boxes[0], boxes[1])
        for (name, a, b) in [("width", large.maxX - large.minX, small.maxX - small.minX), ("height", large.maxY - large.minY, small.maxY - small.minY),
                             ("bottom", 1920 - large.maxY, 640 - small.maxY)] {
            #expect(abs(Double(b) * 3 - Double(a)) <= 0.12 * Double(a), "\(name): \(b) px at 360x640, \(a) px at 1080x1920")
        }
    }

    @Test func aSquareVideoKeepsItsFrameAcrossAResume() async throws {
        let crashed = try await make(["how bees make honey", "--duration", "6", "--format", "1:1", "--style", "shorts"], failpoints: "video=crash")
        #expect(crashed.status == 86, "the crash failpoint ends the process in the video stage: \(crashed.output)")
        let home = dir.appendingPathComponent(".reelforge/artifacts/idea")
        let ideaID = try #require(try FileManager.default.contentsOfDirectory(atPath: home.path).first)
        let resumed = try await make(["--resume", ideaID])
        #expect(resumed.status == 0, "\(resumed.output)")
        let (size, captions) = try captionsThroughout(try video(resumed.output))
        #expect(size == "1080x1080", "the stored idea's format, not REELFORGE_VIDEO_SIZE's 1080x1920")
        let safe = try #require(Self.documented[size])
        let shown = captions.filter { $0.pixels > 2_000 }
        #expect(!shown.isEmpty)
        for c in shown {
            #expect(safe.x.contains(c.minX) && safe.x.contains(c.maxX) && safe.y.contains(c.minY) && safe.y.contains(c.maxY),
                    "caption pixels x \(c.minX)-\(c.maxX), y \(c.minY)-\(c.maxY) outside the safe area x \(safe.x), y \(safe.y)")
        }
    }

    @Test func theDocumentedAreaIsTheOneTheCodeUses() {
        for (size, safe) in Self.documented {
            let wh = size.split(separator: "x").map { Int($0)! }
            let r = SafeArea.platforms.rect(width: wh[0], height: wh[1])
            #expect(r.x == safe.x.lowerBound && r.x + r.width == safe.x.upperBound && r.y == safe.y.lowerBound
                    && r.y + r.height == safe.y.upperBound, "\(size): \(r)")
        }
    }

    /// The worker's default preset, a job's choice over it, and the style file laid over whichever preset applies.
    @Test func presetsFromTheEnvironmentAndTheJob() throws {
        let file = dir.appendingPathComponent("style.json")
        try Data(##"{"highlight_color": "#00E5FF"}"##.utf8).write(to: file)
        var o = try RenderOptions(SettingsReader(["REELFORGE_SUBTITLE_PRESET": "shorts", "REELFORGE_SUBTITLE_STYLE": file.path]))
        #expect(o.subtitlePreset == .shorts && o.subtitles.safeArea == .platforms && o.subtitles.fontSize == 64)
        #expect(o.subtitles.highlightColor == "#00E5FF", "the file's key over the preset's gold")
        try o.frame(format: .landscape, style: .classic)
        #expect(o.width == 1920 && o.height == 1080 && o.subtitles.safeArea == nil && o.subtitles.fontSize == 50)
        #expect(o.subtitles.highlightColor == "#00E5FF", "the file is laid over the job's preset too")
        var plain = try RenderOptions(SettingsReader([:]))
        try plain.frame(format: nil, style: nil)
        #expect(plain.subtitles == SubtitleStyle() && plain.width == 1080 && plain.height == 1920, "nothing asked, nothing changes")
        #expect(throws: ConfigError.invalid("REELFORGE_SUBTITLE_PRESET", "must be classic or shorts")) {
            try RenderOptions(SettingsReader(["REELFORGE_SUBTITLE_PRESET": "tiktok"]))
        }
    }

    @Test(arguments: [
        (["make", "why cats purr", "--format", "4:3"], "--format must be 9:16, 1:1 or 16:9"),
        (["submit", "why cats purr", "--format", "portrait"], "--format must be 9:16, 1:1 or 16:9"),
        (["make", "why cats purr", "--style", "fancy"], "--style must be classic or shorts"),
        (["submit", "why cats purr", "--style", "/tmp/style.json"], "--style must be classic or shorts"),
        (["make", "--resume", "idea_x", "--format", "1:1"], "--resume keeps the stored idea's"),
    ])
    func badFramingIsAUsageError(_ args: [String], _ message: String) async throws {
        let (output, status) = try await Proc.run("reelforge", args, env: ["AMQP_URL": "amqp://guest:guest@127.0.0.1:1/"], logDir: dir)
        #expect(status == 64 && output.contains(message), "\(status): \(output)")
    }

    @Test(arguments: Backend.usable)
    func theFrameTravelsWithTheIdeaAndABadOneIsParked(_ backend: Backend) async throws {
        let h = try await backend.harness().prepared()
        let s = try await h.operations.submit(idea: "how rainbows form", format: .landscape, style: .shorts)
        let stored = try #require(try await h.store.idea(s.ideaID))
        #expect(stored.format == .landscape && stored.style == .shorts)
        h.start()
        let tag = UUID().uuidString.prefix(8)
        try await h.publishRaw(#"{"job_id":"job_sq\#(tag)","idea_id":"idea_sq\#(tag)","stage":"script","idea":"how tides work","format":"1:1","style":"classic"}"#,
                               to: .script)
        try await h.publishRaw(#"{"job_id":"job_bad\#(tag)","idea_id":"idea_bad\#(tag)","stage":"script","idea":"how tides work","format":"4:3"}"#,
                               to: .script)
        _ = try await h.waitForStatus(s.ideaID, .completed)
        let fromMessage = try await h.waitForStatus("idea_sq\(tag)", .completed)
        #expect(fromMessage.format == .square && fromMessage.style == .classic)
        #expect(try await eventually { try await h.queue.parked(stage: .script, limit: 10).isEmpty == false })
        await h.stop()
        let parked = try await h.queue.parked(stage: .script, limit: 10)
        #expect(parked.count == 1 && parked.first?.reasonKind == "poison")
        #expect(parked.first?.reason.contains(#"field 'format' must be one of "9:16", "1:1", "16:9""#) == true, "\(parked)")
        #expect(try await h.store.idea("idea_bad\(tag)") == nil)
        await h.close()
    }
}
