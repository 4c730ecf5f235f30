#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A durable write whose content is some bytes in memory followed by a whole other file, copied by the
/// kernel (`copy_file_range`, else `sendfile`, else a read/write loop with a fixed buffer), never through
/// the process's memory: the queue file of a large message (`FileSpool.storeSpilled`) from its spill file.
/// Same guarantees as `write`: temp file, fsync, rename, fsync of the directory.
extension DurableFile {
    /// Writes `chunks` then the content of `source` to `path`, replacing it; returns the bytes copied from
    /// `source`.
    @discardableResult
    public static func write(_ chunks: [UnsafeRawBufferPointer], thenContentsOf source: String, to path: String,
                             mode: mode_t = 0o600, syncDirectory: Bool = true) throws -> Int {
        let dir = ConfigFile.parent(of: path)
        let owner = try foreignOwner(of: dir)
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw IOError(operation: .open, path: source, errno: errno) }
        defer { close(input) }
        var copied = 0
        let tmp = try temporaryCopy([], in: dir) { fd, tmp in
            guard fchmod(fd, mode) == 0 else { throw IOError(operation: .chmod, path: tmp, errno: errno) }
            if let owner, fchown(fd, owner.uid, owner.gid) != 0 {
                throw IOError(operation: .chown, path: tmp, errno: errno)
            }
            for chunk in chunks { try writeAll(fd, chunk, path: tmp) }
            copied = try copyAll(from: input, source: source, to: fd, path: tmp)
        }
        guard rename(tmp, path) == 0 else {
            let failure = IOError(operation: .rename, path: path, errno: errno)
            unlink(tmp)
            throw failure
        }
        if syncDirectory { try Self.syncDirectory(dir) }
        return copied
    }

    /// All of `chunk` to `fd` (short writes continued, EINTR retried); `path` names the file in the error.
    public static func writeAll(_ fd: Int32, _ chunk: UnsafeRawBufferPointer, path: String) throws {
        var offset = 0
        while offset < chunk.count {
            let n = Glibc.write(fd, chunk.baseAddress! + offset, chunk.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw IOError(operation: .write, path: path, errno: errno)
            }
            offset += n
        }
    }

    /// Everything from `input`'s current offset to its end, appended to `output`.
    static func copyAll(from input: Int32, source: String, to output: Int32, path: String) throws -> Int {
        var total = 0
        var method = copyFileRange == nil ? 1 : 0          // 0 copy_file_range, 1 sendfile, 2 read/write
        while method < 2 {
            let n = method == 0 ? copyFileRange!(input, nil, output, nil, 1 << 30, 0) : sendfile(output, input, nil, 1 << 30)
            if n > 0 { total += n; continue }
            if n == 0 { return total }
            if errno == EINTR { continue }
            // Not supported between these files (old kernel, another file system, a special file): next way.
            if total == 0, [ENOSYS, EXDEV, EINVAL, EOPNOTSUPP, EBADF].contains(errno) { method += 1; continue }
            throw IOError(operation: .write, path: path, errno: errno)
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = Glibc.read(input, buffer.baseAddress, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw IOError(operation: .read, path: source, errno: errno)
            }
            if n == 0 { return total }
            try writeAll(output, UnsafeRawBufferPointer(rebasing: buffer[0..<n]), path: path)
            total += n
        }
    }

    typealias CopyFileRange = @convention(c) (Int32, UnsafeMutablePointer<Int64>?, Int32, UnsafeMutablePointer<Int64>?,
                                              Int, UInt32) -> Int
    /// glibc ≥ 2.27 has `copy_file_range`, but its header does not reach Swift's Glibc module: looked up once.
    static let copyFileRange: CopyFileRange? = dlsym(nil, "copy_file_range").map { unsafeBitCast($0, to: CopyFileRange.self) }
}
