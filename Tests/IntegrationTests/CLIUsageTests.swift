import Foundation
import ReelForgeTestKit
import Shared
import Testing

/// The `reelforge` command as a new user meets it: usage errors exit 64 with the rule broken, commands without
/// services fail fast with a hint, `--home` reads the embedded store of `make`, and what `make` leaves in `out/`.
@Suite("reelforge CLI usage", .serialized)
struct CLIUsageTests {
    let dir = temporaryDirectory("cli")
    var home: String { dir.appendingPathComponent(".reelforge").path }
    /// Services that are certainly not there (port 1 refuses connections), whatever scripts/test exported.
    let noServices = ["AMQP_URL": "amqp://guest:guest@127.0.0.1:1/", "MONGODB_URI": "mongodb://127.0.0.1:1/reelforge"]

    func run(_ args: [String], env: [String: String] = [:]) async throws -> (output: String, status: Int32) {
        let e = noServices.merging(["REELFORGE_WORK_DIR": dir.appendingPathComponent("work").path]) { $1 }.merging(env) { $1 }
        let (output, status) = try await Proc.run("reelforge", args, env: e, logDir: dir)
        return (output, status)
    }

    func make(_ args: [String], env: [String: String] = [:]) async throws -> (output: String, status: Int32, summary: JSONValue?) {
        let r = try await run(["make"] + args + ["--json", "--home", home, "--out", dir.appendingPathComponent("out").path], env: env)
        let summary = r.output.firstIndex(of: "{").flatMap { try? JSONValue.parse(Data(r.output[$0...].utf8)) }
        return (r.output, r.status, summary)
    }

    static let usageErrors: [([String], String)] = [
        (["submit", "why\u{1}cats purr"], "control character U+0001"),
        (["submit", "为什么熊猫吃竹子"], "ReelForge speaks en and fr; the idea has no words in Latin script"),
        (["make", "为什么熊猫吃竹子"], "ReelForge speaks en and fr; the idea has no words in Latin script"),
        (["make", "\u{1}\u{2} \u{3}"], "the idea is blank"),
        (["make", String(repeating: "ab ", count: 700)], "over the 2000-character limit"),
        (["submit", String(repeating: "ab ", count: 700)], "over the 2000-character limit"),
        (["submit", "why cats purr", "--duration", "-5"], "--duration must be 5 to 600 seconds"),
        (["make", "why cats purr", "--duration", "-5"], "--duration must be 5 to 600 seconds"),
        (["make", "why cats purr", "--lang", "de"], "--lang must be en or fr"),
        (["submit", "why cats purr", "--background", "/etc/passwd"], "--background"),
        (["make", "why cats purr", "--background", "/nowhere/clip.mp4"], "--background"),
    ]

    @Test(arguments: usageErrors)
    func usageErrorsExit64WithTheRuleBroken(_ args: [String], _ expected: String) async throws {
        let homeArgs = args.first == "make" ? ["--home", home] : []
        let (output, status) = try await run(args + homeArgs)
        #expect(status == 64, "reelforge \(args.joined(separator: " ").prefix(60)): \(output)")
        #expect(output.contains(expected), "\(output)")
        #expect(!output.contains("Missing value"))
    }

    @Test func makeHelpSaysWhichProvidersApply() async throws {
        let (help, status) = try await run(["make", "--help"])
        #expect(status == 0)
        #expect(!help.contains("Offline providers are used"), "\(help)")
        #expect(help.contains("REELFORGE_SCRIPT_PROVIDER") && help.contains("REELFORGE_TTS_PROVIDER") && help.contains("thumbnail.png"), "\(help)")
    }

    @Test func resumingAnIdeaTheStoreDoesNotHoldIsAUsageError() async throws {
        let (output, status) = try await run(["make", "--resume", "idea_nowhere", "--home", home])
        #expect(status == 64 && output.contains("--resume"), "\(output)")
    }

