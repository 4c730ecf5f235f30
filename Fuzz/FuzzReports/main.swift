// libFuzzer target for the readers of received reports: MIMEPart, DeliveryStatusReport (RFC 3464) and
// FeedbackReport (RFC 5965).
//
// Fuzzing (separate scratch path: the sanitizer rebuilds every dependency):
//   swift build --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING --product FuzzReports
//   .build-fuzz/debug/FuzzReports -max_total_time=600 Fuzz/FuzzReports/corpus
// In a normal build this program replays the files or directories given as arguments (scripts/test does).
import FuzzSupport
import MailMessage

/// Invariants: nothing crashes or loops; every parsed DSN has at least one recipient with a non-empty
/// address; a complaint has a feedback type; the MIME tree respects its depth and part limits.
func fuzzOne(_ bytes: [UInt8]) {
    let part = MIMEPart.parse(bytes)
    func count(_ p: MIMEPart, depth: Int) -> Int {
        precondition(depth <= MIMEPart.maxDepth + 1, "MIME nesting past the limit")
        return 1 + p.parts.reduce(0) { $0 + count($1, depth: depth + 1) }
    }
    precondition(count(part, depth: 0) <= MIMEPart.maxParts + 1, "more MIME parts than the limit")
    if let dsn = DeliveryStatusReport.parse(bytes) {
        precondition(!dsn.recipients.isEmpty && dsn.recipients.allSatisfy { !$0.finalRecipient.isEmpty })
    }
    if let arf = FeedbackReport.parse(bytes) {
        precondition(!arf.feedbackType.isEmpty)
    }
    _ = BounceClassification.classify(status: nil, reply: String(decoding: bytes.prefix(512), as: UTF8.self))
}

runFuzzTarget("FuzzReports") { fuzzOne(Array($0.bindMemory(to: UInt8.self))) }
