import ACME
import Delivery
import Foundation
import Logging
import MailStore
import ServiceLifecycle
import UnixSignals

// The long-running parts of `apus serve` as ServiceLifecycle services (`MailServer.services`).

/// The SMTP and admin listeners (`MailServer.runListeners`).
struct ListenerService: Service {
    let server: MailServer
    func run() async throws { try await server.runListeners() }
}

/// The queue runner: delivers until the graceful shutdown reaches it (after the listeners), then stops;
/// whatever it had not recorded is retried at the next start.
struct QueueRunnerService: Service {
    let runner: QueueRunner
    let wakeups: AsyncStream<String>
    let executor: (any TaskExecutor)?
    let logger: Logger
    func run() async throws {
        let (runner, wakeups, executor) = (self.runner, self.wakeups, self.executor)
        await cancelWhenGracefulShutdown { await runner.run(wakeups: wakeups, executor: executor) }
        logger.info("queue runner stopped")
    }
}

/// SIGHUP re-reads users, aliases, DKIM keys and certificates.
struct ReloadSignalService: Service {
    let server: MailServer
    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() { server.reload() }
    }
}

/// Renewed certificates and edited users, aliases or DKIM keys apply without a restart: the configuration
/// files are fingerprinted every `interval` and reloaded when that changes.
struct ConfigWatcherService: Service {
    let server: MailServer
    let interval: Duration
    func run() async throws {
        let (server, interval) = (self.server, self.interval)
        await cancelWhenGracefulShutdown {
            let watcher = ConfigWatcher(configDirectory: server.configDirectory)
            var last = watcher.fingerprint()
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { break }
                let now = watcher.fingerprint()
                if now != last {
                    server.logger.info("configuration files changed: reloading")
                    server.reload()
                    last = now
                }
            }
        }
    }
}

/// `[listen] admin` (/metrics, /healthz): bound with the listeners, closed after them.
struct AdminService: Service {
    let admin: AdminServer
    func run() async throws {
        try? await gracefulShutdown()
        await admin.close()
    }
}

/// `[acme]`: obtains and renews certificates until the graceful shutdown; a new certificate is loaded at once.
struct CertificateManagerService: Service {
    let server: MailServer
    let manager: CertificateManager
    func run() async throws {
        let (server, manager) = (self.server, self.manager)
        await cancelWhenGracefulShutdown {
            await manager.run(onChange: { server.reload() })
        }
    }
}

/// `[listen] http|https` (ACME challenges, MTA-STS policy): bound with the listeners, closed after them.
struct WebService: Service {
    let web: WebServer
    func run() async throws {
        try? await gracefulShutdown()
        await web.close()
    }
}

/// `[events] keep`: events and message records older than that, and idempotency records older than 24 hours,
/// are removed at start and then every hour.
struct EventRetentionService: Service {
    let store: any MailStore
    let keep: Duration
    let logger: Logger
    func run() async throws {
        let (store, keep, logger) = (self.store, self.keep, self.logger)
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let now = Date()
                do {
                    try await store.prune(before: now.addingTimeInterval(-Double(keep.components.seconds)),
                                          idempotencyBefore: now.addingTimeInterval(-86_400))
                } catch {
                    logger.error("event store: pruning records older than [events] keep failed: \(error)")
                }
                try? await Task.sleep(for: .seconds(3600))
            }
        }
    }
}
