import Testing
@testable import Chasquid

/// Every truncation and many one-byte corruptions of real chasquid files: the reader either refuses with a
/// line inside what it was given, or (cut exactly between entries) reads a prefix of the entries, never a
/// half entry.
@Suite struct TruncationTests {
    static func lines(_ bytes: ArraySlice<UInt8>) -> Int { bytes.reduce(1) { $1 == 0x0A ? $0 + 1 : $0 } }

    @Test func truncatedUsersFilesNeverGiveAHalfUser() throws {
        let full = Array((ChasquidUserDBTests.realFile + "\n" + ChasquidUserDBTests.realFile.replacingOccurrences(of: "\"alice\"", with: "\"bob\"")).utf8)
        let all = try ChasquidUserDB.parse(full).users
        #expect(all.count == 2)
        var refused = 0
        for length in 0..<full.count {
            do {
                let users = try ChasquidUserDB.parse(Array(full[..<length])).users
                #expect(Array(all.prefix(users.count)) == users, "a cut at \(length) gave \(users.map(\.name))")
            } catch {
                refused += 1
                #expect((1...Self.lines(full[..<length])).contains(error.line), "cut at \(length): \(error)")
            }
        }
        #expect(refused > full.count - 10)
    }

    @Test func truncatedQueueItemsAreRefused() {
        let full = Array(ChasquidQueueItemTests.real.utf8)
        for length in 0..<full.count {
            do {
                let item = try ChasquidQueueItem.parse(Array(full[..<length]))
                // Only a cut after the whole data field (within the timestamp's tail) can still parse.
                #expect(item.data.count > 40 && item.recipients.count == 3, "cut at \(length)")
            } catch {
                #expect((1...Self.lines(full[..<length])).contains(error.line), "cut at \(length): \(error)")
            }
        }
    }

    @Test func corruptedBytesGiveAnErrorOnARealLine() {
        let full = Array(ChasquidUserDBTests.realFile.utf8)
        var generator = SplitMix64(seed: 15)
        for _ in 0..<3000 {
            var bytes = full
            let position = Int(generator.next() % UInt64(bytes.count))
            bytes[position] = UInt8(truncatingIfNeeded: generator.next())
            do {
                _ = try ChasquidUserDB.parse(bytes)
            } catch {
                #expect((1...Self.lines(bytes[...])).contains(error.line), "\(error)")
            }
        }
    }
}

/// A small deterministic generator, so a failure can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
