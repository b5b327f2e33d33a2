import Foundation

/// One spoken word and when it is heard.
public struct WordTiming: Codable, Sendable, Hashable {
    public var word: String
    public var start: Double
    public var end: Double
    public init(word: String, start: Double, end: Double) { self.word = word; self.start = start; self.end = end }

    /// A silence between two words this long or longer is a pause: the subtitles change there, so the voices time
    /// the words around one from the sound itself.
    public static let pause = 0.3

    /// The longest narration a timings file may describe (a day: far over any video, far under what overflows
    /// when seconds become frames or milliseconds).
    public static let maxSeconds = 86_400.0

    /// Reads word timings JSON (`timings.json` of the audio stage, `reelforge render --timings`): an array of
    /// `{"word", "start", "end"}` with times in seconds, each from 0 to `maxSeconds`.
    public static func decodeList(_ data: Data) throws -> [WordTiming] {
        let words: [WordTiming]
        do { words = try JSONDecoder().decode([WordTiming].self, from: data) } catch {
            throw StageFailure.permanent("word timings are not a JSON array of {word, start, end}: \(error)")
        }
        if let bad = words.first(where: { !(0...maxSeconds).contains($0.start) || !(0...maxSeconds).contains($0.end) }) {
            throw StageFailure.permanent("word timing '\(bad.word.prefix(40))' has a time outside 0 to \(Int(maxSeconds)) s")
        }
        return words
    }
}
