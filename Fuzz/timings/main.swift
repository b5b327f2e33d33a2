// Fuzz target: word timings JSON (`timings.json` of the audio stage, `reelforge render --timings`) and what the
// video stage does with it: cues made by the adapter, aligned to the words (SubtitleTiming.align), paragraph
// starts, and the SRT and WebVTT written from them.
//
// Invariants: nothing traps; every time the alignment produces is finite and within the narration; for words in
// spoken order (what the audio stage writes), cues start in order, each ends no earlier than it starts, and each
// cue's word starts are in order and one for each of its words.
import Foundation
import Shared
import Stages

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTimings(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let words = try? WordTiming.decodeList(Data(bytes(data, size))) else { return 0 }
    for w in words {
        require((0...WordTiming.maxSeconds).contains(w.start) && (0...WordTiming.maxSeconds).contains(w.end),
                "accepted word \(w)")
    }
    let text = words.map(\.word).joined(separator: " ")
    let cues = RuleBasedAdapter().cues(for: text)
    let duration = (words.last?.end ?? 0) + 0.5
    let timed = SubtitleTiming.align(cues: cues, words: words, duration: duration)
    let latest = max(duration, words.map { max($0.start, $0.end) }.max() ?? 0) + 0.5

    for cue in timed {
        require(cue.start.isFinite && cue.end.isFinite && cue.start >= 0 && cue.end <= latest,
                "cue \(cue.index) times \(cue.start) --> \(cue.end) outside 0...\(latest)")
        require(cue.wordStarts?.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= latest } ?? true, "cue \(cue.index) word starts \(cue.wordStarts ?? [])")
    }
    let inOrder = zip(words, words.dropFirst()).allSatisfy { $0.start <= $1.start && $0.end <= $1.start } && words.allSatisfy { $0.start <= $0.end }
    if inOrder {
        for (a, b) in zip(timed, timed.dropFirst()) { require(a.start <= b.start, "cues \(a.index) and \(b.index) out of order") }
        for cue in timed {
            require(cue.start <= cue.end, "cue \(cue.index) ends at \(cue.end) before it starts at \(cue.start)")
            if let starts = cue.wordStarts {
                let count = cue.lines.joined(separator: " ").split(separator: " ").count
                require(starts.count == count, "cue \(cue.index): \(starts.count) word starts for \(count) words")
                require(zip(starts, starts.dropFirst()).allSatisfy { $0 <= $1 }, "cue \(cue.index) word starts out of order: \(starts)")
            }
        }
    }

    let paragraphs = text.components(separatedBy: "\n\n")
    let starts = SubtitleTiming.paragraphStarts(paragraphs, words: words)
    require(starts.isEmpty == words.isEmpty && (words.isEmpty || starts.count == paragraphs.count), "paragraph starts \(starts)")
    _ = SubtitleTiming.srt(timed)
    _ = SubtitleTiming.webVTT(timed)
    return 0
}
