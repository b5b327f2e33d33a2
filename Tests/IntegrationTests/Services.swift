import Foundation
import Logging
import MongoStore
import RabbitMQBroker
import ReelForgeTestKit
import Shared

/// The real RabbitMQ and MongoDB-protocol server that scripts/test starts (REELFORGE_TEST_AMQP_URL,
/// REELFORGE_TEST_MONGODB_URI). Tests that need them are enabled only when they are set.
enum TestServices {
    static let env = ProcessInfo.processInfo.environment
    static var amqpURL: String? { env["REELFORGE_TEST_AMQP_URL"] }
    static var mongoURI: String? { env["REELFORGE_TEST_MONGODB_URI"] }
    static var available: Bool { amqpURL != nil && mongoURI != nil }

    /// A MongoDB URI naming a fresh database, so tests never see each other's documents.
    static func freshMongoURI() -> String {
        let base = mongoURI!
        let root = base.range(of: "/", options: .backwards).map { String(base[..<$0.lowerBound]) } ?? base
        return "\(root)/rf_\(UUID().uuidString.prefix(8).lowercased())"
    }

    static func freshPrefix() -> String { "rftest-\(UUID().uuidString.prefix(8).lowercased())" }

    /// The repository (the tests run from its root).
    static var repo: URL { URL(fileURLWithPath: FileManager.default.currentDirectoryPath) }

    /// Where the built executables are (scripts/test passes REELFORGE_BIN_DIR).
    static var binDir: URL {
        URL(fileURLWithPath: env["REELFORGE_BIN_DIR"] ?? FileManager.default.currentDirectoryPath + "/.build/debug")
    }

    static func mongoStore() throws -> (MongoJobStore, GridFSArtifactStore) {
        let client = try MongoClient(uri: freshMongoURI())
        return (MongoJobStore(client: client), GridFSArtifactStore(client: client))
    }

    static func rabbitQueue(retry: RetryPolicy = RetryPolicy(delays: [.milliseconds(200), .milliseconds(400)], maxRetries: 3, jitter: 0, jitterBuckets: 1),
                            deliveryLimit: Int = 4) throws -> RabbitMQWorkQueue {
        try RabbitMQWorkQueue(url: amqpURL!, topology: Topology(prefix: freshPrefix(), retry: retry, deliveryLimit: deliveryLimit),
                              logger: testLogger("amqp"))
    }
}
