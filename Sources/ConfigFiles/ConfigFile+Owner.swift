import Foundation

/// Words for messages about permissions: whose a file is, and why the server cannot read it.
extension ConfigFile {
    /// `user:group 0mode` of `path` (names when the system knows them, else the numbers); the stat failure
    /// when there is no such file or it cannot be reached.
    public static func describeOwner(path: String) throws(Failure) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { throw Failure(operation: .stat, path: path, errno: errno) }
        return "\(userName(info.st_uid)):\(groupName(info.st_gid)) 0\(String(info.st_mode & 0o7777, radix: 8))"
    }

    /// Why `path` cannot be read, for the reload error: for EACCES or EPERM, the file's owner and mode, the
    /// user the server runs as, and the fix (docs/install.md).
    public static func unreadableReason(errno code: Int32, path: String) -> String {
        guard code == EACCES || code == EPERM else { return "cannot read: \(String(cString: strerror(code)))" }
        let what = (try? describeOwner(path: path)).map { "\($0); " } ?? ""
        return "cannot read: permission denied (\(what)the server runs as \(userName(geteuid())), group "
            + "\(groupName(getegid()))); chgrp/chmod it: see \"Ownership and permissions\" in docs/install.md"
    }

    /// The name of user `uid`, or the number when it has none.
    static func userName(_ uid: uid_t) -> String {
        var entry = passwd(), result: UnsafeMutablePointer<passwd>?
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 4096) { buffer in
            guard getpwuid_r(uid, &entry, buffer.baseAddress!, buffer.count, &result) == 0, result != nil else {
                return String(uid)
            }
            return String(cString: entry.pw_name)
        }
    }

    /// The name of group `gid`, or the number when it has none.
    static func groupName(_ gid: gid_t) -> String {
        var entry = group(), result: UnsafeMutablePointer<group>?
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 4096) { buffer in
            guard getgrgid_r(gid, &entry, buffer.baseAddress!, buffer.count, &result) == 0, result != nil else {
                return String(gid)
            }
            return String(cString: entry.gr_name)
        }
    }
}
