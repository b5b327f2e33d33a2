import Foundation

/// Where a stored file belongs: to one idea, to the shared media library, or to the stock footage downloaded for
/// any idea (each file once, however many videos use it). Each is a namespace of its own.
public enum ArtifactScope: Sendable, Hashable {
    case idea(String)
    case media
    case footage
}

/// The one rule for artifact ids, used by every ArtifactStore and every caller:
///
///     idea/<idea>/<stage>/<name>     a file a stage of an idea produced
///     media/<name>                   a file of the shared media library
///     footage/<name>                 a downloaded stock clip or photo (`<source>-<id>.<ext>`)
///
/// Every part between the `/` passes through `SafeName.file`, which never yields a `/`, so a part cannot
/// reach into another level: no idea id, stage or file name can produce a media id, no media name an idea's id,
/// and the first part alone says which namespace an id is in. Ids from before this rule (`<idea>.<stage>.<name>`,
/// `media.<name>`) contain no `/` and are therefore in neither namespace (stores still read them by id, for
/// ideas whose records point at them, but never list them and never write them).
public enum ArtifactKey {
    static let separator: Character = "/"
    static let ideaRoot = "idea"
    static let mediaRoot = "media"
    static let footageRoot = "footage"

    /// The id of the file `name` of `stage` of an idea.
    public static func artifact(ideaID: String, stage: Stage, name: String) -> String {
        [ideaRoot, SafeName.file(ideaID), stage.rawValue, SafeName.file(name)].joined(separator: String(separator))
    }

    /// The id of the media library file `name`.
    public static func media(_ name: String) -> String {
        [mediaRoot, SafeName.file(name)].joined(separator: String(separator))
    }

    /// The id of the downloaded stock file `name`.
    public static func footage(_ name: String) -> String {
        [footageRoot, SafeName.file(name)].joined(separator: String(separator))
    }

    /// Every id in `scope` starts with this (and no id outside it does).
    public static func prefix(_ scope: ArtifactScope) -> String {
        switch scope {
        case .idea(let id): return [ideaRoot, SafeName.file(id), ""].joined(separator: String(separator))
        case .media: return mediaRoot + String(separator)
        case .footage: return footageRoot + String(separator)
        }
    }

    /// The parts of an id made by this rule, each safe as a file name; nil for anything else (an id from
    /// before the rule, or one no caller of this rule can make).
    public static func parts(_ id: String) -> [String]? {
        let parts = id.split(separator: separator, omittingEmptySubsequences: false).map(String.init)
        guard parts.allSatisfy({ !$0.isEmpty && SafeName.file($0) == $0 }) else { return nil }
        switch parts.first {
        case ideaRoot: return parts.count == 4 && Stage(rawValue: parts[2]) != nil ? parts : nil
        case mediaRoot, footageRoot: return parts.count == 2 ? parts : nil
        default: return nil
        }
    }

    /// The namespace of an id made by this rule.
    public static func scope(of id: String) -> ArtifactScope? {
        guard let parts = parts(id) else { return nil }
        switch parts[0] {
        case ideaRoot: return .idea(parts[1])
        case mediaRoot: return .media
        default: return .footage
        }
    }
}
