// Shared by every fuzz target (compiled into each, see scripts/fuzz).
import Foundation

/// The fuzzer's input as bytes (libFuzzer passes a null pointer for the empty input).
func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}

/// Stops the run when an invariant does not hold: libFuzzer reports the deadly signal and saves the input as a
/// crash, like a trap inside the parser.
func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
             file: StaticString = #fileID, line: UInt = #line) {
    guard !condition() else { return }
    FileHandle.standardError.write(Data("invariant failed at \(file):\(line): \(message())\n".utf8))
    abort()
}
