#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

extension InitCommand {
    /// Run as root into a data directory that belongs to the service's user (the Debian package makes
    /// `/var/lib/apus` `apus:apus`), what init wrote there (`state/`, the SRS secret) is given to that user
    /// too: the server, running as `apus`, must write under `state/`. Files owned by someone else are left.
    func matchDataOwner(dataDirectory: String, report: inout InitReport) {
        guard getuid() == 0 else { return }
        var top = stat()
        guard stat(dataDirectory, &top) == 0, top.st_uid != 0 else { return }
        var changed = 0
        let paths = [dataDirectory] + (FileManager.default.subpaths(atPath: dataDirectory) ?? []).map { "\(dataDirectory)/\($0)" }
        for path in paths {
            var info = stat()
            guard lstat(path, &info) == 0, info.st_uid == 0 else { continue }
            if lchown(path, top.st_uid, top.st_gid) == 0 { changed += 1 }
        }
        if changed > 0 {
            let owner = getpwuid(top.st_uid).map { String(cString: $0.pointee.pw_name) } ?? String(top.st_uid)
            report.note("\(changed) file(s) under \(dataDirectory) given to \(owner), the owner of \(dataDirectory)")
        }
    }
}
