import Config

/// chasquid's local delivery (an MDA command with `%from%`-style placeholders, or `mda-lmtp`) and retry
/// limit, in Apus's terms.
extension ChasquidConfig {
    /// chasquid's placeholders and the shell text that gives the same value under Apus's `[delivery] mda`,
    /// which runs the command with /bin/sh and sets SENDER, RECIPIENT, USER and DOMAIN.
    static let placeholders: [(String, String)] = [
        ("%from_user%", "\"${SENDER%@*}\""), ("%from_domain%", "\"${SENDER##*@}\""), ("%from%", "\"$SENDER\""),
        ("%to_user%", "\"$USER\""), ("%to_domain%", "\"$DOMAIN\""), ("%to%", "\"$RECIPIENT\""),
    ]

    func mapDelivery(into config: inout ApusConfig, source: String) -> [ImportNote] {
        var notes: [ImportNote] = []
        let bin = mailDeliveryAgentBin.flatMap { $0.isEmpty ? nil : $0 } ?? Defaults.mailDeliveryAgentBin
        let args = mailDeliveryAgentArgs.isEmpty ? Defaults.mailDeliveryAgentArgs : mailDeliveryAgentArgs
        if let lmtp = Self.lmtpAddress(bin: bin, args: args) {
            config.delivery.lmtp = lmtp
            notes.append(.init(.assumed, source, "mail_delivery_agent_bin \(bin) --addr \(lmtp) → [delivery] lmtp = \"\(lmtp)\""))
        } else {
            config.delivery.mda = Self.shellCommand(bin: bin, args: args)
            if mailDeliveryAgentBin == nil {
                notes.append(.init(.assumed, source, "no mail_delivery_agent_bin: chasquid's default, maildrop, is kept as [delivery] mda; "
                                   + "set mda = \"\" to let Apus write Maildirs under data_dir/mail"))
            }
        }
        if let text = giveUpSendAfter, !text.isEmpty {
            if let seconds = GoDuration.seconds(text), seconds > 0 {
                config.delivery.giveUpAfter = ConfigDuration(seconds: seconds)
            } else {
                notes.append(.init(.notImported, source, "give_up_send_after \"\(text)\" is not a duration; Apus's default \(config.delivery.giveUpAfter) is kept"))
            }
        } else {
            config.delivery.giveUpAfter = ConfigDuration(seconds: GoDuration.seconds(Defaults.giveUpSendAfter)!)
        }
        return notes
    }

    /// `mda-lmtp --addr HOST:PORT -f %from% -d %to%` talks LMTP over TCP, which Apus does itself; an LMTP
    /// socket path stays an MDA command (Apus's LMTP client speaks TCP only).
    static func lmtpAddress(bin: String, args: [String]) -> String? {
        guard bin.split(separator: "/").last == "mda-lmtp" else { return nil }
        var address: String?
        var index = 0
        while index < args.count {
            let arg = args[index]
            if arg == "--addr" || arg == "-addr", index + 1 < args.count { address = args[index + 1]; index += 2; continue }
            if arg.hasPrefix("--addr=") || arg.hasPrefix("-addr=") { address = String(arg.drop { $0 != "=" }.dropFirst()) }
            index += 1
        }
        guard let address, !address.hasPrefix("/"), (try? ListenAddress.parse(address)) != nil else { return nil }
        return address
    }

    /// The argument vector as one /bin/sh command line: literal text single-quoted, placeholders replaced by
    /// double-quoted variable expansions, so no argument is split or expanded differently than chasquid's.
    public static func shellCommand(bin: String, args: [String]) -> String {
        ([bin] + args).map(shellWord).joined(separator: " ")
    }

    static func shellWord(_ arg: String) -> String {
        if arg.isEmpty { return "''" }
        var out = ""
        var literal = ""
        var rest = Substring(arg)
        func flush() {
            guard !literal.isEmpty else { return }
            let safe = literal.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_./=:,@+%".contains($0)) }
            out += safe ? literal : "'" + literal.map { $0 == "'" ? "'\\''" : String($0) }.joined() + "'"
            literal = ""
        }
        outer: while let ch = rest.first {
            for (placeholder, expansion) in placeholders where rest.hasPrefix(placeholder) {
                flush()
                out += expansion
                rest = rest.dropFirst(placeholder.count)
                continue outer
            }
            literal.append(ch)
            rest = rest.dropFirst()
        }
        flush()
        return out
    }
}
