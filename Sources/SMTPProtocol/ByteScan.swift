#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Searches over message bytes that run for every byte of every message (the DATA decoder, dot-stuffing
/// on the way out, the 8-bit check before `MAIL FROM … BODY=8BITMIME`): libc's vectorised `memchr` and a
/// word at a time instead of a Swift loop per byte, which cost 10–12 instructions a byte — a quarter of
/// the user-space instructions spent on a 4 KB message.
public enum ByteScan {
    /// The offset of the first `byte` in `bytes[from...]`, or `bytes.count` when there is none.
    @inlinable
    public static func first(_ byte: UInt8, in bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        first(byte, in: bytes, from: start, to: bytes.count)
    }

    /// The offset of the first `byte` in `bytes[from..<to]`, or `to` when there is none.
    @inlinable
    public static func first(_ byte: UInt8, in bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Int {
        guard start < end, let base = bytes.baseAddress else { return end }
        guard let found = memchr(base + start, Int32(byte), end - start) else { return end }
        return base.distance(to: UnsafeRawPointer(found))
    }

    /// The offset of the first CR or LF in `bytes[from...]`, or `bytes.count`.
    @inlinable
    public static func firstLineBreak(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        let lf = first(10, in: bytes, from: start)
        return first(13, in: bytes, from: start, to: lf)
    }

    /// Whether any byte is 0x80 or above (8-bit content).
    public static func containsHighBit(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        let count = bytes.count
        let high: UInt64 = 0x8080_8080_8080_8080
        var i = 0
        while i + 32 <= count {   // four words a round, one test
            let any = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                | base.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self)
                | base.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self)
                | base.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self)
            if any & high != 0 { return true }
            i += 32
        }
        while i + 8 <= count {
            if base.loadUnaligned(fromByteOffset: i, as: UInt64.self) & high != 0 { return true }
            i += 8
        }
        while i < count {
            if base.load(fromByteOffset: i, as: UInt8.self) >= 0x80 { return true }
            i += 1
        }
        return false
    }
}
