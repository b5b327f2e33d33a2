import Foundation
import Shared
import Testing

/// A job's frame (`format`) and captions (`style`) in the message: they travel with a new idea, only the fixed
/// values are read, and anything else is a clear reason to park the message.
@Suite("Framing in the message")
struct FramingCodecTests {
    let codec = JobMessageCodec()

    func decode(_ json: String) throws(MessageError) -> JobMessage { try codec.decode(body: Array(json.utf8), headers: [:]) }

    @Test(arguments: VideoFormat.allCases, SubtitlePreset.allCases)
    func formatAndStyleRoundTrip(_ format: VideoFormat, _ style: SubtitlePreset) throws {
        let m = JobMessage(jobID: "job_1", ideaID: "idea_1", stage: .script,
                           newIdea: .init(text: "why cats purr", language: "en", targetSeconds: 20, format: format, style: style))
        let (body, headers) = codec.encode(m)
        let object = try JSONValue.parse(Data(body))
        #expect(object["format"] == .string(format.rawValue) && object["style"] == .string(style.rawValue))
        let back = try codec.decode(body: body, headers: headers)
        #expect(back == m)
        #expect(back.newIdea?.format == format && back.newIdea?.style == style)
    }

    @Test func withoutThemTheWorkerDecides() throws {
        let m = try decode(#"{"job_id":"j","idea_id":"i","stage":"script","idea":"why cats purr"}"#)
        #expect(m.newIdea?.format == nil && m.newIdea?.style == nil)
        let (body, _) = codec.encode(m)
        #expect(!String(decoding: body, as: UTF8.self).contains("format") && !String(decoding: body, as: UTF8.self).contains("style"))
        // Read only with an idea, like the other idea fields.
        #expect(try decode(#"{"job_id":"j","idea_id":"i","stage":"video","format":"4:3"}"#).newIdea == nil)
    }

    @Test func theSizesOfTheFormats() {
        #expect(VideoFormat.allCases.map { "\($0.rawValue)=\($0.width)x\($0.height)" } == ["9:16=1080x1920", "1:1=1080x1080", "16:9=1920x1080"])
    }

    @Test(arguments: [
        (#""format":"4:3""#, #"field 'format' must be one of "9:16", "1:1", "16:9""#),
        (#""format":"16x9""#, "field 'format'"),
        (#""format":" 9:16""#, "field 'format'"),
        (#""format":916"#, "field 'format'"),
        (#""format":null"#, "field 'format'"),
        (#""style":"Shorts""#, #"field 'style' must be one of "classic", "shorts""#),
        (#""style":"/etc/style.json""#, "field 'style'"),
        (#""style":["shorts"]"#, "field 'style'"),
    ])
    func badValuesAreRefusedWithTheFieldNamed(_ field: String, _ reason: String) {
        let body = #"{"job_id":"j","idea_id":"i","stage":"script","idea":"why cats purr","#+field+"}"
        #expect {
            _ = try decode(body)
        } throws: { error in
            String(describing: error) == reason || String(describing: error).hasPrefix(reason)
        }
    }
}
