import Foundation
import Logging
import Shared

/// The video stage: narration over a background as MP4, with SRT and WebVTT subtitles timed to the words.
public struct VideoStageExecutor: StageExecutor {
    public let stage = Stage.video
    let renderer: VideoRenderer
    /// The footage step (stock clips and photos, library files, generated images per paragraph).
    let footage: FootageFetcher

    public init(renderer: VideoRenderer = VideoRenderer(), footage: FootageFetcher = FootageFetcher()) {
        self.renderer = renderer; self.footage = footage
    }

    public func run(_ input: StageInput, logger: Logger) async throws -> StageOutput {
        let adapted = try input.output(AdaptedText.self)
        let audio = try await input.file(SpokenNarration.wav)
        let words = try WordTiming.decodeList(Data(contentsOf: try await input.file(SpokenNarration.timings)))
        let out = input.workDir.appendingPathComponent(RenderedVideo.mp4.name)
        let started = ContinuousClock.now
        let spoken = words.last?.end ?? 0
        let thumb = input.workDir.appendingPathComponent(RenderedVideo.thumbnail.name)
        let paragraphs = Self.paragraphs(adapted: adapted, script: try? input.output(WrittenScript.self), words: words)
        // Backgrounds from the shared media library are fetched into the work folder first.
        var options = renderer.options
        if let asked = input.idea.background { options.background = try BackgroundSource(choice: asked) }
        try options.frame(format: input.idea.format, style: input.idea.style)
        let timed = SubtitleTiming.align(cues: adapted.cues, words: words, duration: spoken + 0.5, maxCharacters: options.subtitles.cueCharacters)
        options.background = try await MediaLibrary.resolve(options.background, paragraphs: paragraphs, store: input.artifacts,
                                                            into: input.workDir.appendingPathComponent("media"))
        var plan = FootagePlan(items: [])
        let sources = try footage.sources(for: input.idea.footage)
        if !sources.isEmpty {
            plan = try await footage.plan(input, sources: sources, paragraphs: paragraphs, duration: spoken + 0.5, width: options.width,
                                          height: options.height, logger: logger)
            options.background = try await footage.background(plan, paragraphs: paragraphs.count, otherwise: options.background, input: input)
        }
        let credits = input.workDir.appendingPathComponent(RenderedVideo.credits.name)
        try plan.credits.write(to: credits, atomically: true, encoding: .utf8)
        let result = try await VideoRenderer(options: options).render(audio: audio, cues: timed, paragraphs: paragraphs, to: out,
                                                                      thumbnail: thumb, progress: input.progress)
        for w in result.warnings { logger.warning("\(w)") }
        if result.backgrounds.count > 1 {
            logger.info("backgrounds: \(result.backgrounds.map { String(format: "%.1f s ", $0.start) + $0.source.label }.joined(separator: ", "))")
        }
        let seconds = (ContinuousClock.now - started).seconds
        let srt = input.workDir.appendingPathComponent(RenderedVideo.srt.name)
        try SubtitleTiming.srt(timed).write(to: srt, atomically: true, encoding: .utf8)
        let vtt = input.workDir.appendingPathComponent(RenderedVideo.vtt.name)
        try SubtitleTiming.webVTT(timed).write(to: vtt, atomically: true, encoding: .utf8)
        logger.info("rendered \(result.frames) frames (\(String(format: "%.1f", result.duration)) s of video) in \(String(format: "%.1f", seconds)) s")
        let o = options
        return try StageOutput(
            contract: RenderedVideo(durationSeconds: result.duration, frames: result.frames, width: o.width, height: o.height,
                                    fps: o.fps, cues: timed.count, renderSeconds: seconds),
            files: [RenderedVideo.mp4: out, RenderedVideo.srt: srt, RenderedVideo.vtt: vtt, RenderedVideo.thumbnail: thumb,
                    RenderedVideo.credits: credits],
            costs: plan.unrecorded(in: input.idea.costs)
                + [CostEntry(stage: .video, attempt: input.attempt, provider: "local-render", units: result.duration, unit: "seconds", costUSD: 0, at: Date())])
    }

    /// The paragraphs of the adapted text (blank-line separated, as the script wrote them), timed by the
    /// spoken words, with the script's keywords for each.
    static func paragraphs(adapted: AdaptedText, script: WrittenScript?, words: [WordTiming]) -> [ParagraphTiming] {
        let parts = adapted.text.components(separatedBy: "\n\n").filter { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
        let keywords = script?.keywords ?? [], prompts = script?.script?.imagePrompts ?? []
        let starts = SubtitleTiming.paragraphStarts(parts, words: words)
        return starts.enumerated().map { i, start in
            ParagraphTiming(start: start, keywords: i < keywords.count ? keywords[i] : [], imagePrompt: i < prompts.count ? prompts[i] : nil)
        }
    }
}
