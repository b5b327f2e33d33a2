import ArgumentParser
import Foundation
import Shared
import WorkerRuntime

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
        /// A failed job of the embedded store: its last error is why it stopped.
        init(failed job: JobRecord) {
            job_id = job.jobID; stage = job.lastError?.stage.rawValue ?? "-"; reason_kind = job.lastError?.kind ?? "failed"
            reason = job.lastError?.message ?? "failed"; parked_at = job.lastError.map { Timestamp.iso($0.at) }
            attempt = job.lastError.map { String($0.attempt) }; body = ""
        }
    }

    /// `--home DIR`: the failed jobs of the embedded store of 'reelforge make' instead of the parking queues.
    struct Home: ParsableArguments {
        @Option(help: "Use the embedded store in this folder (as 'reelforge make --home'): its failed jobs, instead of RabbitMQ's parking queues.")
        var home: String?

        /// The entries of the embedded store (nil without --home).
        func entries(stage: Stage?) async throws -> [Entry]? {
            guard let home else { return nil }
            let store = try EmbeddedHome.existingStore(home)
            return try await EmbeddedHome.failedJobs(in: store).map(Entry.init(failed:)).filter { stage == nil || $0.stage == stage?.rawValue }
        }

        /// What replaces replay and purge there: make resumes a failed job itself.
        func resumeHint(jobID: String?) async throws -> ValidationError {
            var idea = "IDEA_ID"
            if let home, let jobID, let job = try await EmbeddedHome.existingStore(home).job(jobID) { idea = job.ideaID }
            return ValidationError("""
                the embedded store keeps no parking queue: a failed job of 'reelforge make' runs again from the stage that \
                failed with 'reelforge make --resume \(idea) --home \(home ?? ".reelforge")'
                """)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List parked messages without removing them.")
        @Option(help: "Only this stage's parking queue.") var stage: String?
        @Option(help: "At most this many.") var limit = 100
        @Flag(help: "Machine-readable output.") var json = false
        @OptionGroup var home: Home

        func run() async throws {
            var entries = try await home.entries(stage: try parseStage(stage))
            if entries == nil {
                let d = try await Distributed.connect()
                entries = try await d.backends.queue.parked(stage: try parseStage(stage), limit: limit).map(Entry.init)
                await d.close()
            }
            let list = Array((entries ?? []).prefix(limit))
            if json { try printJSON(list); return }
            if list.isEmpty { print(home.home == nil ? "no parked messages" : "no failed jobs"); return }
            for e in list {
                print("\(e.job_id ?? "(no job id)")  \(e.stage.padding(toLength: 6, withPad: " ", startingAt: 0)) \(e.reason_kind.padding(toLength: 10, withPad: " ", startingAt: 0)) \(e.reason)")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a job's parked messages in full.")
        @Argument(help: "The job id.") var jobID: String
        @OptionGroup var home: Home

        func run() async throws {
            var entries = try await home.entries(stage: nil)
            if entries == nil {
                let d = try await Distributed.connect()
                entries = try await d.backends.queue.parked(stage: nil, limit: 10_000).map(Entry.init)
                await d.close()
            }
            let found = (entries ?? []).filter { $0.job_id == jobID }
            guard !found.isEmpty else { throw ValidationError("no \(home.home == nil ? "parked message" : "failed job") for job \(jobID)") }
            try printJSON(found)
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send parked jobs back to the stage that failed, with a fresh retry budget for it.",
            discussion: "Earlier stages keep their checkpoints and attempt counts and are not run again.")
        @Argument(help: "The job id (omit with --all).") var jobID: String?
        @Flag(help: "Replay every parked job.") var all = false
        @Option(help: "Only this stage's parking queue.") var stage: String?
        @OptionGroup var home: Home

        func validate() throws {
            if jobID == nil && !all { throw ValidationError("name a job id, or pass --all") }
        }

        func run() async throws {
            if home.home != nil { throw try await home.resumeHint(jobID: jobID) }
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
        @OptionGroup var home: Home

        func validate() throws {
            if jobID == nil && !all && reasonKind == nil { throw ValidationError("name a job id, or pass --all or --reason-kind") }
        }

        func run() async throws {
            if home.home != nil { throw try await home.resumeHint(jobID: jobID) }
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
