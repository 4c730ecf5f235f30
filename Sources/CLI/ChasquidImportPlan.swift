import Chasquid
import Config
import DKIM
import Directory
import Foundation

/// Everything `apus import chasquid` would do, worked out before anything is written: every chasquid file
/// read and parsed (a malformed one throws, naming file and line), every Apus file's contents known and
/// compared with what is on disk.
struct ChasquidImportPlan {
    enum Status: Equatable { case create, unchanged, differs }
    enum Content: Equatable {
        case text(String, mode: mode_t)
        /// A private key (DKIM, certificate): 0640 or 0600 (`ConfigFile.createSecret`).
        case secret([UInt8])
        /// A certificate chain: 0644.
        case publicFile([UInt8])
        case symlink(String)
    }

    struct File {
        var path: String
        var content: Content
        var status: Status
    }

    /// One line of the summary table.
    struct Row {
        var what: String
        var from: String
        var to: String
        /// Files of this row (their statuses make the row's result), or a fixed result.
        var files: [String]
        var result: String? = nil
    }

    var source: String
    var configDirectory: String
    var config: ApusConfig
    var directories: [String] = []
    var files: [File] = []
    var rows: [Row] = []
    var notes: [ImportNote] = []
    var queue = QueuePlan()
    var domains: [String] = []

    static let systemdUnitDirectories = ["/etc/systemd/system", "/run/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system"]
    static let socketUnits = ["chasquid-smtp.socket", "chasquid-submission.socket", "chasquid-submission_tls.socket"]

    static func make(source: String, configDirectory: String, dataDirectory: String?, queueDirectory: String?,
                     unitDirectories: [String] = systemdUnitDirectories) throws -> ChasquidImportPlan {
        let confPath = "\(source)/chasquid.conf"
        guard let confBytes = try read(confPath) else {
            throw CLIError("\(confPath): no such file; give chasquid's configuration directory (default /etc/chasquid)")
        }
        let chasquid = try parsing(confPath) { () throws(ProtoTextError) in try ChasquidConfig.parse(confBytes) }
        let existing = try? ApusConfig.load(configDirectory: configDirectory)
        let dataDir = dataDirectory ?? existing?.dataDir ?? "/var/lib/apus"
        var sockets: [String: [String]] = [:]
        for unit in socketUnits { sockets[unit] = SystemdSocketUnit.listenStreams(unitFiles(unit, in: unitDirectories)) }
        let (config, configNotes) = chasquid.apusConfig(machineHostname: ApusConfig.machineHostname(), dataDir: dataDir,
                                                        systemdSockets: sockets)
        var plan = ChasquidImportPlan(source: source, configDirectory: configDirectory, config: config)
        plan.notes = configNotes
        plan.directories.append(configDirectory)
        plan.add("\(configDirectory)/apus.toml", .text(config.render(), mode: 0o644),
                 row: Row(what: "settings", from: "chasquid.conf", to: "apus.toml", files: []))
        try plan.planDomains()
        try plan.planCertificates()
        plan.planHooks()
        plan.queue = try QueuePlan.make(directory: queueDirectory ?? chasquid.queueDirectory, dataDirectory: dataDir,
                                        notes: &plan.notes)
        return plan
    }

    /// Adds a file to write, with its status against the disk, and to `row` (appended when new).
    mutating func add(_ path: String, _ content: Content, row: Row? = nil) {
        files.append(File(path: path, content: content, status: Self.status(path, content)))
        if var row {
            row.files.append(path)
            rows.append(row)
        } else if !rows.isEmpty {
            rows[rows.count - 1].files.append(path)
        }
    }

    static func status(_ path: String, _ content: Content) -> Status {
        if case .symlink(let target) = content {
            guard let current = try? FileManager.default.destinationOfSymbolicLink(atPath: path) else {
                return FileManager.default.fileExists(atPath: path) ? .differs : .create
            }
            return current == target ? .unchanged : .differs
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            return (try? FileManager.default.attributesOfItem(atPath: path)) == nil ? .create : .differs
        }
        switch content {
        case .text(let text, _): return Array(data) == Array(text.utf8) ? .unchanged : .differs
        case .secret(let bytes), .publicFile(let bytes): return Array(data) == bytes ? .unchanged : .differs
        case .symlink: return .differs
        }
    }