    @Test func commandsWithoutServicesFailFastWithAHint() async throws {
        for args in [["status"], ["status", "--json"], ["dlq", "list"]] {
            let started = ContinuousClock.now
            let (output, status) = try await run(args)
            let took = ContinuousClock.now - started
            #expect(status == 1, "\(output)")
            // One 2 s try, not the driver's 30 s of server selection (libmongoc's default); the room above 2 s is for
            // starting the process on a loaded machine (14 s was seen in CI while the suite rendered videos).
            #expect(took < .seconds(20), "reelforge \(args.joined(separator: " ")) took \(took) without services")
            #expect(output.contains("cannot reach MongoDB") && output.contains("scripts/services start")
                    && output.contains("source .services/env") && output.contains("--home DIR"), "\(output)")
        }
    }

    /// Passwords with a raw '@' (percent-encoding forgotten) are never shown, not even in part.
    @Test func aRawAtInAPasswordNeverShows() async throws {
        let uris = [
            ["MONGODB_URI": "mongodb://app:Pa55@q7Z@127.0.0.1:1/reelforge", "AMQP_URL": "amqp://rtuser:Rb77%40k9W@127.0.0.1:1/"],
            ["MONGODB_URI": "mongodb://app:Pa55%40q7Z@127.0.0.1:1/reelforge", "AMQP_URL": "amqp://rtuser:Rb77@k9W@127.0.0.1:1/"],
            ["MONGODB_URI": "mongodb://app:Pa55%40q7Z@127.0.0.1:1/reelforge", "AMQP_URL": "amqp://rtuser:Rb77%40k9W@127.0.0.1:1/"],
        ]
        for env in uris {
            let (output, status) = try await run(["status"], env: env.merging(["REELFORGE_LOG_LEVEL": "debug"]) { $1 })
            #expect(status == 1, "\(output)")
            let lower = output.lowercased()
            #expect(!["pa55", "q7z", "rb77", "k9w"].contains { lower.contains($0) }, "\(output)")
            #expect(output.contains("MONGODB_URI") || output.contains("AMQP_URL") || output.contains("cannot reach"), "\(output)")
        }
    }

    @Test func statusDlqAndMediaReadTheEmbeddedStoreWithHome() async throws {
        let failed = try await make(["why cats purr", "--duration", "5"], env: ["REELFORGE_FAILPOINTS": "audio=fatal"])
        #expect(failed.status == 1, "\(failed.output)")
        let jobID = try #require(failed.summary?["job_id"]?.stringValue, "\(failed.output)")
        let ideaID = try #require(failed.summary?["idea_id"]?.stringValue)

        let status = try await run(["status", "--home", home, "--json"])
        #expect(status.status == 0, "\(status.output)")
        let ideas = try #require(try JSONValue.parse(Data(status.output.utf8)).arrayValue)
        #expect(ideas.count == 1 && ideas[0]["idea_id"]?.stringValue == ideaID && ideas[0]["status"] == "failed", "\(status.output)")
        #expect(ideas[0]["last_successful_step"] == "script_adapted")

        let list = try await run(["dlq", "list", "--home", home, "--json"])
        let entries = try #require(try JSONValue.parse(Data(list.output.utf8)).arrayValue, "\(list.output)")
        #expect(entries.count == 1 && entries[0]["job_id"]?.stringValue == jobID && entries[0]["stage"] == "audio"
                && entries[0]["reason_kind"] == "permanent", "\(list.output)")
        let show = try await run(["dlq", "show", jobID, "--home", home])
        #expect(show.status == 0 && show.output.contains(jobID) && show.output.contains("audio"), "\(show.output)")
        let replay = try await run(["dlq", "replay", jobID, "--home", home])
        #expect(replay.status == 64 && replay.output.contains("reelforge make --resume \(ideaID)"), "\(replay.output)")
        let media = try await run(["media", "list", "--home", home])
        #expect(media.status == 0 && media.output.contains("the media library is empty"), "\(media.output)")

        let nowhere = try await run(["status", "--home", dir.appendingPathComponent("nowhere").path])
        #expect(nowhere.status != 0 && nowhere.output.contains("holds no embedded store"), "\(nowhere.output)")
    }

    @Test func makeWritesTheThumbnailIntoAFolderNamedByTheIdea() async throws {
        let made = try await make(["Why do Octopuses have THREE hearts?", "--duration", "5"])
        #expect(made.status == 0, "\(made.output)")
        let ideaID = try #require(made.summary?["idea_id"]?.stringValue)
        let folder = dir.appendingPathComponent("out").appendingPathComponent("why-do-octopuses-have-three-hearts-\(ideaID)")
        let thumbnail = try Data(contentsOf: folder.appendingPathComponent("thumbnail.png"))
        #expect(thumbnail.starts(with: [0x89, 0x50, 0x4E, 0x47]), "a PNG")
        #expect(made.summary?["thumbnail"]?.stringValue == folder.appendingPathComponent("thumbnail.png").path)
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("video.mp4").path))
    }

    /// A background file libav cannot decode will never decode: the job stops at the first attempt.
    @Test func anUndecodableBackgroundFailsAtOnceAsPermanent() async throws {
        let bad = dir.appendingPathComponent("broken.mp4")
        var bytes = [UInt8](repeating: 0, count: 20_000)
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 2_654_435_761 >> 7) }
        try Data(bytes).write(to: bad)
        let made = try await make(["why cats purr", "--duration", "5"], env: [
            "REELFORGE_BACKGROUND": bad.path, "REELFORGE_RETRY_DELAYS": "1s", "REELFORGE_RETRY_JITTER": "0",
        ])
        #expect(made.status == 1, "\(made.output)")
        #expect(made.summary?["attempts"]?["video"] == 1, "retried as if transient: \(made.output)")
        let error = made.summary?["error"]?.stringValue ?? ""
        #expect(error.contains("broken.mp4 cannot be decoded"), "\(made.output)")
    }
}
