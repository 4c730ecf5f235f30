/// How one recipient is delivered, decided once when the message is queued (alias expansion) and stored
/// with the recipient in the queue file (`"route":"remote"`):
///
/// | route       | courier                                                    | grouped per attempt by          |
/// |-------------|------------------------------------------------------------|---------------------------------|
/// | `maildir`   | a file in `<data_dir>/mail/<domain>/<user>/new`            | envelope sender                 |
/// | `lmtp`      | `[delivery] lmtp` (Dovecot), one LMTP transaction           | envelope sender                 |
/// | `mda`       | `[delivery] mda`, one command run per recipient             | envelope sender                 |
/// | `pipe`      | the recipient's `| command` alias (`Recipient.command`)      | envelope sender                 |
/// | `remote`    | the MX hosts of the recipient's domain over SMTP            | domain and envelope sender      |
/// | `smarthost` | `[delivery] relay_host` over SMTP with AUTH                 | envelope sender                 |
///
/// A queue file written before routes existed has none; the runner derives it as it always did
/// (`Router`), so such files deliver unchanged.
public enum Route: String, Codable, Sendable, Hashable, CaseIterable {
    case maildir, lmtp, mda, pipe, remote, smarthost

    /// Delivered on this machine (no SMTP to another server).
    public var isLocal: Bool {
        switch self {
        case .maildir, .lmtp, .mda, .pipe: return true
        case .remote, .smarthost: return false
        }
    }
}
