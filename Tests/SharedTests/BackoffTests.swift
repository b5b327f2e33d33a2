import Shared
import Testing

@Suite("Backoff")
struct BackoffTests {
    @Test func pausesDoubleUpToTheCapWithJitterAndStartOverAfterASuccess() {
        var b = Backoff(first: .milliseconds(100), cap: .seconds(1))
        // The middle of the jitter range is the pause itself.
        #expect([0.5, 0.5, 0.5, 0.5, 0.5, 0.5].map { b.failed(random: $0) } == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0])
        #expect(b.failures == 6)
        #expect(abs(b.failed(random: 0) - 0.7) < 1e-9 && abs(b.failed(random: 1) - 1.3) < 1e-9, "±30 %")
        b.succeeded()
        #expect(b.failures == 0 && b.failed(random: 0.5) == 0.1)
    }
}
