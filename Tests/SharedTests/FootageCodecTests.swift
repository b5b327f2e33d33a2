import Foundation
import Shared
import Testing

/// A job's stock footage sources (`footage`) in the message: names of the fixed list, in order; anything else
/// (a URL, a path, an unknown name) is a reason to park the message.
@Suite("Footage in the message")
struct FootageCodecTests {
    let codec = JobMessageCodec()

    func decode(_ json: String) throws(MessageError) -> JobMessage { try codec.decode(body: Array(json.utf8), headers: [:]) }

    @Test func sourcesRoundTripInOrder() throws {
        let m = JobMessage(jobID: "job_1", ideaID: "idea_1", stage: .script,
                           newIdea: .init(text: "why cats purr", language: "en", targetSeconds: 20, footage: [.pixabay, .pexels]))
        let (body, headers) = codec.encode(m)
        #expect(try JSONValue.parse(Data(body))["footage"] == .string("pixabay,pexels"))
        #expect(try codec.decode(body: body, headers: headers) == m)
        #expect(try decode(#"{"job_id":"j","idea_id":"i","stage":"script","idea":"why cats purr"}"#).newIdea?.footage == nil)
    }

    @Test(arguments: [#""https://evil.example/clip.mp4""#, #""/etc/passwd""#, #""pexels,giphy""#, #""""#, "3", #"["pexels"]"#])
    func anythingElseIsRefused(_ value: String) {
        let json = #"{"job_id":"j","idea_id":"i","stage":"script","idea":"why cats purr","footage":"# + value + "}"
        #expect(throws: MessageError.self) { try decode(json) }
        do { _ = try decode(json) } catch { #expect("\(error)".contains("footage")) }
    }
}
