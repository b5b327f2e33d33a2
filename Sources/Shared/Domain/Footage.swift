import Foundation

/// Where the pictures behind a video's paragraphs come from, in order of preference: for each paragraph the first
/// source that finds something wins; a paragraph none of them fills keeps the configured background
/// (`REELFORGE_FOOTAGE`, e.g. `pexels,pixabay,library,generated`). Only these names: never a URL or a path.
/// `library` is the media library in the store (a file whose name matches the paragraph's keywords);
/// `generated` an image made for the paragraph by an OpenAI-compatible Images API (a paid call).
public enum FootageSource: String, Sendable, Codable, CaseIterable {
    case pexels, pixabay, library, generated

    public static let variable = "REELFORGE_FOOTAGE"

    /// The variable holding this source's key (or `<it>_FILE`); nil for the media library, which needs none.
    public var keyVariable: String? {
        switch self {
        case .pexels: return "PEXELS_API_KEY"
        case .pixabay: return "PIXABAY_API_KEY"
        case .generated: return "OPENAI_API_KEY"
        case .library: return nil
        }
    }

    /// `pexels,pixabay` in that order; an unknown name is an error naming the known ones.
    public static func list(_ text: String, name: String = variable) throws -> [FootageSource] {
        var out: [FootageSource] = []
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) where !part.isEmpty {
            guard let source = FootageSource(rawValue: part) else {
                throw ConfigError.invalid(name, "must be a comma-separated list of \(choicesText)")
            }
            if !out.contains(source) { out.append(source) }
        }
        return out
    }

    public static var choicesText: String { allCases.map(\.rawValue).joined(separator: ", ") }
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
    /// What the plan was made for (the sources and each paragraph's query and image prompt): a plan made for
    /// another script (the script stage ran again) or other sources is made again.
    public var basis: String?
    /// The paid calls the plan's pictures took (generated images, one entry each, also one that came back
    /// unusable): they reach the cost ledger with the video's checkpoint, once.
    public var costs: [CostEntry]

    public init(items: [FootageItem], basis: String? = nil, costs: [CostEntry] = []) { self.items = items; self.basis = basis; self.costs = costs }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        items = try c.decode([FootageItem].self, forKey: .items)
        basis = try c.decodeIfPresent(String.self, forKey: .basis)
        costs = try c.decodeIfPresent([CostEntry].self, forKey: .costs) ?? []
    }

    /// The paid calls not yet in `ledger` (an explicit re-render reuses the plan and pays nothing new).
    public func unrecorded(in ledger: [CostEntry]) -> [CostEntry] { costs.filter { !$0.isRecorded(in: ledger) } }

    /// `credits.txt`: every clip and photo used, with its author, page and licence, as the providers ask.
    public var credits: String {
        guard !items.isEmpty else { return "No stock footage in this video.\n" }
        var seen = Set<String>()
        let lines = items.filter { seen.insert($0.artifactID).inserted }.map { item in
            let by = item.author.map { " by \($0)" } ?? ""
            let page = item.pageURL.map { " — \($0)" } ?? ""
            switch FootageSource(rawValue: item.source) {
            case .generated: return "Image for paragraph \(item.paragraph + 1) generated\(by) (\(item.licence))"
            case .library: return "\(item.kind == .video ? "Video" : "Image") \(item.sourceID) from the media library (\(item.licence))"
            default: return "\(item.kind == .video ? "Video" : "Photo")\(by) on \(item.source.capitalized)\(page) (\(item.licence))"
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
