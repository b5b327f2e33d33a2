import Foundation
import Logging
import RabbitMQBroker
import ReelForgeTestKit
import Shared
import Synchronization
import Testing
import Tracing
import W3CTraceContext
import WorkerRuntime

/// Log lines kept with their metadata, to check what a worker's logs carry.
final class LogLines: Sendable {
    let lines = Mutex<[(message: String, metadata: Logger.Metadata)]>([])

    func logger() -> Logger {
        Logger(label: "traced") { _ in Handler(sink: self) }
    }

    struct Handler: LogHandler {
        let sink: LogLines
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            sink.lines.withLock { $0.append((event.message.description, all)) }
        }
    }
}

/// One worker process of the in-memory pipeline: its own tracer and span recorder (as a process has its own
/// exporter), sharing the queue and the store with the others.
struct TracedWorker {
    let recorder = SpanRecorder()
    let logs = LogLines()
    let runner: StageRunner

    init(stages: [Stage], queue: any WorkQueue, store: any JobStore, artifacts: any ArtifactStore, failpoints: String = "") throws {
        runner = StageRunner(
            queue: queue, store: store, artifacts: artifacts, executors: stages.map { CountingExecutor($0) },
            settings: RunnerSettings(workerID: "worker-\(stages[0])",
                                     retry: RetryPolicy(delays: [.milliseconds(30)], maxRetries: 3, jitter: 0, jitterBuckets: 1),
                                     failpoints: try Failpoints(parsing: failpoints), workRoot: temporaryDirectory("work")),
            logger: logs.logger(), tracer: W3CTracer(exporter: recorder))
    }
}

/// The spans of one video, from every worker, with lookups by name and id.
struct VideoTrace {
    let spans: [FinishedSpan]

    func named(_ name: String) -> [FinishedSpan] { spans.filter { $0.name == name } }
    func span(_ id: SpanID?) -> FinishedSpan? { spans.first { $0.spanID == id } }
    func children(of s: FinishedSpan) -> [FinishedSpan] { spans.filter { $0.parentSpanID == s.spanID } }
}

@Suite("Tracing")
struct TracingTests {
    /// Runs one idea through three workers (script+adapt, audio, video) on the memory backends.
    static func runVideo(failpoints: String = "") async throws -> (VideoTrace, Operations.Submitted, [TracedWorker]) {
        let queue = MemoryWorkQueue(), store = RecordJobStore.memory()
        let artifacts = try DirectoryArtifactStore(root: temporaryDirectory("artifacts"))
        let workers = try [[Stage.script, .adapt], [.audio], [.video]].map {
            try TracedWorker(stages: $0, queue: queue, store: store, artifacts: artifacts, failpoints: failpoints)
        }
        let serving = workers.map { w in Task { try await w.runner.serve(stages: w.runner.executors.keys.sorted(), concurrency: 1) } }
        defer { serving.forEach { $0.cancel() } }
        let submitter = SpanRecorder()
        let s = try await withTracer(W3CTracer(exporter: submitter)) {
            try await Operations(queue: queue, store: store, maxRetries: 3).submit(idea: "why octopuses have three hearts")
        }
        let done = try await eventually { try await store.idea(s.ideaID)?.status == .completed }
        #expect(done)
        // The video's last spans end just after its completion is stored.
        _ = await eventually(timeout: .seconds(5)) { workers[2].recorder.finished.contains { $0.name == "stage video" } }
        return (VideoTrace(spans: submitter.finished + workers.flatMap(\.recorder.finished)), s, workers)
    }

