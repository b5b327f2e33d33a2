import CRabbitMQ
import Foundation
import Shared

/// Connection settings parsed from `AMQP_URL` (amqp:// or amqps://).
public struct AMQPEndpoint: Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String
    public var vhost: String
    public var tls: Bool
    /// CA bundle for amqps (default: the system bundle).
    public var caCertPath: String?
    public var heartbeatSeconds: Int = 30

    public init(url: String, caCertPath: String? = nil) throws {
        var info = amqp_connection_info()
        amqp_default_connection_info(&info)
        var buffer = Array(url.utf8CString)
        let status = buffer.withUnsafeMutableBufferPointer { amqp_parse_url($0.baseAddress, &info) }
        guard status == AMQP_STATUS_OK.rawValue else {
            throw ConfigError.invalid("AMQP_URL", "is not an amqp:// or amqps:// URL (\(Redactor.shared.redact(url)))")
        }
        host = String(cString: info.host); port = Int(info.port)
        user = String(cString: info.user); password = String(cString: info.password)
        // `amqp://host/` leaves an empty vhost, which RabbitMQ rejects: it means the default vhost.
        let v = String(cString: info.vhost)
        vhost = v.isEmpty ? "/" : v
        tls = info.ssl != 0
        self.caCertPath = caCertPath
        Redactor.shared.register(password)
    }

    /// The URL with the password hidden.
    public var description: String { "\(tls ? "amqps" : "amqp")://\(user):***@\(host):\(port)/\(vhost == "/" ? "" : vhost)" }
}

/// Frames and methods Swift cannot name through the header's cast macros.
enum AMQPMethod {
    static let connectionClose: UInt32 = 0x000A_0032
    static let channelClose: UInt32 = 0x0014_0028
    static let basicCancel: UInt32 = 0x003C_001E
    static let basicReturn: UInt32 = 0x003C_0032
    static let basicAck: UInt32 = 0x003C_0050
    static let basicNack: UInt32 = 0x003C_0078
}

/// A value for an AMQP field table.
enum AMQPField {
    case string(String)
    case int(Int64)
    case bool(Bool)
}

/// One AMQP connection with one channel, used by exactly one thread at a time (its owner, `AMQPLink`).
/// Every call blocks. Not Sendable on purpose.
final class AMQPConnection {
    private var state: amqp_connection_state_t?
    let channel: amqp_channel_t = 1
    private(set) var confirmMode = false
    private var nextPublishTag: UInt64 = 1

    deinit { close() }

    var isOpen: Bool { state != nil }

    func open(_ ep: AMQPEndpoint, timeout: Duration = .seconds(10)) throws {
        close()
        guard let conn = amqp_new_connection() else { throw QueueError.connection("out of memory") }
        state = conn
        let socket: OpaquePointer?
        if ep.tls {
            socket = amqp_ssl_socket_new(conn)
            if let socket {
                amqp_ssl_socket_set_verify_peer(socket, 1)
                amqp_ssl_socket_set_verify_hostname(socket, 1)
                let ca = ep.caCertPath ?? "/etc/ssl/certs/ca-certificates.crt"
                if amqp_ssl_socket_set_cacert(socket, ca) != AMQP_STATUS_OK.rawValue {
                    close(); throw QueueError.connection("cannot read the CA bundle \(ca)")
                }
            }
        } else {
            socket = amqp_tcp_socket_new(conn)
        }
        guard let socket else { close(); throw QueueError.connection("cannot create a socket") }
        var tv = timeval(tv_sec: Int(timeout.seconds), tv_usec: 0)
        let rc = amqp_socket_open_noblock(socket, ep.host, Int32(ep.port), &tv)
        guard rc == AMQP_STATUS_OK.rawValue else {
            close(); throw QueueError.connection("cannot reach \(ep.host):\(ep.port): \(String(cString: amqp_error_string2(rc)))")
        }
        let reply = rf_amqp_login_plain(conn, ep.vhost, 0, 131_072, Int32(ep.heartbeatSeconds), ep.user, ep.password)
        try check(reply, "login")
        amqp_channel_open(conn, channel)
        try check(amqp_get_rpc_reply(conn), "channel.open")
    }

