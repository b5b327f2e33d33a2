// Fuzz target: the background grammar, read three ways: `BackgroundChoice.problem` (the codec's check of a
// message's `background`), `BackgroundSource(choice:)` (the video stage's reading of it) and
// `BackgroundSource(parsing:)` (`--background`, `REELFORGE_BACKGROUND`), and the colour rule under all of them.
//
// Invariants: nothing traps; the three agree: the codec accepts exactly what the video stage can read, the CLI
// reads it the same way, and a background's label reads back as the same background; `RGB(parsing:)` accepts
// exactly `BackgroundChoice.isColour`.
import Foundation
import Shared
import Stages

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBackground(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: bytes(data, size), as: UTF8.self)
    require((RGB(parsing: text) != nil) == BackgroundChoice.isColour(text),
            "RGB(parsing:) and BackgroundChoice.isColour disagree on '\(text)'")

    let problem = BackgroundChoice.problem(text)
    let choice = try? BackgroundSource(choice: text)
    require((problem == nil) == (choice != nil), "'\(text)': problem \(problem ?? "none"), read by the video stage: \(choice != nil)")
    guard let choice else { return 0 }

    // Only what a message may carry gets here: colours and media names, never a path, so the file system is not read.
    let parsed = try? BackgroundSource(parsing: text)
    require(parsed == choice, "'\(text)': the CLI reads \(String(describing: parsed)), the video stage \(choice)")
    let label = choice.label
    require(BackgroundChoice.problem(label) == nil && (try? BackgroundSource(choice: label)) == choice,
            "'\(text)' labelled '\(label)', which reads back differently")
    return 0
}
