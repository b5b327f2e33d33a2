import Foundation
import Shared
import Testing

@Suite("Resume planner")
struct ResumePlannerTests {
    @Test func startsAtScriptWithoutCheckpoint() {
        #expect(ResumePlanner.nextStage(after: nil) == .script)
        #expect(ResumePlanner.decide(messageStage: .script, checkpoint: nil) == .run(.script))
        #expect(ResumePlanner.describe(checkpoint: nil) == "starting at script")
    }

    @Test(arguments: [(Checkpoint.scriptGenerated, Stage.adapt), (.scriptAdapted, .audio), (.audioGenerated, .video)])
    func resumesAfterCheckpoint(_ checkpoint: Checkpoint, _ next: Stage) {
        #expect(ResumePlanner.nextStage(after: checkpoint) == next)
        #expect(ResumePlanner.decide(messageStage: next, checkpoint: checkpoint) == .run(next))
    }

    @Test func describesTheResume() {
        #expect(ResumePlanner.describe(checkpoint: .audioGenerated) == "resuming after audio_generated, starting at video")
        #expect(ResumePlanner.skipped(checkpoint: .audioGenerated) == [.script, .adapt, .audio])
    }

    @Test func skipsStagesAlreadyDone() {
        #expect(ResumePlanner.decide(messageStage: .script, checkpoint: .audioGenerated) == .alreadyDone(.script, next: .video))
        #expect(ResumePlanner.decide(messageStage: .audio, checkpoint: .audioGenerated) == .alreadyDone(.audio, next: .video))
    }

    @Test func completeJobNeedsNoWork() {
        for stage in Stage.allCases {
            #expect(ResumePlanner.decide(messageStage: stage, checkpoint: .videoGenerated) == .alreadyDone(stage, next: nil))
        }
        #expect(ResumePlanner.nextStage(after: .videoGenerated) == nil)
    }

    @Test func reroutesWhenInputsAreMissing() {
        #expect(ResumePlanner.decide(messageStage: .video, checkpoint: .scriptGenerated) == .reroute(to: .adapt))
    }

    @Test func stagesAndCheckpointsLineUp() {
        #expect(Stage.allCases.map(\.checkpoint.rawValue) == ["script_generated", "script_adapted", "audio_generated", "video_generated"])
        #expect(Stage.allCases.map(\.progressAfter) == [25, 50, 75, 100])
        #expect(Stage.video.next == nil && Stage.script.previous == nil)
    }
}

@Suite("Retry policy")
struct RetryPolicyTests {
    let policy = RetryPolicy(delays: [.seconds(10), .seconds(60), .seconds(300)], maxRetries: 3, jitter: 0.2, jitterBuckets: 3)

    @Test func transientFailuresRetryWithinBudget() {
        for attempt in 1...3 {
            guard case .retry(let next, _) = policy.decide(.transient("timeout"), attempt: attempt, random: 0.5) else {
                Issue.record("attempt \(attempt) should retry"); continue
            }
            #expect(next == attempt + 1)
        }
        #expect(policy.decide(.transient("timeout"), attempt: 4, random: 0.5) == .park(reasonKind: "exhausted"))
    }

    @Test func permanentFailuresParkAtOnce() {
        #expect(policy.decide(.permanent("401"), attempt: 1) == .park(reasonKind: "permanent"))
    }

    @Test func backoffGrowsAndJitterStaysInItsBand() {
        #expect(policy.delay(afterAttempt: 1, random: 0.5) == .seconds(10))
        #expect(policy.delay(afterAttempt: 2, random: 0.5) == .seconds(60))
        #expect(policy.delay(afterAttempt: 3, random: 0.5) == .seconds(300))
        #expect(policy.delay(afterAttempt: 9, random: 0.5) == .seconds(300))
        #expect(policy.delay(afterAttempt: 1, random: 0) == .seconds(8))
        #expect(policy.delay(afterAttempt: 1, random: 0.99) == .seconds(12))
        #expect(policy.allDelays.count == 9)
        #expect(policy.allDelays == policy.allDelays.sorted())
    }

    @Test func retryAfterIsHonoured() {
        #expect(policy.delay(afterAttempt: 1, retryAfter: .seconds(30), random: 0) == .seconds(48))
        #expect(policy.delay(afterAttempt: 1, retryAfter: .seconds(5), random: 0.5) == .seconds(10))
        #expect(policy.delay(afterAttempt: 1, retryAfter: .seconds(10_000), random: 0.5) == .seconds(360))
    }