    func close() {
        guard let conn = state else { return }
        state = nil
        _ = amqp_channel_close(conn, channel, Int32(AMQP_REPLY_SUCCESS))
        _ = amqp_connection_close(conn, Int32(AMQP_REPLY_SUCCESS))
        amqp_destroy_connection(conn)
        confirmMode = false
        nextPublishTag = 1
        consumerTags = [:]
    }

    /// Drops the connection without the closing handshake (after a failure).
    func abandon() {
        guard let conn = state else { return }
        state = nil
        amqp_destroy_connection(conn)
        confirmMode = false
        nextPublishTag = 1
        consumerTags = [:]
    }

    private func conn() throws -> amqp_connection_state_t {
        guard let state else { throw QueueError.connection("not connected") }
        return state
    }

    private func check(_ reply: amqp_rpc_reply_t, _ what: String) throws {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            throw QueueError.connection("\(what): \(String(cString: amqp_error_string2(reply.library_error)))")
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            var text = "server exception"
            if reply.reply.id == AMQPMethod.channelClose, let d = reply.reply.decoded {
                let m = d.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                text = "channel closed \(m.reply_code): \(string(m.reply_text))"
            } else if reply.reply.id == AMQPMethod.connectionClose, let d = reply.reply.decoded {
                let m = d.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                text = "connection closed \(m.reply_code): \(string(m.reply_text))"
            }
            abandon()
            throw QueueError.connection("\(what): \(text)")
        default:
            throw QueueError.connection("\(what): no reply")
        }
    }

    // MARK: Topology

    func declareExchange(_ name: String, type: String = "direct") throws {
        let c = try conn()
        withBytes(name) { n in withBytes(type) { t in
            _ = amqp_exchange_declare(c, channel, n, t, 0, 1, 0, 0, amqp_empty_table)
        } }
        try check(amqp_get_rpc_reply(c), "exchange.declare \(name)")
    }

    func declareQueue(_ name: String, arguments: [(String, AMQPField)]) throws {
        let c = try conn()
        withBytes(name) { n in
            withTable(arguments) { table in _ = amqp_queue_declare(c, channel, n, 0, 1, 0, 0, table) }
        }
        try check(amqp_get_rpc_reply(c), "queue.declare \(name)")
    }

    /// Returns the number of ready messages, or nil if the queue does not exist (the channel is then reopened).
    func queueDepth(_ name: String) throws -> Int? {
        let c = try conn()
        var count: Int?
        withBytes(name) { n in
            if let ok = amqp_queue_declare(c, channel, n, 1, 0, 0, 0, amqp_empty_table) { count = Int(ok.pointee.message_count) }
        }
        let reply = amqp_get_rpc_reply(c)
        if reply.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION && reply.reply.id == AMQPMethod.channelClose {
            // 404: the queue does not exist; the broker closed the channel.
            var ok = amqp_channel_close_ok_t()
            _ = amqp_send_method(c, channel, UInt32(0x0014_0029), &ok)
            amqp_channel_open(c, channel)
            try check(amqp_get_rpc_reply(c), "channel.open")
            if confirmMode { confirmMode = false; nextPublishTag = 1; try enableConfirms() }
            return nil
        }
        try check(reply, "queue.declare passive \(name)")
        return count
    }

    func bind(queue: String, exchange: String, key: String) throws {
        let c = try conn()
        withBytes(queue) { q in withBytes(exchange) { e in withBytes(key) { k in
            _ = amqp_queue_bind(c, channel, q, e, k, amqp_empty_table)
        } } }
        try check(amqp_get_rpc_reply(c), "queue.bind \(queue)")
    }

    func deleteQueue(_ name: String) throws {
        let c = try conn()
        withBytes(name) { n in _ = amqp_queue_delete(c, channel, n, 0, 0) }
        try check(amqp_get_rpc_reply(c), "queue.delete \(name)")
    }

    func deleteExchange(_ name: String) throws {
        let c = try conn()
        withBytes(name) { n in _ = amqp_exchange_delete(c, channel, n, 0) }
        try check(amqp_get_rpc_reply(c), "exchange.delete \(name)")
    }

    // MARK: Publishing

    func enableConfirms() throws {
        let c = try conn()
        amqp_confirm_select(c, channel)
        try check(amqp_get_rpc_reply(c), "confirm.select")
        confirmMode = true
        nextPublishTag = 1
    }

    /// Publishes a persistent message with `mandatory` and waits for the broker's confirm.
    func publishConfirmed(exchange: String, routingKey: String, body: [UInt8], headers: [String: String],
                          timeout: Duration = .seconds(15)) throws {
        let c = try conn()
        if !confirmMode { try enableConfirms() }
        var rc: Int32 = 0
        let sorted = headers.sorted { $0.key < $1.key }.map { ($0.key, AMQPField.string($0.value)) }
        withBytes(exchange) { e in withBytes(routingKey) { k in withTable(sorted) { table in
            var props = amqp_basic_properties_t()
            props._flags = amqp_flags_t(AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_HEADERS_FLAG)
            props.delivery_mode = 2
            props.headers = table
            withBytes("application/json") { ct in
                props.content_type = ct
                body.withUnsafeBytes { raw in
                    let b = amqp_bytes_t(len: raw.count, bytes: UnsafeMutableRawPointer(mutating: raw.baseAddress))
                    rc = amqp_basic_publish(c, channel, e, k, 1, 0, &props, b)
                }
            }
        } } }
        guard rc == AMQP_STATUS_OK.rawValue else {
            abandon(); throw QueueError.connection("publish: \(String(cString: amqp_error_string2(rc)))")
        }
        let tag = nextPublishTag
        nextPublishTag += 1
        try waitForConfirm(tag: tag, deadline: ContinuousClock.now + timeout)
    }

    private func waitForConfirm(tag: UInt64, deadline: ContinuousClock.Instant) throws {
        let c = try conn()
        var returned: String?
        while true {
            if ContinuousClock.now > deadline { abandon(); throw QueueError.connection("no publisher confirm in time") }
            var frame = amqp_frame_t()
            var tv = timeval(tv_sec: 0, tv_usec: 250_000)
            let rc = amqp_simple_wait_frame_noblock(c, &frame, &tv)
            if rc == AMQP_STATUS_TIMEOUT.rawValue { continue }
            guard rc == AMQP_STATUS_OK.rawValue else {
                abandon(); throw QueueError.connection("waiting for confirm: \(String(cString: amqp_error_string2(rc)))")
            }
            guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else { continue }
            let id = frame.payload.method.id
            switch id {
            case AMQPMethod.basicAck:
                let m = frame.payload.method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
                if m.delivery_tag == tag || (m.multiple != 0 && m.delivery_tag >= tag) {
                    if let returned { throw QueueError.unroutable(returned) }
                    return
                }
            case AMQPMethod.basicNack:
                let m = frame.payload.method.decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
                if m.delivery_tag == tag || (m.multiple != 0 && m.delivery_tag >= tag) {
                    throw QueueError.nacked("the broker could not store the message")
                }
            case AMQPMethod.basicReturn:
                let m = frame.payload.method.decoded.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
                returned = "\(m.reply_code) \(string(m.reply_text)) (exchange \(string(m.exchange)), key \(string(m.routing_key)))"
                var message = amqp_message_t()
                let r = amqp_read_message(c, channel, &message, 0)
                if r.reply_type == AMQP_RESPONSE_NORMAL { amqp_destroy_message(&message) }
            case AMQPMethod.channelClose, AMQPMethod.connectionClose:
                abandon(); throw QueueError.connection("the broker closed the channel while publishing")
            default:
                continue
            }
        }
    }

    // MARK: Consuming

    func qos(prefetch: Int) throws {
        let c = try conn()
        amqp_basic_qos(c, channel, 0, UInt16(clamping: prefetch), 0)
        try check(amqp_get_rpc_reply(c), "basic.qos")
    }

    /// Consumer tag → queue name, so a delivery is known by the queue it came from.
    private var consumerTags: [String: String] = [:]

    func consume(queue: String) throws {
        let c = try conn()
        var tag = ""
        withBytes(queue) { q in
            if let ok = amqp_basic_consume(c, channel, q, amqp_empty_bytes, 0, 0, 0, amqp_empty_table) {
                tag = string(ok.pointee.consumer_tag)
            }
        }
        try check(amqp_get_rpc_reply(c), "basic.consume \(queue)")
        consumerTags[tag] = queue
    }

    /// Cancels every consumer of this channel: no new deliveries arrive after it returns (those already sent
    /// are still read by `receive`).
    func cancelConsumers() throws {
        let c = try conn()
        for tag in consumerTags.keys {
            withBytes(tag) { t in _ = amqp_basic_cancel(c, channel, t) }
            try check(amqp_get_rpc_reply(c), "basic.cancel")
        }
        consumerTags = [:]
    }

    struct Received {
        var body: [UInt8]
        var headers: [String: String]
        var routingKey: String
        /// The queue the message came from (consumers), or was read from (basic.get).
        var queue: String
        var deliveryTag: UInt64
        var redelivered: Bool
    }

    /// Waits up to `timeout` for a delivery; nil on timeout. Throws when the connection or channel is gone.
    func receive(timeout: Duration) throws -> Received? {
        let c = try conn()
        amqp_maybe_release_buffers(c)
        var envelope = amqp_envelope_t()
        let ms = timeout.milliseconds
        var tv = timeval(tv_sec: Int(ms / 1000), tv_usec: Int(ms % 1000) * 1000)
        let reply = amqp_consume_message(c, &envelope, &tv, 0)
        if reply.reply_type == AMQP_RESPONSE_NORMAL {
            defer { amqp_destroy_envelope(&envelope) }
            return Received(body: bytes(envelope.message.body), headers: readHeaders(envelope.message.properties),
                            routingKey: string(envelope.routing_key), queue: consumerTags[string(envelope.consumer_tag)] ?? "",
                            deliveryTag: envelope.delivery_tag, redelivered: envelope.redelivered != 0)
        }
        if reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION {
            if reply.library_error == AMQP_STATUS_TIMEOUT.rawValue { return nil }
            if reply.library_error == AMQP_STATUS_UNEXPECTED_STATE.rawValue {
                // A frame other than a delivery: read it to see whether the broker closed us.
                var frame = amqp_frame_t()
                let rc = amqp_simple_wait_frame(c, &frame)
                if rc != AMQP_STATUS_OK.rawValue { abandon(); throw QueueError.connection("connection lost") }
                if frame.frame_type == UInt8(AMQP_FRAME_METHOD) {
                    switch frame.payload.method.id {
                    case AMQPMethod.channelClose, AMQPMethod.connectionClose, AMQPMethod.basicCancel:
                        abandon(); throw QueueError.connection("the broker closed the consumer")
                    default: return nil
                    }
                }
                return nil
            }
            abandon()
            throw QueueError.connection("receive: \(String(cString: amqp_error_string2(reply.library_error)))")
        }
        abandon()
        throw QueueError.connection("receive: unexpected reply")
    }

    /// Keeps the connection alive (heartbeats) while idle; throws if it is gone.
    func idle(timeout: Duration) throws {
        let c = try conn()
        var frame = amqp_frame_t()
        let ms = timeout.milliseconds
        var tv = timeval(tv_sec: Int(ms / 1000), tv_usec: Int(ms % 1000) * 1000)
        let rc = amqp_simple_wait_frame_noblock(c, &frame, &tv)
        if rc == AMQP_STATUS_TIMEOUT.rawValue || rc == AMQP_STATUS_OK.rawValue {
            if rc == AMQP_STATUS_OK.rawValue, frame.frame_type == UInt8(AMQP_FRAME_METHOD),
               frame.payload.method.id == AMQPMethod.channelClose || frame.payload.method.id == AMQPMethod.connectionClose {
                abandon(); throw QueueError.connection("the broker closed the connection")
            }
            return
        }
        abandon()
        throw QueueError.connection("connection lost: \(String(cString: amqp_error_string2(rc)))")
    }

    func ack(_ tag: UInt64) throws {
        let c = try conn()
        let rc = amqp_basic_ack(c, channel, tag, 0)
        guard rc == AMQP_STATUS_OK.rawValue else { abandon(); throw QueueError.connection("ack failed") }
    }

    func reject(_ tag: UInt64, requeue: Bool) throws {
        let c = try conn()
        let rc = amqp_basic_reject(c, channel, tag, requeue ? 1 : 0)
        guard rc == AMQP_STATUS_OK.rawValue else { abandon(); throw QueueError.connection("reject failed") }
    }

    /// basic.get with manual ack: nil when the queue is empty.
    func get(queue: String) throws -> Received? {
        let c = try conn()
        var reply = amqp_rpc_reply_t()
        withBytes(queue) { q in reply = amqp_basic_get(c, channel, q, 0) }
        try check(reply, "basic.get \(queue)")
        guard reply.reply.id == 0x003C_0047, let decoded = reply.reply.decoded else { return nil }  // get-ok
        let ok = decoded.assumingMemoryBound(to: amqp_basic_get_ok_t.self).pointee
        var message = amqp_message_t()
        let r = amqp_read_message(c, channel, &message, 0)
        try check(r, "read message")
        defer { amqp_destroy_message(&message) }
        return Received(body: bytes(message.body), headers: readHeaders(message.properties), routingKey: string(ok.routing_key),
                        queue: queue, deliveryTag: ok.delivery_tag, redelivered: ok.redelivered != 0)
    }

    func purge(queue: String) throws -> Int {
        let c = try conn()
        var count = 0
        withBytes(queue) { q in if let ok = amqp_queue_purge(c, channel, q) { count = Int(ok.pointee.message_count) } }
        try check(amqp_get_rpc_reply(c), "queue.purge \(queue)")
        return count
    }

    /// Closes and reopens the channel: every unacknowledged message on it goes back to its queue in order.
    func reopenChannel() throws {
        let c = try conn()
        _ = amqp_channel_close(c, channel, Int32(AMQP_REPLY_SUCCESS))
        amqp_channel_open(c, channel)
        try check(amqp_get_rpc_reply(c), "channel.open")
        if confirmMode { confirmMode = false; try enableConfirms() }
    }
}

