import Foundation
import Logging
import ProviderClient
import Shared

/// The footage step of the video stage: for each paragraph, a clip or photo from the configured sources (in order),
/// matched by the script's keywords for it (the idea's words when it has none), each file downloaded and stored
/// once for every idea that uses it (`footage/<source>-<id>.<ext>`), the choice stored as the idea's
/// `footage.json` before the render. A render that fails or is killed finds that plan and fetches nothing again.
public struct FootageFetcher: Sendable {
    /// The worker's own sources, in its order (REELFORGE_FOOTAGE): for jobs that name none.
    public var searches: [any FootageSearch]
    /// Every source this worker has a key for: what a job may ask for.
    public var available: [any FootageSearch]
    public var maxBytes: Int
    public var http: ProviderHTTP

    public init(searches: [any FootageSearch], available: [any FootageSearch]? = nil, maxBytes: Int = 200 << 20,
                timeout: Duration = .seconds(30)) {
        self.searches = searches; self.available = available ?? searches; self.maxBytes = maxBytes; http = ProviderHTTP(timeout: timeout)
    }

    /// The searches for a job: the sources it asks for, in its order, else the worker's. A source the worker has
    /// no key for fails the job for good, with the reason (retrying would not give it a key).
    public static func searches(for asked: [FootageSource]?, on fetcher: FootageFetcher?) throws -> [any FootageSearch] {
        guard let asked else { return fetcher?.searches ?? [] }
        return try asked.map { source in
            guard let found = fetcher?.available.first(where: { $0.source == source }) else {
                throw StageFailure.permanent("this video asks for \(source.rawValue) footage, but the video worker has no \(source.keyVariable)")
            }
            return found
        }
    }

    public static let planName = "footage.json"

    /// The stored plan of the idea, or a new one (searched, downloaded, checked, stored).
    public func plan(_ input: StageInput, using searches: [any FootageSearch], paragraphs: [ParagraphTiming], duration: Double, height: Int,
                     logger: Logger) async throws -> FootagePlan {
        let planID = ArtifactKey.artifact(ideaID: input.idea.id, stage: .video, name: Self.planName)
        let planFile = input.workDir.appendingPathComponent(Self.planName)
        if (try? await input.artifacts.get(id: planID, to: planFile)) != nil, let plan = try? JSONDecoder().decode(FootagePlan.self, from: Data(contentsOf: planFile)) {
            logger.info("footage: reusing the stored plan (\(plan.items.count) of \(paragraphs.count) paragraphs)")
            return plan
        }
        var pick = Picking(stored: Set(try await input.artifacts.list(.footage)))
        for (i, paragraph) in paragraphs.enumerated() {
            let end = i + 1 < paragraphs.count ? paragraphs[i + 1].start : duration
            let query = paragraph.keywords.isEmpty ? Self.words(of: input.idea.idea) : paragraph.keywords.joined(separator: " ")
            try await input.checkpoint()
            if let item = try await choose(searches, paragraph: i, query: query, seconds: end - paragraph.start, height: height, input: input,
                                           picking: &pick, logger: logger) {
                pick.items.append(item)
            } else {
                logger.info("footage: nothing found for paragraph \(i + 1) (\"\(query)\"); it keeps the background")
            }
        }
        let plan = FootagePlan(items: pick.items)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(plan).write(to: planFile)
        _ = try await input.artifacts.put(id: planID, name: Self.planName, contentType: "application/json", from: planFile)
        logger.info("footage: \(plan.items.count) of \(paragraphs.count) paragraphs, \(pick.downloads) file(s) downloaded, the rest already stored")
        return plan
    }

    struct Picking {
        var stored: Set<String>
        var used: Set<String> = []
        var items: [FootageItem] = []
        var downloads = 0
    }

    /// The first usable candidate of the first source that has one, videos before photos.
    func choose(_ searches: [any FootageSearch], paragraph: Int, query: String, seconds: Double, height: Int, input: StageInput, picking: inout Picking,
                logger: Logger) async throws -> FootageItem? {
        for search in searches {
            for kind in [FootageItem.Kind.video, .image] {
                let found = Self.ranked(try await search.search(query, kind: kind), seconds: seconds, height: height)
                for candidate in found {
                    let id = ArtifactKey.footage("\(candidate.source.rawValue)-\(SafeName.file(candidate.id)).\(candidate.fileExtension)")
                    if picking.used.contains(id) { continue }
                    if !picking.stored.contains(id) {
                        guard try await fetch(candidate, id: id, input: input, logger: logger) else { continue }
                        picking.stored.insert(id); picking.downloads += 1
                    }
                    picking.used.insert(id)
                    return FootageItem(paragraph: paragraph, source: candidate.source.rawValue, sourceID: candidate.id, kind: candidate.kind,
                                       artifactID: id, author: candidate.author, pageURL: candidate.pageURL, licence: candidate.licence)
                }
            }
        }
        return nil
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