    @Test func parsesDelays() throws {
        #expect(try RetryPolicy.parseDelays("10s,1m,5m") == [.seconds(10), .seconds(60), .seconds(300)])
        #expect(try RetryPolicy.parseDelays("500ms, 2") == [.milliseconds(500), .seconds(2)])
        #expect(throws: ConfigError.self) { try RetryPolicy.parseDelays("soon") }
        #expect(throws: ConfigError.self) { try RetryPolicy.parseDelays("") }
    }

    @Test func httpStatusesAreClassified() {
        for s in [400, 401, 402, 403, 404, 422] { #expect(StageFailure.http(status: s, body: "").kind == .permanent) }
        for s in [408, 409, 429, 500, 502, 503] {
            if case .transient = StageFailure.http(status: s, body: "").kind {} else { Issue.record("\(s) should be transient") }
        }
    }
}

@Suite("Failpoints")
struct FailpointTests {
    @Test func parsesEveryForm() throws {
        let f = try Failpoints(parsing: "video=2, audio=fatal,script=crash,adapt=20%")
        #expect(f.actions[.video] == .failFirst(2))
        #expect(f.actions[.audio] == .fatal)
        #expect(f.actions[.script] == .crash)
        #expect(f.actions[.adapt] == .rate(0.2))
        #expect(try Failpoints(parsing: "").actions.isEmpty)
    }

    @Test func rejectsNonsense() {
        #expect(throws: ConfigError.self) { try Failpoints(parsing: "render=2") }
        #expect(throws: ConfigError.self) { try Failpoints(parsing: "video=often") }
    }

    @Test func failsOnlyTheFirstAttempts() throws {
        let f = try Failpoints(parsing: "video=2")
        #expect(f.effect(stage: .video, attempt: 1) != .proceed)
        #expect(f.effect(stage: .video, attempt: 2) != .proceed)
        #expect(f.effect(stage: .video, attempt: 3) == .proceed)
        #expect(f.effect(stage: .audio, attempt: 1) == .proceed)
    }
}

@Suite("Message codec")
struct MessageCodecTests {
    let codec = JobMessageCodec()

    @Test func roundTrips() throws {
        let m = JobMessage(jobID: "job_1", ideaID: "idea_1", stage: .audio, attempt: 3,
                           newIdea: .init(text: "why octopuses have three hearts", language: "en", targetSeconds: 20))
        let (body, headers) = codec.encode(m)
        #expect(headers[MessageHeader.attempt] == "3")
        #expect(try codec.decode(body: body, headers: headers) == m)
        var withBackground = m
        withBackground.newIdea?.background = "#102030:#000000,media:reef-01.mp4"
        let encoded = codec.encode(withBackground)
        #expect(try codec.decode(body: encoded.body, headers: encoded.headers) == withBackground)
    }

