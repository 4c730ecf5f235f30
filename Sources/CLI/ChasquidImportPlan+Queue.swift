import Chasquid
import ConfigFiles
import Foundation
import MailQueue
import NIOCore

/// chasquid's queue → Apus's: each `m:<id>` item with recipients still pending becomes an Apus queue file
/// (written by `FileSpool`, as the SMTP listener writes them), holding those recipients only.
struct QueuePlan {
    struct Item {
        var chasquidID: String
        var file: String
        var meta: QueuedMessage
        var body: [UInt8]
    }

    var directory = ""
    var dataDirectory = ""
    var found = 0
    var items: [Item] = []
    /// Items with no pending recipient (chasquid was done with them).
    var finished = 0
    /// Items an earlier import already brought over.
    var alreadyImported = 0

    var spoolDirectory: String { "\(dataDirectory)/queue" }
    static let ledgerBatch = 100
    /// `chasquidID apusID` per line: what earlier imports brought over, so that a second run adds nothing.
    var ledgerPath: String { "\(dataDirectory)/state/chasquid-import" }

    static func make(directory: String, dataDirectory: String, notes: inout [ImportNote]) throws -> QueuePlan {
        var plan = QueuePlan(directory: directory, dataDirectory: dataDirectory)
        guard ChasquidImportPlan.isDirectory(directory) else {
            notes.append(.init(.assumed, directory, "no chasquid queue here: no messages to import (give --queue DIR if it is elsewhere)"))
            return plan
        }
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted() } catch {
            throw CLIError("\(directory): cannot list the queue: \(error.localizedDescription) (run as root)")
        }
        let done = plan.ledger()
        for name in names where name.hasPrefix("m:") {
            let path = "\(directory)/\(name)"
            guard let bytes = try ChasquidImportPlan.read(path) else { continue }
            let item = try ChasquidImportPlan.parsing(path) { () throws(ProtoTextError) in try ChasquidQueueItem.parse(bytes) }
            plan.found += 1
            if done[item.id] != nil { plan.alreadyImported += 1; continue }
            guard let converted = convert(item, notes: &notes, source: path) else { plan.finished += 1; continue }
            plan.items.append(Item(chasquidID: item.id, file: path, meta: converted.0, body: converted.1))
        }
        return plan
    }

    /// The Apus envelope and CRLF message for an item, or nil when no recipient is pending.
    static func convert(_ item: ChasquidQueueItem, notes: inout [ImportNote], source: String) -> (QueuedMessage, [UInt8])? {
        var recipients: [QueuedMessage.Recipient] = []
        for rcpt in item.recipients where rcpt.status == .failed {
            // chasquid bounces once, when the whole item is done: this failure's bounce was still to come.
            notes.append(.init(.notImported, source, "<\(rcpt.address)> had failed for good in chasquid (\(rcpt.lastFailureMessage)); "
                               + "its bounce to <\(item.from)> was not sent yet and Apus does not send it"))
        }
        for rcpt in item.recipients where rcpt.status == .pending {
            let original = rcpt.originalAddress.isEmpty ? rcpt.address : rcpt.originalAddress
            switch rcpt.type {
            case .pipe:
                var recipient = QueuedMessage.Recipient(address: original, original: original)
                recipient.command = rcpt.address
                recipients.append(recipient)
            case .forward where !rcpt.via.isEmpty:
                notes.append(.init(.assumed, source, "<\(rcpt.address)> was to go via \(rcpt.via.joined(separator: ", ")); "
                                   + "Apus delivers it to its domain's MX"))
                recipients.append(.init(address: rcpt.address, original: original))
            case .other(let type):
                notes.append(.init(.notImported, source, "<\(rcpt.address)>: unknown recipient type \(type)"))
            default:
                recipients.append(.init(address: rcpt.address, original: original))
            }
        }
        // Two RCPT addresses that resolved to the same mailbox (a catch-all, an alias) get one copy.
        var seen: Set<String> = []
        recipients = recipients.filter { seen.insert("\($0.address.lowercased())\u{0}\($0.command ?? "")").inserted }
        guard !recipients.isEmpty else { return nil }
        let body = crlf(item.data)
        // A time outside 1970…2100 is damage, not a date: the import time stands in.
        let seconds = item.createdAt.flatMap { (0...4_102_444_800).contains($0) ? $0 : nil }
        let created = seconds.map { Date(timeIntervalSince1970: TimeInterval($0)) } ?? Date()
        let from = item.from == "<>" ? "" : item.from
        let meta = QueuedMessage(id: apusID(item.id, created: created), mailFrom: from, recipients: recipients,
                                 receivedAt: created, clientAddress: "", clientName: "chasquid queue \(item.id)",
                                 authenticatedUser: nil,
                                 smtputf8: !([from] + recipients.map(\.address)).allSatisfy { $0.utf8.allSatisfy { $0 < 0x80 } },
                                 size: body.count)
        return (meta, body)
    }

    /// chasquid stores messages with LF line ends; Apus (and SMTP) with CRLF.
    static func crlf(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count + data.count / 40)
        var previous: UInt8 = 0
        for byte in data {
            if byte == 0x0A && previous != 0x0D { out.append(0x0D) }
            out.append(byte)
            previous = byte
        }
        return out
    }

    /// A queue id derived from chasquid's (arrival time, then FNV-1a of the id): the same item always gets
    /// the same Apus id, so a repeated import cannot queue it twice.
    static func apusID(_ chasquidID: String, created: Date) -> String {
        var hash: UInt32 = 2_166_136_261
        for byte in chasquidID.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        func hex(_ value: UInt32) -> String {
            let text = String(value, radix: 16)
            return String(repeating: "0", count: 8 - text.count) + text
        }
        return hex(UInt32(truncatingIfNeeded: Int(created.timeIntervalSince1970))) + hex(hash)
    }

    /// chasquid id → Apus id of earlier imports.
    func ledger() -> [String: String] {
        guard let data = FileManager.default.contents(atPath: ledgerPath) else { return [:] }
        var result: [String: String] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2 { result[String(parts[0])] = String(parts[1]) }
        }
        return result
    }

    /// Stores each item with `FileSpool` and records it in the ledger (every `ledgerBatch` items and at the
    /// end: each item is already durable when stored, and one fsync'd ledger per item made a 1000-item queue
    /// take twice as long); returns the number stored. An item whose Apus file already exists (an import
    /// interrupted before its ledger line) is only recorded, since its id is always the same.
    func apply() async throws -> Int {
        guard !items.isEmpty else { return 0 }
        let spool: FileSpool
        do { spool = try FileSpool(directory: spoolDirectory) } catch {
            throw CLIError("cannot create Apus's queue \(spoolDirectory): \(error)")
        }
        var ledgerText = FileManager.default.contents(atPath: ledgerPath).map { String(decoding: $0, as: UTF8.self) } ?? ""
        try DurableFile.makeDirectories("\(dataDirectory)/state")
        var stored = 0, pending = 0
        for item in items {
            if !FileManager.default.fileExists(atPath: "\(spoolDirectory)/\(item.meta.id).msg") {
                do { try await spool.store(item.meta, message: ByteBuffer(bytes: item.body)) } catch {
                    throw CLIError("cannot queue \(item.file) in \(spoolDirectory): \(error)")
                }
                stored += 1
            }
            ledgerText += "\(item.chasquidID) \(item.meta.id)\n"
            pending += 1
            if pending == Self.ledgerBatch {
                try DurableFile.write(Array(ledgerText.utf8), to: ledgerPath, mode: 0o600)
                pending = 0
            }
        }
        if pending > 0 { try DurableFile.write(Array(ledgerText.utf8), to: ledgerPath, mode: 0o600) }
        return stored
    }
}
