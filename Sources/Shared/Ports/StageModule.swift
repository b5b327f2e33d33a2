/// One stage as a process runs it: the environment variables its providers read, and how its executor is made
/// from them. Each stage's library declares its module; a worker executable picks the modules of its stages, so
/// that it links only their libraries (the ScriptWorker no ffmpeg, no MagickWand).
public struct StageModule: Sendable {
    public typealias Variable = (name: String, meaning: String)

    /// An executor and the one-line summary of its settings logged at start (no secrets).
    public struct Built: Sendable {
        public var executor: any StageExecutor
        public var summary: String
        public init(executor: any StageExecutor, summary: String) { self.executor = executor; self.summary = summary }
    }

    public let stage: Stage
    public let variables: [Variable]
    /// Reads the stage's settings and makes its executor; a bad value throws a `ConfigError` naming its variable.
    public let make: @Sendable (SettingsReader) throws -> Built

    public init(stage: Stage, variables: [Variable], make: @escaping @Sendable (SettingsReader) throws -> Built) {
        self.stage = stage; self.variables = variables; self.make = make
    }

    /// Lists of variables joined, each name once, in order (two stages may read the same account's key).
    public static func unique(_ lists: [[Variable]]) -> [Variable] {
        var seen = Set<String>()
        return lists.joined().filter { seen.insert($0.name).inserted }
    }
}
