import Foundation
import Logging
import ProviderClient
import Shared

/// The footage step of the video stage: for each paragraph, a picture from the job's sources in order (stock clips
/// and photos matched by the script's keywords for it, the idea's words when it has none; a media library file
/// whose name has those words; an image generated from the script's description of the paragraph). Stock files
/// are downloaded and stored once for every idea that uses them (`footage/<source>-<id>.<ext>`), generated images
/// once per paragraph of the idea; the choice is stored as the idea's `footage.json` before the render. A render
/// that fails or is killed finds that plan and neither searches, downloads nor pays again.
public struct FootageFetcher: Sendable {
    /// The worker's own sources, in its order (REELFORGE_FOOTAGE): for jobs that name none.
    public var sources: [FootageSource]
    /// The stock searches this worker has a key for.
    public var stock: [any FootageSearch]
    /// Generated images, when the worker has a key for an OpenAI-compatible Images API.
    public var generator: ImageGenerator?
    public var maxBytes: Int
    public var http: ProviderHTTP

    /// `sources` defaults to the stock searches in their order.
    public init(sources: [FootageSource]? = nil, stock: [any FootageSearch] = [], generator: ImageGenerator? = nil,
                maxBytes: Int = 200 << 20, timeout: Duration = .seconds(30)) {
        self.sources = sources ?? stock.map(\.source); self.stock = stock; self.generator = generator
        self.maxBytes = maxBytes; http = ProviderHTTP(timeout: timeout)
    }

    /// Whether this worker can serve a source: the media library always, the others with their key.
    public func serves(_ source: FootageSource) -> Bool {
        switch source {
        case .library: return true
        case .generated: return generator != nil
        case .pexels, .pixabay: return stock.contains { $0.source == source }
        }
    }

    /// What a job may ask for.
    public var available: [FootageSource] { FootageSource.allCases.filter(serves) }

    /// The sources of a job: those it asks for, in its order, else the worker's. A source the worker has no key
    /// for fails the job for good, with the reason (retrying would not give it a key).
    public func sources(for asked: [FootageSource]?) throws -> [FootageSource] {
        guard let asked else { return sources }
        for source in asked where !serves(source) {
            throw StageFailure.permanent("this video asks for \(source.rawValue) footage, but the video worker has no \(source.keyVariable ?? "way to get it")")
        }
        return asked
    }

    public static let planName = "footage.json"

    /// The stored plan of the idea when it was made for these sources and paragraphs, or a new one (searched,
    /// downloaded or generated, checked, stored).
    public func plan(_ input: StageInput, sources: [FootageSource], paragraphs: [ParagraphTiming], duration: Double, width: Int, height: Int,
                     logger: Logger) async throws -> FootagePlan {
        let planID = ArtifactKey.artifact(ideaID: input.idea.id, stage: .video, name: Self.planName)
        let planFile = input.workDir.appendingPathComponent(Self.planName)
        let asks = paragraphs.map { p in
            (query: p.keywords.isEmpty ? Self.words(of: input.idea.idea) : p.keywords.joined(separator: " "),
             description: p.imagePrompt ?? Self.description(keywords: p.keywords, idea: input.idea.idea))
        }
        let basis = ([sources.map(\.rawValue).joined(separator: ",")] + asks.map { "\($0.query)\u{1F}\($0.description)" }).joined(separator: "\u{1E}")
        if (try? await input.artifacts.get(id: planID, to: planFile)) != nil,
           let plan = try? JSONDecoder().decode(FootagePlan.self, from: Data(contentsOf: planFile)), plan.basis == nil || plan.basis == basis {
            logger.info("footage: reusing the stored plan (\(plan.items.count) of \(paragraphs.count) paragraphs)")
            return plan
        }
        var pick = Picking(stored: Set(try await input.artifacts.list(.footage)))
        for (i, paragraph) in paragraphs.enumerated() {
            let end = i + 1 < paragraphs.count ? paragraphs[i + 1].start : duration
            try await input.checkpoint()
            let want = Want(paragraph: i, query: asks[i].query, description: asks[i].description, keywords: paragraph.keywords,
                            seconds: end - paragraph.start, width: width, height: height)
            if let item = try await choose(sources, want, input: input, picking: &pick, logger: logger) {
                pick.items.append(item)
            } else {
                logger.info("footage: nothing found for paragraph \(i + 1) (\"\(want.query)\"); it keeps the background")
            }
        }
        let plan = FootagePlan(items: pick.items, basis: basis, costs: pick.costs)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(plan).write(to: planFile)
        _ = try await input.artifacts.put(id: planID, name: Self.planName, contentType: "application/json", from: planFile)
        logger.info("footage: \(plan.items.count) of \(paragraphs.count) paragraphs, \(pick.downloads) file(s) downloaded, the rest already stored")
        return plan
    }

