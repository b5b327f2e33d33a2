import CMagickWand
import Foundation
import Shared

/// One cue drawn once with MagickWand into a small overlay, kept as Y, U, V and alpha planes ready to be
/// blended into a yuv420p frame inside its box only.
struct CueOverlay: Sendable {
    let x: Int, y: Int, width: Int, height: Int      // even, in frame pixels
    let luma: [UInt8], alpha: [UInt8]               // width * height
    let cb: [UInt8], cr: [UInt8], alphaC: [UInt8]   // (width/2) * (height/2)
}

/// Draws subtitle cues through MagickWand (text with DrawAnnotation; never `@file` text, never a policy change).
/// Immutable: each call makes its own wands (the render's overlays are drawn on the prefetcher's thread).
final class SubtitleRasterizer: Sendable {
    let style: SubtitleStyle
    let fontPath: String?
    let fallback: FontFallback
    let frameWidth: Int, frameHeight: Int
    static let genesisOnce: Void = MagickWandGenesis()

    init(style: SubtitleStyle, frameWidth: Int, frameHeight: Int) {
        _ = Self.genesisOnce
        self.style = style
        self.frameWidth = frameWidth; self.frameHeight = frameHeight
        fontPath = style.resolveFont().path
        fallback = FontFallback.shared(primary: fontPath)
    }

    /// Lines that fit the width between the margins, at most `maxLines` (the rest is cut with an ellipsis).
    func wrap(_ lines: [String], wand: OpaquePointer, draw: OpaquePointer) -> [String] {
        let maxWidth = Double(style.textArea(frameWidth: frameWidth, frameHeight: frameHeight).width - 2 * style.sideMargin)
        let words = lines.joined(separator: " ").split(separator: " ").map(String.init)
        var out: [String] = [], current = ""
        for w in words {
            let candidate = current.isEmpty ? w : current + " " + w
            if !current.isEmpty && textWidth(candidate, wand: wand, draw: draw) > maxWidth {
                out.append(current); current = w
            } else { current = candidate }
        }
        if !current.isEmpty { out.append(current) }
        if out.count > style.maxLines {
            out = Array(out.prefix(style.maxLines))
            out[out.count - 1] += "…"
        }
        // Two lines of the original split stay as they were when they fit.
        if lines.count <= style.maxLines, lines.allSatisfy({ textWidth($0, wand: wand, draw: draw) <= maxWidth }) { return lines }
        return out
    }

    /// The width of `s` drawn with `draw`'s settings, each run in its own font.
    func textWidth(_ s: String, wand: OpaquePointer, draw: OpaquePointer) -> Double {
        fallback.runs(s).reduce(0) { $0 + runWidth($1, wand: wand, draw: draw) }
    }

    private func runWidth(_ run: FontFallback.Run, wand: OpaquePointer, draw: OpaquePointer) -> Double {
        if let font = run.font { DrawSetFont(draw, font) }
        defer { if run.font != nil, let fontPath { DrawSetFont(draw, fontPath) } }
        guard let m = MagickQueryFontMetrics(wand, draw, run.text) else { return Double(run.text.count) * style.fontSize * 0.6 }
        defer { MagickRelinquishMemory(m) }
        return m[4]
    }

    /// Draws `s` from (x, y) on `d`, each run in its own font (`measure` holds the same settings for measuring).
    private func annotate(_ d: OpaquePointer, _ x: Double, _ y: Double, _ s: String, wand: OpaquePointer, measure: OpaquePointer) {
        var x = x
        for run in fallback.runs(s) {
            if let font = run.font ?? fontPath { DrawSetFont(d, font) }
            DrawAnnotation(d, x, y, run.text)
            x += runWidth(run, wand: wand, draw: measure)
        }
        if let fontPath { DrawSetFont(d, fontPath) }
    }

