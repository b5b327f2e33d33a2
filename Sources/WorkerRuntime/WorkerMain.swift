import Foundation
import Logging
import Shared

/// The whole life of a worker executable: configuration, backends, serving its stages, clean shutdown.
public enum WorkerMain {
    public static func run(name: String, stages: [Stage], arguments: [String] = Array(CommandLine.arguments.dropFirst())) async -> Int32 {
        if arguments.contains("--help") || arguments.contains("-h") {
            print(help(name: name, stages: stages))
            return 0
        }
        let config: ReelForgeConfig
        switch configuration(name: name, arguments: arguments) {
        case .success(let c): config = c
        case .failure(let exit): return exit.status
        }
        LoggingSetup.bootstrap(config)
        let logger = Logger(label: name)
        TracingSetup.bootstrap(service: name, logger: logger)
        logger.info("starting \(name) for \(stages.map(\.rawValue).joined(separator: ", ")): \(config.summary)")

        let backends: DistributedBackends
        do { backends = try DistributedBackends(config: config, logger: logger) } catch {
            logger.critical("\(error)")
            return 78
        }
        let metrics = RunnerMetrics()
        let readiness = Readiness(checks: [("MongoDB", { try await backends.store.ping() }),
                                           ("RabbitMQ", { try await backends.queue.ping() })])
        var probes: ProbeServer?
        if let choice = config.probePort {
            do {
                let server = try await ProbeServer.start(choice, metrics: metrics, readiness: readiness, logger: logger)
                logger.info("serving /healthz, /readyz and /metrics on port \(server.port)")
                probes = server
            } catch {
                logger.critical("\(error)")
                await backends.queue.close()
                return 78
            }
        }
        let runner = StageRunner(queue: backends.queue, store: backends.store, artifacts: backends.artifacts,
                                 executors: StageExecutors.make(for: stages, config: config),
                                 settings: config.runnerSettings, logger: logger, onEvent: { metrics.record($0) })
        let outcome = await serve(stages: stages, config: config, backends: backends, runner: runner,
                                  readiness: readiness, logger: logger)
        await backends.queue.close()
        await probes?.stop()
        await TracingSetup.shutdown()
        if case .failure(let error) = outcome, !(error is CancellationError) {
            logger.critical("stopped on error: \(Redactor.shared.redact("\(error)"))")
            return 1
        }
        logger.notice(outcome == nil ? "stopped after the grace period; undone deliveries return to their queues" : "stopped")
        return 0
    }

    struct ExitStatus: Error { let status: Int32 }

    /// The configuration from the environment with the command line's overrides; usage errors exit 64, unusable
    /// values 78.
    static func configuration(name: String, arguments: [String]) -> Result<ReelForgeConfig, ExitStatus> {
        var env = ProcessInfo.processInfo.environment
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            let value = i + 1 < arguments.count ? arguments[i + 1] : nil
            if a.hasPrefix("--"), value == nil || value!.hasPrefix("--") {
                FileHandle.standardError.write(Data("\(name): \(a) needs a value (see --help)\n".utf8))
                return .failure(ExitStatus(status: 64))
            }
            switch a {
            case "--prefetch": env["REELFORGE_PREFETCH"] = value; i += 1
            case "--failpoints": env["REELFORGE_FAILPOINTS"] = value; i += 1
            case "--worker-id": env["REELFORGE_WORKER_ID"] = value; i += 1
            case "--log-format": env["REELFORGE_LOG_FORMAT"] = value; i += 1
            default:
                FileHandle.standardError.write(Data("\(name): unknown option \(a) (see --help)\n".utf8))
                return .failure(ExitStatus(status: 64))
            }
            i += 1
        }
        do { return .success(try ReelForgeConfig.fromEnvironment(env)) } catch {
            FileHandle.standardError.write(Data("\(name): \(Redactor.shared.redact("\(error)"))\n".utf8))
            return .failure(ExitStatus(status: 78))
        }
    }

    /// Prepares the backends and consumes until SIGTERM or SIGINT, then lets in-flight work finish for up to the
    /// grace period. Nil when the grace period ran out.
    static func serve(stages: [Stage], config: ReelForgeConfig, backends: DistributedBackends, runner: StageRunner,
                      readiness: Readiness, logger: Logger) async -> Result<Void, Error>? {
        let serving = Task {
            try await backends.prepare(logger: logger)
            logger.info("ready: consuming \(stages.map { "\(config.prefix).\($0.rawValue)" }.joined(separator: ", "))")
            readiness.setConsuming(true)
            try await runner.serve(stages: stages, concurrency: config.concurrency)
        }
        let signals = SignalWatcher { signal in
            readiness.shutDown()
            logger.notice("received \(signal): no new deliveries; finishing in-flight work (up to \(config.shutdownGrace.compact))")
            serving.cancel()
        }
        defer { signals.cancel() }
        return await withTaskGroup(of: Result<Void, Error>?.self) { group -> Result<Void, Error>? in
            group.addTask { await serving.result }
            group.addTask {
                // The grace period starts at the signal.
                while !serving.isCancelled { try? await Task.sleep(for: .milliseconds(200)); if Task.isCancelled { return nil } }
                try? await Task.sleep(for: config.shutdownGrace)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    static func help(name: String, stages: [Stage]) -> String {
        """
        \(name): the ReelForge worker for the \(stages.map(\.rawValue).joined(separator: " and ")) stage\(stages.count > 1 ? "s" : "").

        Consumes \(stages.map { "<prefix>.\($0.rawValue)" }.joined(separator: ", ")) from RabbitMQ, keeps checkpoints in MongoDB,
        retries failed stages through delay queues and parks what cannot succeed. Run more copies to scale.
        SIGTERM or SIGINT: stop taking deliveries, finish (or give back) the ones in flight, exit 0.

        Options (each overrides its environment variable):
          --prefetch N         REELFORGE_PREFETCH
          --failpoints SPEC    REELFORGE_FAILPOINTS
          --worker-id NAME     REELFORGE_WORKER_ID
          --log-format FMT     REELFORGE_LOG_FORMAT (text|json)
          -h, --help           this text

        Environment:
        \(ReelForgeConfig.variables.map { "  \($0.name.padding(toLength: max(36, $0.name.count + 1), withPad: " ", startingAt: 0)) \($0.meaning)" }.joined(separator: "\n"))
        """
    }
}

/// Calls `handler` on SIGTERM and SIGINT.
/// `@unchecked Sendable`: the sources are set once in `init`; dispatch sources are thread-safe.
public final class SignalWatcher: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]

    public init(_ handler: @escaping @Sendable (String) -> Void) {
        var list: [any DispatchSourceSignal] = []
        for (sig, name) in [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")] {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { handler(name) }
            s.resume()
            list.append(s)
        }
        sources = list
    }

    public func cancel() { sources.forEach { $0.cancel() } }
}
