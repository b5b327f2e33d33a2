import Foundation
import Shared
import Testing

/// The artifact id rule: an idea's files and the media library can never name each other's files.
@Suite("Artifact ids")
struct ArtifactKeyTests {
    /// Idea ids and names chosen to collide under the old `<idea>.<stage>.<name>` / `media.<name>` scheme, or to
    /// escape a level of the new one.
    static let ideaIDs = ["media", "idea", "media_video", "idea_1", "media/evil", "../media", "idea/x/video", ".media", "x.y"]
    static let names = ["video.mp4", "video.video.mp4", "../video.mp4", "media/x.png", "result.json", ".hidden.png"]

    @Test(arguments: ideaIDs)
    func anIdeasFilesStayInItsNamespace(_ ideaID: String) {
        for stage in Stage.allCases {
            for name in Self.names {
                let id = ArtifactKey.artifact(ideaID: ideaID, stage: stage, name: name)
                #expect(ArtifactKey.scope(of: id) == .idea(SafeName.file(ideaID)), "\(id)")
                #expect(id.hasPrefix(ArtifactKey.prefix(.idea(ideaID))) && !id.hasPrefix(ArtifactKey.prefix(.media)))
                for media in Self.names { #expect(id != ArtifactKey.media(media)) }
            }
        }
    }

    @Test(arguments: names)
    func mediaFilesStayInTheirNamespace(_ name: String) {
        let id = ArtifactKey.media(name)
        #expect(ArtifactKey.scope(of: id) == .media)
        #expect(id.hasPrefix(ArtifactKey.prefix(.media)))
        for ideaID in Self.ideaIDs { #expect(!id.hasPrefix(ArtifactKey.prefix(.idea(ideaID)))) }
    }

    @Test func idsOfTheOldSchemeAndForgeriesAreInNoNamespace() {
        for id in ["media.video.video.mp4", "media.x.png", "idea_1.video.video.mp4", "media/", "media//x", "media/../x.png",
                   "idea/a/video", "idea/a/nostage/x", "idea/a/video/x/y", "idea/../video/x", "other/x", "", "/media/x"] {
            #expect(ArtifactKey.scope(of: id) == nil, "\(id)")
            #expect(ArtifactKey.parts(id) == nil, "\(id)")
        }
        #expect(ArtifactKey.parts("idea/idea_1/video/video.mp4") == ["idea", "idea_1", "video", "video.mp4"])
    }
}
