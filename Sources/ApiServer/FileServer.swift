import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Shared

/// Serves stored artifacts with HTTP range requests (a browser's player seeks with them): the file is fetched
/// from the artifact store once into a local cache folder (GridFS or the embedded store), then read in ranges.
struct FileServer: Sendable {
    let cache: URL

    init(cache: URL) throws {
        self.cache = cache
        try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
    }

    func serve(_ ref: ArtifactRef, request: Request, context: ApiContext, store: any ArtifactStore) async throws -> Response {
        let local = cache.appendingPathComponent(SafeName.file(ref.id.replacingOccurrences(of: "/", with: "_")))
        let size = (try? FileManager.default.attributesOfItem(atPath: local.path)[.size] as? Int) ?? nil
        if size != ref.size {
            // Fetched under a temporary name and moved in place: a concurrent request never reads half a file.
            let part = local.appendingPathExtension("part-\(UUID().uuidString.prefix(8))")
            do { try await store.get(id: ref.id, to: part) } catch StoreError.notFound {
                throw ApiError.notFound("the file \(ref.name) is no longer stored")
            }
            _ = try? FileManager.default.removeItem(at: local)
            try FileManager.default.moveItem(at: part, to: local)
        }
        let length = ref.size
        var headers: HTTPFields = [.contentType: ref.contentType, .acceptRanges: "bytes", .cacheControl: "private, max-age=3600",
                                   .contentDisposition: "inline; filename=\"\(ref.name)\""]
        let fileIO = FileIO()
        guard let rangeHeader = request.headers[.range] else {
            headers[.contentLength] = String(length)
            return Response(status: .ok, headers: headers, body: try await fileIO.loadFile(path: local.path, context: context))
        }
        switch Self.range(rangeHeader, size: length) {
        case .whole:
            headers[.contentLength] = String(length)
            return Response(status: .ok, headers: headers, body: try await fileIO.loadFile(path: local.path, context: context))
        case .unsatisfiable:
            var e = ApiError(.rangeNotSatisfiable, "range_not_satisfiable", "the range is outside the file's \(length) bytes")
            e.headers[.contentRange] = "bytes */\(length)"
            throw e
        case .part(let r):
            headers[.contentRange] = "bytes \(r.lowerBound)-\(r.upperBound)/\(length)"
            headers[.contentLength] = String(r.count)
            return Response(status: .partialContent, headers: headers, body: try await fileIO.loadFile(path: local.path, range: r, context: context))
        }
    }

    enum RangeAnswer: Equatable { case whole, part(ClosedRange<Int>), unsatisfiable }

    /// One `bytes=` range (RFC 9110): `a-b`, `a-` or the last `n` bytes (`-n`); several ranges, or another unit,
    /// are answered with the whole file.
    static func range(_ header: String, size: Int) -> RangeAnswer {
        let value = header.trimmingCharacters(in: .whitespaces)
        guard value.lowercased().hasPrefix("bytes="), !value.contains(",") else { return .whole }
        let spec = value.dropFirst("bytes=".count).trimmingCharacters(in: .whitespaces)
        guard let dash = spec.firstIndex(of: "-") else { return .unsatisfiable }
        let first = spec[..<dash].trimmingCharacters(in: .whitespaces), last = spec[spec.index(after: dash)...].trimmingCharacters(in: .whitespaces)
        guard size > 0 else { return .unsatisfiable }
        if first.isEmpty {
            guard let n = Int(last), n > 0 else { return .unsatisfiable }
            return .part(max(0, size - n)...(size - 1))
        }
        guard let a = Int(first), a >= 0, a < size else { return .unsatisfiable }
        if last.isEmpty { return .part(a...(size - 1)) }
        guard let b = Int(last), b >= a else { return .unsatisfiable }
        return .part(a...min(b, size - 1))
    }
}