    /// `domains/<d>/`: users, aliases and DKIM keys of each domain, in name order.
    mutating func planDomains() throws {
        let domainsDir = "\(source)/domains"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: domainsDir)) ?? []).sorted()
        let settings = AliasSettings(dropCharacters: config.aliases.dropCharacters, suffixSeparators: config.aliases.suffixSeparators)
        for domain in names where Self.isDirectory("\(domainsDir)/\(domain)") {
            domains.append(domain)
            let from = "domains/\(domain)"
            let to = "\(configDirectory)/domains/\(domain)"
            directories.append(to)
            if let bytes = try Self.read("\(domainsDir)/\(domain)/users") {
                let db = try Self.parsing("\(domainsDir)/\(domain)/users") { () throws(ProtoTextError) in try ChasquidUserDB.parse(bytes) }
                let (text, imported, userNotes) = db.apusUsersFile(domain: domain, aliases: settings, source: "\(from)/users")
                notes += userNotes
                add("\(to)/users", .text(text, mode: 0o640), row: Row(what: "users of \(domain)", from: "\(from)/users (\(db.users.count))",
                                                                      to: "\(from)/users (\(imported.count))", files: []))
            }
            if let bytes = try Self.read("\(domainsDir)/\(domain)/aliases") {
                let (text, count, aliasNotes) = ChasquidAliases.apusAliasesFile(String(decoding: bytes, as: UTF8.self),
                                                                                domain: domain, source: "\(from)/aliases")
                notes += aliasNotes
                add("\(to)/aliases", .text(text, mode: 0o644), row: Row(what: "aliases of \(domain)", from: "\(from)/aliases",
                                                                        to: "\(from)/aliases (\(count))", files: []))
            }
            try planDKIM(domain: domain)
        }
        if domains.isEmpty { notes.append(.init(.notImported, "domains/", "no domain directories: no users, aliases or DKIM keys to import")) }
    }

    /// chasquid 1.14+ keeps DKIM keys as `domains/<d>/dkim:<selector>.pem`; before, its post-data hook signed
    /// with `certs/<d>/dkim_privkey.pem` under the selector in `domains/<d>/dkim_selector`. Apus keeps them as
    /// `dkim/<selector>.pem`. The bytes are copied as they are (PKCS#8 or PKCS#1), after checking that Apus can
    /// sign with them.
    mutating func planDKIM(domain: String) throws {
        let dir = "\(source)/domains/\(domain)"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
        var keys: [(selector: String, path: String, name: String)] = names.filter { $0.hasPrefix("dkim:") && $0.hasSuffix(".pem") }
            .map { (String($0.dropFirst(5).dropLast(4)), "\(dir)/\($0)", "domains/\(domain)/\($0)") }
        if let text = try Self.read("\(dir)/dkim_selector").map({ String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }),
           !text.isEmpty, !keys.contains(where: { $0.selector == text }),
           FileManager.default.fileExists(atPath: "\(source)/certs/\(domain)/dkim_privkey.pem") {
            keys.append((text, "\(source)/certs/\(domain)/dkim_privkey.pem", "certs/\(domain)/dkim_privkey.pem"))
        }
        for (selector, path, name) in keys {
            guard let bytes = try Self.read(path) else { continue }
            do {
                _ = try DKIMSigningKey(pem: String(decoding: bytes, as: UTF8.self), domain: domain, selector: selector)
            } catch {
                throw CLIError("\(path): not a DKIM private key Apus can sign with: \(error) (nothing was written)")
            }
            let to = "\(configDirectory)/domains/\(domain)/dkim"
            directories.append(to)
            add("\(to)/\(selector).pem", .secret(bytes),
                row: Row(what: "DKIM key \(selector)._domainkey.\(domain)", from: name,
                         to: "domains/\(domain)/dkim/\(selector).pem", files: []))
        }
    }

    /// `certs/<name>/{fullchain,privkey}.pem`: symbolic links (certbot's live/ directory) are recreated
    /// pointing at the same files, so renewals reach Apus; plain files are copied.
    mutating func planCertificates() throws {
        let certs = "\(source)/certs"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: certs)) ?? []).sorted()
        for name in names where Self.isDirectory("\(certs)/\(name)") {
            let dir = "\(certs)/\(name)"
            let parts = ["fullchain.pem", "privkey.pem"]
            guard parts.allSatisfy({ FileManager.default.fileExists(atPath: "\(dir)/\($0)") }) else {
                // The DKIM key of chasquid's older hook may be all there is (planDKIM takes it).
                let only = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
                if only != ["dkim_privkey.pem"] {
                    notes.append(.init(.notImported, "certs/\(name)/", "no fullchain.pem and privkey.pem pair"))
                }
                continue
            }
            let to = "\(configDirectory)/certs/\(name)"
            directories.append(to)
            var linked = false
            // certs/ (or certs/NAME) may itself be a link, e.g. to certbot's /etc/letsencrypt/live: then the
            // stable path is the real directory's file (certbot re-points it at each renewal), not where that
            // file points now (archive/NAME/fullchainN.pem, stale after the next renewal).
            let real = URL(fileURLWithPath: dir).resolvingSymlinksInPath().path
            for (index, part) in parts.enumerated() {
                let row = index == 0 ? Row(what: "certificate \(name)", from: "certs/\(name)/", to: "certs/\(name)/", files: []) : nil
                if real != dir {
                    linked = true
                    add("\(to)/\(part)", .symlink("\(real)/\(part)"), row: row)
                } else if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(dir)/\(part)") {
                    linked = true
                    let absolute = target.hasPrefix("/") ? target : URL(fileURLWithPath: "\(dir)/\(target)").standardizedFileURL.path
                    add("\(to)/\(part)", .symlink(absolute), row: row)
                } else if let bytes = try Self.read("\(dir)/\(part)") {
                    add("\(to)/\(part)", part == "privkey.pem" ? .secret(bytes) : .publicFile(bytes), row: row)
                }
            }
            if !linked {
                notes.append(.init(.assumed, "certs/\(name)/", "copied: a renewal writing into \(dir) no longer reaches Apus; "
                                   + "point acme.sh's --install-cert (or certbot's deploy hook) at \(to), or set [acme] email"))
            }
        }
    }

    /// chasquid's hooks have no Apus counterpart; say what Apus does instead.
    mutating func planHooks() {
        let hooks = ((try? FileManager.default.contentsOfDirectory(atPath: "\(source)/hooks")) ?? []).sorted()
        for hook in hooks {
            let instead = switch hook {
            case "post-data": "Apus signs DKIM itself (keys imported) and checks SPF, DKIM and DMARC; spam or virus filters in it do not run"
            case "alias-resolve": "Apus resolves aliases from the aliases files only"
            default: "Apus runs no hooks"
            }
            notes.append(.init(.notImported, "hooks/\(hook)", instead))
        }
    }

    /// The texts of a systemd unit as systemd reads them: the first unit file found in `directories` (in
    /// precedence order), then its drop-ins (`UNIT.d/*.conf`, one per name, the first directory winning),
    /// sorted by name.
    static func unitFiles(_ unit: String, in directories: [String]) -> [String] {
        guard let main = directories.lazy.compactMap({ FileManager.default.contents(atPath: "\($0)/\(unit)") }).first else { return [] }
        var dropIns: [String: Data] = [:]
        for directory in directories {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: "\(directory)/\(unit).d")) ?? []
            for name in names where name.hasSuffix(".conf") && dropIns[name] == nil {
                dropIns[name] = FileManager.default.contents(atPath: "\(directory)/\(unit).d/\(name)")
            }
        }
        return ([main] + dropIns.keys.sorted().compactMap { dropIns[$0] }).map { String(decoding: $0, as: UTF8.self) }
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// The file's bytes; nil when it does not exist; an error naming it when it cannot be read.
    static func read(_ path: String) throws -> [UInt8]? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError("\(path): cannot read it (permissions? run as root)")
        }
        return Array(data)
    }

    /// Runs a chasquid parser; its error becomes `PATH:LINE: reason (nothing was written)`.
    static func parsing<T>(_ path: String, _ body: () throws(ProtoTextError) -> T) throws -> T {
        do { return try body() } catch {
            throw CLIError("\(path):\(error.line): \(error.reason) (nothing was imported)")
        }
    }
}