    /// Draws a cue; with `highlight` (a word's index among the cue's words) and a highlight colour in the style,
    /// that word is filled in the highlight colour.
    func render(_ lines: [String], highlight: Int? = nil) throws -> CueOverlay? {
        let canvas = CueCanvas(style: style, font: fontPath)
        let text = wrap(lines, wand: canvas.wand, draw: canvas.draw)
        guard !text.isEmpty else { return nil }
        let layout = self.layout(text, canvas)
        canvas.start(width: layout.width, height: layout.height, box: style.boxColor)
        // The outline first (twice the stroke width, so that it shows outside the glyphs), then the fill over it.
        if style.strokeWidth > 0 { try drawPass(text, layout, canvas, outline: true, highlight: nil) }
        try drawPass(text, layout, canvas, outline: false, highlight: style.highlightColor == nil ? nil : highlight)
        var rgba = [UInt8](repeating: 0, count: layout.width * layout.height * 4)
        guard MagickExportImagePixels(canvas.wand, 0, 0, layout.width, layout.height, "RGBA", CharPixel, &rgba) == MagickTrue else {
            throw StageFailure.permanent("MagickWand could not export a subtitle")
        }
        return Self.overlay(rgba: rgba, width: layout.width, height: layout.height, x: layout.box.x, y: layout.box.y)
    }

    private struct Layout {
        var box: SubtitleStyle.OverlayBox
        var lineHeight: Double
        var width: Int { box.width }
        var height: Int { box.height }
        var pad: Int { box.pad }
    }

    /// The overlay's place and size (even, inside the frame) for these lines.
    private func layout(_ text: [String], _ canvas: CueCanvas) -> Layout {
        let lineHeight = style.fontSize * style.lineSpacing
        let widest = text.map { textWidth($0, wand: canvas.wand, draw: canvas.draw) }.max() ?? 0
        let box = style.overlayBox(widest: widest, lines: text.count, frameWidth: frameWidth, frameHeight: frameHeight)
        return Layout(box: box, lineHeight: lineHeight)
    }

    /// One pass over the lines, centred: the outline, or the fill (with the highlighted word drawn over it in
    /// its own colour, at the place the full line gives it).
    private func drawPass(_ text: [String], _ layout: Layout, _ canvas: CueCanvas, outline: Bool, highlight: Int?) throws {
        let d = canvas.pen(outline: outline)
        defer { DestroyDrawingWand(d) }
        let ascent = style.fontSize * 0.93
        var wordsBefore = 0
        var marked: (x: Double, y: Double, word: String)?
        for (i, line) in text.enumerated() {
            let w = textWidth(line, wand: canvas.wand, draw: canvas.draw)
            let x = (Double(layout.width) - w) / 2
            let y = Double(layout.pad) + layout.lineHeight * Double(i) + ascent
            let words = line.split(separator: " ").map(String.init)
            if let k = highlight, (wordsBefore..<(wordsBefore + words.count)).contains(k) {
                // The line in three runs: before the word, the word in the highlight colour, after it. Each run
                // starts where the full line would have it (the width of the text up to it, minus the run).
                let j = k - wordsBefore
                let before = words[..<j].joined(separator: " "), word = words[j], after = words[(j + 1)...].joined(separator: " ")
                let through = words[...j].joined(separator: " ")
                let wordX = x + textWidth(through, wand: canvas.wand, draw: canvas.draw) - textWidth(word, wand: canvas.wand, draw: canvas.draw)
                if !before.isEmpty { annotate(d, x, y, before, wand: canvas.wand, measure: canvas.draw) }
                if !after.isEmpty {
                    annotate(d, x + w - textWidth(after, wand: canvas.wand, draw: canvas.draw), y, after, wand: canvas.wand, measure: canvas.draw)
                }
                marked = (wordX, y, word)
            } else {
                annotate(d, x, y, line, wand: canvas.wand, measure: canvas.draw)
            }
            wordsBefore += words.count
        }
        guard MagickDrawImage(canvas.wand, d) == MagickTrue else { throw StageFailure.permanent("MagickWand could not draw a subtitle") }
        guard let run = marked, let colour = style.highlightColor else { return }
        let m = canvas.pen(outline: false, colour: colour)
        defer { DestroyDrawingWand(m) }
        annotate(m, run.x, run.y, run.word, wand: canvas.wand, measure: canvas.draw)
        guard MagickDrawImage(canvas.wand, m) == MagickTrue else { throw StageFailure.permanent("MagickWand could not draw a subtitle") }
    }

