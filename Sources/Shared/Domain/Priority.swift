import Foundation

/// A job's class of service (`--priority`, the message's `priority`). Each stage has a queue per class; a worker
/// takes from them in proportion (`PriorityTurns`), so a bulk batch of thousands never holds a high-priority job
/// back by more than the stage run a worker is busy with.
public enum Priority: String, Sendable, Hashable, Codable, CaseIterable, Comparable, CustomStringConvertible {
    case high, normal, bulk

    /// Turns in each round while every class has work: high 8, normal 4, bulk 1 (no class ever starves).
    public var weight: Int {
        switch self {
        case .high: return 8
        case .normal: return 4
        case .bulk: return 1
        }
    }

    public var description: String { rawValue }
    public static func < (a: Priority, b: Priority) -> Bool { a.weight > b.weight }

    /// Parses `high`, `normal` or `bulk` (case-insensitive).
    public init?(parsing text: String) { self.init(rawValue: text.lowercased().trimmingCharacters(in: .whitespaces)) }
}

/// Which class a worker serves next, among those with work waiting: weighted turns. In each round a class gets
/// `weight` turns; among the waiting classes with turns left the most urgent goes first, and a round ends when no
/// waiting class has turns left. A high-priority delivery is therefore taken at the next free slot unless high has
/// spent its eight turns while the others waited (then one normal or bulk run goes first).
public struct PriorityTurns: Sendable, Hashable {
    private var used: [Priority: Int] = [:]

    public init() {}

    public mutating func pick(waiting: Set<Priority>) -> Priority? {
        guard !waiting.isEmpty else { return nil }
        if let p = Priority.allCases.first(where: { waiting.contains($0) && used[$0, default: 0] < $0.weight }) {
            used[p, default: 0] += 1
            return p
        }
        used = [:]
        return pick(waiting: waiting)
    }
}
