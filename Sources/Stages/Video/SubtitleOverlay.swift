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
    let frameWidth: Int, frameHeight: Int
    static let genesisOnce: Void = MagickWandGenesis()

    init(style: SubtitleStyle, frameWidth: Int, frameHeight: Int) {
        _ = Self.genesisOnce
        self.style = style
        self.frameWidth = frameWidth; self.frameHeight = frameHeight
        fontPath = style.resolveFont().path
    }

    /// Lines that fit the width between the margins, at most `maxLines` (the rest is cut with an ellipsis).
    func wrap(_ lines: [String], wand: OpaquePointer, draw: OpaquePointer) -> [String] {
        let maxWidth = Double(frameWidth - 2 * style.sideMargin)
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

    func textWidth(_ s: String, wand: OpaquePointer, draw: OpaquePointer) -> Double {
        guard let m = MagickQueryFontMetrics(wand, draw, s) else { return Double(s.count) * style.fontSize * 0.6 }
        defer { MagickRelinquishMemory(m) }
        return m[4]
    }

    /// Draws a cue; with `highlight` (a word's index among the cue's words) and a highlight colour in the style,
    /// that word is filled in the highlight colour.
    func render(_ lines: [String], highlight: Int? = nil) throws -> CueOverlay? {
        let wand = NewMagickWand()!
        defer { DestroyMagickWand(wand) }
        let draw = NewDrawingWand()!
        defer { DestroyDrawingWand(draw) }
        let fill = NewPixelWand()!, stroke = NewPixelWand()!, none = NewPixelWand()!
        defer { DestroyPixelWand(fill); DestroyPixelWand(stroke); DestroyPixelWand(none) }
        PixelSetColor(fill, style.color)
        let marked = NewPixelWand()!
        defer { DestroyPixelWand(marked) }
        let highlighted = highlight != nil && style.highlightColor != nil
        if highlighted { PixelSetColor(marked, style.highlightColor!) }
        PixelSetColor(stroke, style.strokeColor)
        PixelSetColor(none, "none")
        if let fontPath { DrawSetFont(draw, fontPath) }
        DrawSetFontSize(draw, style.fontSize)
        DrawSetTextAntialias(draw, MagickTrue)
        DrawSetStrokeAntialias(draw, MagickTrue)
        // A 1x1 image to measure against.
        MagickNewImage(wand, 1, 1, none)
        let text = wrap(lines, wand: wand, draw: draw)
        guard !text.isEmpty else { return nil }
        let lineHeight = style.fontSize * style.lineSpacing
        let widest = text.map { textWidth($0, wand: wand, draw: draw) }.max() ?? 0
        let box = style.overlayBox(widest: widest, lines: text.count, frameWidth: frameWidth, frameHeight: frameHeight)
        let width = box.width, height = box.height, pad = box.pad

        ClearMagickWand(wand)
        MagickNewImage(wand, width, height, none)
        if let box = style.boxColor {
            let b = NewPixelWand()!
            defer { DestroyPixelWand(b) }
            PixelSetColor(b, box)
            let boxDraw = NewDrawingWand()!
            defer { DestroyDrawingWand(boxDraw) }
            DrawSetFillColor(boxDraw, b)
            DrawRoundRectangle(boxDraw, 0, 0, Double(width - 1), Double(height - 1), 12, 12)
            MagickDrawImage(wand, boxDraw)
        }
        DrawSetGravity(draw, NorthGravity)
        let ascent = style.fontSize * 0.93
        // The outline first (twice the stroke width, so that it shows outside the glyphs), then the fill over it.
        for pass in 0..<2 {
            let d = CloneDrawingWand(draw)!
            defer { DestroyDrawingWand(d) }
            if pass == 0 {
                guard style.strokeWidth > 0 else { continue }
                DrawSetFillColor(d, stroke)
                DrawSetStrokeColor(d, stroke)
                DrawSetStrokeWidth(d, style.strokeWidth * 2)
            } else {
                DrawSetFillColor(d, fill)
                DrawSetStrokeWidth(d, 0)
            }
            DrawSetGravity(d, UndefinedGravity)
            var wordsBefore = 0
            var markedRun: (x: Double, y: Double, word: String)?
            for (i, line) in text.enumerated() {
                let w = textWidth(line, wand: wand, draw: draw)
                let x = (Double(width) - w) / 2
                let y = Double(pad) + lineHeight * Double(i) + ascent
                let words = line.split(separator: " ").map(String.init)
                if pass == 1, highlighted, let k = highlight, (wordsBefore..<(wordsBefore + words.count)).contains(k) {
                    // The line in three runs: before the word, the word in the highlight colour, after it. Each run
                    // starts where the full line would have it (the width of the text up to it, minus the run).
                    let j = k - wordsBefore
                    let before = words[..<j].joined(separator: " "), word = words[j], after = words[(j + 1)...].joined(separator: " ")
                    let through = words[...j].joined(separator: " ")
                    let wordX = x + textWidth(through, wand: wand, draw: draw) - textWidth(word, wand: wand, draw: draw)
                    if !before.isEmpty { DrawAnnotation(d, x, y, before) }
                    if !after.isEmpty { DrawAnnotation(d, x + w - textWidth(after, wand: wand, draw: draw), y, after) }
                    markedRun = (wordX, y, word)
                } else {
                    DrawAnnotation(d, x, y, line)
                }
                wordsBefore += words.count
            }
            guard MagickDrawImage(wand, d) == MagickTrue else { throw StageFailure.permanent("MagickWand could not draw a subtitle") }
            if let run = markedRun {
                let m = CloneDrawingWand(draw)!
                defer { DestroyDrawingWand(m) }
                DrawSetGravity(m, UndefinedGravity)
                DrawSetFillColor(m, marked)
                DrawSetStrokeWidth(m, 0)
                DrawAnnotation(m, run.x, run.y, run.word)
                guard MagickDrawImage(wand, m) == MagickTrue else { throw StageFailure.permanent("MagickWand could not draw a subtitle") }
            }
        }
        var rgba = [UInt8](repeating: 0, count: width * height * 4)
        guard MagickExportImagePixels(wand, 0, 0, width, height, "RGBA", CharPixel, &rgba) == MagickTrue else {
            throw StageFailure.permanent("MagickWand could not export a subtitle")
        }
        return Self.overlay(rgba: rgba, width: width, height: height, x: box.x, y: box.y)
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
