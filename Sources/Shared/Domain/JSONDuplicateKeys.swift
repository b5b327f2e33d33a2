/// Finds a key that appears twice in one JSON object. JSONDecoder keeps one of them silently (the first), most
/// other tools the last: a producer and ReelForge would then read different messages, so the codec rejects them.
public enum JSONDuplicateKeys {
    private struct Container {
        var isObject: Bool
        var keys: Set<String> = []
        var expectingKey: Bool
    }

    /// The first duplicate key (compared after unescaping) in `bytes`, which must already be valid JSON.
    public static func first(in bytes: [UInt8]) -> String? {
        var stack: [Container] = []
        var i = 0
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "{"): stack.append(Container(isObject: true, expectingKey: true))
            case UInt8(ascii: "["): stack.append(Container(isObject: false, expectingKey: false))
            case UInt8(ascii: "}"), UInt8(ascii: "]"): _ = stack.popLast()
            case UInt8(ascii: ","): if stack.last?.isObject == true { stack[stack.count - 1].expectingKey = true }
            case UInt8(ascii: "\""):
                let (text, end) = string(bytes, openingQuote: i)
                if let top = stack.last, top.isObject, top.expectingKey {
                    if top.keys.contains(text) { return text }
                    stack[stack.count - 1].keys.insert(text)
                    stack[stack.count - 1].expectingKey = false
                }
                i = end
                continue
            default: break
            }
            i += 1
        }
        return nil
    }

    /// The unescaped string starting at `openingQuote`, and the index after its closing quote.
    static func string(_ bytes: [UInt8], openingQuote: Int) -> (String, Int) {
        var units: [UInt16] = []
        var raw: [UInt8] = []
        func flushRaw() {
            units.append(contentsOf: String(decoding: raw, as: UTF8.self).utf16)
            raw.removeAll()
        }
        var i = openingQuote + 1
        while i < bytes.count, bytes[i] != UInt8(ascii: "\"") {
            guard bytes[i] == UInt8(ascii: "\\"), i + 1 < bytes.count else { raw.append(bytes[i]); i += 1; continue }
            flushRaw()
            let e = bytes[i + 1]
            if e == UInt8(ascii: "u"), i + 5 < bytes.count, let v = UInt16(String(decoding: bytes[(i + 2)...(i + 5)], as: UTF8.self), radix: 16) {
                units.append(v)
                i += 6
                continue
            }
            units.append(escapes[e] ?? UInt16(e))
            i += 2
        }
        flushRaw()
        return (String(decoding: units, as: UTF16.self), i + 1)
    }

    private static let escapes: [UInt8: UInt16] = [
        UInt8(ascii: "b"): 0x08, UInt8(ascii: "f"): 0x0C, UInt8(ascii: "n"): 0x0A, UInt8(ascii: "r"): 0x0D, UInt8(ascii: "t"): 0x09,
    ]
}
