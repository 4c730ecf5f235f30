#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a small text file (resolv.conf) with plain POSIX calls, so the module needs no Foundation.
func readTextFile(_ path: String, limit: Int = 1 << 20) throws(DNSFileError) -> String {
    guard let file = fopen(path, "r") else { throw .unreadable(path) }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while bytes.count < limit {
        let count = fread(&chunk, 1, chunk.count, file)
        if count <= 0 { break }
        bytes += chunk[0..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}

enum DNSFileError: Error {
    case unreadable(String)
}
