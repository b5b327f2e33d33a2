import ArgumentParser
import Foundation
import Shared

struct DLQ: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq", abstract: "Inspect and replay parked (dead-letter) jobs.",
        subcommands: [List.self, Show.self, Replay.self, Purge.self])

    struct Entry: Encodable {
        var job_id: String?, stage: String, reason_kind: String, reason: String, parked_at: String?, attempt: String?, body: String
        init(_ m: ParkedMessage) {
            job_id = m.jobID; stage = m.stage.rawValue; reason_kind = m.reasonKind; reason = m.reason
            parked_at = m.headers[MessageHeader.parkedAt]; attempt = m.headers[MessageHeader.attempt]
            body = String(m.bodyText.prefix(2000))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List parked messages without removing them.")
        @Option(help: "Only this stage's parking queue.") var stage: String?
        @Option(help: "At most this many.") var limit = 100
        @Flag(help: "Machine-readable output.") var json = false

        func run() async throws {
            let d = try await Distributed.connect()
            let parked = try await d.backends.queue.parked(stage: try parseStage(stage), limit: limit)
            await d.close()
            if json { try printJSON(parked.map(Entry.init)); return }
            if parked.isEmpty { print("no parked messages"); return }
            for m in parked {
                print("\(m.jobID ?? "(no job id)")  \(m.stage.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)) \(m.reasonKind.padding(toLength: 10, withPad: " ", startingAt: 0)) \(m.reason)")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a job's parked messages in full.")
        @Argument(help: "The job id.") var jobID: String

        func run() async throws {
            let d = try await Distributed.connect()
            let parked = try await d.backends.queue.parked(stage: nil, limit: 10_000).filter { $0.jobID == jobID }
            await d.close()
            guard !parked.isEmpty else { throw ValidationError("no parked message for job \(jobID)") }
            try printJSON(parked.map(Entry.init))
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send parked jobs back to the stage that failed, with a fresh retry budget for it.",
            discussion: "Earlier stages keep their checkpoints and attempt counts and are not run again.")
        @Argument(help: "The job id (omit with --all).") var jobID: String?
        @Flag(help: "Replay every parked job.") var all = false
        @Option(help: "Only this stage's parking queue.") var stage: String?

        func validate() throws {
            if jobID == nil && !all { throw ValidationError("name a job id, or pass --all") }
        }

        func run() async throws {
            let d = try await Distributed.connect()
            let ids = try await d.operations.replay(jobID: all ? nil : jobID, stage: try parseStage(stage))
            await d.close()
            if ids.isEmpty { throw ValidationError("no parked message matched") }
            for id in ids { print("replayed \(id)") }
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete parked messages.")
        @Argument(help: "Only this job's messages (omit with --all or --reason-kind).") var jobID: String?
        @Flag(help: "Every parked message (of --stage, or of all stages).") var all = false
        @Option(help: "Only this stage's parking queue.") var stage: String?
        @Option(help: "Only messages parked for this reason kind: poison, permanent, exhausted, crash_loop, delivery_limit, lease.")
        var reasonKind: String?

        func validate() throws {
            if jobID == nil && !all && reasonKind == nil { throw ValidationError("name a job id, or pass --all or --reason-kind") }
        }

        func run() async throws {
            let d = try await Distributed.connect()
            let s = try parseStage(stage)
            let n: Int
            if jobID != nil || reasonKind != nil {
                let job = jobID, kind = reasonKind
                n = try await d.backends.queue.takeParked(
                    stage: s, matching: { m in (job == nil || m.jobID == job) && (kind == nil || m.reasonKind == kind) }, handler: { _ in })
            } else {
                n = try await d.backends.queue.purgeParked(stage: s)
            }
            await d.close()
            print("purged \(n) message\(n == 1 ? "" : "s")")
        }
    }
}

func parseStage(_ text: String?) throws -> Stage? {
    guard let text else { return nil }
    guard let s = Stage(parsing: text) else { throw ValidationError("--stage must be script, adapt, audio or video") }
    return s
}
