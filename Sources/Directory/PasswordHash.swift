import Crypto
import CryptoExtras
import Foundation

/// scrypt password hashes (RFC 7914) in PHC string form:
///
///     $scrypt$ln=15,r=8,p=1$<salt>$<hash>
///
/// `ln` is log2 of scrypt's N (cost), `r` the block size, `p` the parallelism; salt and hash are standard
/// base64 without padding. New hashes use a 16-byte random salt, a 32-byte hash, r=8, p=1 and ln=15
/// (N=32768, 32 MiB, about 160 ms in a release build: slow enough to hurt guessing, fast enough for AUTH).
/// Python computes the same hash with `hashlib.scrypt(pw, salt=salt, n=2**ln, r=r, p=p, dklen=32,
/// maxmem=64*1024*1024)`.
public struct PasswordHash: Sendable, Hashable {
    public var logN: Int
    public var blockSize: Int
    public var parallelism: Int
    public var salt: [UInt8]
    public var hash: [UInt8]

    public static let defaultLogN = 15
    static let maxLogN = 20
    /// Refuse parameters that would need more memory than this (128·N·r·p bytes).
    static let maxMemoryBytes = 256 << 20

    public init(logN: Int, blockSize: Int = 8, parallelism: Int = 1, salt: [UInt8], hash: [UInt8]) {
        self.logN = logN
        self.blockSize = blockSize
        self.parallelism = parallelism
        self.salt = salt
        self.hash = hash
    }

    /// A new PHC string for `password` with a random salt.
    public static func make(password: String, logN: Int = defaultLogN) throws -> String {
        var salt = [UInt8](repeating: 0, count: 16)
        var rng = SystemRandomNumberGenerator()
        for i in salt.indices { salt[i] = rng.next() }
        var phc = PasswordHash(logN: logN, salt: salt, hash: [])
        try phc.checkParameters()
        phc.hash = try phc.derive(password: password, count: 32)
        return phc.phcString
    }

    /// Whether `password` matches `phc`; false for a malformed PHC string. Compares in constant time.
    public static func verify(password: String, phc: String) -> Bool {
        guard let parsed = try? parse(phc) else { return false }
        return parsed.verify(password: password)
    }

    /// Whether `password` matches this hash, comparing in constant time.
    public func verify(password: String) -> Bool {
        guard let derived = try? derive(password: password, count: hash.count) else { return false }
        return Self.constantTimeEqual(derived, hash)
    }

    /// Parses a PHC string; throws a `DirectoryError` (without path) saying what is wrong.
    public static func parse(_ phc: String) throws -> PasswordHash {
        func fail(_ why: String) -> DirectoryError { DirectoryError(path: nil, reason: "bad password hash: \(why)") }
        let parts = phc.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0].isEmpty else {
            throw fail("expected $scrypt$ln=15,r=8,p=1$SALT$HASH")
        }
        guard parts[1] == "scrypt" else { throw fail("unsupported algorithm \"\(parts[1])\", expected scrypt") }
        var params: [String: Int] = [:]
        for item in parts[2].split(separator: ",", omittingEmptySubsequences: false) {
            let kv = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard kv.count == 2, ["ln", "r", "p"].contains(kv[0]),
                  kv[1].allSatisfy({ $0.isASCII && $0.isNumber }), kv[1].count <= 9, let v = Int(kv[1]) else {
                throw fail("bad parameter \"\(item)\", expected ln=N,r=N,p=N")
            }
            guard params.updateValue(v, forKey: String(kv[0])) == nil else { throw fail("parameter \(kv[0]) given twice") }
        }
        guard let ln = params["ln"], let r = params["r"], let p = params["p"] else {
            throw fail("parameters ln, r and p are all required")
        }
        guard let salt = base64Decode(parts[3]), (8...64).contains(salt.count) else {
            throw fail("the salt must be 8 to 64 bytes in base64 without padding")
        }
        guard let hash = base64Decode(parts[4]), (16...64).contains(hash.count) else {
            throw fail("the hash must be 16 to 64 bytes in base64 without padding")
        }
        let result = PasswordHash(logN: ln, blockSize: r, parallelism: p, salt: salt, hash: hash)
        try result.checkParameters()
        return result
    }

    /// `$scrypt$ln=…,r=…,p=…$salt$hash`.
    public var phcString: String {
        "$scrypt$ln=\(logN),r=\(blockSize),p=\(parallelism)$\(Self.base64Encode(salt))$\(Self.base64Encode(hash))"
    }

    /// A hash with these parameters that no password matches: checked instead of an unknown user's, so that
    /// the time taken does not reveal whether a user exists.
    func dummy() -> PasswordHash {
        PasswordHash(logN: logN, blockSize: blockSize, parallelism: parallelism,
                     salt: [UInt8](repeating: 0x5A, count: 16), hash: [UInt8](repeating: 0, count: max(hash.count, 16)))
    }

    func checkParameters() throws {
        func fail(_ why: String) -> DirectoryError { DirectoryError(path: nil, reason: "bad password hash: \(why)") }
        guard (1...Self.maxLogN).contains(logN) else { throw fail("ln must be 1 to \(Self.maxLogN), not \(logN)") }
        guard (1...64).contains(blockSize) else { throw fail("r must be 1 to 64, not \(blockSize)") }
        guard (1...64).contains(parallelism) else { throw fail("p must be 1 to 64, not \(parallelism)") }
        guard 128 * (1 << logN) * blockSize * parallelism <= Self.maxMemoryBytes else {
            throw fail("ln=\(logN),r=\(blockSize),p=\(parallelism) needs more than \(Self.maxMemoryBytes >> 20) MiB")
        }
    }

    func derive(password: String, count: Int) throws -> [UInt8] {
        let key = try KDF.Scrypt.deriveKey(from: Array(password.utf8), salt: salt, outputByteCount: count,
                                           rounds: 1 << logN, blockSize: blockSize, parallelism: parallelism)
        return key.withUnsafeBytes { Array($0) }
    }

    /// Compares without an early exit, so the time does not depend on where the bytes differ.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }

    static func base64Encode(_ bytes: [UInt8]) -> String {
        var text = Data(bytes).base64EncodedString()
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }

    static func base64Decode(_ text: Substring) -> [UInt8]? {
        guard !text.contains("="), text.count % 4 != 1 else { return nil }
        let padded = String(text) + String(repeating: "=", count: (4 - text.count % 4) % 4)
        return Data(base64Encoded: padded).map { Array($0) }
    }
}
