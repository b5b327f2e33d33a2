import Foundation
import ProviderClient
import Shared

extension StageModule {
    /// The video stage: the local renderer with the REELFORGE_VIDEO_*, background, music and subtitle settings.
    public static let video = StageModule(stage: .video, variables: RenderOptions.variables + FootageFetcher.variables) { settings in
        let options = try RenderOptions(settings)
        let footage = try FootageFetcher(settings)
        let own = footage.sources.map(\.rawValue).joined(separator: ",")
        let sources = (own.isEmpty ? "off" : own) + " (jobs may ask for \(footage.available.map(\.rawValue).joined(separator: ",")))"
        return Built(executor: VideoStageExecutor(renderer: VideoRenderer(options: options), footage: footage),
                     summary: "video=\(options.width)x\(options.height)@\(options.fps) \(options.preset) crf \(options.crf) footage=\(sources)")
    }
}

extension RenderOptions {
    static let variables: [StageModule.Variable] = [
        ("REELFORGE_VIDEO_SIZE", "WIDTHxHEIGHT (default 1080x1920)"),
        ("REELFORGE_VIDEO_FPS", "frames per second (default 30)"),
        ("REELFORGE_VIDEO_PRESET", "libx264 preset (default veryfast)"),
        ("REELFORGE_VIDEO_CRF", "libx264 CRF (default 23)"),
        ("REELFORGE_VIDEO_THREADS", "encoder threads, 0 = automatic (default 0)"),
        ("REELFORGE_LOOP_SPILL_MB", "a background clip that loops is decoded once and replayed from a scratch file in the job's work folder up to this size, 0 = off (default 1024)"),
        ("REELFORGE_BACKGROUND", "#RRGGBB, #TOP:#BOTTOM gradient, an image or a video file, a folder of them (one a paragraph, picked by the script's keywords), media:NAME or media: (a file, or the whole library, of the media library in the store) or several separated by commas (one a paragraph, in order) (default a dark blue gradient)"),
        ("REELFORGE_MUSIC", "an audio file played under the narration, looped and ducked while the voice speaks (off)"),
        ("REELFORGE_MUSIC_LEVEL_DB", "music level in dB without voice (default -20; 12 dB lower under the voice)"),
        ("REELFORGE_SUBTITLE_PRESET", "captions of jobs that name no style: classic, or shorts (large, the spoken word highlighted, inside the platforms' safe area) (default classic)"),
        ("REELFORGE_SUBTITLE_STYLE", "a JSON file of subtitle style laid over the preset (fonts, font_size, color, stroke_color, stroke_width, margins, box_color, highlight_color)"),
    ]

    /// The render settings the environment gives, over the defaults.
    public init(_ settings: SettingsReader) throws {
        self.init()
        if let size = settings.text("REELFORGE_VIDEO_SIZE") { try setSize(size, name: "REELFORGE_VIDEO_SIZE") }
        fps = try settings.integer("REELFORGE_VIDEO_FPS", 30, 1...120)
        preset = settings.text("REELFORGE_VIDEO_PRESET", default: "veryfast")
        crf = try settings.integer("REELFORGE_VIDEO_CRF", 23, 0...51)
        threads = try settings.integer("REELFORGE_VIDEO_THREADS", 0, 0...64)
        loopSpillBytes = try settings.integer("REELFORGE_LOOP_SPILL_MB", 1024, 0...1_048_576) << 20
        if let bg = settings.text("REELFORGE_BACKGROUND") {
            do { background = try BackgroundSource(parsing: bg) } catch let f as StageFailure {
                throw ConfigError.invalid("REELFORGE_BACKGROUND", f.message)
            }
        }
        if let file = try settings.existingFile("REELFORGE_MUSIC") {
            music = file
            musicLevelDB = Double(try settings.integer("REELFORGE_MUSIC_LEVEL_DB", -20, -60...0))
        }
        try setSubtitles(settings)
    }

    /// REELFORGE_SUBTITLE_PRESET with REELFORGE_SUBTITLE_STYLE over it (checked over every preset now, so that
    /// a job's choice cannot fail later).
    private mutating func setSubtitles(_ settings: SettingsReader) throws {
        if let name = settings.text("REELFORGE_SUBTITLE_PRESET") {
            guard let p = SubtitlePreset(rawValue: name) else { throw ConfigError.invalid("REELFORGE_SUBTITLE_PRESET", "must be \(SubtitlePreset.choicesText)") }
            subtitlePreset = p
        }
        if let path = settings.text("REELFORGE_SUBTITLE_STYLE") {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConfigError.invalid("REELFORGE_SUBTITLE_STYLE", "names a file that cannot be read")
            }
            subtitleOverrides = data
            for p in SubtitlePreset.allCases { _ = try SubtitleStyle.preset(p, width: width, height: height, overrides: data, variable: "REELFORGE_SUBTITLE_STYLE") }
        }
        subtitles = try SubtitleStyle.preset(subtitlePreset, width: width, height: height, overrides: subtitleOverrides, variable: "REELFORGE_SUBTITLE_STYLE")
    }

    /// The frame and captions a job asks for over the worker's own: the format's size, and the subtitles of the
    /// job's preset (or the worker's) for that frame. Nothing asked, nothing changes.
    public mutating func frame(format: VideoFormat?, style: SubtitlePreset?) throws {
        guard format != nil || style != nil else { return }
        if let format { width = format.width; height = format.height }
        subtitles = try SubtitleStyle.preset(style ?? subtitlePreset, width: width, height: height, overrides: subtitleOverrides,
                                             variable: "REELFORGE_SUBTITLE_STYLE")
    }

    /// `WIDTHxHEIGHT`, both even and 64 to 4096; `name` is the variable or option named in the error.
    public mutating func setSize(_ text: String, name: String) throws {
        let parts = text.lowercased().split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2, parts.allSatisfy({ (64...4096).contains($0) && $0 % 2 == 0 }) else {
            throw ConfigError.invalid(name, "must be WIDTHxHEIGHT with even numbers from 64 to 4096, e.g. 1080x1920")
        }
        width = parts[0]; height = parts[1]
    }
}

