/// A configuration value that cannot be used; the message names the variable and never contains its secret.
public enum ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalid(String, String)
    case missing(String)

    public var description: String {
        switch self {
        case .invalid(let name, let why): return "\(name) \(why)"
        case .missing(let name): return "\(name) is required"
        }
    }
}
