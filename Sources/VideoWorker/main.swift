import Foundation
import Metrics
import WorkerRuntime

// Wiring only: everything else lives in the WorkerRuntime, Shared and Stages libraries.
ProcessSetup.ignoreBrokenPipes()
// The process's one metrics registry, served at /metrics; libraries emit through the bootstrapped factory.
let metrics = WorkerMetrics()
MetricsSystem.bootstrap(metrics.factory)
exit(await WorkerMain.run(name: "VideoWorker", stages: [.video], metrics: metrics))
