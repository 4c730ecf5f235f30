import Config

/// chasquid.conf → apus.toml: each setting with an Apus equivalent is carried over; the rest becomes a note.
extension ChasquidConfig {
    /// The Apus configuration for this chasquid configuration. `machineHostname` stands in for an unset
    /// `hostname` (chasquid then uses the system's name too); `dataDir` is Apus's own (not chasquid's).
    /// `systemdSockets` holds the `ListenStream=` addresses of chasquid's socket units by unit name
    /// (`SystemdSocketUnit`), used for listeners set to `"systemd"`.
    public func apusConfig(machineHostname: String, dataDir: String, systemdSockets: [String: [String]] = [:],
                           source: String = "chasquid.conf")
        -> (config: ApusConfig, notes: [ImportNote]) {
        var config = ApusConfig(hostname: hostname.flatMap { $0.isEmpty ? nil : $0 } ?? machineHostname, dataDir: dataDir)
        var notes: [ImportNote] = []
        if hostname?.isEmpty ?? true {
            notes.append(.init(.assumed, source, "no hostname: chasquid used the system's host name; hostname = \"\(config.hostname)\""))
        }
        // chasquid treats 0 (and less) as unset; the cap keeps the product in range.
        let mb = maxDataSizeMB.flatMap { $0 > 0 ? min($0, 1 << 30) : nil } ?? Defaults.maxDataSizeMB
        config.limits.maxMessageBytes = mb * 1024 * 1024

        let roles: [(String, [String], [ListenAddress], String, WritableKeyPath<ApusConfig.Listen, [ListenAddress]>)] = [
            ("smtp_address", smtpAddresses, ApusConfig.Listen.defaultMX, "chasquid-smtp.socket", \.mx),
            ("submission_address", submissionAddresses, ApusConfig.Listen.defaultSubmission, "chasquid-submission.socket", \.submission),
            ("submission_over_tls_address", submissionOverTLSAddresses, ApusConfig.Listen.defaultSubmissions,
             "chasquid-submission_tls.socket", \.submissions),
        ]
        for (key, values, defaults, unit, keyPath) in roles {
            let (addresses, roleNotes) = Self.listenAddresses(key: key, values: values, defaults: defaults, unit: unit,
                                                              sockets: systemdSockets[unit] ?? [], source: source)
            config.listen[keyPath: keyPath] = addresses
            notes += roleNotes
        }
        if let monitoring = monitoringAddress, !monitoring.isEmpty {
            if let address = Self.listenAddresses(monitoring) {
                config.listen.admin = address
                notes.append(.init(.assumed, source, "monitoring_address \(monitoring) → [listen] admin (Apus serves /metrics and /healthz there; chasquid's /debug pages do not exist)"))
            } else {
                notes.append(.init(.notImported, source, "monitoring_address \"\(monitoring)\" is not host:port"))
            }
        }
        notes += mapDelivery(into: &config, source: source)
        config.aliases.suffixSeparators = suffixSeparators ?? Defaults.suffixSeparators
        config.aliases.dropCharacters = dropCharacters ?? Defaults.dropCharacters
        notes += otherSettings(source: source)
        return (config, notes)
    }

    /// A listener list: chasquid's `"systemd"` means sockets from a systemd unit, which Apus does not take
    /// over: the unit's own addresses (`sockets`) are used, or the role's usual ports when it was not found;
    /// `":25"` (Go: every address) becomes `0.0.0.0:25` and `[::]:25`.
    static func listenAddresses(key: String, values: [String], defaults: [ListenAddress], unit: String,
                                sockets: [String], source: String) -> ([ListenAddress], [ImportNote]) {
        var result: [ListenAddress] = []
        var notes: [ImportNote] = []
        for value in values.isEmpty ? [Defaults.address] : values {
            let fromUnit = sockets.flatMap { listenAddresses($0) ?? [] }
            if value == Defaults.address, !fromUnit.isEmpty {
                notes.append(.init(.assumed, source, "\(key) \"systemd\"\(values.isEmpty ? " (chasquid's default)" : ""): "
                                   + "the ListenStream= of \(unit) (\(sockets.joined(separator: ", "))): "
                                   + fromUnit.map(\.description).joined(separator: ", ") + "; Apus opens them itself, so disable the unit"))
                result += fromUnit
            } else if value == Defaults.address {
                let list = defaults.map(\.description).joined(separator: ", ")
                notes.append(.init(.assumed, source, "\(key) \"systemd\"\(values.isEmpty ? " (chasquid's default)" : ""): "
                                   + "\(unit) not found; assumed \(list): compare with its ListenStream= and disable the unit"))
                result += defaults
            } else if let addresses = listenAddresses(value) {
                result += addresses
            } else {
                notes.append(.init(.notImported, source, "\(key) \"\(value)\" is not host:port; left out"))
            }
        }
        var unique: [ListenAddress] = []
        for address in result where !unique.contains(address) { unique.append(address) }
        return (unique, notes)
    }

    /// `"host:port"` as Go's net.Listen reads it: an empty host is every address, IPv4 and IPv6.
    static func listenAddresses(_ value: String) -> [ListenAddress]? {
        if value.hasPrefix(":"), let port = Int(value.dropFirst()), (1...65535).contains(port) {
            return [ListenAddress(host: "0.0.0.0", port: port), ListenAddress(host: "::", port: port)]
        }
        return (try? ListenAddress.parse(value)).map { [$0] }
    }

    /// The settings without an equivalent, each as a note.
    func otherSettings(source: String) -> [ImportNote] {
        var notes: [ImportNote] = []
        if let dir = dataDir, !dir.isEmpty {
            notes.append(.init(.assumed, source, "data_dir \(dir): its queue is read from \(queueDirectory); Apus keeps its own data_dir"))
        }
        if let path = mailLogPath, !path.isEmpty {
            notes.append(.init(.notImported, source, "mail_log_path \"\(path)\": Apus logs one line per event to standard error (the journal under systemd)"))
        }
        if dovecotAuth || dovecotUserDBPath != nil || dovecotClientPath != nil {
            notes.append(.init(.notImported, source, "dovecot_auth: Apus authenticates only users in its users files; add Dovecot-only users with `apus user add`"))
        }
        if haproxyIncoming {
            notes.append(.init(.notImported, source, "haproxy_incoming: Apus does not read the PROXY protocol; let clients connect to Apus directly"))
        }
        if let items = maxQueueItems {
            notes.append(.init(.notImported, source, "max_queue_items \(items): Apus limits the queue by free disk space ([delivery] queue_min_free_bytes)"))
        }
        for field in unknown {
            notes.append(.init(.notImported, "\(source):\(field.line)", "unknown setting \"\(field.name)\" (newer chasquid?)"))
        }
        return notes
    }
}
