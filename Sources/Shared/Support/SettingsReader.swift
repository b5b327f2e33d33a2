import Foundation

/// Settings from environment variables, read by one rule: an empty value is an unset one, and a value of the
/// wrong form or out of its range is a `ConfigError` that names the variable.
public struct SettingsReader: Sendable {
    public let environment: [String: String]

    public init(_ environment: [String: String]) { self.environment = environment }

    /// A variable's value; nil when unset or empty.
    public func text(_ name: String) -> String? {
        environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    public func text(_ name: String, default fallback: String) -> String { text(name) ?? fallback }

    /// A whole number within a range, or the default.
    public func integer(_ name: String, _ fallback: Int, _ range: ClosedRange<Int>) throws -> Int {
        guard let raw = text(name) else { return fallback }
        guard let v = Int(raw), range.contains(v) else { throw ConfigError.invalid(name, "must be a whole number in \(range)") }
        return v
    }

    /// A number within a range, or the default.
    public func number(_ name: String, _ fallback: Double, _ range: ClosedRange<Double>) throws -> Double {
        guard let raw = text(name) else { return fallback }
        guard let v = Double(raw), range.contains(v) else { throw ConfigError.invalid(name, "must be a number in \(range)") }
        return v
    }

    /// An http(s) base URL, or the default.
    public func baseURL(_ name: String, default fallback: String) throws -> URL {
        guard let url = URL(string: text(name) ?? fallback), url.scheme == "http" || url.scheme == "https" else {
            throw ConfigError.invalid(name, "must be an http(s) URL")
        }
        return url
    }

    /// The provider a variable names, lower-cased, checked against the known ones; nil for the offline one.
    public func provider(_ name: String, offline: String, known: [String]) throws -> String? {
        let p = (text(name) ?? offline).lowercased()
        guard p != offline else { return nil }
        guard known.contains(p) else { throw ConfigError.invalid(name, "must be \(([offline] + known).joined(separator: ", "))") }
        return p
    }

    /// The content of the file a variable names (prompts); nil when unset.
    public func fileText(_ name: String) throws -> String? {
        guard let path = text(name) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else { throw ConfigError.invalid(name, "names a file that cannot be read") }
        return String(decoding: data, as: UTF8.self)
    }

    /// The existing file a variable names; nil when unset.
    public func existingFile(_ name: String) throws -> URL? {
        guard let path = text(name) else { return nil }
        guard FileManager.default.fileExists(atPath: path) else { throw ConfigError.invalid(name, "names no file") }
        return URL(fileURLWithPath: path)
    }
}
