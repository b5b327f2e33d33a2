import Foundation
import Logging
import ServiceLifecycle
import UnixSignals
import Shared
import StageMetrics

/// The whole life of a worker executable: configuration, backends, its services run as one ServiceGroup, clean
/// shutdown.
public enum WorkerMain {
    /// Exit status: 0 after a signal (or a consumer that ended), 64 usage, 78 unusable configuration (including a
    /// probes port it cannot listen on), 1 on any other error.
    /// `metrics`: the process's registry (served at `/metrics`) and factory; the executable makes it and
    /// bootstraps `MetricsSystem` with it.
    /// `modules`: the stages this worker runs, each from its stage's library.
    public static func run(name: String, modules: [StageModule], metrics: WorkerMetrics,
                           arguments: [String] = Array(CommandLine.arguments.dropFirst())) async -> Int32 {
        let stages = modules.map(\.stage)
        if arguments.contains("--help") || arguments.contains("-h") {
            print(help(name: name, modules: modules))
            return 0
        }
        let config: ReelForgeConfig
        switch configuration(name: name, modules: modules, arguments: arguments) {
        case .success(let c): config = c
        case .failure(let exit): return exit.status
        }
        LoggingSetup.bootstrap(config)
        // Trapped from here on, before anything is logged: a signal that comes while the backends are being set
        // up is kept and stops the worker as soon as its services run (the group's own trap starts only then).
        let earlySignals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        let logger = Logger(label: name)
        TracingSetup.bootstrap(service: name, logger: logger)
        logger.info("starting \(name) for \(stages.map(\.rawValue).joined(separator: ", ")): \(config.summary)")
        let backends: DistributedBackends
        do { backends = try DistributedBackends(config: config, logger: logger) } catch {
            logger.critical("\(error)")
            return 78
        }
        let group = serviceGroup(config: config, backends: backends, metrics: metrics, logger: logger)
        let announcing = Task {
            for await signal in earlySignals {
                logger.notice("received \(signal): no new deliveries; finishing in-flight work (up to \(config.shutdownGrace.compact))")
                await group.triggerGracefulShutdown()
            }
        }
        let status = await exitStatus(running: group, logger: logger)
        announcing.cancel()
        await backends.queue.close()  // what is still unacknowledged goes back to its queue
        await TracingSetup.shutdown()
        return status
    }

    /// The worker's long-running parts on the distributed backends: the probes server (unless off) and the stage
    /// consumer of the configuration's executors, stopped gracefully by SIGTERM or SIGINT within the configured
    /// grace period.
    public static func serviceGroup(config: ReelForgeConfig, backends: DistributedBackends, metrics exposed: WorkerMetrics,
                                    logger: Logger, signals: [UnixSignal] = [.sigterm, .sigint]) -> ServiceGroup {
        let stages = config.executors.map(\.stage)
        let metrics = RunnerMetrics(stages: stages, factory: exposed.factory)
        let readiness = Readiness(checks: [("MongoDB", { try await backends.store.ping() }),
                                           ("RabbitMQ", { try await backends.queue.ping() })])
        let runner = StageRunner(queue: backends.queue, store: backends.store, artifacts: backends.artifacts,
                                 executors: metrics.instrument(config.executors),
                                 settings: config.runnerSettings(providerStates: backends.providerStates, logger: logger, observe: { metrics.record($0) }),
                                 logger: logger, onEvent: { metrics.record($0) })
        let probes = config.probePort.map { ProbeServer($0, metrics: exposed, readiness: readiness, logger: logger) }
        let consumer = StageConsumer(
            runner: runner, stages: stages, concurrency: config.concurrency,
            queueNames: stages.map { "\(config.prefix).\($0.rawValue)" }.joined(separator: ", "), readiness: readiness,
            prepare: { try await backends.prepare(logger: logger) },
            startAfter: { _ = try await probes?.port() }, logger: logger)
        return serviceGroup(consumer: consumer, probes: probes, grace: config.shutdownGrace, signals: signals, logger: logger)
    }

    /// One ServiceGroup for a worker's services. Graceful shutdown goes in reverse order: the consumer first (it
    /// stops taking deliveries and finishes the ones in flight; /readyz answers 503 from the start), then the probes
    /// server. After `grace` the group cancels what still runs: in-flight deliveries are given back.
    public static func serviceGroup(consumer: StageConsumer, probes: ProbeServer?, grace: Duration,
                                    signals: [UnixSignal], logger: Logger) -> ServiceGroup {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = probes.map { [.init(service: $0)] } ?? []
        // A consumer whose queue ends (closed) stops the worker as a signal would.
        services.append(.init(service: consumer, successTerminationBehavior: .gracefullyShutdownGroup))
        var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: signals,
                                                      cancellationSignals: [], logger: logger)
        configuration.maximumGracefulShutdownDuration = grace
        return ServiceGroup(configuration: configuration)
    }

    /// Runs the group to its end; the worker's exit status, logged.
    static func exitStatus(running group: ServiceGroup, logger: Logger) async -> Int32 {
        do {
            try await group.run()
        } catch let error as ProbeServerError {
            logger.critical("\(error)")
            return 78
        } catch is CancellationError {
            // Cancelled past the grace period: a clean stop.
        } catch {
            logger.critical("stopped on error: \(Redactor.shared.redact("\(error)"))")
            return 1
        }
        logger.notice("stopped")
        return 0
    }

    struct ExitStatus: Error { let status: Int32 }

    /// The configuration from the environment with the command line's overrides; usage errors exit 64, unusable
    /// values 78.
    static func configuration(name: String, modules: [StageModule], arguments: [String]) -> Result<ReelForgeConfig, ExitStatus> {
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
        do { return .success(try ReelForgeConfig.fromEnvironment(env, modules: modules)) } catch {
            FileHandle.standardError.write(Data("\(name): \(Redactor.shared.redact("\(error)"))\n".utf8))
            return .failure(ExitStatus(status: 78))
        }
    }

    static func help(name: String, modules: [StageModule]) -> String {
        let stages = modules.map(\.stage)
        return """
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
        \(ReelForgeConfig.variables(with: modules).map { "  \($0.name.padding(toLength: max(36, $0.name.count + 1), withPad: " ", startingAt: 0)) \($0.meaning)" }.joined(separator: "\n"))
        """
    }
}
