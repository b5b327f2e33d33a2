import Foundation
import Logging
import MongoStore
import RabbitMQBroker
import Shared

/// The distributed backends: RabbitMQ for the queue, MongoDB for jobs and GridFS for artifacts.
public struct DistributedBackends: Sendable {
    public let queue: RabbitMQWorkQueue
    public let store: MongoJobStore
    public let artifacts: GridFSArtifactStore
    /// The fleet's provider limits, in the same database (`provider_limits`).
    public let providerStates: MongoProviderStates

    /// `mongoTimeoutMS` bounds MongoDB server selection and connecting (unless MONGODB_URI sets them).
    public init(config: ReelForgeConfig, logger: Logger, mongoTimeoutMS: Int32 = 5000) throws {
        let client = try MongoClient(uri: config.mongoURI, timeoutMS: mongoTimeoutMS)
        store = MongoJobStore(client: client)
        artifacts = GridFSArtifactStore(client: client)
        providerStates = MongoProviderStates(client: client)
        queue = try RabbitMQWorkQueue(url: config.amqpURL,
                                      topology: Topology(prefix: config.prefix, retry: config.retry, deliveryLimit: config.deliveryLimit),
                                      logger: logger, caCertPath: config.amqpCACert)
    }

    /// Waits until the store has its indexes and the broker its topology, retrying with backoff while either
    /// is unreachable (a worker may start before its services).
    public func prepare(logger: Logger, attempts: Int = .max) async throws {
        try await retrying("MongoDB", attempts: attempts, logger: logger) { try await store.prepare() }
        try await retrying("RabbitMQ", attempts: attempts, logger: logger) { try await queue.declareTopology() }
    }
}

func retrying(_ what: String, attempts: Int, logger: Logger, _ body: () async throws -> Void) async throws {
    var backoff = Backoff(first: .milliseconds(500), cap: .seconds(15))
    for n in 1...max(1, attempts) {
        do { try await body(); return } catch {
            if n == attempts || Task.isCancelled { throw error }
            let pause = backoff.failed()
            logger.warning("\(what) not ready (\(Redactor.shared.redact("\(error)"))); trying again in \(String(format: "%.1f", pause)) s")
            try await Task.sleep(for: .milliseconds(Int64(pause * 1000)))
        }
    }
}