extension FootageFetcher {
    static let variables: [StageModule.Variable] = [
        (FootageSource.variable, "pictures behind the paragraphs, in order of preference: pexels, pixabay, library (media library files named by the paragraph's keywords), generated (an image made per paragraph, paid), comma-separated (off)"),
        ("PEXELS_API_KEY", "key for the pexels footage source (or PEXELS_API_KEY_FILE)"),
        ("PEXELS_API_KEY_FILE", "a file holding PEXELS_API_KEY"),
        ("PEXELS_BASE_URL", "Pexels API base URL (default https://api.pexels.com)"),
        ("PIXABAY_API_KEY", "key for the pixabay footage source (or PIXABAY_API_KEY_FILE)"),
        ("PIXABAY_API_KEY_FILE", "a file holding PIXABAY_API_KEY"),
        ("PIXABAY_BASE_URL", "Pixabay API base URL (default https://pixabay.com)"),
        ("REELFORGE_FOOTAGE_MAX_MB", "largest stock file or generated image downloaded, in MiB; a larger one is skipped for the next (default 200)"),
        ("REELFORGE_FOOTAGE_TIMEOUT_SECONDS", "how long a footage search or download may receive nothing (default 30)"),
    ] + ProviderAccounts.openAI + [
        ("REELFORGE_IMAGE_MODEL", "model of the generated footage source, on the OpenAI-compatible Images API at OPENAI_BASE_URL (default gpt-image-1)"),
        ("REELFORGE_IMAGE_PRICE_USD", "USD per generated image for the cost ledger (default the model's list price: gpt-image-1 0.063, dall-e-3 0.08, else 0)"),
        ("REELFORGE_IMAGE_TIMEOUT_SECONDS", "how long one image generation may take (default 180)"),
    ]

    /// The footage step the settings allow: the worker's own sources (REELFORGE_FOOTAGE, each needing its key)
    /// and every source it can serve (what a job may ask for: the media library always, the others with a key).
    public init(_ settings: SettingsReader) throws {
        let sources = try FootageSource.list(settings.text(FootageSource.variable, default: ""))
        let timeout = Duration.milliseconds(Int64(try settings.number("REELFORGE_FOOTAGE_TIMEOUT_SECONDS", 30, 1...600) * 1000))
        var stock: [any FootageSearch] = []
        if let key = settings.text("PEXELS_API_KEY") {
            stock.append(PexelsSearch(key: key, base: try settings.baseURL("PEXELS_BASE_URL", default: "https://api.pexels.com"), timeout: timeout))
        }
        if let key = settings.text("PIXABAY_API_KEY") {
            stock.append(PixabaySearch(key: key, base: try settings.baseURL("PIXABAY_BASE_URL", default: "https://pixabay.com"), timeout: timeout))
        }
        var generator: ImageGenerator?
        if let key = settings.text("OPENAI_API_KEY") {
            let price = settings.text("REELFORGE_IMAGE_PRICE_USD") == nil ? nil : try settings.number("REELFORGE_IMAGE_PRICE_USD", 0, 0...100)
            generator = ImageGenerator(key: key, base: try settings.baseURL("OPENAI_BASE_URL", default: ProviderAccounts.openAIBaseURL),
                                       model: settings.text("REELFORGE_IMAGE_MODEL", default: "gpt-image-1"), pricePerImage: price,
                                       timeout: .milliseconds(Int64(try settings.number("REELFORGE_IMAGE_TIMEOUT_SECONDS", 180, 5...1800) * 1000)))
        }
        self.init(sources: sources, stock: stock, generator: generator,
                  maxBytes: try settings.integer("REELFORGE_FOOTAGE_MAX_MB", 200, 1...4096) << 20, timeout: timeout)
        for source in sources where !serves(source) {
            let key = source.keyVariable ?? ""
            throw ConfigError.invalid(FootageSource.variable, "names \(source.rawValue) but \(key) (or \(key)_FILE) is not set")
        }
    }
}
