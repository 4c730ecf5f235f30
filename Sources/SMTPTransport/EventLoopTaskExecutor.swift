import NIOConcurrencyHelpers
import NIOCore

/// An event loop as a Swift task executor (SE-0417), so that async code driving a connection runs on that
/// connection's event loop instead of hopping to the global concurrency pool at every `await`.
///
/// Without it, each reply awaited on an outbound SMTP connection (a future completed on the loop) resumed
/// the waiting task on the global pool: a thread wake-up and two context switches per reply, about a third
/// of the server's CPU time under load. With the preference set, the task continues on the loop that
/// completed the future. Work run this way must not block: it shares the loop with every other connection
/// on it (file I/O still goes to the thread pool or the queue writer).
public final class EventLoopTaskExecutor: TaskExecutor, Sendable {
    public let eventLoop: any EventLoop

    private init(_ eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    private static let executors = NIOLockedValueBox<[ObjectIdentifier: EventLoopTaskExecutor]>([:])

    /// The executor of `eventLoop`: one per loop, kept for the life of the process (a task holds an unowned
    /// reference to its preferred executor).
    public static func of(_ eventLoop: any EventLoop) -> EventLoopTaskExecutor {
        executors.withLockedValue { table in
            if let known = table[ObjectIdentifier(eventLoop)] { return known }
            let made = EventLoopTaskExecutor(eventLoop)
            table[ObjectIdentifier(eventLoop)] = made
            return made
        }
    }
}