    /// RGBA → BT.601 limited-range Y, and Cb/Cr and alpha averaged over 2x2 blocks.
    static func overlay(rgba: [UInt8], width: Int, height: Int, x: Int, y: Int) -> CueOverlay {
        var luma = [UInt8](repeating: 0, count: width * height), alpha = [UInt8](repeating: 0, count: width * height)
        let cw = width / 2, ch = height / 2
        var cb = [UInt8](repeating: 128, count: cw * ch), cr = [UInt8](repeating: 128, count: cw * ch), ac = [UInt8](repeating: 0, count: cw * ch)
        for i in 0..<(width * height) {
            let r = Int(rgba[4 * i]), g = Int(rgba[4 * i + 1]), b = Int(rgba[4 * i + 2])
            luma[i] = UInt8((66 * r + 129 * g + 25 * b + 128) >> 8 + 16)
            alpha[i] = rgba[4 * i + 3]
        }
        for cy in 0..<ch {
            for cx in 0..<cw {
                var sa = 0, su = 0, sv = 0
                for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                    let i = (2 * cy + dy) * width + 2 * cx + dx
                    let a = Int(rgba[4 * i + 3]), r = Int(rgba[4 * i]), g = Int(rgba[4 * i + 1]), b = Int(rgba[4 * i + 2])
                    sa += a
                    su += a * ((-38 * r - 74 * g + 112 * b + 128) >> 8 + 128)
                    sv += a * ((112 * r - 94 * g - 18 * b + 128) >> 8 + 128)
                }
                let j = cy * cw + cx
                ac[j] = UInt8(sa / 4)
                if sa > 0 { cb[j] = UInt8(clamping: su / sa); cr[j] = UInt8(clamping: sv / sa) }
            }
        }
        return CueOverlay(x: x, y: y, width: width, height: height, luma: luma, alpha: alpha, cb: cb, cr: cr, alphaC: ac)
    }
}

extension CueOverlay {
    /// Blends into the planes of a yuv420p frame, touching only the overlay's box.
    func blend(y yPlane: UnsafeMutablePointer<UInt8>, _ yStride: Int, u uPlane: UnsafeMutablePointer<UInt8>,
               v vPlane: UnsafeMutablePointer<UInt8>, _ cStride: Int) {
        luma.withUnsafeBufferPointer { l in alpha.withUnsafeBufferPointer { a in
            for row in 0..<height {
                let dst = yPlane + (y + row) * yStride + x
                let base = row * width
                for col in 0..<width {
                    let al = Int(a[base + col])
                    if al == 0 { continue }
                    dst[col] = UInt8((Int(l[base + col]) * al + Int(dst[col]) * (255 - al) + 127) / 255)
                }
            }
        } }
        let cw = width / 2
        cb.withUnsafeBufferPointer { u in cr.withUnsafeBufferPointer { v in alphaC.withUnsafeBufferPointer { a in
            for row in 0..<(height / 2) {
                let du = uPlane + (y / 2 + row) * cStride + x / 2
                let dv = vPlane + (y / 2 + row) * cStride + x / 2
                let base = row * cw
                for col in 0..<cw {
                    let al = Int(a[base + col])
                    if al == 0 { continue }
                    du[col] = UInt8((Int(u[base + col]) * al + Int(du[col]) * (255 - al) + 127) / 255)
                    dv[col] = UInt8((Int(v[base + col]) * al + Int(dv[col]) * (255 - al) + 127) / 255)
                }
            }
        } } }
    }
}

/// Draws the cue overlays a render will show, in the order it shows them, on a thread of its own a few ahead
/// of the frames, so that MagickWand's drawing overlaps encoding instead of holding up the frame loop.
final class OverlayPrefetcher: @unchecked Sendable {
    /// A cue, and the word lit in it (nil without a highlight).
    struct Key: Hashable { var cue: Int; var word: Int? }

