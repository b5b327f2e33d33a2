import Foundation

/// Where the pictures behind a video's paragraphs come from, in order of preference: for each paragraph the first
/// source that finds something wins; a paragraph none of them fills keeps the configured background
/// (`REELFORGE_FOOTAGE`, e.g. `pexels,pixabay`). Only these names: never a URL or a path.
public enum FootageSource: String, Sendable, Codable, CaseIterable {
    case pexels, pixabay

    public static let variable = "REELFORGE_FOOTAGE"

    /// The variable holding this source's key (or `<it>_FILE`).
    public var keyVariable: String { self == .pexels ? "PEXELS_API_KEY" : "PIXABAY_API_KEY" }

    /// `pexels,pixabay` in that order; an unknown name is an error naming the known ones.
    public static func list(_ text: String, name: String = variable) throws -> [FootageSource] {
        var out: [FootageSource] = []
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) where !part.isEmpty {
            guard let source = FootageSource(rawValue: part) else {
                throw ConfigError.invalid(name, "must be a comma-separated list of \(allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if !out.contains(source) { out.append(source) }
        }
        return out
    }
}

/// One picture behind one paragraph, and where it came from.
public struct FootageItem: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable { case video, image }
    public var paragraph: Int
    public var source: String
    public var sourceID: String
    public var kind: Kind
    /// The stored file, shared by every idea that uses it (`footage/<source>-<id>.<ext>`).
    public var artifactID: String
    public var author: String?
    public var pageURL: String?
    public var licence: String

    enum CodingKeys: String, CodingKey {
        case paragraph, source, sourceID = "source_id", kind, artifactID = "artifact_id", author, pageURL = "page_url", licence
    }

    public init(paragraph: Int, source: String, sourceID: String, kind: Kind, artifactID: String, author: String?, pageURL: String?,
                licence: String) {
        self.paragraph = paragraph; self.source = source; self.sourceID = sourceID; self.kind = kind; self.artifactID = artifactID
        self.author = author; self.pageURL = pageURL; self.licence = licence
    }
}

/// The footage step's result, stored before the render (`idea/<id>/video/footage.json`): a render that fails or is
/// killed finds it and neither searches nor downloads again.
public struct FootagePlan: Codable, Sendable, Hashable {
    public var items: [FootageItem]
    public init(items: [FootageItem]) { self.items = items }

    /// `credits.txt`: every clip and photo used, with its author, page and licence, as the providers ask.
    public var credits: String {
        guard !items.isEmpty else { return "No stock footage in this video.\n" }
        var seen = Set<String>()
        let lines = items.filter { seen.insert($0.artifactID).inserted }.map { item in
            let what = item.kind == .video ? "Video" : "Photo"
            let by = item.author.map { " by \($0)" } ?? ""
            let page = item.pageURL.map { " — \($0)" } ?? ""
            return "\(what)\(by) on \(item.source.capitalized)\(page) (\(item.licence))"
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
