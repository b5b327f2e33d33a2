/// Failures injected for tests and drills, read from `REELFORGE_FAILPOINTS` (off unless set):
/// `video=2` fails the stage transiently on its first 2 attempts of each job; `audio=fatal` fails it
/// permanently; `script=crash` ends the process in the middle of the stage, before its checkpoint;
/// `adapt=20%` fails transiently at random on about that share of attempts. Several with commas.
public struct Failpoints: Sendable, Hashable {
    public enum Action: Sendable, Hashable {
        case failFirst(Int)
        case fatal
        case crash
        case rate(Double)
    }

    public var actions: [Stage: Action]

    public init(_ actions: [Stage: Action] = [:]) { self.actions = actions }

    public static let none = Failpoints()

    public init(parsing text: String) throws {
        var actions: [Stage: Action] = [:]
        for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            let kv = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2, let stage = Stage(parsing: kv[0]) else {
                throw ConfigError.invalid("REELFORGE_FAILPOINTS", "'\(item)' is not STAGE=N|fatal|crash|P%")
            }
            let v = kv[1].lowercased()
            if v == "fatal" { actions[stage] = .fatal }
            else if v == "crash" { actions[stage] = .crash }
            else if v.hasSuffix("%"), let p = Double(v.dropLast()), (0...100).contains(p) { actions[stage] = .rate(p / 100) }
            else if let n = Int(v), n >= 0 { actions[stage] = .failFirst(n) }
            else { throw ConfigError.invalid("REELFORGE_FAILPOINTS", "'\(item)' is not STAGE=N|fatal|crash|P%") }
        }
        self.actions = actions
    }

    public enum Effect: Sendable, Hashable { case proceed, fail(StageFailure), crash }

    /// What happens at the start of `attempt` of `stage`.
    public func effect(stage: Stage, attempt: Int, random: Double = Double.random(in: 0..<1)) -> Effect {
        switch actions[stage] {
        case nil: return .proceed
        case .failFirst(let n): return attempt <= n ? .fail(.transient("failpoint \(stage)=\(n): injected transient failure")) : .proceed
        case .fatal: return .fail(.permanent("failpoint \(stage)=fatal: injected permanent failure"))
        case .rate(let p): return random < p ? .fail(.transient("failpoint \(stage): injected random transient failure")) : .proceed
        case .crash: return .crash
        }
    }
}
