#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import ConfigFiles
import NIOCore

/// Large messages (docs/architecture.md "Large messages"): the body arrived on disk (a spill file in the
/// queue directory) and only the header section is in memory. The queue file is the same as `store` writes
/// — magic, envelope line, message — with the message made of `header` (the trace fields and DKIM
/// signatures already on top) and the spill file's bytes, copied by the kernel: the body never passes
/// through this process's memory. Temp file, fsync, rename, fsync of the directory, as for every message.
extension FileSpool {
    public func storeSpilled(_ meta: QueuedMessage, header: ByteBuffer, bodyFile: String) async throws {
        let path = messagePath(meta.id)
        let envelope = Self.magic + meta.jsonLine() + [UInt8(ascii: "\n")]
        _ = try await threadPool.runIfActive {
            try envelope.withUnsafeBytes { e in
                try header.withUnsafeReadableBytes { h in
                    try DurableFile.write([e, h], thenContentsOf: bodyFile, to: path)
                }
            }
        }
    }

    /// The size of `<id>.msg` (envelope line included), nil when it is not there. A `stat`, no read; for a
    /// message still in memory (`RecentMessages`), the size of its body, without a system call.
    public func storedSize(id: String) async -> Int? {
        guard QueuedMessage.isValidID(id) else { return nil }
        if let size = recent?.bodySize(id) { return size }
        var info = stat()
        guard stat(messagePath(id), &info) == 0 else { return nil }
        return Int(info.st_size)
    }
}

extension Spool {
    /// For spools that keep messages whole: reads the body file and stores header + body with `store`.
    public func storeSpilled(_ meta: QueuedMessage, header: ByteBuffer, bodyFile: String) async throws {
        let body = try DurableFile.read(bodyFile) ?? []
        var message = ByteBufferAllocator().buffer(capacity: header.readableBytes + body.count)
        message.writeImmutableBuffer(header)
        message.writeBytes(body)
        try await store(meta, message: message)
    }

    /// The stored size of a message, for callers that bound the memory of loading many at once; nil when
    /// unknown (then it is not bounded).
    public func storedSize(id: String) async -> Int? { nil }
}

extension FileSpool {
    /// A queue file read for `readMeta`: `whole`, straight into one buffer (a 50 MB message costs 50 MB, not
    /// an array and then a copy); else only up to the end of the envelope line, read in 16 KiB steps (a queue
    /// listing must not read every message body). nil when the file does not exist.
    static func readQueueFile(_ path: String, in dir: String, whole: Bool) throws -> ByteBuffer? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            let error = errno
            if error == EACCES || error == EPERM { _ = try readFile(path, in: dir) }   // its message names the fix
            throw SpoolError.unreadable(path: path, reason: String(cString: strerror(error)))
        }
        defer { close(fd) }
        var info = stat()
        let size = fstat(fd, &info) == 0 ? max(Int(info.st_size), 0) : 0
        let step = 16 * 1024
        var buffer = ByteBufferAllocator().buffer(capacity: whole ? size + 1 : min(size + 1, step))
        while true {
            var failure: Int32 = 0
            // At least one byte of room: a file that did not grow fills the buffer without reallocating.
            let n = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 1) { out in
                let n = read(fd, out.baseAddress, out.count)
                if n < 0 { failure = errno }
                return max(n, 0)
            }
            if failure == EINTR { continue }
            if failure != 0 { throw SpoolError.unreadable(path: path, reason: String(cString: strerror(failure))) }
            if n == 0 { break }
            if !whole, buffer.readableBytesView.dropFirst(magic.count).contains(UInt8(ascii: "\n")) { break }
        }
        return buffer
    }
}
