import NIOConcurrencyHelpers
import NIOCore
import SMTPTransport

/// Idle SMTP sessions kept for a few seconds after a transaction, per destination domain, so that the next
/// message to that domain skips DNS, TCP, TLS and EHLO (like Postfix's connection cache). A parked session
/// is closed (after `QUIT`) when nobody took it within `maxIdle`; a taken one starts with `RSET`.
public actor SMTPConnectionPool {
    public struct Session: Sendable {
        public let connection: SMTPClientConnection
        public let ehlo: SMTPClientReply
        public let mta: String
        public let tls: String?
        public var transactions: Int
        /// The provider whose connection slot this session holds (`ProviderPacing`), if any.
        public var provider: Provider? = nil
    }

    struct Parked {
        var session: Session
        let token: NIOLockedValueBox<Bool>
    }

    public let maxIdle: TimeAmount
    public let maxPerDomain: Int
    /// Transactions per connection before it is closed anyway.
    public let maxTransactions: Int
    var idle: [String: [Parked]] = [:]

    public init(maxIdle: TimeAmount = .seconds(5), maxPerDomain: Int = 4, maxTransactions: Int = 100) {
        self.maxIdle = maxIdle
        self.maxPerDomain = maxPerDomain
        self.maxTransactions = maxTransactions
    }

    /// A parked, still open session for `domain`, if any.
    public func take(_ domain: String) -> Session? {
        while var list = idle[domain], let parked = list.popLast() {
            idle[domain] = list.isEmpty ? nil : list
            let wasParked = parked.token.withLockedValue { parked in
                defer { parked = false }
                return parked
            }
            if wasParked && parked.session.connection.channel.isActive { return parked.session }
        }
        return nil
    }

    /// Closes one parked session to `provider` (its connection slot is wanted by another domain).
    /// Returns whether there was one.
    @discardableResult
    public func closeIdle(provider: String) -> Bool {
        for (domain, list) in idle {
            guard let index = list.lastIndex(where: { $0.session.provider?.name == provider }) else { continue }
            var rest = list
            let parked = rest.remove(at: index)
            idle[domain] = rest.isEmpty ? nil : rest
            let wasParked = parked.token.withLockedValue { p in
                defer { p = false }
                return p
            }
            guard wasParked else { continue }
            let channel = parked.session.connection.channel
            channel.writeAndFlush(ByteBuffer(string: "QUIT\r\n")).whenComplete { _ in channel.close(promise: nil) }
            return true
        }
        return false
    }

    /// Parks `session` for `domain`. Returns false when the caller should close it instead.
    public func park(_ session: Session, for domain: String) -> Bool {
        guard maxIdle > .zero, session.transactions < maxTransactions, session.connection.channel.isActive,
              (idle[domain]?.count ?? 0) < maxPerDomain else { return false }
        let token = NIOLockedValueBox(true)
        idle[domain, default: []].append(Parked(session: session, token: token))
        let channel = session.connection.channel
        channel.eventLoop.scheduleTask(in: maxIdle) {
            let stillParked = token.withLockedValue { parked in
                defer { parked = false }
                return parked
            }
            guard stillParked else { return }
            channel.writeAndFlush(ByteBuffer(string: "QUIT\r\n")).whenComplete { _ in channel.close(promise: nil) }
        }
        return true
    }
}