    private let keys: [Key]
    private let cond = NSCondition()
    private var ready: [Int: Result<CueOverlay?, Error>] = [:]   // by position in `keys`
    private var taken = 0
    private var stopping = false
    private let ahead: Int
    private let done = DispatchSemaphore(value: 0)

    init(keys: [Key], cues: [TimedCue], rasterizer: SubtitleRasterizer, ahead: Int = 3) {
        self.keys = keys
        self.ahead = ahead
        let thread = Thread { [self] in
            defer { done.signal() }
            for (n, key) in keys.enumerated() {
                cond.lock()
                while n >= taken + ahead && !stopping { cond.wait() }
                let stop = stopping
                cond.unlock()
                if stop { return }
                let result = Result { try rasterizer.render(cues[key.cue].lines, highlight: key.word) }
                cond.lock(); ready[n] = result; cond.broadcast(); cond.unlock()
            }
        }
        thread.name = "subtitle-draw"
        thread.start()
    }

    /// The overlay of the next key (they are asked for in order).
    func next(_ key: Key) throws -> CueOverlay? {
        cond.lock()
        defer { cond.unlock() }
        let n = taken
        precondition(n < keys.count && keys[n] == key, "overlays are asked for in the order planned")
        while ready[n] == nil { cond.wait() }
        let result = ready.removeValue(forKey: n)!
        taken += 1
        cond.broadcast()
        return try result.get()
    }

    /// Stops the thread (waiting for the overlay it is drawing, if any).
    func close() {
        cond.lock(); stopping = true; cond.broadcast(); cond.unlock()
        done.wait()
        done.signal()  // close() may be called again
    }
}

/// The MagickWand objects one cue is drawn with: an image (1x1 to measure against, then the cue's size) and a
/// drawing wand holding the style's font settings; freed together.
private final class CueCanvas {
    let wand: OpaquePointer
    let draw: OpaquePointer
    private let style: SubtitleStyle

    init(style: SubtitleStyle, font: String?) {
        self.style = style
        wand = NewMagickWand()!
        draw = NewDrawingWand()!
        if let font { DrawSetFont(draw, font) }
        DrawSetFontSize(draw, style.fontSize)
        DrawSetTextAntialias(draw, MagickTrue)
        DrawSetStrokeAntialias(draw, MagickTrue)
        _ = withColour("none") { MagickNewImage(wand, 1, 1, $0) }
    }

    deinit {
        DestroyDrawingWand(draw)
        DestroyMagickWand(wand)
    }

    private func withColour<T>(_ colour: String, _ body: (OpaquePointer) -> T) -> T {
        let p = NewPixelWand()!
        defer { DestroyPixelWand(p) }
        PixelSetColor(p, colour)
        return body(p)
    }

    /// A transparent image of the cue's size, with the style's box behind the text if it has one.
    func start(width: Int, height: Int, box: String?) {
        ClearMagickWand(wand)
        withColour("none") { _ = MagickNewImage(wand, width, height, $0) }
        guard let box else { return }
        let boxDraw = NewDrawingWand()!
        defer { DestroyDrawingWand(boxDraw) }
        withColour(box) { DrawSetFillColor(boxDraw, $0) }
        DrawRoundRectangle(boxDraw, 0, 0, Double(width - 1), Double(height - 1), 12, 12)
        MagickDrawImage(wand, boxDraw)
    }

    /// A drawing wand for text: the outline (stroke colour, twice the stroke width) or a fill in `colour`
    /// (the style's text colour by default). The caller destroys it.
    func pen(outline: Bool, colour: String? = nil) -> OpaquePointer {
        let d = CloneDrawingWand(draw)!
        DrawSetGravity(d, UndefinedGravity)
        if outline {
            withColour(style.strokeColor) { DrawSetFillColor(d, $0); DrawSetStrokeColor(d, $0) }
            DrawSetStrokeWidth(d, style.strokeWidth * 2)
        } else {
            withColour(colour ?? style.color) { DrawSetFillColor(d, $0) }
            DrawSetStrokeWidth(d, 0)
        }
        return d
    }
}
