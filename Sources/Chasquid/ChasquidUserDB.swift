/// A chasquid users file, `domains/<domain>/users` (chasquid's `userdb.proto`, text format), as
/// `chasquid-util user-add` writes it:
///
///     users: {
///       key: "alice"
///       value: {
///         scrypt: { logN: 14 r: 8 p: 1 keyLen: 32 salt: "\x9e…" encrypted: "\x1dx…" }
///       }
///     }
///
/// A password is an scrypt hash (`scrypt.Key(password, salt, 1<<logN, r, p, keyLen)` equals `encrypted`),
/// a `plain` password, or `denied` (the user exists but cannot log in).
public struct ChasquidUserDB: Sendable, Hashable {
    public struct Scrypt: Sendable, Hashable {
        public var logN: Int
        public var r: Int
        public var p: Int
        public var keyLen: Int
        public var salt: [UInt8]
        public var encrypted: [UInt8]
    }

    public enum Password: Sendable, Hashable {
        case scrypt(Scrypt)
        case plain
        case denied
        /// A scheme this reader does not know (its field name), or none at all (empty string).
        case unknown(String)
    }

    public struct User: Sendable, Hashable {
        public var name: String
        public var password: Password
        /// The line of the user's `users:` entry.
        public var line: Int
    }

    /// Users in file order.
    public var users: [User]

    public static func parse(_ bytes: [UInt8]) throws(ProtoTextError) -> ChasquidUserDB {
        var users: [User] = []
        var seen: [String: Int] = [:]
        for field in try ProtoText.parse(bytes) {
            guard field.name == "users" else { throw field.fail("unknown field \"\(field.name)\"; a users file holds only \"users\" entries") }
            let entry = try field.message()
            guard let key = try entry.single("key") else { throw field.fail("a \"users\" entry has no \"key\" (the user name)") }
            let name = try key.string()
            if let first = seen[name] { throw field.fail("user \"\(name)\" is given twice (first on line \(first))") }
            seen[name] = field.line
            let value = try entry.single("value")?.message() ?? []
            users.append(User(name: name, password: try password(value, line: field.line), line: field.line))
        }
        return ChasquidUserDB(users: users)
    }

    static func password(_ fields: [ProtoTextField], line: Int) throws(ProtoTextError) -> Password {
        guard let scheme = fields.first else { return .unknown("") }
        if fields.count > 1 { throw fields[1].fail("a password has more than one scheme (\"\(scheme.name)\" and \"\(fields[1].name)\")") }
        switch scheme.name {
        case "scrypt": return .scrypt(try scrypt(scheme))
        case "plain": _ = try scheme.message(); return .plain
        case "denied": _ = try scheme.message(); return .denied
        default: return .unknown(scheme.name)
        }
    }

    static func scrypt(_ field: ProtoTextField) throws(ProtoTextError) -> Scrypt {
        let fields = try field.message()
        func required(_ name: String) throws(ProtoTextError) -> ProtoTextField {
            guard let value = try fields.single(name) else { throw field.fail("scrypt has no \"\(name)\"") }
            return value
        }
        for other in fields where !["logN", "r", "p", "keyLen", "salt", "encrypted"].contains(other.name) {
            throw other.fail("unknown scrypt field \"\(other.name)\"")
        }
        return Scrypt(logN: try required("logN").integer(), r: try required("r").integer(), p: try required("p").integer(),
                      keyLen: try required("keyLen").integer(), salt: try required("salt").bytes(),
                      encrypted: try required("encrypted").bytes())
    }
}
