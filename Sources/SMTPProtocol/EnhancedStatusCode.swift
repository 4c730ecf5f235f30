import NIOCore

/// An enhanced mail system status code, RFC 3463: `class.subject.detail`, e.g. `5.1.1`.
///
/// The class (2 success, 4 persistent transient failure, 5 permanent failure) must agree with the
/// first digit of the SMTP reply code that carries it (RFC 2034 §4).
public struct EnhancedStatusCode: Sendable, Hashable, CustomStringConvertible {
    public let klass: Int
    public let subject: Int
    public let detail: Int

    public init(_ klass: Int, _ subject: Int, _ detail: Int) {
        self.klass = klass
        self.subject = subject
        self.detail = detail
    }

    public var description: String { "\(klass).\(subject).\(detail)" }

    /// `description`'s bytes, written without making a String (every reply carries one).
    public func write(into buffer: inout ByteBuffer) {
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: wireLength) { write(to: $0, at: 0) }
    }

    /// The length of `description`, what `write(to:at:)` writes.
    var wireLength: Int {
        guard (0...999).contains(klass), (0...999).contains(subject), (0...999).contains(detail) else {
            return description.utf8.count
        }
        func digits(_ value: Int) -> Int { value >= 100 ? 3 : value >= 10 ? 2 : 1 }
        return digits(klass) + digits(subject) + digits(detail) + 2
    }

    /// Writes `description` at `offset` into memory with room for `wireLength` bytes; returns the bytes written.
    /// Parts of 0–999 digit by digit; others (never in a reply Apus makes) through `description`.
    func write(to out: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        var at = offset
        guard (0...999).contains(klass), (0...999).contains(subject), (0...999).contains(detail) else {
            for byte in description.utf8 { out[at] = byte; at += 1 }
            return at - offset
        }
        func decimal(_ value: Int) {
            if value >= 100 { out[at] = UInt8(ascii: "0") + UInt8(value / 100 % 10); at += 1 }
            if value >= 10 { out[at] = UInt8(ascii: "0") + UInt8(value / 10 % 10); at += 1 }
            out[at] = UInt8(ascii: "0") + UInt8(value % 10)
            at += 1
        }
        decimal(klass)
        out[at] = UInt8(ascii: ".")
        at += 1
        decimal(subject)
        out[at] = UInt8(ascii: ".")
        at += 1
        decimal(detail)
        return at - offset
    }

    /// Parses `X.Y.Z` (RFC 3463 §2: class 2|4|5, subject and detail 0–999).
    public init?(parsing text: Substring) {
        // class "." subject "." detail, each 1 to 3 digits (RFC 3463 §2), read over the bytes.
        var numbers: [Int] = []
        numbers.reserveCapacity(3)
        var value = 0, digits = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, numbers.count < 2 else { return nil }
                numbers.append(value)
                value = 0
                digits = 0
            } else if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), digits < 3 {
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
                digits += 1
            } else {
                return nil
            }
        }
        guard digits > 0, numbers.count == 2, [2, 4, 5].contains(numbers[0]) else { return nil }
        self.init(numbers[0], numbers[1], value)
    }
}
