// libFuzzer target for `Mailbox.parse` (the `from`, `to`, `cc`, `bcc` and `reply_to` of the send API) and for
// what the MIME builder writes from a parsed mailbox.
//
// Fuzzing (separate scratch path: the sanitizer rebuilds every dependency):
//   swift build --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING --product FuzzMailbox
//   .build-fuzz/debug/FuzzMailbox -max_total_time=300 Fuzz/FuzzMailbox/corpus
// In a normal build this program replays the files or directories given as arguments through the
// same function (scripts/test runs the corpus that way), so the target always compiles.
import Foundation
import FuzzSupport
import MailMessage

/// Invariants checked on every input: nothing crashes; a parsed mailbox's header form is ASCII without CR or
/// LF, a name written as a plain or quoted phrase parses back to the same mailbox, and a message built with it
/// as sender and recipient is 7-bit with CRLF line ends only.
func fuzzOne(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    guard let mailbox = try? Mailbox.parse(text, field: "from") else { return }
    let header = mailbox.headerValue
    guard header.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { fatalError("header form not printable ASCII: \(header)") }
    let name = mailbox.name ?? ""
    if !name.contains("=?"), name.utf8.allSatisfy({ $0 < 0x80 }) {
        guard let again = try? Mailbox.parse(header, field: "from"), again == mailbox else {
            fatalError("does not re-parse: \(text) -> \(header)")
        }
    }
    let message = OutgoingMessage(from: mailbox, to: [mailbox], subject: text, text: text)
    if let built = try? MIMEBuilder.build(message, messageID: "fuzz@example.com", date: Date(timeIntervalSince1970: 0),
                                          boundarySeed: 1) {
        for (index, byte) in built.enumerated() {
            if byte >= 0x80 { fatalError("8-bit byte in a built message") }
            if byte == 0x0A && (index == 0 || built[index - 1] != 0x0D) { fatalError("bare LF in a built message") }
            if byte == 0x0D && (index + 1 == built.count || built[index + 1] != 0x0A) { fatalError("bare CR in a built message") }
        }
    }
}

runFuzzTarget("FuzzMailbox") { fuzzOne(Array($0.bindMemory(to: UInt8.self))) }
