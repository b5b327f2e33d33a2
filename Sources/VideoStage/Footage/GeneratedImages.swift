import Foundation
import Logging
import ProviderClient
import Shared

/// The `generated` footage source: one picture a paragraph from an OpenAI-compatible Images API
/// (`POST {base}/images/generations`), described by the script's image prompt for that paragraph. Each image is a
/// paid call, so it is stored with its record (prompt, model, size, cost) in the idea's artifacts the moment it
/// arrives (`idea/<id>/video/generated-<n>.*`) and found there again by any later attempt: a paragraph of an idea is
/// never generated twice for the same prompt. Its cost reaches the ledger with the video's checkpoint.
public struct ImageGenerator: Sendable {
    let key: String
    let base: URL
    public let model: String
    /// USD per image, for the cost ledger.
    public let pricePerImage: Double
    let http: ProviderHTTP

    public init(key: String, base: URL, model: String = "gpt-image-1", pricePerImage: Double? = nil, timeout: Duration = .seconds(180)) {
        self.key = key; self.base = base; self.model = model
        self.pricePerImage = pricePerImage ?? Self.knownPrice(model)
        http = ProviderHTTP(timeout: timeout)
        Redactor.shared.register(key)
    }

    /// List prices of a portrait image at the default quality (USD); other models cost 0 unless configured.
    static func knownPrice(_ model: String) -> Double {
        let m = model.lowercased()
        if m.hasPrefix("gpt-image-1-mini") { return 0.015 }
        if m.hasPrefix("gpt-image-1") { return 0.063 }
        if m.hasPrefix("dall-e-3") { return 0.08 }
        if m.hasPrefix("dall-e-2") { return 0.02 }
        return 0
    }

    /// The size asked for a frame of `width`×`height`: the model's sizes of that orientation (DALL·E 2 makes squares only).
    func size(width: Int, height: Int) -> String {
        let m = model.lowercased()
        let portrait = height > width, landscape = width > height
        if m.hasPrefix("dall-e-2") { return "1024x1024" }
        if m.hasPrefix("dall-e-3") { return portrait ? "1024x1792" : landscape ? "1792x1024" : "1024x1024" }
        return portrait ? "1024x1536" : landscape ? "1536x1024" : "1024x1024"
    }

    /// What is asked of the model: the paragraph's description, framed for a background picture.
    static func prompt(_ description: String, width: Int, height: Int) -> String {
        let shape = height > width ? "vertical (portrait)" : width > height ? "horizontal (landscape)" : "square"
        return "\(description)\n\nA \(shape) photograph used as the background of a narrated short video. "
            + "No text, letters, captions, logos or watermarks anywhere in the picture."
    }

    /// The record kept beside a generated image.
    struct Record: Codable {
        var prompt: String
        var model: String
        var size: String
        /// The stored image; nil when the paid answer held no usable picture (kept too: never paid for again).
        var file: String?
        var cost: CostEntry
    }

    /// What one paragraph's generation gave: the picture (nil when refused or unusable: the paragraph takes the
    /// next source) and the call paid for it (nil when refused: a refusal is not billed).
    struct Outcome {
        var item: FootageItem?
        var cost: CostEntry?
    }

