// Fuzz target: the SRT reader (SubtitleTiming.parseSRT) behind `reelforge render --subtitles`, and the SRT and
// WebVTT writers fed with what it read.
//
// Invariants: parsing never traps; every cue it returns has text and finite times with 0 <= start < end; cues are
// numbered 1, 2, ...; writing the cues as SRT or WebVTT never traps, and reading the SRT written gives the same
// cues back (times to the millisecond).
import Foundation
import Stages

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSRT(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: bytes(data, size), as: UTF8.self)
    guard let cues = try? SubtitleTiming.parseSRT(text) else { return 0 }

    require(!cues.isEmpty, "no cue, yet no error")
    for (i, cue) in cues.enumerated() {
        require(cue.index == i + 1, "cue \(i) numbered \(cue.index)")
        require(cue.start.isFinite && cue.end.isFinite && cue.start >= 0 && cue.end > cue.start,
                "cue \(cue.index) times \(cue.start) --> \(cue.end)")
        require(!cue.lines.isEmpty && cue.lines.allSatisfy { !$0.isEmpty && !$0.contains("\n") }, "cue \(cue.index) lines \(cue.lines)")
    }

    let written = SubtitleTiming.srt(cues)
    _ = SubtitleTiming.webVTT(cues)
    do {
        let again = try SubtitleTiming.parseSRT(written)
        require(again.count == cues.count, "\(cues.count) cues written, \(again.count) read back")
        for (a, b) in zip(cues, again) {
            require(a.lines == b.lines, "cue \(a.index) lines \(a.lines) read back as \(b.lines)")
            require(abs(a.start - b.start) < 0.0015 && abs(a.end - b.end) < 0.0015,
                    "cue \(a.index) times \(a.start)-\(a.end) read back as \(b.start)-\(b.end)")
        }
    } catch {
        require(false, "parseSRT cannot read what srt() wrote (\(error)):\n\(written)")
    }
    return 0
}
