import NIOCore

/// One DATA being written to disk as it arrives (`DataSpillPolicy`): the decoded bytes the handler hands
/// over go, up to the end of the header section, into `header` (kept in memory for the checks), and the rest
/// into the spill file. Used from its connection's event loop only.
final class DataSpill {
    let file: SpillFile
    private(set) var header: ByteBuffer
    private var headerDone = false
    /// Where the search for the end of the header section resumes.
    private var searchFrom = 0
    /// The first write error: the rest of the DATA is read and dropped, and the message refused.
    var failure: (any Error)?

    init(file: SpillFile) {
        self.file = file
        self.header = ByteBuffer()
    }

    /// Takes decoded bytes in order; the future of the file write they caused, if any.
    func take(_ chunk: ByteBuffer) -> EventLoopFuture<Void>? {
        guard failure == nil else { return nil }
        var chunk = chunk
        if !headerDone {
            if header.readableBytes == 0, let end = MessageHeader.end(in: chunk, from: 0) {
                header = ByteBuffer(bytes: chunk.readableBytesView.prefix(end))   // a copy: not the whole chunk's storage
                chunk.moveReaderIndex(forwardBy: end)
                headerDone = true
            } else {
                header.writeBuffer(&chunk)
                if let end = MessageHeader.end(in: header, from: searchFrom) ?? cutAt() {
                    chunk = header.getSlice(at: header.readerIndex + end, length: header.readableBytes - end)!
                    header = ByteBuffer(bytes: header.readableBytesView.prefix(end))
                    headerDone = true
                } else {
                    searchFrom = max(0, header.readableBytes - 3)
                    return nil
                }
            }
        }
        guard chunk.readableBytes > 0 else { return nil }
        return file.append(chunk)
    }

    /// The header grew past `DataSpillPolicy.maxHeaderBytes` without an empty line: cut it there.
    private func cutAt() -> Int? {
        header.readableBytes >= DataSpillPolicy.maxHeaderBytes ? DataSpillPolicy.maxHeaderBytes : nil
    }

    /// The last bytes of the DATA (`tail`), then the file closed: the message as the delegate gets it.
    func finish(tail: ByteBuffer) -> EventLoopFuture<SpilledMessage> {
        _ = take(tail)
        let closed = file.close()
        let (header, path, bytes, failure) = (self.header, file.path, file.bytes, self.failure)
        return closed.flatMapThrowing {
            if let failure { throw failure }
            return SpilledMessage(header: header, bodyPath: path, bodyBytes: bytes)
        }
    }
}
