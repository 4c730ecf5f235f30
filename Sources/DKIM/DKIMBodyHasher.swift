import Crypto

// The body hash (bh=) computed over a body fed in chunks of any size, for messages too large to hold in
// memory: the same canonical form as `DKIMCanonicalization.canonicalizeBody` (RFC 6376 §3.4.3, §3.4.4),
// produced byte by byte into SHA-256 without building it.
//
// State carried across chunks: the empty lines seen but not yet written (they are dropped if the body ends
// with them), whether the current line has content, a pending run of whitespace (relaxed), and a CR that may
// be the first half of a CRLF. Only CRLF ends a line; a bare CR or LF is content.

/// What `DKIMBodyHasher` computed: the SHA-256 of the canonical body (of its first `l=` bytes when a limit
/// was given) and the length of the whole canonical body.
public struct DKIMBodyDigest: Sendable, Hashable {
    public var hash: [UInt8]
    public var canonicalLength: Int64

    public init(hash: [UInt8], canonicalLength: Int64) {
        self.hash = hash
        self.canonicalLength = canonicalLength
    }
}

/// Which body hash a signature needs: its body canonicalization and its `l=` (nil: the whole body).
public struct DKIMBodyHashRequest: Sendable, Hashable {
    public var canonicalization: DKIMCanonicalization
    public var length: Int64?

    public init(canonicalization: DKIMCanonicalization, length: Int64? = nil) {
        self.canonicalization = canonicalization
        self.length = length
    }
}

public struct DKIMBodyHasher {
    public let canonicalization: DKIMCanonicalization
    /// Only the first `limit` canonical bytes are hashed (`l=`); the length still counts them all.
    public let limit: Int64?
    private var sha = SHA256()
    private var length: Int64 = 0
    private var pendingEmptyLines = 0
    private var lineHasContent = false
    private var pendingSpace = false
    private var sawCR = false
    /// Canonical bytes not yet handed to SHA-256 (hashing byte by byte would be slow).
    private var out: [UInt8] = []
    private static let flushAt = 16 * 1024

    public init(canonicalization: DKIMCanonicalization, limit: Int64? = nil) {
        self.canonicalization = canonicalization
        self.limit = limit
        out.reserveCapacity(Self.flushAt + 64)
    }

    public init(_ request: DKIMBodyHashRequest) {
        self.init(canonicalization: request.canonicalization, limit: request.length)
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        for byte in bytes { consume(byte) }
        if out.count >= Self.flushAt { flush() }
    }

    public mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        for byte in bytes {
            consume(byte)
            if out.count >= Self.flushAt { flush() }
        }
    }

    /// Ends the body: a last line without CRLF gets one, trailing empty lines are dropped, an empty body is
    /// one CRLF in simple canonicalization and nothing in relaxed.
    public mutating func finish() -> DKIMBodyDigest {
        if sawCR {                       // a CR at the very end is content of the last line
            sawCR = false
            content(0x0D)
        }
        if lineHasContent { emit(0x0D); emit(0x0A) }
        if length == 0, canonicalization == .simple { emit(0x0D); emit(0x0A) }
        flush()
        return DKIMBodyDigest(hash: Array(sha.finalize()), canonicalLength: length)
    }

    private mutating func consume(_ byte: UInt8) {
        if sawCR {
            sawCR = false
            if byte == 0x0A { endLine(); return }
            content(0x0D)
        }
        if byte == 0x0D { sawCR = true; return }
        if canonicalization == .relaxed, byte == 0x20 || byte == 0x09 { pendingSpace = true; return }
        content(byte)
    }

    /// A byte that stays in the canonical line (relaxed: preceded by the one SP its whitespace run became).
    private mutating func content(_ byte: UInt8) {
        if !lineHasContent {
            lineHasContent = true
            while pendingEmptyLines > 0 { emit(0x0D); emit(0x0A); pendingEmptyLines -= 1 }
        }
        if pendingSpace { emit(0x20); pendingSpace = false }
        emit(byte)
    }

    private mutating func endLine() {
        if lineHasContent { emit(0x0D); emit(0x0A) } else { pendingEmptyLines += 1 }
        lineHasContent = false
        pendingSpace = false            // whitespace at the end of a line is deleted (relaxed)
    }

    private mutating func emit(_ byte: UInt8) {
        if limit.map({ length < $0 }) ?? true { out.append(byte) }
        length += 1
    }

    private mutating func flush() {
        guard !out.isEmpty else { return }
        sha.update(data: out)
        out.removeAll(keepingCapacity: true)
    }
}

/// One pass over a body for several requests at once (the verifier's signatures rarely need more than one):
/// feed every chunk with `update`, then read the digests.
public struct DKIMBodyHashSet {
    private var hashers: [DKIMBodyHashRequest: DKIMBodyHasher]

    public init<Requests: Sequence>(_ requests: Requests) where Requests.Element == DKIMBodyHashRequest {
        hashers = [:]
        for request in requests { hashers[request] = DKIMBodyHasher(request) }
    }

    public var isEmpty: Bool { hashers.isEmpty }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        for key in hashers.keys { hashers[key]!.update(bytes) }
    }

    public mutating func finish() -> [DKIMBodyHashRequest: DKIMBodyDigest] {
        var digests: [DKIMBodyHashRequest: DKIMBodyDigest] = [:]
        for key in hashers.keys { digests[key] = hashers[key]!.finish() }
        return digests
    }
}