    @Test func oneVideoIsOneTraceWithEachStageParentedOnThePublishOfItsMessage() async throws {
        let (trace, submitted, _) = try await Self.runVideo()
        let submit = try #require(trace.named("submit").first)
        #expect(Set(trace.spans.map(\.traceID)) == [submit.traceID], "every span of every worker is in the video's trace")
        #expect(submit.parentSpanID == nil)
        var producer = submit
        for stage in Stage.allCases {
            let spans = trace.named("stage \(stage)")
            try #require(spans.count == 1, "one stage span for \(stage), found \(spans.count)")
            let span = spans[0]
            #expect(span.kind == .consumer)
            #expect(span.string("job_id") == submitted.jobID && span.string("idea_id") == submitted.ideaID)
            #expect(span.string("stage") == stage.rawValue)
            #expect(span.attribute("attempt") == .int64(1))
            #expect(span.string("outcome") == (stage == .video ? "completed" : "succeeded"))
            let publish = try #require(trace.span(span.parentSpanID), "\(stage)'s parent is a span of the trace")
            #expect(publish.name == "publish \(stage)" && publish.kind == .producer)
            #expect(publish.parentSpanID == producer.spanID, "the publish of \(stage) happened in \(producer.name)")
            #expect(trace.children(of: span).contains { $0.name == "store claim" })
            producer = span
        }
        #expect(trace.children(of: producer).contains { $0.name == "store markCompleted" })
        for stage in Stage.allCases {
            let span = try #require(trace.named("stage \(stage)").first)
            #expect(trace.children(of: span).contains { $0.name == "store checkpoint" && $0.string("stage") == stage.rawValue })
        }
    }

    @Test func aRetryIsAChildOfTheFailedAttemptInTheSameTrace() async throws {
        let (trace, _, _) = try await Self.runVideo(failpoints: "audio=1")
        let audio = trace.named("stage audio").sorted { $0.startNanos < $1.startNanos }
        try #require(audio.count == 2)
        #expect(audio[0].string("outcome") == "retry" && audio[0].status?.code == .error)
        #expect(audio[1].string("outcome") == "succeeded" && audio[1].attribute("attempt") == .int64(2))
        let delayed = try #require(trace.span(audio[1].parentSpanID))
        #expect(delayed.name == "publish audio delayed" && delayed.parentSpanID == audio[0].spanID)
        #expect(Set(trace.spans.map(\.traceID)).count == 1)
    }

    @Test func workerLogLinesCarryTheTraceAndSpanOfTheirStage() async throws {
        let (trace, _, workers) = try await Self.runVideo()
        let audio = try #require(trace.named("stage audio").first)
        let lines = workers[1].logs.lines.withLock { $0 }
        let running = try #require(lines.first { $0.message.hasPrefix("running audio") })
        #expect(running.metadata["trace_id"]?.description == "\(audio.traceID)")
        #expect(running.metadata["span_id"]?.description == "\(audio.spanID)")
    }

    @Test func aMalformedTraceparentStartsANewTraceAndTheMessageStillRuns() async throws {
        let queue = MemoryWorkQueue(), store = RecordJobStore.memory()
        let worker = try TracedWorker(stages: Stage.allCases, queue: queue, store: store,
                                      artifacts: DirectoryArtifactStore(root: temporaryDirectory("artifacts")))
        let serving = Task { try await worker.runner.serve(stages: Stage.allCases, concurrency: 1) }
        defer { serving.cancel() }
        var m = JobMessage(jobID: "job_badtrace", ideaID: "idea_badtrace", stage: .script,
                           newIdea: .init(text: "why cats purr", language: "en", targetSeconds: 10))
        m.traceHeaders = [TraceHeader.traceparent: "00-zzzz-not-a-trace-01"]
        try await queue.publish(m, to: .script)
        #expect(try await eventually { try await store.idea("idea_badtrace")?.status == .completed })
        _ = await eventually(timeout: .seconds(5)) { worker.recorder.finished.contains { $0.name == "stage script" } }
        let script = try #require(worker.recorder.finished.first { $0.name == "stage script" })
        #expect(script.parentSpanID == nil)
    }
}

