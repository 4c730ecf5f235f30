import NIOCore
import SMTPProtocol
import Testing

/// `ByteBuffer.prepend` and the DATA decoder's headroom: the server's trace fields go on top of a received
/// message in the space left in front of it, without moving the message.
struct PrependTests {
    @Test func aDecodedMessageHasTheHeadroomInFront() throws {
        var decoder = DataDecoder(maxBytes: 1000, headroom: 64)
        var input = ByteBuffer(string: "Subject: x\r\n\r\nbody\r\n..dot\r\n.\r\n")
        var message = try #require(decoder.decode(&input)?.message)
        decoder = DataDecoder(maxBytes: 0)   // lets go of the message: `prepend` works in place on a buffer held once
        #expect(String(buffer: message) == "Subject: x\r\n\r\nbody\r\n.dot\r\n")
        #expect(message.readerIndex == 64)
        let before = message.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        message.prepend(Array("Received: by here\r\n".utf8))
        #expect(String(buffer: message) == "Received: by here\r\nSubject: x\r\n\r\nbody\r\n.dot\r\n")
        // In place: the message's bytes did not move.
        let after = message.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        #expect(after == before - UInt("Received: by here\r\n".utf8.count))
    }

    /// The first buffer is as large as the declared size (plus the headroom), within bounds.
    @Test(arguments: [(nil, 16 * 1024), (100, 16 * 1024), (100_000, 100_000), (50 << 20, 1 << 20)] as [(Int?, Int)])
    func theFirstBufferFollowsTheDeclaredSize(_ declared: Int?, _ expected: Int) throws {
        var decoder = DataDecoder(maxBytes: 10 << 20, expectedBytes: declared, headroom: 2048)
        var input = ByteBuffer(string: "x\r\n.\r\n")
        let message = try #require(decoder.decode(&input)?.message)
        #expect(message.capacity >= expected + 2048 && message.capacity < 2 * (expected + 2048))
        // Never more than the message may be.
        var small = DataDecoder(maxBytes: 500, expectedBytes: 100_000)
        var again = ByteBuffer(string: "x\r\n.\r\n")
        #expect(try #require(small.decode(&again)?.message).capacity < 16 * 1024)
    }

    @Test(arguments: [0, 3, 10, 11, 64])
    func prependGivesTheSameBytesWithAnyHeadroom(_ headroom: Int) {
        var buffer = ByteBuffer(bytes: Array(repeating: 0x2A, count: headroom) + Array("message".utf8))
        buffer.moveReaderIndex(forwardBy: headroom)
        buffer.prepend(Array("0123456789".utf8))
        #expect(String(buffer: buffer) == "0123456789message")
        buffer.prepend([UInt8]())
        #expect(String(buffer: buffer) == "0123456789message")
    }

    @Test func aSharedBufferIsNotChangedUnderItsOtherOwner() {
        var buffer = ByteBuffer(string: "----message")
        buffer.moveReaderIndex(forwardBy: 4)
        let other = buffer
        buffer.prepend(Array("ab".utf8))
        #expect(String(buffer: buffer) == "abmessage")
        #expect(String(buffer: other) == "message")
        var whole = other
        whole.moveReaderIndex(to: 0)
        #expect(String(buffer: whole) == "----message")   // not even the headroom was written
    }
}
