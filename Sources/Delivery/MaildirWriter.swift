/// Local delivery couriers. For now: Maildir (https://cr.yp.to/proto/maildir.html), written
/// durably: the file is created in `tmp/`, fsync'd, then renamed into `new/`, and `new/` is fsync'd.
import Foundation
import MailQueue
import NIOCore

public enum MaildirWriter {
    /// Creates `cur/`, `new/` and `tmp/` under `maildir` when missing.
    public static func prepare(_ maildir: String) throws {
        for sub in ["cur", "new", "tmp"] {
            try DurableFile.makeDirectories("\(maildir)/\(sub)")
        }
    }

    /// Delivers one message; returns the file name in `new/`.
    @discardableResult
    public static func deliver(_ message: ByteBuffer, returnPath: String, deliveredTo: String,
                               maildir: String, hostname: String) throws -> String {
        try prepare(maildir)
        let header = "Return-Path: <\(returnPath)>\r\nDelivered-To: \(deliveredTo)\r\n"
        let size = header.utf8.count + message.readableBytes
        let now = Date().timeIntervalSince1970
        let secs = Int(now), micros = Int((now - Double(secs)) * 1_000_000)
        let unique = "\(secs).M\(micros)P\(getpid())R\(UInt32.random(in: 0...UInt32.max)).\(hostname.replacingOccurrences(of: "/", with: "_"))"
        let name = "\(unique),S=\(size)"
        // DurableFile writes into the target directory's temp name; Maildir wants tmp/ then new/.
        let tmpPath = "\(maildir)/tmp/\(name)"
        let headerBytes = Array(header.utf8)
        try headerBytes.withUnsafeBytes { h in
            try message.withUnsafeReadableBytes { body in
                try DurableFile.write([h, body], to: tmpPath, syncDirectory: false)
            }
        }
        guard rename(tmpPath, "\(maildir)/new/\(name)") == 0 else {
            throw DurableFile.IOError(operation: "rename", path: "\(maildir)/new/\(name)", errno: errno)
        }
        try DurableFile.syncDirectory("\(maildir)/new")
        return name
    }
}
