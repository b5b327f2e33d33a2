import ArgumentParser
import Foundation
import Shared
import VideoStage
import WorkerRuntime

/// The shared media library (backgrounds kept in the artifact store, named `media:NAME` in REELFORGE_BACKGROUND).
struct Media: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the shared media library: background images and clips kept in the artifact store.",
        discussion: """
        Video workers read the library from the store (GridFS), so scaled-out containers need no shared disk. \
        REELFORGE_BACKGROUND=media:NAME uses one file; media: gives each paragraph the file whose name best \
        matches the script's keywords. With --home the commands work on the embedded store of 'reelforge make'.
        """,
        subcommands: [Put.self, List.self, Remove.self])

    struct Target: ParsableArguments {
        @Option(help: "Use the embedded store in this folder (as 'reelforge make --home') instead of MongoDB.") var home: String?

        /// The store, and what to call when done.
        func open() async throws -> (store: any ArtifactStore, close: () async -> Void) {
            if let home { return (try EmbeddedHome.artifacts(home), {}) }
            let d = try await Distributed.connect()
            return (d.backends.artifacts, { await d.close() })
        }
    }

    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add (or replace) files, named by their file name unless --name is given.")
        @Argument(help: "Images or clips.") var files: [String]
        @Option(help: "The name to store a single file under.") var name: String?
        @OptionGroup var target: Target

        func validate() throws {
            if name != nil && files.count != 1 { throw ValidationError("--name takes exactly one file") }
        }

        func run() async throws {
            let (store, close) = try await target.open()
            do {
                for path in files {
                    let url = URL(fileURLWithPath: path)
                    guard FileManager.default.isReadableFile(atPath: url.path) else { throw ValidationError("cannot read \(path)") }
                    let ref = try await MediaLibrary.put(url, name: name ?? url.lastPathComponent, in: store)
                    print("\(MediaLibrary.scheme)\(ref.name)  \(ref.size) bytes")
                }
            } catch { await close(); throw error }
            await close()
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the library's files.")
        @Flag(help: "Machine-readable output.") var json = false
        @OptionGroup var target: Target

        func run() async throws {
            let (store, close) = try await target.open()
            let names: [String]
            do { names = try await MediaLibrary.names(in: store) } catch { await close(); throw error }
            await close()
            if json { try printJSON(names); return }
            if names.isEmpty { print("the media library is empty"); return }
            for n in names { print(MediaLibrary.scheme + n) }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove files from the library.")
        @Argument(help: "Names (with or without media:).") var names: [String]
        @OptionGroup var target: Target

        func run() async throws {
            let (store, close) = try await target.open()
            do {
                for n in names {
                    let name = n.hasPrefix(MediaLibrary.scheme) ? String(n.dropFirst(MediaLibrary.scheme.count)) : n
                    guard BackgroundChoice.isMediaName(name) else { throw ValidationError("'\(n)' is not a media name") }
                    try await MediaLibrary.remove(name, from: store)
                    print("removed \(MediaLibrary.scheme)\(name)")
                }
            } catch { await close(); throw error }
            await close()
        }
    }
}
