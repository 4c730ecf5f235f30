/// Why a login failed, in words for the server's log only: the client always gets the same `535`, so
/// that it cannot tell an unknown user from a wrong password (RFC 4954 §4, user enumeration).
extension MailDirectory {
    /// `no such domain example.org`, `no such user bob@example.com`, `unreadable password hash …` or
    /// `wrong password`. Never contains the password.
    public func authFailureReason(username: String) -> String {
        var user = username.lowercased()
        var domain = ""
        if let at = user.lastIndex(of: "@") {
            domain = Self.key(String(user[user.index(after: at)...]))
            user = String(user[..<at])
        } else if domainTable.count == 1 {
            domain = domainTable.keys.first!
        }
        guard let entry = domainTable[domain] else {
            return domain.isEmpty ? "no domain in the user name and several local domains" : "no such domain \(domain)"
        }
        guard let phc = entry.users[user] else { return "no such user \(user)@\(domain)" }
        guard (try? PasswordHash.parse(phc)) != nil else {
            return "unreadable password hash for \(user)@\(domain) in \(entry.directory)/users"
        }
        return "wrong password"
    }
}
