import Foundation

/// Writes a new `certs/<name>/` with `privkey.pem` and `fullchain.pem`: both files go into a fresh
/// `certs/.<name>.new/`, which is then swapped with `certs/<name>/` in one `renameat2(RENAME_EXCHANGE)`.
/// A reader sees the old pair or the new pair, never a mix, and only `certs/` itself must be writable
/// (the server runs as `apus`; `certs/<name>/` may have been made by root with `apus init`).
public enum CertificateFiles {
    public static func write(directory: String, fullchain: String, privateKey: String) throws {
        let parent = (directory as NSString).deletingLastPathComponent
        let base = (directory as NSString).lastPathComponent
        try FileWriter.makeDirectories(parent)
        let staging = "\(parent)/.\(base).new.\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.removeItem(atPath: staging)
        try FileWriter.makeDirectories(staging)
        // The key: 0640 so the `apus` group can read it, never others.
        try FileWriter.replace("\(staging)/privkey.pem", contents: Array(privateKey.utf8), mode: 0o640)
        try FileWriter.replace("\(staging)/fullchain.pem", contents: Array(fullchain.utf8), mode: 0o644)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue {
            guard exchange(staging, directory) == 0 else {
                let why = String(cString: strerror(errno))
                try? FileManager.default.removeItem(atPath: staging)
                throw ACMEError("cannot put the new certificate in place of \(directory): \(why) (is \(parent) writable by this user?)")
            }
            // `staging` now holds the old pair. A directory made by root may not be removable by `apus`: then
            // it stays, hidden (certs/.<name>…), and is replaced at the next renewal.
            try? FileManager.default.removeItem(atPath: staging)
        } else {
            guard rename(staging, directory) == 0 else {
                throw ACMEError("cannot create \(directory): \(String(cString: strerror(errno)))")
            }
        }
        let fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 { _ = fsync(fd); close(fd) }
    }

    /// `renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE)` (Linux 3.15, glibc 2.28). Glibc declares it only
    /// under `_GNU_SOURCE`, which Swift's Glibc module does not set, so it is looked up by name.
    static func exchange(_ a: String, _ b: String) -> Int32 {
        typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else {
            errno = ENOSYS
            return -1
        }
        let renameat2 = unsafeBitCast(symbol, to: RenameAt2.self)
        let renameExchange: UInt32 = 1 << 1
        return renameat2(AT_FDCWD, a, AT_FDCWD, b, renameExchange)
    }
}
