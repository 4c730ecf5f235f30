import NIOCore
import SMTPProtocol

/// The addresses `MailServer.run` bound (port 0 resolved); callers wait until they are known.
actor BoundAddresses {
    var addresses: [(ListenerKind, SocketAddress)]?
    var waiters: [CheckedContinuation<[(ListenerKind, SocketAddress)], Never>] = []
    func set(_ a: [(ListenerKind, SocketAddress)]) {
        addresses = a
        for w in waiters { w.resume(returning: a) }
        waiters = []
    }
    func wait() async -> [(ListenerKind, SocketAddress)] {
        if let addresses { return addresses }
        return await withCheckedContinuation { waiters.append($0) }
    }
}
