/// Local delivery couriers. For now: Maildir (https://cr.yp.to/proto/maildir.html), written
/// durably: the file is created in `tmp/`, fsync'd, then renamed into `new/`, and `new/` is fsync'd.
import ConfigFiles
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
    ///
    /// With a `queueID`, the file name is derived from the queue id and the recipient, so delivering
    /// the same queued message to the same mailbox again (after a crash between the Maildir write and
    /// the queue update) finds the file already in `new/` and does not write a second copy. A copy
    /// that a mail reader has meanwhile moved to `cur/` is not looked for.
    @discardableResult
    public static func deliver(_ message: ByteBuffer, returnPath: String, deliveredTo: String,
                               maildir: String, hostname: String, queueID: String? = nil) throws -> String {
        try prepare(maildir)
        let header = "Return-Path: <\(returnPath)>\r\nDelivered-To: \(deliveredTo)\r\n"
        let size = header.utf8.count + message.readableBytes
        let host = hostname.replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: ":", with: "_")
        let unique: String
        if let queueID, QueuedMessage.isValidID(queueID) {
            let secs = Int(queueID.prefix(8), radix: 16) ?? 0
            unique = "\(secs).Q\(queueID)R\(String(fnv1a(deliveredTo.lowercased()), radix: 16)).\(host)"
        } else {
            let now = Date().timeIntervalSince1970
            let secs = Int(now), micros = Int((now - Double(secs)) * 1_000_000)
            unique = "\(secs).M\(micros)P\(getpid())R\(UInt32.random(in: 0...UInt32.max)).\(host)"
        }
        let name = "\(unique),S=\(size)"
        if queueID != nil, access("\(maildir)/new/\(name)", F_OK) == 0 { return name }   // delivered before a crash
        // DurableFile writes into the target directory's temp name; Maildir wants tmp/ then new/.
        let tmpPath = "\(maildir)/tmp/\(name)"
        let headerBytes = Array(header.utf8)
        try headerBytes.withUnsafeBytes { h in
            try message.withUnsafeReadableBytes { body in
                try DurableFile.write([h, body], to: tmpPath, syncDirectory: false)
            }
        }
        guard rename(tmpPath, "\(maildir)/new/\(name)") == 0 else {
            throw DurableFile.IOError(operation: .rename, path: "\(maildir)/new/\(name)", errno: errno)
        }
        try DurableFile.syncDirectory("\(maildir)/new")
        return name
    }

    /// 32-bit FNV-1a: a short, stable tag of the recipient address for the file name.
    static func fnv1a(_ text: String) -> UInt32 {
        var hash: UInt32 = 2_166_136_261
        for byte in text.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return hash
    }
}
