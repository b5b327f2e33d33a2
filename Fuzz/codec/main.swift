// Fuzz target: the message codec (JobMessageCodec), what every worker runs on every delivery.
//
// Input: the message body, then optionally a NUL byte and header lines `name=value` (so headers are fuzzed too).
// Invariants: decoding never traps; a decoded message is valid (identifiers, attempt range, idea length,
// background grammar); encoding it and decoding that gives the same message, and encoding is stable.
import Foundation
import Shared

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCodec(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = bytes(data, size)
    let split = input.firstIndex(of: 0) ?? input.endIndex
    let body = Array(input[..<split])
    var headers: [String: String] = [:]
    if split < input.endIndex {
        for line in String(decoding: input[(split + 1)...], as: UTF8.self).split(separator: "\n") {
            let pair = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            headers[String(pair[0])] = pair.count > 1 ? String(pair[1]) : ""
        }
    }
    let codec = JobMessageCodec()
    guard let message = try? codec.decode(body: body, headers: headers) else { return 0 }

    require(Identifier.isValid(message.jobID) && Identifier.isValid(message.ideaID), "invalid identifier accepted: \(message)")
    require((1...1_000).contains(message.attempt), "attempt out of range: \(message.attempt)")
    require(message.leaseWaits >= 0 && message.redeliveries >= 0, "negative counters: \(message)")
    if let idea = message.newIdea {
        let text = idea.text
        require(!text.isEmpty && text.count <= JobMessageCodec.maxIdeaCharacters, "idea length \(text.count) accepted")
        require(["en", "fr"].contains(idea.language), "language \(idea.language) accepted")
        require((5...600).contains(idea.targetSeconds), "duration \(idea.targetSeconds) accepted")
        if let b = idea.background { require(BackgroundChoice.problem(b) == nil, "background '\(b)' accepted") }
    }

    let encoded = codec.encode(message)
    do {
        let again = try codec.decode(body: encoded.body, headers: encoded.headers)
        require(again == message, "round trip changed the message: \(message) became \(again)")
        require(codec.encode(again).body == encoded.body, "encoding is not stable for \(message)")
    } catch {
        require(false, "the codec cannot read what it wrote (\(error)): \(String(decoding: encoded.body, as: UTF8.self))")
    }
    return 0
}
