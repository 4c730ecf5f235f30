import ConfigFiles
import Foundation

/// A minimal JSON writer for the envelope line: objects, arrays, strings, integers, booleans, dates.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []
    private var first = true

    init() { bytes.reserveCapacity(512) }

    mutating func open(_ bracket: Unicode.Scalar) {
        bytes.append(UInt8(ascii: bracket))
        first = true
    }

    mutating func close(_ bracket: Unicode.Scalar) {
        bytes.append(UInt8(ascii: bracket))
        first = false
    }

    /// The comma before every member or element but the first.
    mutating func separate() {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
    }

    mutating func key(_ name: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
    }

    mutating func string(_ value: String) {
        JSONString.append(value, to: &bytes)
    }

    mutating func int(_ value: Int) {
        bytes.append(contentsOf: String(value).utf8)
    }

    mutating func bool(_ value: Bool) {
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    /// Seconds since 1970: an integer when whole (as `JSONEncoder` writes it), else the shortest decimal
    /// that reads back as the same `Double`.
    mutating func date(_ value: Date) {
        let seconds = value.timeIntervalSince1970
        if seconds.rounded() == seconds, abs(seconds) < 9e15 {
            int(Int(seconds))
        } else {
            bytes.append(contentsOf: "\(seconds)".utf8)
        }
    }
}
