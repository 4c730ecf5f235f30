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

extension MaildirWriter {
    /// Removes what interrupted deliveries left in the `tmp/` of every Maildir under `mailRoot`
    /// (`<domain>/<user>/tmp/`): `DurableFile`'s `.tmp-*` files, and complete copies that a crash caught
    /// between `tmp/` and `new/` (their queue entry is still there, so they are delivered again). Files of
    /// other programs sharing the Maildir (an IMAP server saving a draft) do not match our names and stay.
    public static func removeLeftovers(mailRoot: String) -> DurableFile.Leftovers {
        var removed = DurableFile.Leftovers()
        let fm = FileManager.default
        for domain in (try? fm.contentsOfDirectory(atPath: mailRoot)) ?? [] {
            for user in (try? fm.contentsOfDirectory(atPath: "\(mailRoot)/\(domain)")) ?? [] {
                removed += DurableFile.removeLeftovers(in: "\(mailRoot)/\(domain)/\(user)/tmp", isLeftover: isOurTemporaryName)
            }
        }
        return removed
    }

    /// `.tmp-*`, or a name `deliver` makes: `<secs>.Q<queue id>R<hex>.<host>,S=<n>` or
    /// `<secs>.M<micros>P<pid>R<n>.<host>,S=<n>`.
    static func isOurTemporaryName(_ name: String) -> Bool {
        if name.hasPrefix(DurableFile.temporaryPrefix) { return true }
        let parts = name.split(separator: ".", maxSplits: 2)
        guard parts.count == 3, parts[0].allSatisfy(\.isASCIIDigit), name.contains(",S=") else { return false }
        let unique = parts[1]
        if unique.hasPrefix("Q") { return unique.contains("R") }
        if unique.hasPrefix("M"), let p = unique.firstIndex(of: "P"), let r = unique.lastIndex(of: "R"), p < r {
            return unique[unique.index(after: unique.startIndex)..<p].allSatisfy(\.isASCIIDigit)
                && unique[unique.index(after: p)..<r].allSatisfy(\.isASCIIDigit)
                && unique[unique.index(after: r)...].allSatisfy(\.isASCIIDigit)
        }
        return false
    }
}

private extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
