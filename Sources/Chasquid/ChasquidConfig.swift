/// chasquid's `chasquid.conf` (protobuf text format, chasquid's `config.proto`): the settings an import needs,
/// each nil or empty when the file leaves it at chasquid's default (listed in `Defaults`).
public struct ChasquidConfig: Sendable, Hashable {
    public var hostname: String?
    public var maxDataSizeMB: Int?
    /// `smtp_address`, `submission_address`, `submission_over_tls_address`: repeated; empty means chasquid's
    /// default, `"systemd"` (sockets passed by systemd).
    public var smtpAddresses: [String] = []
    public var submissionAddresses: [String] = []
    public var submissionOverTLSAddresses: [String] = []
    public var monitoringAddress: String?
    public var mailDeliveryAgentBin: String?
    public var mailDeliveryAgentArgs: [String] = []
    public var dataDir: String?
    public var suffixSeparators: String?
    public var dropCharacters: String?
    public var mailLogPath: String?
    public var dovecotAuth: Bool = false
    public var dovecotUserDBPath: String?
    public var dovecotClientPath: String?
    public var haproxyIncoming: Bool = false
    public var maxQueueItems: Int?
    public var giveUpSendAfter: String?
    /// Fields this reader does not know (a newer chasquid's), kept to be reported, not guessed.
    public var unknown: [ProtoTextField] = []

    /// chasquid's defaults for what the file leaves out.
    public enum Defaults {
        public static let maxDataSizeMB = 50
        public static let address = "systemd"
        public static let mailDeliveryAgentBin = "maildrop"
        public static let mailDeliveryAgentArgs = ["-f", "%from%", "-d", "%to_user%"]
        public static let dataDir = "/var/lib/chasquid"
        public static let suffixSeparators = "+"
        public static let dropCharacters = "."
        public static let giveUpSendAfter = "20h"
    }

    public init() {}

    /// Parses the text of a `chasquid.conf`; errors carry the line.
    public static func parse(_ bytes: [UInt8]) throws(ProtoTextError) -> ChasquidConfig {
        let fields = try ProtoText.parse(bytes)
        var config = ChasquidConfig()
        var seen: [String: Int] = [:]
        for field in fields {
            let repeated = ["smtp_address", "submission_address", "submission_over_tls_address", "mail_delivery_agent_args"]
            if !repeated.contains(field.name), let first = seen[field.name] {
                throw field.fail("\"\(field.name)\" is given twice (first on line \(first))")
            }
            seen[field.name] = field.line
            try config.set(field)
        }
        return config
    }

    mutating func set(_ field: ProtoTextField) throws(ProtoTextError) {
        switch field.name {
        case "hostname": hostname = try field.string()
        case "max_data_size_mb": maxDataSizeMB = try field.integer()
        case "smtp_address": smtpAddresses.append(try field.string())
        case "submission_address": submissionAddresses.append(try field.string())
        case "submission_over_tls_address": submissionOverTLSAddresses.append(try field.string())
        case "monitoring_address": monitoringAddress = try field.string()
        case "mail_delivery_agent_bin": mailDeliveryAgentBin = try field.string()
        case "mail_delivery_agent_args": mailDeliveryAgentArgs.append(try field.string())
        case "data_dir": dataDir = try field.string()
        case "suffix_separators": suffixSeparators = try field.string()
        case "drop_characters": dropCharacters = try field.string()
        case "mail_log_path": mailLogPath = try field.string()
        case "dovecot_auth": dovecotAuth = try field.bool()
        case "dovecot_userdb_path": dovecotUserDBPath = try field.string()
        case "dovecot_client_path": dovecotClientPath = try field.string()
        case "haproxy_incoming": haproxyIncoming = try field.bool()
        case "max_queue_items": maxQueueItems = try field.integer()
        case "give_up_send_after": giveUpSendAfter = try field.string()
        default: unknown.append(field)
        }
    }

    /// Where chasquid keeps its queue: `<data_dir>/queue`.
    public var queueDirectory: String { (dataDir.flatMap { $0.isEmpty ? nil : $0 } ?? Defaults.dataDir) + "/queue" }
}
