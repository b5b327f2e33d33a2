import EmbeddedStore
import Foundation
import Shared

/// The home folder of `reelforge make` (`.reelforge/` by default): `store.sqlite` holds ideas and jobs,
/// `artifacts/` their files and the media library. The CLI's `--home DIR` reads it instead of the services.
public enum EmbeddedHome {
    /// The job store of a home folder that `make` has used; a clear error when it has none.
    public static func existingStore(_ home: String) throws -> any JobStore {
        let path = url(home).appendingPathComponent("store.sqlite").path
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigError.invalid("--home", "\(home) holds no embedded store ('reelforge make --home \(home)' creates one)")
        }
        return try RecordJobStore.sqlite(path: path)
    }

    public static func artifacts(_ home: String) throws -> DirectoryArtifactStore {
        try DirectoryArtifactStore(root: url(home).appendingPathComponent("artifacts"))
    }

    static func url(_ home: String) -> URL { URL(fileURLWithPath: home).standardizedFileURL }

    /// The failed jobs of a store, newest ideas first: what `make` could not finish (it parks nothing in a queue
    /// that outlives the process; the job's last error is its reason).
    public static func failedJobs(in store: any JobStore) async throws -> [JobRecord] {
        var failed: [JobRecord] = []
        for idea in try await store.ideas(limit: 100_000) {
            failed += try await store.jobs(ideaID: idea.id).filter { $0.status == .failed }
        }
        return failed
    }
}