// MARK: Bytes and tables

private func string(_ b: amqp_bytes_t) -> String {
    guard b.len > 0, let p = b.bytes else { return "" }
    return String(decoding: UnsafeRawBufferPointer(start: p, count: b.len), as: UTF8.self)
}

private func bytes(_ b: amqp_bytes_t) -> [UInt8] {
    guard b.len > 0, let p = b.bytes else { return [] }
    return Array(UnsafeRawBufferPointer(start: p, count: b.len))
}

/// Calls `body` with an amqp_bytes_t that points into a copy of `s` kept alive for the call.
private func withBytes<T>(_ s: String, _ body: (amqp_bytes_t) throws -> T) rethrows -> T {
    var utf8 = Array(s.utf8)
    return try utf8.withUnsafeMutableBytes { raw in
        try body(amqp_bytes_t(len: raw.count, bytes: raw.baseAddress))
    }
}

/// Builds an amqp_table_t whose memory lives for the call.
private func withTable<T>(_ fields: [(String, AMQPField)], _ body: (amqp_table_t) throws -> T) rethrows -> T {
    if fields.isEmpty { return try body(amqp_empty_table) }
    let entries = UnsafeMutablePointer<amqp_table_entry_t>.allocate(capacity: fields.count)
    var buffers: [UnsafeMutableRawPointer] = []
    func copy(_ s: String) -> amqp_bytes_t {
        let u = Array(s.utf8)
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(1, u.count), alignment: 1)
        u.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: u.count) }
        buffers.append(p)
        return amqp_bytes_t(len: u.count, bytes: p)
    }
    defer {
        buffers.forEach { $0.deallocate() }
        entries.deallocate()
    }
    for (i, (key, value)) in fields.enumerated() {
        var entry = amqp_table_entry_t()
        entry.key = copy(key)
        switch value {
        case .string(let s):
            entry.value.kind = UInt8(AMQP_FIELD_KIND_UTF8.rawValue)
            entry.value.value.bytes = copy(s)
        case .int(let n):
            entry.value.kind = UInt8(AMQP_FIELD_KIND_I64.rawValue)
            entry.value.value.i64 = n
        case .bool(let b):
            entry.value.kind = UInt8(AMQP_FIELD_KIND_BOOLEAN.rawValue)
            entry.value.value.boolean = b ? 1 : 0
        }
        (entries + i).initialize(to: entry)
    }
    return try body(amqp_table_t(num_entries: Int32(fields.count), entries: entries))
}

