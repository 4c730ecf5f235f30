#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Notices edits of the files `reload()` reads — `certs/*/fullchain.pem` and `privkey.pem` (certbot and
/// acme.sh renewals), `domains/*/users`, `domains/*/aliases`, `domains/*/api-keys` and `domains/*/dkim/*.pem`
/// — by polling their `stat`. Polling a few dozen `stat` calls every couple of seconds costs nothing and works on every file
/// system, including renames into place and editors that replace files.
///
/// Symbolic links are followed: certbot renews by re-pointing `live/<name>/fullchain.pem` at a new file in
/// `archive/`, so a `certs/<name>/fullchain.pem` that links to the live link never changes itself — only the
/// file at the end of the chain does. The inode and the change time catch a file moved into place with the
/// same size and a preserved modification time (`cp -p`, `install -p`, `mv`).
struct ConfigWatcher: Sendable {
    let configDirectory: String

    struct Stamp: Hashable, Sendable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        /// Modification and status-change times in nanoseconds since 1970.
        var modified: Int64
        var changed: Int64
    }

    /// path → stamp of every watched file that exists.
    func fingerprint() -> [String: Stamp] {
        let fm = FileManager.default
        var paths: [String] = []
        let certs = "\(configDirectory)/certs"
        for name in (try? fm.contentsOfDirectory(atPath: certs)) ?? [] where !name.hasPrefix(".") {
            paths.append("\(certs)/\(name)/fullchain.pem")
            paths.append("\(certs)/\(name)/privkey.pem")
        }
        let domains = "\(configDirectory)/domains"
        for name in (try? fm.contentsOfDirectory(atPath: domains)) ?? [] where !name.hasPrefix(".") {
            paths.append("\(domains)/\(name)/users")
            paths.append("\(domains)/\(name)/aliases")
            paths.append("\(domains)/\(name)/api-keys")
            let dkim = "\(domains)/\(name)/dkim"
            for key in (try? fm.contentsOfDirectory(atPath: dkim)) ?? [] where key.hasSuffix(".pem") {
                paths.append("\(dkim)/\(key)")
            }
        }
        var result: [String: Stamp] = [:]
        for path in paths {
            if let stamp = Self.stamp(path) { result[path] = stamp }
        }
        return result
    }

    /// `stat(2)` of the file a path leads to (through any symbolic links); nil when there is none.
    static func stamp(_ path: String) -> Stamp? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        #if canImport(Darwin)
        let (modified, changed) = (info.st_mtimespec, info.st_ctimespec)
        #else
        let (modified, changed) = (info.st_mtim, info.st_ctim)
        #endif
        func nanoseconds(_ t: timespec) -> Int64 { Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_nsec) }
        return Stamp(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
                     modified: nanoseconds(modified), changed: nanoseconds(changed))
    }
}