    /// What one paragraph needs.
    struct Want {
        var paragraph: Int
        var query: String
        var description: String
        var keywords: [String]
        var seconds: Double
        var width: Int, height: Int
    }

    struct Picking {
        var stored: Set<String>
        var used: Set<String> = []
        var items: [FootageItem] = []
        /// Paid calls (generated images), for the ledger.
        var costs: [CostEntry] = []
        var downloads = 0
        /// The media library's names, read once per plan when `library` is asked.
        var library: [String]?
    }

    /// The first usable picture of the first source that has one (stock: videos before photos).
    func choose(_ sources: [FootageSource], _ want: Want, input: StageInput, picking: inout Picking, logger: Logger) async throws -> FootageItem? {
        for source in sources {
            switch source {
            case .generated:
                guard let generator else { continue }
                let made = try await generator.image(paragraph: want.paragraph, description: want.description, width: want.width,
                                                     height: want.height, maxBytes: maxBytes, input: input, logger: logger)
                if let cost = made.cost { picking.costs.append(cost) }
                if let item = made.item { return item }
            case .library:
                if picking.library == nil { picking.library = try await MediaLibrary.names(in: input.artifacts) }
                if let item = Self.fromLibrary(picking.library ?? [], want: want, used: picking.used) {
                    picking.used.insert(item.artifactID)
                    return item
                }
            case .pexels, .pixabay:
                guard let search = stock.first(where: { $0.source == source }) else { continue }
                if let item = try await stockItem(search, want, input: input, picking: &picking, logger: logger) { return item }
            }
        }
        return nil
    }

    /// The first usable candidate of a stock search, videos before photos.
    func stockItem(_ search: any FootageSearch, _ want: Want, input: StageInput, picking: inout Picking, logger: Logger) async throws -> FootageItem? {
        for kind in [FootageItem.Kind.video, .image] {
            let found = Self.ranked(try await search.search(want.query, kind: kind), seconds: want.seconds, height: want.height)
            for candidate in found {
                let id = ArtifactKey.footage("\(candidate.source.rawValue)-\(SafeName.file(candidate.id)).\(candidate.fileExtension)")
                if picking.used.contains(id) { continue }
                if !picking.stored.contains(id) {
                    guard try await fetch(candidate, id: id, input: input, logger: logger) else { continue }
                    picking.stored.insert(id); picking.downloads += 1
                }
                picking.used.insert(id)
                return FootageItem(paragraph: want.paragraph, source: candidate.source.rawValue, sourceID: candidate.id, kind: candidate.kind,
                                   artifactID: id, author: candidate.author, pageURL: candidate.pageURL, licence: candidate.licence)
            }
        }
        return nil
    }

