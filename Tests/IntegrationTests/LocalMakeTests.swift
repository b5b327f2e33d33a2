import Foundation
import ReelForgeTestKit
import Shared
import Testing
import VideoStage

/// `reelforge make` as a user runs it: one process, embedded store, real espeak-ng and libx264.
@Suite("reelforge make (embedded)", .serialized)
struct LocalMakeTests {
    let dir = temporaryDirectory("make")

    func make(_ args: [String], failpoints: String = "", extra: [String: String] = [:]) async throws -> (output: String, status: Int32) {
        let env = ["REELFORGE_FAILPOINTS": failpoints, "REELFORGE_WORK_DIR": dir.appendingPathComponent("work").path].merging(extra) { $1 }
        let p = try Proc("reelforge", ["make"] + args + ["--home", dir.appendingPathComponent(".reelforge").path,
                                                        "--out", dir.appendingPathComponent("out").path],
                         env: env, logDir: dir)
        for _ in 0..<2400 where p.process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        return (p.output, p.process.terminationStatus)
    }

    func summary(_ output: String) throws -> JSONValue {
        try JSONValue.parse(Data(output[try #require(output.firstIndex(of: "{"))...].utf8))
    }

    @Test func makesAVideoAndResumesAfterACrashWithoutRedoingEarlierStages() async throws {
        let idea = "why octopuses have three hearts"
        let crashed = try await make([idea, "--duration", "8"], failpoints: "video=crash")
        #expect(crashed.status == 86, "the crash failpoint ends the process in the video stage: \(crashed.output)")
        let outDir = dir.appendingPathComponent("out")
        // What the first run produced, before the crash (the embedded store keeps `ArtifactKey` ids as paths).
        let artifacts = dir.appendingPathComponent(".reelforge/artifacts")
        let ideaDir = try #require(try FileManager.default.contentsOfDirectory(atPath: artifacts.appendingPathComponent("idea").path).first)
        let scriptBefore = try Data(contentsOf: artifacts.appendingPathComponent(ArtifactKey.artifact(ideaID: ideaDir, stage: .script, name: "script.json")))
        let audioBefore = try Data(contentsOf: artifacts.appendingPathComponent(ArtifactKey.artifact(ideaID: ideaDir, stage: .audio, name: "narration.wav")))

        let resumed = try await make([idea, "--duration", "8", "--json"])
        #expect(resumed.status == 0, "\(resumed.output)")
        let s = try summary(resumed.output)
        #expect(s["status"] == "completed")
        #expect(s["skipped"] == ["script", "adapt", "audio"])
        #expect(s["ran"] == ["video"])
        #expect(s["attempts"]?["script"] == 1 && s["attempts"]?["audio"] == 1)
        let folder = try #require(try FileManager.default.contentsOfDirectory(atPath: outDir.path).first { $0.hasSuffix("-" + ideaDir) })
        #expect(folder == "why-octopuses-have-three-hearts-\(ideaDir)", "out/<slug>-<idea-id>")
        let out = outDir.appendingPathComponent(folder)
        #expect(try Data(contentsOf: out.appendingPathComponent("script.json")) == scriptBefore)
        #expect(try Data(contentsOf: out.appendingPathComponent("narration.wav")) == audioBefore)
        let srt = try String(contentsOf: out.appendingPathComponent("subtitles.srt"), encoding: .utf8)
        #expect(srt.contains("-->") && srt.contains("octopuses"))
        #expect(try String(contentsOf: out.appendingPathComponent("script.txt"), encoding: .utf8).contains("three hearts"))
        let video = try Data(contentsOf: out.appendingPathComponent("video.mp4"))
        #expect(video.count > 10_000 && String(decoding: video[4..<8], as: UTF8.self) == "ftyp")

        // Once more: nothing to do.
        let again = try await make([idea, "--duration", "8", "--json"])
        #expect(try summary(again.output)["ran"] == [])
    }

    /// A background kept in the store's media library (what scaled-out workers use instead of a shared disk).
    @Test func aBackgroundFromTheMediaLibraryIsFetchedFromTheStore() async throws {
        let home = dir.appendingPathComponent(".reelforge").path
        let image = dir.appendingPathComponent("sunset-orange.png")
        _ = try await runProgram("/usr/bin/ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "color=c=0xE06010:s=320x320", "-frames:v", "1", image.path])
        let put = try await Proc.run("reelforge", ["media", "put", image.path, "--home", home], env: [:], logDir: dir)
        #expect(put.1 == 0 && put.0.contains("media:sunset-orange.png"), "\(put.0)")
        let list = try await Proc.run("reelforge", ["media", "list", "--json", "--home", home], env: [:], logDir: dir)
        #expect(list.0.contains("\"sunset-orange.png\""), "\(list.0)")
        let bad = try await Proc.run("reelforge", ["media", "put", image.path, "--name", "../escape.png", "--home", home], env: [:], logDir: dir)
        #expect(bad.1 != 0 && bad.0.contains("not a media name"), "\(bad.0)")

        let made = try await make(["sunsets", "--duration", "5", "--json"], extra: ["REELFORGE_BACKGROUND": "media:sunset-orange.png"])
        #expect(made.status == 0, "\(made.output)")
        let ideaDir = try #require(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("out").path).first)
        let video = dir.appendingPathComponent("out").appendingPathComponent(ideaDir).appendingPathComponent("video.mp4")
        let p = try VideoFrames.pictures(in: video, at: [1.0])[0]
        #expect(p.v(540, 200) > 170 && p.u(540, 200) < 110, "the orange picture from the library fills the frame: Cb \(p.u(540, 200)) Cr \(p.v(540, 200))")

        let missing = try await make(["more sunsets", "--duration", "5"], extra: ["REELFORGE_BACKGROUND": "media:nowhere.png"])
        #expect(missing.status == 1 && missing.output.contains("no 'nowhere.png' in the media library"), "\(missing.output)")
    }

    @Test func killNineAtAnyPointLeavesTheStoreIntactAndResumable() async throws {
        let idea = "how volcanoes form"
        for delay in [150, 400, 900, 1500] {
            let env = ["REELFORGE_WORK_DIR": dir.appendingPathComponent("work").path]
            let p = try Proc("reelforge", ["make", idea, "--duration", "6", "--home", dir.appendingPathComponent(".reelforge").path,
                                           "--out", dir.appendingPathComponent("out").path], env: env, logDir: dir)
            try await Task.sleep(for: .milliseconds(delay))
            if p.process.isRunning { p.kill9() }
            let (out, _) = try await runProgram("/usr/bin/python3", [
                "-c", "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchone()[0])",
                dir.appendingPathComponent(".reelforge/store.sqlite").path])
            let result = String(decoding: out, as: UTF8.self)
            #expect(result.trimmingCharacters(in: .whitespacesAndNewlines) == "ok" || !FileManager.default.fileExists(atPath: dir.appendingPathComponent(".reelforge/store.sqlite").path))
        }
        let final = try await make([idea, "--duration", "6", "--json"])
        #expect(final.status == 0, "\(final.output)")
        #expect(try summary(final.output)["status"] == "completed")
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["REELFORGE_TEST_PROVIDERS_URL"] != nil))
    func usesAnOpenAICompatibleServerWithoutLoggingTheKey() async throws {
        let base = ProcessInfo.processInfo.environment["REELFORGE_TEST_PROVIDERS_URL"]!
        let (output, status) = try await make(["why octopuses have three hearts", "--duration", "8", "--json"], extra: [
            "REELFORGE_SCRIPT_PROVIDER": "openai", "OPENAI_BASE_URL": "\(base)/ok/make/v1", "OPENAI_API_KEY": "test-key",
            "REELFORGE_LOG_LEVEL": "debug",
        ])
        #expect(status == 0, "\(output)")
        #expect(!output.contains("test-key"))
        let script = try #require(try summary(output)["script"]?.stringValue)
        #expect(try String(contentsOfFile: script, encoding: .utf8).contains("copper"))
    }
}
