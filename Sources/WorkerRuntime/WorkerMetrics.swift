import Metrics
import Prometheus
import Shared
import StageMetrics

/// The metrics of one worker process: the Prometheus registry that `/metrics` renders and the swift-metrics factory
/// that writes into it, with the stage timers' buckets. The executable makes one and bootstraps `MetricsSystem`
/// with its factory (the one bootstrap of the process); tests make their own and pass the factory explicitly.
public struct WorkerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let factory: PrometheusMetricsFactory

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        var factory = PrometheusMetricsFactory(registry: registry)
        for label in RunnerMetrics.timerLabels { factory.durationHistogramBuckets[label] = RunnerMetrics.durationBuckets }
        self.registry = registry
        self.factory = factory
    }

    /// The Prometheus text exposition (format 0.0.4) of everything registered so far.
    public func exposition() -> [UInt8] {
        var bytes: [UInt8] = []
        registry.emit(into: &bytes)
        return bytes
    }
}