    /// The media library file whose name has the most of the paragraph's keywords (at least one), not used yet
    /// in this video; nil when no name has any (the paragraph takes the next source).
    static func fromLibrary(_ names: [String], want: Want, used: Set<String>) -> FootageItem? {
        let wanted = BackgroundLibrary.tokens((want.keywords.isEmpty ? [want.query] : want.keywords).joined(separator: " "))
        let scored = names.map { ($0, BackgroundLibrary.score(BackgroundLibrary.tokens(($0 as NSString).deletingPathExtension), wanted)) }
            .filter { $0.1 > 0 && !used.contains(MediaLibrary.id($0.0)) }
        guard let best = scored.max(by: { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 > $1.0 }) else { return nil }
        let isVideo = BackgroundSource.videoExtensions.contains((best.0 as NSString).pathExtension.lowercased())
        return FootageItem(paragraph: want.paragraph, source: FootageSource.library.rawValue, sourceID: best.0, kind: isVideo ? .video : .image,
                           artifactID: MediaLibrary.id(best.0), author: nil, pageURL: nil, licence: "your media library")
    }

    /// A picture's description when the script gave none: the paragraph's keywords, in the idea's context.
    static func description(keywords: [String], idea: String) -> String {
        keywords.isEmpty ? "A picture illustrating: \(idea)" : "\(keywords.joined(separator: ", ")), illustrating: \(idea)"
    }

    /// Downloads a candidate (capped), checks that libav decodes it, stores it; false when it is not usable.
    func fetch(_ candidate: FootageCandidate, id: String, input: StageInput, logger: Logger) async throws -> Bool {
        let file = input.workDir.appendingPathComponent("download-\(SafeName.file(candidate.id)).\(candidate.fileExtension)")
        defer { try? FileManager.default.removeItem(at: file) }
        do {
            _ = try await http.download(candidate.download, to: file, maxBytes: maxBytes)
        } catch let problem as ProviderHTTP.DownloadProblem {
            logger.warning("footage: \(candidate.source.rawValue) \(candidate.kind.rawValue) \(candidate.id) skipped: \(problem)")
            return false
        }
        guard let probe = try? MediaProbe(url: file), let picture = probe.video, picture.width > 0, picture.height > 0 else {
            logger.warning("footage: \(candidate.source.rawValue) \(candidate.kind.rawValue) \(candidate.id) cannot be decoded; taking the next one")
            return false
        }
        _ = try await input.artifacts.put(id: id, name: URL(fileURLWithPath: id).lastPathComponent,
                                          contentType: candidate.kind == .video ? "video/mp4" : "image/jpeg", from: file)
        return true
    }

    /// The background of each paragraph: its footage, fetched from the store into the work folder, or `otherwise`.
    func background(_ plan: FootagePlan, paragraphs: Int, otherwise: BackgroundSource, input: StageInput) async throws -> BackgroundSource {
        guard !plan.items.isEmpty else { return otherwise }
        let folder = input.workDir.appendingPathComponent("footage")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        func fallback(_ i: Int) -> BackgroundSource {
            if case .sequence(let list) = otherwise, !list.isEmpty { return list[i % list.count] }
            return otherwise
        }
        var sources: [BackgroundSource] = []
        for i in 0..<max(1, paragraphs) {
            guard let item = plan.items.first(where: { $0.paragraph == i }) else { sources.append(fallback(i)); continue }
            let file = folder.appendingPathComponent(URL(fileURLWithPath: item.artifactID).lastPathComponent)
            if !FileManager.default.fileExists(atPath: file.path) { try await input.artifacts.get(id: item.artifactID, to: file) }
            sources.append(item.kind == .video ? .video(file) : .image(file))
        }
        return sources.count == 1 ? sources[0] : .sequence(sources)
    }

    /// Portrait first, then those that last the paragraph, then those at least as tall as the video; the
    /// provider's order otherwise.
    static func ranked(_ found: [FootageCandidate], seconds: Double, height: Int) -> [FootageCandidate] {
        func score(_ c: FootageCandidate) -> Int {
            (c.height >= c.width ? 4 : 0) + ((c.seconds ?? .infinity) >= seconds ? 2 : 0) + (c.height >= height ? 1 : 0)
        }
        return found.enumerated().sorted { a, b in
            let sa = score(a.element), sb = score(b.element)
            return sa != sb ? sa > sb : a.offset < b.offset
        }.map(\.element)
    }

    /// A search query from an idea: its first words.
    static func words(of idea: String) -> String {
        idea.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).prefix(6).joined(separator: " ")
    }
}
