#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import ConfigFiles

/// The SRS key, `<data_dir>/state/srs.secret` (DESIGN.md §3): 32 random bytes, mode 0600, made on first use.
/// Losing it only invalidates the SRS addresses handed out so far (their bounces are refused).
public enum SRSSecret {
    /// Bytes of a new secret.
    public static let length = 32
    /// A shorter file is refused: it would make the hash guessable.
    static let minimumLength = 16

    /// `<dataDirectory>/state/srs.secret`.
    public static func path(dataDirectory: String) -> String { "\(dataDirectory)/state/srs.secret" }

    /// Reads the secret, creating the file (and `state/`) with fresh random bytes when it does not exist
    /// (`DurableFile.create`: complete or absent; when another process made it first, theirs is used).
    public static func loadOrCreate(path: String) throws -> [UInt8] {
        if let existing = try load(path: path) { return existing }
        var random = SystemRandomNumberGenerator()
        let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
        do {
            try DurableFile.makeDirectories(AtomicFile.parentDirectory(of: path))
            if try DurableFile.create(bytes, at: path, mode: 0o600) { return bytes }
        } catch let failure as ConfigFile.Failure {
            throw DirectoryError(path: failure.path, reason: "cannot create: \(failure.operation) failed: \(String(cString: strerror(failure.errno)))")
        }
        guard let existing = try load(path: path) else { throw DirectoryError(path: path, reason: "vanished after it was created") }
        return existing
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
}
