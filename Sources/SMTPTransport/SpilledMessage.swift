#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// A message too large to keep in memory (`DataSpillPolicy`): its header section in memory, its body in a
/// temp file `.tmp-spill-…` in the queue directory, written as DATA arrived (dot-stuffing removed, CRLF line
/// endings as received). `header` followed by the file's bytes is the message exactly.
///
/// The file belongs to the SMTP handler: it exists while the delegate's `accept(envelope:spilled:…)` runs
/// and is removed right after, whatever the outcome; the delegate copies what it keeps (the queue file).
/// A crash leaves it behind as a `.tmp-*` file, which the server removes at its next start.
public struct SpilledMessage: Sendable {
    /// The header section up to and including the empty line that ends it. When no empty line came within
    /// `DataSpillPolicy.maxHeaderBytes`, the first that many bytes (the checks then see a cut header; the
    /// message itself is kept whole).
    public var header: ByteBuffer
    public var bodyPath: String
    public var bodyBytes: Int

    public init(header: ByteBuffer, bodyPath: String, bodyBytes: Int) {
        self.header = header
        self.bodyPath = bodyPath
        self.bodyBytes = bodyBytes
    }

    /// Header and body together.
    public var size: Int { header.readableBytes + bodyBytes }

    /// Bytes of the body file per `read` in `forEachBodyChunk`.
    public static let readChunkBytes = 256 * 1024

    /// Calls `body` with the body file's bytes in order, `readChunkBytes` at a time, at most `limit` bytes.
    /// Blocking: run it on a thread pool.
    public func forEachBodyChunk(limit: Int = .max, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let fd = open(bodyPath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SpillError(operation: "open", path: bodyPath, errno: errno) }
        defer { close(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.readChunkBytes, alignment: 16)
        defer { buffer.deallocate() }
        var left = limit
        while left > 0 {
            let n = read(fd, buffer.baseAddress, min(buffer.count, left))
            if n < 0 {
                if errno == EINTR { continue }
                throw SpillError(operation: "read", path: bodyPath, errno: errno)
            }
            if n == 0 { break }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            left -= n
        }
    }

    /// The whole message in one buffer (for delegates and checks that need it in memory). Blocking.
    public func readWhole(limit: Int = .max) throws -> ByteBuffer {
        var out = ByteBufferAllocator().buffer(capacity: header.readableBytes + min(bodyBytes, limit))
        out.writeImmutableBuffer(header)
        try forEachBodyChunk(limit: limit) { out.writeBytes($0) }
        return out
    }
}

/// A failed operation on a spill file: what, which file, the errno.
public struct SpillError: Error, CustomStringConvertible {
    public var operation: String
    public var path: String
    public var errno: Int32

    public init(operation: String, path: String, errno: Int32) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    public var description: String { "\(operation) \(path): \(String(cString: strerror(errno)))" }
}
