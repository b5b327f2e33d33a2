// Fuzz target: the subtitle style JSON (`REELFORGE_SUBTITLE_STYLE`, `reelforge render --style`) and the overlay
// geometry the renderer derives from it.
//
// Invariants: decoding never traps; an accepted style has colours ImageMagick reads as colours only (never a file
// or an expression), at least one line and finite sizes; for every frame size the renderer allows, the overlay of
// one to `max_lines` lines of any width is computed without a trap and lies inside the frame with even sizes.
import Foundation
import Stages

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStyle(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let style = try? JSONDecoder().decode(SubtitleStyle.self, from: Data(bytes(data, size))) else { return 0 }

    for colour in [style.color, style.strokeColor, style.boxColor, style.highlightColor].compactMap({ $0 }) {
        require(colour.unicodeScalars.allSatisfy { $0.isASCII && ($0 == "#" || CharacterSet.alphanumerics.contains($0)) },
                "colour '\(colour)' accepted")
    }
    require(style.maxLines >= 1, "max_lines \(style.maxLines) accepted")
    require(style.fontSize.isFinite && style.fontSize > 0 && style.lineSpacing.isFinite && style.strokeWidth.isFinite,
            "sizes accepted: \(style)")

    for (width, height) in [(1080, 1920), (1920, 1080), (64, 64), (4096, 4096)] {
        for lines in 1...min(style.maxLines, 16) {
            for widest in [0, 1, Double(width) / 2, Double(width), Double(width) * 10] {
                let box = style.overlayBox(widest: widest, lines: lines, frameWidth: width, frameHeight: height)
                require(box.x >= 0 && box.y >= 0 && box.width > 0 && box.height > 0
                        && box.x + box.width <= width && box.y + box.height <= height,
                        "overlay \(box) outside a \(width)x\(height) frame (\(lines) lines, widest \(widest))")
                require(box.x % 2 == 0 && box.y % 2 == 0 && box.width % 2 == 0 && box.height % 2 == 0, "odd overlay \(box)")
            }
        }
    }
    return 0
}
