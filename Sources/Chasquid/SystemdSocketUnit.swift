/// The `ListenStream=` addresses of a systemd socket unit (chasquid's default `"systemd"` listeners come from
/// `chasquid-smtp.socket`, `chasquid-submission.socket` and `chasquid-submission_tls.socket`), in the
/// `host:port` form chasquid.conf uses, so that the import can carry them over instead of guessing.
public enum SystemdSocketUnit {
    /// The addresses of a unit given as its file followed by its drop-ins (`*.socket.d/*.conf`), in the order
    /// systemd reads them: an empty `ListenStream=` clears what came before. A bare port (`ListenStream=25`)
    /// is every address, written `":25"`; unix socket paths and `@abstract` names are left out.
    public static func listenStreams(_ files: [String]) -> [String] {
        var result: [String] = []
        for text in files {
            var inSocket = false
            for rawLine in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
                let line = rawLine.trimmingBlanks
                if line.hasPrefix("[") { inSocket = line == "[Socket]"; continue }
                guard inSocket, line.hasPrefix("ListenStream") else { continue }
                let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2, parts[0].trimmingBlanks == "ListenStream" else { continue }
                let value = parts[1].trimmingBlanks
                if value.isEmpty { result.removeAll(); continue }
                if value.allSatisfy({ $0.isASCII && $0.isNumber }) { result.append(":\(value)") }
                else if !value.hasPrefix("/") && !value.hasPrefix("@") { result.append(String(value)) }
            }
        }
        return result
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    var trimmingBlanks: Substring {
        var text = Substring(self)
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }
}
