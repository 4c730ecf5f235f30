import Crypto
import Foundation

/// `Apus-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` (DESIGN §3c). The time is
/// inside the MAC so that a receiver can refuse old replays; a receiver checks it as:
///
///     expected = hex(HMAC_SHA256(secret, t + "." + raw_body)); compare in constant time; |now - t| < 5 min
public enum WebhookSignature {
    public static let headerName = "Apus-Signature"

    public static func header(secret: [UInt8], timestamp: Int, body: [UInt8]) -> String {
        "t=\(timestamp),v1=\(hex(secret: secret, timestamp: timestamp, body: body))"
    }

    public static func hex(secret: [UInt8], timestamp: Int, body: [UInt8]) -> String {
        let message = Array("\(timestamp).".utf8) + body
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: secret))
        return mac.map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `header` is a valid signature of `body` within `tolerance` seconds of `now`.
    public static func verify(header: String, secret: [UInt8], body: [UInt8], now: Int, tolerance: Int = 300) -> Bool {
        var t: Int?, v1: String?
        for part in header.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1)
            guard kv.count == 2 else { continue }
            if kv[0] == "t" { t = Int(kv[1]) }
            if kv[0] == "v1" { v1 = String(kv[1]) }
        }
        guard let t, let v1, abs(now - t) <= tolerance else { return false }
        let expected = Array(hex(secret: secret, timestamp: t, body: body).utf8), given = Array(v1.utf8)
        guard expected.count == given.count else { return false }
        var diff: UInt8 = 0
        for i in expected.indices { diff |= expected[i] ^ given[i] }
        return diff == 0
    }
}

/// When a failed webhook delivery is tried again (DESIGN §3c): about 10 s after the first failure, then
/// doubling up to 10 minutes, until 24 hours after the event; nil means give up.
public struct WebhookRetryPolicy: Sendable {
    public var first: TimeInterval = 10
    public var maxInterval: TimeInterval = 600
    public var giveUpAfter: TimeInterval = 86_400
    public init() {}

    public func next(attempts: Int, created: Date, now: Date) -> Date? {
        let interval = min(maxInterval, first * pow(2, Double(max(0, attempts))))
        let next = now.addingTimeInterval(interval)
        return next.timeIntervalSince(created) > giveUpAfter ? nil : next
    }
}
