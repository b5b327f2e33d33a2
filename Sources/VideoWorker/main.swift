import Foundation
import Metrics
import Shared
import VideoStage
import WorkerRuntime

// Wiring only: the stages' libraries make the executors; WorkerRuntime runs them.
ProcessSetup.ignoreBrokenPipes()
// The process's one metrics registry, served at /metrics; libraries emit through the bootstrapped factory.
let metrics = WorkerMetrics()
MetricsSystem.bootstrap(metrics.factory)
exit(await WorkerMain.run(name: "VideoWorker", modules: [.video], metrics: metrics))
