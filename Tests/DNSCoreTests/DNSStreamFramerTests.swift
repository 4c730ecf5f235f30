import DNSCore
import NIOCore
import Testing

struct DNSStreamFramerTests {
    /// Two framed messages, split into three chunks at every pair of positions, give the same frames.
    @Test func chunkIndependent() throws {
        let first = DNSMessage.query(id: 1, name: "a.example", type: .a).encoded()
        let second = DNSMessage.query(id: 2, name: "b.example", type: .txt).encoded()
        var stream = DNSStreamFramer.frame(first)
        var tail = DNSStreamFramer.frame(second)
        stream.writeBuffer(&tail)
        let bytes = Array(stream.readableBytesView)
        for i in 0...bytes.count {
            for j in i...bytes.count {
                var framer = DNSStreamFramer()
                var frames: [ByteBuffer] = []
                for chunk in [bytes[0..<i], bytes[i..<j], bytes[j...]] {
                    framer.append(ByteBuffer(bytes: chunk))
                    while let frame = framer.nextFrame() { frames.append(frame) }
                }
                #expect(frames == [first, second])
            }
        }
    }

    @Test func waitsForLength() {
        var framer = DNSStreamFramer()
        framer.append(ByteBuffer(bytes: [0]))
        #expect(framer.nextFrame() == nil)
        framer.append(ByteBuffer(bytes: [2, 0xAB]))
        #expect(framer.nextFrame() == nil)
        framer.append(ByteBuffer(bytes: [0xCD]))
        #expect(framer.nextFrame() == ByteBuffer(bytes: [0xAB, 0xCD]))
    }
}