@Suite("Tracing over RabbitMQ", .enabled(if: TestServices.available))
struct RabbitTracingTests {
    /// The W3C context a producer span writes survives the broker, on the work queue and through a delay queue.
    @Test func traceparentSurvivesTheBroker() async throws {
        let rabbit = try TestServices.rabbitQueue()
        let queue = TracingWorkQueue(rabbit)
        try await queue.declareTopology()
        defer { Task { try? await rabbit.deleteTopology(); await rabbit.close() } }
        let recorder = SpanRecorder()
        let state = "reelforge=7"
        try await withTracer(W3CTracer(exporter: recorder)) {
            var root = ServiceContext.topLevel
            root.traceContext = try TraceContext(traceParentHeaderValue: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                                                 traceStateHeaderValue: state)
            try await ServiceContext.withValue(root) {
                try await queue.publish(JobMessage(jobID: "job_t1", ideaID: "idea_t1", stage: .adapt), to: .adapt)
                try await queue.publishDelayed(JobMessage(jobID: "job_t2", ideaID: "idea_t2", stage: .adapt, attempt: 2),
                                               stage: .adapt, delay: .milliseconds(200))
            }
        }
        let source = try await queue.consume(stages: [.adapt], prefetch: 1)
        var seen: [String: Delivery] = [:]
        while seen.count < 2, let d = try await QueueContract.next(source, timeout: .seconds(10)) {
            seen[d.headers[MessageHeader.jobID] ?? "?"] = d
            try await source.ack(d)
        }
        await source.stop()
        for (job, name) in [("job_t1", "publish adapt"), ("job_t2", "publish adapt delayed")] {
            let d = try #require(seen[job], "\(job) came back")
            let publish = try #require(recorder.finished.first { $0.name == name })
            let context = try TraceContext(traceParentHeaderValue: try #require(d.headers[TraceHeader.traceparent]),
                                           traceStateHeaderValue: d.headers[TraceHeader.tracestate])
            #expect(context.traceID == publish.traceID && context.spanID == publish.spanID)
            #expect("\(publish.traceID)" == "4bf92f3577b34da6a3ce929d0e0e4736", "the publish continued the producer's trace")
            #expect(d.headers[TraceHeader.tracestate] == state)
            #expect(try JobMessageCodec().decode(body: d.body, headers: d.headers).traceHeaders[TraceHeader.traceparent]
                    == d.headers[TraceHeader.traceparent])
        }
    }
}

@Suite("Tracing export")
struct TracingExportTests {
    /// Ends a receiver. SIGKILL: the test process ignores SIGTERM (the in-process service groups' signal handling
    /// sets it so), and its children inherit that.
    static func stop(_ receiver: Process) { if receiver.isRunning { Foundation.kill(receiver.processIdentifier, SIGKILL) } }

    /// Starts scripts/otlp-receiver; returns it, its port and the file it appends the bodies to.
    static func startReceiver() async throws -> (Process, Int, URL) {
        let file = temporaryDirectory("otlp").appendingPathComponent("received.jsonl")
        let receiver = Process()
        receiver.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        receiver.arguments = ["python3", URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/otlp-receiver").path, file.path, "--seconds", "300"]
        let out = Pipe()
        receiver.standardOutput = out
        // Not the test runner's standard error: `swift test` waits for every holder of that pipe to close it.
        receiver.standardError = FileHandle.nullDevice
        try receiver.run()
        let portLine = await withCheckedContinuation { c in
            DispatchQueue.global().async { c.resume(returning: out.fileHandleForReading.availableData) }
        }
        let port = try #require(Int(String(decoding: portLine, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
        return (receiver, port, file)
    }

    /// Every span the receiver got, each with the `service.name` of the batch it came in.
    static func received(_ file: URL) -> [(service: String, span: JSONValue)] {
        let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").flatMap { line -> [(service: String, span: JSONValue)] in
            guard let json = try? JSONValue.parse(Data(line.utf8)) else { return [] }
            return (json["resourceSpans"]?.arrayValue ?? []).flatMap { r -> [(service: String, span: JSONValue)] in
                let service = r["resource"]?["attributes"]?.arrayValue?.first?["value"]?["stringValue"]?.stringValue ?? "?"
                let spans = (r["scopeSpans"]?.arrayValue ?? []).flatMap { $0["spans"]?.arrayValue ?? [] }
                return spans.map { (service, $0) }
            }
        }
    }

