import Foundation
import Shared
import Testing

/// The idea's one rule (control characters, blank, length, Latin script) and the codec's rules on bodies that
/// JSON libraries read differently (duplicate keys) or cannot hold (numbers beyond a double).
@Suite("Idea text and message codec rules")
struct IdeaTextAndCodecTests {
    let codec = JobMessageCodec()

    func body(idea: String) -> [UInt8] {
        Array(#"{"job_id":"j","idea_id":"i","stage":"script","idea":\#(JSONValue.string(idea).jsonText)}"#.utf8)
    }

    func reason(_ bytes: [UInt8]) -> String? {
        do { _ = try codec.decode(body: bytes, headers: [:]); return nil } catch { return String(describing: error) }
    }

    @Test(arguments: ["why\u{0}cats purr", "why cats\u{1B}[31m purr", "\u{7F}why", "why\u{85}cats", "why \u{9F}"])
    func controlCharactersAreRejectedEverywhere(_ idea: String) throws {
        #expect(throws: IdeaText.Problem.self) { try IdeaText.normalized(idea) }
        let why = try #require(reason(body(idea: idea)))
        #expect(why.contains("field 'idea'") && why.contains("control character U+"), "\(why)")
    }

    @Test func newlinesAndTabsBecomeSpaces() throws {
        #expect(try IdeaText.normalized("  why\tcats\r\npurr\n") == "why cats  purr")
        #expect(try codec.decode(body: body(idea: "why\ncats"), headers: [:]).newIdea?.text == "why cats")
    }

    @Test(arguments: ["\u{0}\u{0}\u{0}", " \u{0} \t\n ", "\u{1}\u{2}", ""])
    func onlyControlsAndWhitespaceIsBlank(_ idea: String) throws {
        #expect(throws: IdeaText.Problem.blank) { try IdeaText.normalized(idea) }
        #expect(try #require(reason(body(idea: idea))).contains("the idea is blank"))
    }

    @Test(arguments: ["为什么熊猫吃竹子", "なぜ猫は喉を鳴らすのか", "почему кошки мурлычут", "🐙🐙🐙", "？！"])
    func ideasWithNoLatinWordsGetAClearError(_ idea: String) throws {
        #expect(throws: IdeaText.Problem.noLatinWords) { try IdeaText.normalized(idea) }
        let why = try #require(reason(body(idea: idea)))
        #expect(why.contains("ReelForge speaks en and fr; the idea has no words in Latin script"), "\(why)")
    }

    @Test(arguments: ["why cats purr", "Pourquoi l'été est-il chaud ?", "Ça va", "why 熊猫 eat bamboo", "1984", "Œuvre"])
    func latinWordsAndDigitsAreSpeakable(_ idea: String) throws {
        #expect(try IdeaText.normalized(idea) == idea)
        #expect(try codec.decode(body: body(idea: idea), headers: [:]).newIdea?.text == idea)
    }

    @Test func duplicateKeysAreRejectedWhereverTheyAre() throws {
        let cases: [(String, String)] = [
            (#"{"job_id":"a","idea_id":"i","stage":"script","job_id":"b"}"#, "job_id"),
            (#"{"job_id":"a","idea_id":"i","stage":"script","idea":"x","idea":"y"}"#, "idea"),
            (#"{"job_id":"a","idea_id":"i","stage":"script","\u0069dea":"x","idea":"y"}"#, "idea"),
            (#"{"job_id":"a","idea_id":"i","stage":"script","extra":{"k":1,"k":2}}"#, "k"),
            (#"{"job_id":"a","idea_id":"i","stage":"script","list":[{"k":1},{"m":2,"m":3}]}"#, "m"),
        ]
        for (text, key) in cases {
            #expect(throws: MessageError.duplicateKey(key), "\(text)") { try codec.decode(body: Array(text.utf8), headers: [:]) }
            #expect(reason(Array(text.utf8))?.contains("key '\(key)' more than once") == true)
        }
    }

    @Test func keysRepeatedOnlyAcrossObjectsOrInsideStringsAreFine() throws {
        let ok = [
            #"{"job_id":"a","idea_id":"i","stage":"script","list":[{"k":1},{"k":2}],"k":{"k":{"k":0}}}"#,
            #"{"job_id":"a","idea_id":"i","stage":"script","note":"\"job_id\":\"b\", {\"x\":1,\"x\":2}","stage_":"job_id"}"#,
            #"{"job_id":"a","idea_id":"i","stage":"script","a\\":1,"a":2}"#,
        ]
        for text in ok { #expect(throws: Never.self, "\(text)") { try codec.decode(body: Array(text.utf8), headers: [:]) } }
    }

    @Test func numbersJSONDecoderCannotHoldAreNamedNotJustDecodingError() throws {
        let text = #"{"job_id":"j","idea_id":"i","stage":"script","idea":"x","duration_seconds":1e400}"#
        let why = try #require(reason(Array(text.utf8)))
        #expect(why.contains("duration_seconds") && why.contains("cannot be read"), "\(why)")
        #expect(!why.hasSuffix("DecodingError"))
    }

    @Test func aRawAtInAPasswordIsHiddenWhole() {
        let fresh = Redactor()
        for uri in ["amqp://rtuser:Pa55@q7Z@rabbit.example:5672/vhost", "mongodb://app:s3cr@t@@db.example:27017/reelforge"] {
            let shown = fresh.redact("connecting to \(uri) now")
            #expect(!shown.contains("Pa55") && !shown.contains("q7Z") && !shown.contains("s3cr") && !shown.contains("t@@"), "\(shown)")
            #expect(shown.contains("rabbit.example") || shown.contains("db.example"), "the host stays readable: \(shown)")
        }
        let registered = Redactor()
        registered.registerPassword(ofURI: "amqp://rtuser:Pa55@q7Z@rabbit.example:5672/")
        #expect(registered.redact("login refused for password Pa55@q7Z") == "login refused for password ***")
    }
}