    /// What an idea may ask for as its background: never a path (a producer must not make a worker read its files).
    @Test func ideaBackgroundsAreColoursOrMediaNamesOnly() {
        for ok in ["#102030", "navy", "#102030:#000000", "media:", "media:reef-01.mp4", "teal, media:a.png,#FFFFFF"] {
            #expect(BackgroundChoice.problem(ok) == nil, "\(ok)")
        }
        for bad in ["", "/etc/passwd", "clip.mp4", "media:../x.png", "media:.hidden", "media:a/b.png", "#12345", "red:blue:green",
                    "media:,#000000", "#000000,", String(repeating: "#000000,", count: 80)] {
            #expect(BackgroundChoice.problem(bad) != nil, "\(bad)")
        }
        let body = Array(#"{"job_id":"j","idea_id":"i","stage":"script","idea":"x","background":"/etc/passwd"}"#.utf8)
        #expect(throws: MessageError.self) { try codec.decode(body: body, headers: [:]) }
    }

    @Test func attemptTravelsInOurHeaderOnly() throws {
        let body = Array(#"{"job_id":"j","idea_id":"i","stage":"video","attempt":7}"#.utf8)
        #expect(try codec.decode(body: body, headers: [:]).attempt == 1)
        #expect(try codec.decode(body: body, headers: ["x-death": "5", MessageHeader.attempt: "2"]).attempt == 2)
    }

    static let bad: [(String, String)] = [
        ("{", "not valid JSON"),
        ("[1,2]", "must be a JSON object"),
        (#"{"idea_id":"i","stage":"script"}"#, "lacks required field 'job_id'"),
        (#"{"job_id":5,"idea_id":"i","stage":"script"}"#, "field 'job_id' must be a string"),
        (#"{"job_id":"j","idea_id":"i","stage":"render"}"#, "unknown stage 'render'"),
        (#"{"job_id":"../etc","idea_id":"i","stage":"script"}"#, "field 'job_id' must be 1-64"),
        (#"{"job_id":"j","idea_id":"i","stage":"script","idea":42}"#, "field 'idea' must be a string"),
        (#"{"version":2,"job_id":"j","idea_id":"i","stage":"script"}"#, "version 2 is not supported"),
        (#"{"job_id":"j","idea_id":"i","stage":"script","language":"de","idea":"x"}"#, "field 'language'"),
        (#"{"version":1e300,"job_id":"j","idea_id":"i","stage":"script"}"#, "field 'version' must be an integer"),
        (#"{"job_id":"j","idea_id":"i","stage":"script","idea":"x","duration_seconds":-1e300}"#, "field 'duration_seconds'"),
    ]

    @Test(arguments: bad)
    func rejectsWithAClearReason(_ body: String, _ expected: String) {
        #expect {
            try codec.decode(body: Array(body.utf8), headers: [:])
        } throws: { error in
            "\(error)".contains(expected)
        }
    }

    @Test func rejectsInvalidUTF8AndOversizedBodies() {
        #expect(throws: MessageError.invalidUTF8) { try codec.decode(body: [0x7B, 0xFF, 0xFE, 0x7D], headers: [:]) }
        let big = [UInt8](repeating: 0x20, count: JobMessageCodec.maxBodyBytes + 1)
        #expect(throws: MessageError.tooLarge(bytes: big.count, limit: JobMessageCodec.maxBodyBytes)) {
            try codec.decode(body: big, headers: [:])
        }
        let longIdea = String(repeating: "a", count: JobMessageCodec.maxIdeaCharacters + 1)
        let body = #"{"job_id":"j","idea_id":"i","stage":"script","idea":"\#(longIdea)"}"#
        #expect(throws: MessageError.ideaTooLong(characters: longIdea.count, limit: JobMessageCodec.maxIdeaCharacters)) {
            try codec.decode(body: Array(body.utf8), headers: [:])
        }
        #expect(throws: MessageError.badHeader(MessageHeader.attempt)) {
            try codec.decode(body: Array(#"{"job_id":"j","idea_id":"i","stage":"script"}"#.utf8), headers: [MessageHeader.attempt: "x"])
        }
    }

    @Test func survivesRandomBytes() {
        var rng = SystemRandomNumberGenerator()
        let valid = Array(#"{"job_id":"job_1","idea_id":"idea_1","stage":"adapt"}"#.utf8)
        for _ in 0..<2000 {
            var body = valid
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                body[Int.random(in: 0..<body.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            _ = try? codec.decode(body: body, headers: [:])  // must not crash
            _ = try? codec.decode(body: (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }, headers: [:])
        }
    }
}

@Suite("Redaction")
struct RedactorTests {
    @Test func hidesPasswordsKeysAndRegisteredSecrets() {
        let r = Redactor()
        r.register("s3cr3t-token-value")
        #expect(r.redact("amqp://user:hunter2@rabbit:5672/") == "amqp://user:***@rabbit:5672/")
        #expect(r.redact("mongodb://admin:p%40ss@db/reelforge?tls=true") == "mongodb://admin:***@db/reelforge?tls=true")
        #expect(!r.redact("failed with s3cr3t-token-value inside").contains("s3cr3t"))
        #expect(!r.redact("Authorization: Bearer abcdef123456").contains("abcdef123456"))
        #expect(!r.redact("api_key=sk-abcdefghijklmnop").contains("abcdefghijklmnop"))
        #expect(r.redact("plain text stays") == "plain text stays")
    }
}

@Suite("Timestamps")
struct TimestampTests {
    @Test func writesAndReadsISO8601() {
        let d = Date(timeIntervalSince1970: 1_795_000_000.123)
        #expect(Timestamp.iso(d) == "2026-11-18T11:06:40.123Z")
        #expect(Timestamp.iso(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(abs(Timestamp.parse("2026-11-18T11:06:40.123Z")!.timeIntervalSince1970 - 1_795_000_000.123) < 0.0005)
        #expect(abs(Timestamp.parse("2026-11-18 11:06:40.123000")!.timeIntervalSince1970 - 1_795_000_000.123) < 0.0005)
        #expect(Timestamp.parse("2026-11-18T12:06:40+01:00")!.timeIntervalSince1970 == 1_795_000_000)
        #expect(Timestamp.parse("2000-02-29T00:00:00Z")!.timeIntervalSince1970 == 951_782_400)
        #expect(Timestamp.parse("yesterday") == nil)
        for t in stride(from: -1e9, to: 4e9, by: 7_654_321.5) {
            let d = Date(timeIntervalSince1970: t)
            #expect(abs(Timestamp.parse(Timestamp.iso(d))!.timeIntervalSince1970 - t) < 0.001)
        }
    }
}