    /// Spans reach an OTLP/HTTP receiver (scripts/otlp-receiver) as OTLP JSON, ids and parents intact.
    @Test func spansReachAnOTLPReceiver() async throws {
        let (receiver, port, file) = try await Self.startReceiver()
        defer { Self.stop(receiver) }
        let url = try #require(TracingSetup.endpoint(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:\(port)"]))
        #expect(url.path == "/v1/traces")
        let exporter = OTLPHTTPExporter(url: url, service: "AudioWorker", interval: .milliseconds(100), logger: testLogger())
        withTracer(W3CTracer(exporter: exporter)) {
            withSpan("stage audio", ofKind: .consumer) { span in
                span.attributes["job_id"] = "job_x"
                span.attributes["attempt"] = 1
                withSpan("store checkpoint") { _ in }
            }
        }
        await exporter.shutdown()
        let body = try #require(try String(contentsOf: file, encoding: .utf8).split(separator: "\n").first)
        let json = try JSONValue.parse(Data(body.utf8))
        let resource = try #require(json["resourceSpans"]?.arrayValue?.first)
        #expect(resource["resource"]?["attributes"]?.arrayValue?.first?["value"]?["stringValue"]?.stringValue == "AudioWorker")
        let spans = try #require(resource["scopeSpans"]?.arrayValue?.first?["spans"]?.arrayValue)
        let stage = try #require(spans.first { $0["name"]?.stringValue == "stage audio" })
        let store = try #require(spans.first { $0["name"]?.stringValue == "store checkpoint" })
        #expect(stage["kind"]?.intValue == 5)
        #expect(store["parentSpanId"]?.stringValue == stage["spanId"]?.stringValue)
        #expect(store["traceId"]?.stringValue == stage["traceId"]?.stringValue)
        #expect(stage["traceId"]?.stringValue?.count == 32 && stage["spanId"]?.stringValue?.count == 16)
        #expect(stage["attributes"]?.arrayValue?.contains { $0["key"]?.stringValue == "job_id" && $0["value"]?["stringValue"]?.stringValue == "job_x" } == true)
    }
}

/// The chaos-style check of the issue: the real executables export to a receiver stand-in; one video is one trace
/// with spans from the CLI and all three workers, each stage parented on the publish of its message across the broker.
@Suite("Tracing export from the workers", .enabled(if: TestServices.available), .serialized)
struct WorkerTracingExportTests {
    @Test func threeWorkersExportOneTracePerVideo() async throws {
        let (receiver, port, file) = try await TracingExportTests.startReceiver()
        defer { TracingExportTests.stop(receiver) }
        let base = try WorkerProcessTests()
        let env = base.env.merging(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:\(port)", "OTEL_BSP_SCHEDULE_DELAY": "200"]) { $1 }
        let workers = try ["ScriptWorker", "AudioWorker", "VideoWorker"].map { try Proc($0, env: env, logDir: base.logs) }
        let (out, status) = try await Proc.run("reelforge", ["submit", "why cats purr", "--json", "--duration", "5"], env: env, logDir: base.logs)
        try #require(status == 0, "submit: \(out)")
        let s = try JSONDecoder().decode(Operations.Submitted.self, from: Data(String(out[try #require(out.firstIndex(of: "{"))...]).utf8))
        _ = try await base.waitFor(s.ideaID, .completed, workers)
        let exported = await eventually(timeout: .seconds(20)) {
            TracingExportTests.received(file).contains { $0.span["name"]?.stringValue == "stage video" }
        }
        for w in workers { _ = await w.terminate() }
        #expect(exported, "the video worker's stage span reached the receiver")
        let spans = TracingExportTests.received(file)
        let submit = try #require(spans.first { $0.span["name"]?.stringValue == "submit" })
        #expect(submit.service == "reelforge")
        let trace = submit.span["traceId"]?.stringValue
        let mine = spans.filter { $0.span["traceId"]?.stringValue == trace }
        #expect(Set(mine.map(\.service)) == ["reelforge", "ScriptWorker", "AudioWorker", "VideoWorker"])
        let owner: [Stage: String] = [.script: "ScriptWorker", .adapt: "ScriptWorker", .audio: "AudioWorker", .video: "VideoWorker"]
        var producer = submit.span["spanId"]?.stringValue
        for stage in Stage.allCases {
            let stageSpan = try #require(mine.first { $0.span["name"]?.stringValue == "stage \(stage)" }, "stage \(stage) in the trace")
            #expect(stageSpan.service == owner[stage])
            let publish = try #require(mine.first { $0.span["spanId"]?.stringValue == stageSpan.span["parentSpanId"]?.stringValue })
            #expect(publish.span["name"]?.stringValue == "publish \(stage)")
            #expect(publish.span["parentSpanId"]?.stringValue == producer, "publish \(stage) was made in the previous stage's span")
            producer = stageSpan.span["spanId"]?.stringValue
        }
    }
}
