import CMongoC
import Logging

/// libmongoc's own log lines. Its default handler prints them on standard output, where they would mix with a
/// command's output (`reelforge status --json`); this handler sends warnings and worse through swift-log (standard
/// error, redacted) and drops the rest (debug, info, trace).
enum MongoLog {
    static func install() {
        mongoc_log_set_handler({ level, domain, message, _ in
            guard level.rawValue <= MONGOC_LOG_LEVEL_WARNING.rawValue, let message else { return }
            MongoLog.forward(level: level, domain: domain.map { String(cString: $0) } ?? "mongoc", message: String(cString: message))
        }, nil)
    }

    static func forward(level: mongoc_log_level_t, domain: String, message: String) {
        let logger = Logger(label: "mongoc")
        let text: Logger.Message = "\(domain): \(message)"
        switch level {
        case MONGOC_LOG_LEVEL_ERROR: logger.error(text)
        case MONGOC_LOG_LEVEL_CRITICAL: logger.critical(text)
        default: logger.warning(text)
        }
    }
}
