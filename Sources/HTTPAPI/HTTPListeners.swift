import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import Synchronization

/// Serves one router on several `host:port` addresses (a `[listen]` list), plain or with TLS, as one Service.
/// `boundAddresses()` gives the real addresses once listening (port 0 in tests). A port that cannot be bound
/// ends `run` with an error naming the role, the address and the key to change.
public final class HTTPListeners: Service, Sendable {
    public let role: String
    let addresses: [(host: String, port: Int)]
    let router: @Sendable () -> Router<APIRequestContext>
    let tls: (@Sendable () -> NIOSSLContext?)?
    /// Bounds on each connection (plain HTTP only), or none.
    let limits: HTTPConnectionLimits?
    let logger: Logger
    let bound = Mutex<[SocketAddress]>([])
    let failure = Mutex<HTTPListenerError?>(nil)
    let waiters = Mutex<[CheckedContinuation<Result<[SocketAddress], HTTPListenerError>, Never>]>([])

    /// `role` names the `[listen]` key ("api", "admin") in log lines and errors. With `limits`, each
    /// connection is bounded and closed after one response (for plain HTTP; `tls` must then be nil).
    public init(role: String, addresses: [(host: String, port: Int)], tls: (@Sendable () -> NIOSSLContext?)?,
                limits: HTTPConnectionLimits? = nil,
                logger: Logger, router: @escaping @Sendable () -> Router<APIRequestContext>) {
        precondition(tls == nil || limits == nil, "connection limits apply to plain HTTP listeners only")
        self.role = role
        self.addresses = addresses
        self.tls = tls
        self.limits = limits
        self.logger = logger
        self.router = router
    }

    /// The bound addresses once every address listens, or the error of the first that could not.
    public func ready() async -> Result<[SocketAddress], HTTPListenerError> {
        if addresses.isEmpty { return .success([]) }
        return await withCheckedContinuation { continuation in
            let now: Result<[SocketAddress], HTTPListenerError>? = waiters.withLock { list in
                if let error = failure.withLock({ $0 }) { return .failure(error) }
                if let ready = bound.withLock({ $0.count == addresses.count ? $0 : nil }) { return .success(ready) }
                list.append(continuation)
                return nil
            }
            if let now { continuation.resume(returning: now) }
        }
    }

    /// The bound addresses (waits until listening; empty if binding failed).
    public func boundAddresses() async -> [SocketAddress] {
        (try? await ready().get()) ?? []
    }

    func resumeWaiters(_ result: Result<[SocketAddress], HTTPListenerError>) {
        let list = waiters.withLock { w in defer { w = [] }; return w }
        for waiter in list { waiter.resume(returning: result) }
    }

    public func run() async throws {
        guard !addresses.isEmpty else {
            try? await gracefulShutdown()
            return
        }
        let server: HTTPServerBuilder
        if let tls {
            server = .reloadingTLS(tls)
        } else if let limits {
            server = .limited(limits, role: role)
        } else {
            server = .http1()
        }
        try await withThrowingDiscardingTaskGroup { group in
            for address in addresses {
                let app = Application(
                    router: router(),
                    server: server,
                    configuration: .init(address: .hostname(address.host, port: address.port), serverName: nil,
                                         reuseAddress: true),
                    onServerRunning: { channel in self.didBind(channel.localAddress) },
                    logger: logger)
                group.addTask {
                    do {
                        // `run`, not `runService`: the latter makes a ServiceGroup of its own that traps SIGTERM
                        // and stops the listener at once, out of the server's shutdown order (and a service that
                        // ends before its turn cancels the whole group).
                        try await app.run()
                    } catch {
                        let failed = HTTPListenerError(role: self.role, host: address.host, port: address.port, underlying: error)
                        self.waiters.withLock { _ in self.failure.withLock { $0 = $0 ?? failed } }
                        self.resumeWaiters(.failure(failed))
                        throw failed
                    }
                }
            }
        }
    }

    func didBind(_ address: SocketAddress?) {
        guard let address else { return }
        logger.info("listening: \(role) (HTTP\(tls == nil ? "" : "S")) on \(address.ipAddress ?? "?"):\(address.port ?? 0)")
        let ready: [SocketAddress]? = waiters.withLock { _ in
            bound.withLock {
                $0.append(address)
                return $0.count == addresses.count ? $0 : nil
            }
        }
        if let ready { resumeWaiters(.success(ready)) }
    }
}

public struct HTTPListenerError: Error, CustomStringConvertible {
    public var role: String
    public var host: String
    public var port: Int
    public var underlying: any Error

    public var description: String {
        let shown = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        return "cannot listen for \(role) on \(shown): \(underlying) — change [listen] \(role) in apus.toml or stop what uses the port"
    }
}
