#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The SRS key, `<data_dir>/state/srs.secret` (DESIGN.md §3): 32 random bytes, mode 0600, made on first use.
/// Losing it only invalidates the SRS addresses handed out so far (their bounces are refused).
public enum SRSSecret {
    /// Bytes of a new secret.
    public static let length = 32
    /// A shorter file is refused: it would make the hash guessable.
    static let minimumLength = 16

    /// `<dataDirectory>/state/srs.secret`.
    public static func path(dataDirectory: String) -> String { "\(dataDirectory)/state/srs.secret" }

    /// Reads the secret, creating the file (and `state/`) with fresh random bytes when it does not exist.
    public static func loadOrCreate(path: String) throws -> [UInt8] {
        if let existing = try load(path: path) { return existing }
        let directory = AtomicFile.parentDirectory(of: path)
        try makeDirectory(directory)
        var random = SystemRandomNumberGenerator()
        let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 {
            // Another process made it first: use theirs.
            if errno == EEXIST, let existing = try load(path: path) { return existing }
            throw DirectoryError(path: path, reason: "cannot create: \(AtomicFile.errnoText())")
        }
        var ok = false
        defer { if !ok { unlink(path) } }
        do {
            defer { close(fd) }
            // Made by root (apus init) in a data directory the server's user owns: the server must read it.
            var owner = stat()
            if geteuid() == 0, stat(directory, &owner) == 0, owner.st_uid != 0, fchown(fd, owner.st_uid, owner.st_gid) != 0 {
                throw DirectoryError(path: path, reason: "cannot give it the owner of \(directory): \(AtomicFile.errnoText())")
            }
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
            guard written == bytes.count else { throw DirectoryError(path: path, reason: "cannot write: \(AtomicFile.errnoText())") }
            guard fsync(fd) == 0 else { throw DirectoryError(path: path, reason: "fsync failed: \(AtomicFile.errnoText())") }
        }
        ok = true
        try AtomicFile.syncDirectory(directory)
        return bytes
    }

    /// Reads the secret; nil when the file does not exist.
    public static func load(path: String) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw DirectoryError(path: path, reason: "cannot read: \(AtomicFile.errnoText())")
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 256)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw DirectoryError(path: path, reason: "cannot read: \(AtomicFile.errnoText())")
            }
            if n == 0 { break }
            bytes += buffer[0..<n]
            if bytes.count > 4096 { throw DirectoryError(path: path, reason: "longer than 4096 bytes; not an SRS secret") }
        }
        guard bytes.count >= minimumLength else {
            throw DirectoryError(path: path, reason: "only \(bytes.count) bytes; an SRS secret needs at least \(minimumLength) (delete the file to make a new one)")
        }
        return bytes
    }

    static func makeDirectory(_ directory: String) throws {
        var components: [String] = []
        var current = directory
        var info = stat()
        while stat(current, &info) != 0 {
            components.append(current)
            let parent = AtomicFile.parentDirectory(of: current)
            if parent == current { break }
            current = parent
        }
        for dir in components.reversed() where mkdir(dir, 0o700) != 0 && errno != EEXIST {
            throw DirectoryError(path: dir, reason: "cannot create directory: \(AtomicFile.errnoText())")
        }
    }
}
