#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What every ReelForge executable does first, before any thread or socket exists.
public enum ProcessSetup {
    /// Ignores SIGPIPE. By default a write to a socket or pipe whose peer is gone (a TCP reset from a port scan,
    /// a load balancer's check, a scraper that timed out, `reelforge status | head`) kills the process with no
    /// log line. Ignored, that write fails with EPIPE or ECONNRESET instead: an ordinary error its caller handles
    /// (the HTTP server drops that connection, the AMQP and MongoDB clients reconnect).
    public static func ignoreBrokenPipes() {
        _ = signal(SIGPIPE, SIG_IGN)
    }
}
