/// The one rule for waiting before trying a broker or store again: the pause starts at `first`, doubles after
/// each failure up to `cap`, and is jittered by ±30 % so that many workers that lost the same server do not come
/// back in step. A success starts it over.
public struct Backoff: Sendable {
    public let first: Double
    public let cap: Double
    public let jitter: Double
    /// Failures since the last success.
    public private(set) var failures = 0
    private var current: Double

    public init(first: Duration, cap: Duration, jitter: Double = 0.3) {
        self.first = first.seconds
        self.cap = max(first.seconds, cap.seconds)
        self.jitter = jitter
        current = first.seconds
    }

    /// Counts a failure and returns the pause before the next try, in seconds.
    public mutating func failed(random: Double = Double.random(in: 0...1)) -> Double {
        failures += 1
        let pause = current * (1 - jitter + 2 * jitter * random)
        current = min(current * 2, cap)
        return pause
    }

    public mutating func succeeded() {
        failures = 0
        current = first
    }
}