    /// The image for paragraph `paragraph`: the one stored for the same prompt, model and size, else a new one
    /// (paid, stored at once). No picture when the provider refuses this prompt (its safety system) or sends none
    /// usable. 401/403 and other client errors fail the job for good, 429 and 5xx are transient (the retry finds
    /// the images made before).
    func image(paragraph: Int, description: String, width: Int, height: Int, maxBytes: Int, input: StageInput,
               logger: Logger) async throws -> Outcome {
        let prompt = Self.prompt(description, width: width, height: height)
        let size = size(width: width, height: height)
        let recordID = ArtifactKey.artifact(ideaID: input.idea.id, stage: .video, name: "generated-\(paragraph + 1).json")
        let recordFile = input.workDir.appendingPathComponent("generated-\(paragraph + 1).json")
        if (try? await input.artifacts.get(id: recordID, to: recordFile)) != nil,
           let record = try? JSONDecoder().decode(Record.self, from: Data(contentsOf: recordFile)),
           record.prompt == prompt, record.model == model, record.size == size {
            logger.info("footage: paragraph \(paragraph + 1) reuses its generated image (\(record.model), paid once)")
            return Outcome(item: record.file.map { item(paragraph: paragraph, file: $0, model: record.model) }, cost: record.cost)
        }
        try await input.checkpoint()
        var body: [String: JSONValue] = ["model": .string(model), "prompt": .string(prompt), "n": 1, "size": .string(size)]
        if model.lowercased().hasPrefix("dall-e") { body["response_format"] = "b64_json" }
        let r = try await http.postJSON(base.appendingPathComponent("images/generations"), headers: ["Authorization": "Bearer \(key)"],
                                        body: .object(body), call: ProviderCall(provider: "openai", model: model, units: 1))
        // To the millisecond, as the stores keep dates: how the ledger recognises this payment (`CostEntry.isRecorded`).
        let paidAt = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded(.down) / 1000)
        guard (200..<300).contains(r.status) else {
            let failure = ProviderHTTP.failure(r, provider: "images")
            if r.status == 400, Self.isRefusal(r.body) {
                logger.warning("footage: the image provider refused paragraph \(paragraph + 1)'s prompt: \(failure.message)")
                return Outcome()
            }
            throw failure
        }
        let cost = CostEntry(stage: .video, attempt: input.attempt, provider: "images:\(model)", units: 1, unit: "images",
                             costUSD: pricePerImage, at: paidAt)
        let file = input.workDir.appendingPathComponent("generated-\(paragraph + 1).download")
        defer { try? FileManager.default.removeItem(at: file) }
        var stored: String?
        if try await usablePicture(in: r.body, to: file, maxBytes: maxBytes, logger: logger), let ext = Self.imageExtension(of: file) {
            let imageID = ArtifactKey.artifact(ideaID: input.idea.id, stage: .video, name: "generated-\(paragraph + 1).\(ext)")
            _ = try await input.artifacts.put(id: imageID, name: "generated-\(paragraph + 1).\(ext)",
                                              contentType: ext == "png" ? "image/png" : ext == "webp" ? "image/webp" : "image/jpeg", from: file)
            stored = imageID
            logger.info("footage: generated paragraph \(paragraph + 1)'s image with \(model) (\(size), \(String(format: "$%.3f", pricePerImage)))")
        } else {
            logger.warning("footage: the image made for paragraph \(paragraph + 1) cannot be used; the paragraph takes the next source")
        }
        let record = Record(prompt: prompt, model: model, size: size, file: stored, cost: cost)
        try JSONEncoder().encode(record).write(to: recordFile)
        _ = try await input.artifacts.put(id: recordID, name: recordFile.lastPathComponent, contentType: "application/json", from: recordFile)
        return Outcome(item: stored.map { item(paragraph: paragraph, file: $0, model: model) }, cost: cost)
    }

    /// The answer's picture written to `file` and decodable by libav; false for anything else, also a link that
    /// cannot be fetched (the call is paid: a retry would pay again for the same paragraph).
    func usablePicture(in body: Data, to file: URL, maxBytes: Int, logger: Logger) async throws -> Bool {
        do {
            guard try await picture(in: body, to: file, maxBytes: maxBytes, logger: logger) else { return false }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            logger.warning("footage: the generated image could not be fetched: \(error)")
            return false
        }
        guard let probe = try? MediaProbe(url: file), let video = probe.video else { return false }
        return video.width > 0 && video.height > 0
    }

    func item(paragraph: Int, file: String, model: String) -> FootageItem {
        FootageItem(paragraph: paragraph, source: FootageSource.generated.rawValue, sourceID: "paragraph-\(paragraph + 1)", kind: .image,
                    artifactID: file, author: model, pageURL: nil,
                    licence: "generated for this video; no third-party licence")
    }

    /// The picture of an answer (`data[0].b64_json`, or `data[0].url` downloaded) written to `file`, at most `maxBytes`.
    func picture(in body: Data, to file: URL, maxBytes: Int, logger: Logger) async throws -> Bool {
        guard let json = try? JSONValue.parse(body), let first = json["data"]?.arrayValue?.first else { return false }
        if let b64 = first["b64_json"]?.stringValue {
            guard b64.utf8.count / 4 * 3 <= maxBytes, let data = Data(base64Encoded: b64, options: .ignoreUnknownCharacters) else { return false }
            try data.write(to: file)
            return true
        }
        guard let link = first["url"]?.stringValue.flatMap(URL.init(string:)), ["http", "https"].contains(link.scheme ?? "") else { return false }
        do {
            _ = try await http.download(link, to: file, maxBytes: maxBytes)
            return true
        } catch let problem as ProviderHTTP.DownloadProblem {
            logger.warning("footage: the generated image could not be downloaded: \(problem)")
            return false
        }
    }

    /// `png`, `jpg` or `webp` by the file's first bytes; nil for anything else.
    static func imageExtension(of file: URL) -> String? {
        guard let handle = try? FileHandle(forReadingFrom: file), let head = try? handle.read(upToCount: 12) else { return nil }
        try? handle.close()
        let b = [UInt8](head)
        if b.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return "png" }
        if b.starts(with: [0xFF, 0xD8, 0xFF]) { return "jpg" }
        if b.count >= 12, b[0..<4] == [0x52, 0x49, 0x46, 0x46], b[8..<12] == [0x57, 0x45, 0x42, 0x50] { return "webp" }
        return nil
    }

    /// A 400 that is the provider's safety system turning down this prompt, not a mistake in the request.
    static func isRefusal(_ body: Data) -> Bool {
        let text = String(decoding: body.prefix(4000), as: UTF8.self).lowercased()
        return ["content_policy_violation", "moderation_blocked", "safety system", "safety_violation"].contains { text.contains($0) }
    }
}
