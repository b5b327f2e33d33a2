import Foundation

/// Where a stored file belongs: to one idea, or to the shared media library. Each is a namespace of its own.
public enum ArtifactScope: Sendable, Hashable {
    case idea(String)
    case media
}

/// The one rule for artifact ids, used by every ArtifactStore and every caller:
///
///     idea/<idea>/<stage>/<name>     a file a stage of an idea produced
///     media/<name>                   a file of the shared media library
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

    /// The id of the file `name` of `stage` of an idea.
    public static func artifact(ideaID: String, stage: Stage, name: String) -> String {
        [ideaRoot, SafeName.file(ideaID), stage.rawValue, SafeName.file(name)].joined(separator: String(separator))
    }

    /// The id of the media library file `name`.
    public static func media(_ name: String) -> String {
        [mediaRoot, SafeName.file(name)].joined(separator: String(separator))
    }

    /// Every id in `scope` starts with this (and no id outside it does).
    public static func prefix(_ scope: ArtifactScope) -> String {
        switch scope {
        case .idea(let id): return [ideaRoot, SafeName.file(id), ""].joined(separator: String(separator))
        case .media: return mediaRoot + String(separator)
        }
    }

    /// The parts of an id made by this rule, each safe as a file name; nil for anything else (an id from
    /// before the rule, or one no caller of this rule can make).
    public static func parts(_ id: String) -> [String]? {
        let parts = id.split(separator: separator, omittingEmptySubsequences: false).map(String.init)
        guard parts.allSatisfy({ !$0.isEmpty && SafeName.file($0) == $0 }) else { return nil }
        switch parts.first {
        case ideaRoot: return parts.count == 4 && Stage(rawValue: parts[2]) != nil ? parts : nil
        case mediaRoot: return parts.count == 2 ? parts : nil
        default: return nil
        }
    }

    /// The namespace of an id made by this rule.
    public static func scope(of id: String) -> ArtifactScope? {
        guard let parts = parts(id) else { return nil }
        return parts[0] == ideaRoot ? .idea(parts[1]) : .media
    }
}
