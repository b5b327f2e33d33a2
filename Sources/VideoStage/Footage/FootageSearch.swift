import Foundation
import ProviderClient
import Shared

/// A clip or photo a provider offers for a query.
public struct FootageCandidate: Sendable, Hashable {
    public var source: FootageSource
    public var id: String
    public var kind: FootageItem.Kind
    public var download: URL
    public var fileExtension: String
    public var author: String?
    public var pageURL: String?
    public var licence: String
    public var seconds: Double?
    public var width: Int
    public var height: Int
}

/// A stock footage provider's search: candidates for a query, best first as the provider ranks them. No result
/// is an empty list, not an error; 429 and 5xx are transient failures, 401 and 403 permanent.
public protocol FootageSearch: Sendable {
    var source: FootageSource { get }
    func search(_ query: String, kind: FootageItem.Kind) async throws -> [FootageCandidate]
}

/// A stock provider's account: its key (registered with the Redactor, so it never reaches a log or an error),
/// its base URL, and a GET of its JSON with failures classified for the retry policy.
struct FootageAccount: Sendable {
    let provider: String
    let key: String
    let base: URL
    let http: ProviderHTTP

    init(_ provider: String, key: String, base: URL, timeout: Duration) {
        self.provider = provider; self.key = key; self.base = base; http = ProviderHTTP(timeout: timeout)
        Redactor.shared.register(key)
    }

    func json(_ path: String, query: [URLQueryItem], headers: [String: String] = [:]) async throws -> JSONValue {
        var url = URLComponents(url: base.appendingPathComponent(path), resolvingAgainstBaseURL: false)!
        url.queryItems = query
        let r = try await http.get(url.url!, headers: headers, call: ProviderCall(provider: provider, units: 1))
        guard (200..<300).contains(r.status) else { throw ProviderHTTP.failure(r, provider: provider) }
        return try JSONValue.parse(r.body)
    }
}

/// Pexels (`/videos/search`, `/v1/search`; the key in the `Authorization` header). Licence: the Pexels licence.
public struct PexelsSearch: FootageSearch {
    public let source = FootageSource.pexels
    let account: FootageAccount

    public init(key: String, base: URL, timeout: Duration = .seconds(30)) {
        account = FootageAccount("pexels", key: key, base: base, timeout: timeout)
    }

    public func search(_ query: String, kind: FootageItem.Kind) async throws -> [FootageCandidate] {
        let json = try await account.json(kind == .video ? "videos/search" : "v1/search",
                                          query: [URLQueryItem(name: "query", value: query), URLQueryItem(name: "orientation", value: "portrait"),
                                                  URLQueryItem(name: "per_page", value: "15")],
                                          headers: ["Authorization": account.key])
        return kind == .video ? (json["videos"]?.arrayValue ?? []).compactMap(video) : (json["photos"]?.arrayValue ?? []).compactMap(photo)
    }

    func video(_ v: JSONValue) -> FootageCandidate? {
        // The MP4 rendition closest above 1920 lines, else the largest.
        let files = (v["video_files"]?.arrayValue ?? []).filter { ($0["file_type"]?.stringValue ?? "video/mp4") == "video/mp4" }
        let sized = files.compactMap { f -> (URL, Int, Int)? in
            guard let link = f["link"]?.stringValue.flatMap(URL.init(string:)) else { return nil }
            return (link, Int(f["width"]?.intValue ?? 0), Int(f["height"]?.intValue ?? 0))
        }
        guard let id = v["id"]?.intValue, let pick = sized.filter({ $0.2 >= 1920 }).min(by: { $0.2 < $1.2 }) ?? sized.max(by: { $0.2 < $1.2 }) else {
            return nil
        }
        return FootageCandidate(source: .pexels, id: String(id), kind: .video, download: pick.0, fileExtension: "mp4",
                                author: v["user"]?["name"]?.stringValue, pageURL: v["url"]?.stringValue, licence: "Pexels License",
                                seconds: v["duration"]?.doubleValue, width: pick.1, height: pick.2)
    }

    func photo(_ p: JSONValue) -> FootageCandidate? {
        guard let id = p["id"]?.intValue,
              let link = (p["src"]?["portrait"] ?? p["src"]?["large2x"] ?? p["src"]?["original"])?.stringValue.flatMap(URL.init(string:)) else { return nil }
        return FootageCandidate(source: .pexels, id: String(id), kind: .image, download: link, fileExtension: "jpg",
                                author: p["photographer"]?.stringValue, pageURL: p["url"]?.stringValue, licence: "Pexels License",
                                seconds: nil, width: Int(p["width"]?.intValue ?? 0), height: Int(p["height"]?.intValue ?? 0))
    }
}

/// Pixabay (`/api/videos/`, `/api/`; the key is a query parameter, never logged). Licence: the Pixabay Content License.
public struct PixabaySearch: FootageSearch {
    public let source = FootageSource.pixabay
    let account: FootageAccount

    public init(key: String, base: URL, timeout: Duration = .seconds(30)) {
        account = FootageAccount("pixabay", key: key, base: base, timeout: timeout)
    }

    public func search(_ query: String, kind: FootageItem.Kind) async throws -> [FootageCandidate] {
        let items = [URLQueryItem(name: "key", value: account.key), URLQueryItem(name: "q", value: query),
                     URLQueryItem(name: "per_page", value: "20"), URLQueryItem(name: "safesearch", value: "true")]
            + (kind == .image ? [URLQueryItem(name: "image_type", value: "photo"), URLQueryItem(name: "orientation", value: "vertical")] : [])
        let json = try await account.json(kind == .video ? "api/videos/" : "api/", query: items)
        return (json["hits"]?.arrayValue ?? []).compactMap { hit in
            guard let id = hit["id"]?.intValue else { return nil }
            let page = hit["pageURL"]?.stringValue, author = hit["user"]?.stringValue
            if kind == .video {
                let renditions = ["large", "medium", "small"].compactMap { hit["videos"]?[$0] }
                guard let r = renditions.first(where: { ($0["url"]?.stringValue ?? "").isEmpty == false }),
                      let link = r["url"]?.stringValue.flatMap(URL.init(string:)) else { return nil }
                return FootageCandidate(source: .pixabay, id: String(id), kind: .video, download: link, fileExtension: "mp4",
                                        author: author, pageURL: page, licence: "Pixabay Content License", seconds: hit["duration"]?.doubleValue,
                                        width: Int(r["width"]?.intValue ?? 0), height: Int(r["height"]?.intValue ?? 0))
            }
            guard let link = hit["largeImageURL"]?.stringValue.flatMap(URL.init(string:)) else { return nil }
            return FootageCandidate(source: .pixabay, id: String(id), kind: .image, download: link, fileExtension: "jpg",
                                    author: author, pageURL: page, licence: "Pixabay Content License", seconds: nil,
                                    width: Int(hit["imageWidth"]?.intValue ?? 0), height: Int(hit["imageHeight"]?.intValue ?? 0))
        }
    }
}
