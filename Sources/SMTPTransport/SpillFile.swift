#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOPosix

/// The temp file a spilling DATA is written to (`DataSpill`), used from its connection's event loop only.
/// Every file operation runs on NIO's thread pool, one after the other in the order asked (each waits for
/// the one before), so closing or removing after a write never races it.
final class SpillFile {
    let path: String
    private let eventLoop: any EventLoop
    private let threadPool: NIOThreadPool
    /// The descriptor once the previous operation has finished; -1 after `close`.
    private var last: EventLoopFuture<Int32>
    private(set) var bytes = 0

    /// Spill writes go to page cache and take microseconds; NIO's shared pool also runs every fsync of the
    /// queue (milliseconds each), and a write queued behind them would stall its connection. So they have
    /// two threads of their own, started on first use and kept for the life of the process.
    static let ioPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        return pool
    }()

    init(directory: String, eventLoop: any EventLoop, threadPool: NIOThreadPool = SpillFile.ioPool) {
        let path = directory + "/.tmp-spill-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        self.path = path
        self.eventLoop = eventLoop
        self.threadPool = threadPool
        last = threadPool.runIfActive(eventLoop: eventLoop) {
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw SpillError(operation: "create", path: path, errno: errno) }
            return fd
        }
    }

    /// Appends the readable bytes of `buffer`.
    func append(_ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        bytes += buffer.readableBytes
        let (pool, loop, path) = (threadPool, eventLoop, self.path)
        last = last.flatMap { fd in
            pool.runIfActive(eventLoop: loop) {
                try buffer.withUnsafeReadableBytes { chunk in
                    var offset = 0
                    while offset < chunk.count {
                        let n = write(fd, chunk.baseAddress! + offset, chunk.count - offset)
                        if n < 0 {
                            if errno == EINTR { continue }
                            let failure = SpillError(operation: "write", path: path, errno: errno)
                            _ = Glibc.close(fd)   // the chain fails from here on: nobody else closes it
                            throw failure
                        }
                        offset += n
                    }
                }
                return fd
            }
        }
        return last.map { _ in }
    }

    /// Closes the descriptor after the writes before it; the file stays (the message is read from it).
    /// No fsync: the queue file made from it is synced, this one is thrown away.
    func close() -> EventLoopFuture<Void> {
        let (pool, loop) = (threadPool, eventLoop)
        last = last.flatMap { fd in
            pool.runIfActive(eventLoop: loop) {
                _ = Glibc.close(fd)
                return -1
            }
        }
        return last.map { _ in }
    }

    /// Closes (if still open) and removes the file, after whatever operation is in flight.
    func remove() {
        let (pool, loop, path) = (threadPool, eventLoop, self.path)
        last.whenComplete { result in
            let fd = (try? result.get()) ?? -1
            _ = pool.runIfActive(eventLoop: loop) {
                if fd >= 0 { _ = Glibc.close(fd) }
                unlink(path)
            }
        }
        last = eventLoop.makeFailedFuture(SpillError(operation: "use", path: path, errno: EBADF))
    }
}