/// String and integer headers of a message (arrays and tables such as x-death are left out).
private func readHeaders(_ props: amqp_basic_properties_t) -> [String: String] {
    guard props._flags & amqp_flags_t(AMQP_BASIC_HEADERS_FLAG) != 0, props.headers.num_entries > 0,
          let entries = props.headers.entries else { return [:] }
    var out: [String: String] = [:]
    for i in 0..<Int(props.headers.num_entries) {
        let e = entries[i]
        let key = string(e.key)
        switch UInt32(e.value.kind) {
        case AMQP_FIELD_KIND_UTF8.rawValue, AMQP_FIELD_KIND_BYTES.rawValue: out[key] = string(e.value.value.bytes)
        case AMQP_FIELD_KIND_I8.rawValue: out[key] = String(e.value.value.i8)
        case AMQP_FIELD_KIND_U8.rawValue: out[key] = String(e.value.value.u8)
        case AMQP_FIELD_KIND_I16.rawValue: out[key] = String(e.value.value.i16)
        case AMQP_FIELD_KIND_U16.rawValue: out[key] = String(e.value.value.u16)
        case AMQP_FIELD_KIND_I32.rawValue: out[key] = String(e.value.value.i32)
        case AMQP_FIELD_KIND_U32.rawValue: out[key] = String(e.value.value.u32)
        case AMQP_FIELD_KIND_I64.rawValue: out[key] = String(e.value.value.i64)
        case AMQP_FIELD_KIND_U64.rawValue: out[key] = String(e.value.value.u64)
        case AMQP_FIELD_KIND_BOOLEAN.rawValue: out[key] = e.value.value.boolean != 0 ? "true" : "false"
        case AMQP_FIELD_KIND_ARRAY.rawValue where key == "x-death":
            // The newest death comes first: keep its reason and queue (x-first-death-* tell only the first).
            let list = e.value.value.array
            if list.num_entries > 0, let first = list.entries, UInt32(first.pointee.kind) == AMQP_FIELD_KIND_TABLE.rawValue {
                let t = first.pointee.value.table
                for j in 0..<Int(t.num_entries) {
                    let f = t.entries[j]
                    let name = string(f.key)
                    if (name == "reason" || name == "queue"),
                       UInt32(f.value.kind) == AMQP_FIELD_KIND_UTF8.rawValue || UInt32(f.value.kind) == AMQP_FIELD_KIND_BYTES.rawValue {
                        out["x-death-\(name)"] = string(f.value.value.bytes)
                    }
                }
            }
        default: continue
        }
    }
    return out
}
