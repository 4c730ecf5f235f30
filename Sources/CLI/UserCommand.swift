import ArgumentParser
import Config
import Directory

/// `apus user add|remove|list|passwd` (DESIGN.md §3b): the users in `domains/<domain>/users`.
struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Add, remove and list users, and set their passwords.",
        discussion: """
            Users live in CONFIG/domains/DOMAIN/users, one a line: the name, then an scrypt password hash. \
            These commands edit that file in place: comments and other lines stay as they are, and the file is \
            replaced atomically. The domain must exist (a directory CONFIG/domains/DOMAIN, made by `apus init`).

            A running server sees the change when it next loads the users files (at start or on reload).
            """,
        subcommands: [Add.self, Remove.self, List.self, Passwd.self]
    )

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a user.",
            discussion: """
                Without --password, asks for the password twice on the terminal without echoing it, or reads it \
                from the first line of standard input when that is not a terminal. A password on the command line \
                is visible to other users of this machine (ps, shell history); prefer the prompt.

                The name is lowercased; it may not contain a suffix separator ([aliases] suffix_separators, "+"), \
                and may not equal an existing user's name once drop characters ("." by default) are removed.
                """)

        @OptionGroup var options: ConfigOptions
        @Argument(help: ArgumentHelp("The new user's address.", valueName: "USER@DOMAIN")) var address: String
        @Option(help: "The password (default: ask for it).") var password: String?
        @Option(name: .customLong("scrypt-log-n"), help: .hidden) var scryptLogN = PasswordHash.defaultLogN

        func validate() throws { try UserTool.validate(logN: scryptLogN, password: password) }

        func run() throws {
            let (config, directory) = try UserTool.load(options)
            let (user, domain) = try UserTool.split(address, aliases: directory.aliases)
            _ = try UserFileEditor.domainDirectory(domain: domain, configDirectory: options.configDirectory)
            if directory.users(in: domain).contains(user) {
                throw UserCommandError("user \(user)@\(domain) already exists; use `apus user passwd` to change the password")
            }
            let secret = try password ?? PasswordPrompt.readNew(for: "\(user)@\(domain)")
            let phc = try PasswordHash.make(password: secret, logN: scryptLogN)
            try UserFileEditor.add(user: user, domain: domain, phc: phc, configDirectory: options.configDirectory,
                                   aliases: UserTool.aliasSettings(config))
            print("Added \(user)@\(domain)")
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a user.",
            discussion: "Removes the user's line from the users file. The user's mailbox is left on disk.")

        @OptionGroup var options: ConfigOptions
        @Argument(help: ArgumentHelp("The user's address.", valueName: "USER@DOMAIN")) var address: String

        func run() throws {
            let (config, directory) = try UserTool.load(options)
            let (user, domain) = try UserTool.split(address, aliases: directory.aliases, checkName: false)
            try UserFileEditor.remove(user: user, domain: domain, configDirectory: options.configDirectory,
                                      aliases: UserTool.aliasSettings(config))
            print("Removed \(user)@\(domain)")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List users, one address a line.",
            discussion: "Lists the users of DOMAIN, or of every local domain, sorted by domain and name.")

        @OptionGroup var options: ConfigOptions
        @Argument(help: ArgumentHelp("Only this domain's users.", valueName: "DOMAIN")) var domain: String?

        func run() throws {
            let (_, directory) = try UserTool.load(options)
            if let domain {
                guard directory.isLocalDomain(domain) else {
                    throw UserCommandError("\(domain) is not a local domain (no directory \(options.configDirectory)/domains/\(domain.lowercased()))")
                }
                let name = domain.lowercased()
                for user in directory.users(in: name) { print("\(user)@\(name.hasSuffix(".") ? String(name.dropLast()) : name)") }
            } else {
                for address in directory.addresses { print(address) }
            }
        }
    }

    struct Passwd: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set a user's password.",
            discussion: """
                Without --password, asks for the new password twice on the terminal without echoing it, or reads \
                it from the first line of standard input when that is not a terminal.
                """)

        @OptionGroup var options: ConfigOptions
        @Argument(help: ArgumentHelp("The user's address.", valueName: "USER@DOMAIN")) var address: String
        @Option(help: "The new password (default: ask for it).") var password: String?
        @Option(name: .customLong("scrypt-log-n"), help: .hidden) var scryptLogN = PasswordHash.defaultLogN

        func validate() throws { try UserTool.validate(logN: scryptLogN, password: password) }

        func run() throws {
            let (config, directory) = try UserTool.load(options)
            let (user, domain) = try UserTool.split(address, aliases: directory.aliases, checkName: false)
            guard directory.users(in: domain).contains(user) else {
                throw UserCommandError("no user \(user)@\(domain)")
            }
            let secret = try password ?? PasswordPrompt.readNew(for: "\(user)@\(domain)")
            let phc = try PasswordHash.make(password: secret, logN: scryptLogN)
            try UserFileEditor.setPassword(user: user, domain: domain, phc: phc, configDirectory: options.configDirectory,
                                           aliases: UserTool.aliasSettings(config))
            print("Changed the password of \(user)@\(domain)")
        }
    }
}

/// What the user commands and `apus authenticate` share.
enum UserTool {
    static func aliasSettings(_ config: ApusConfig) -> AliasSettings {
        AliasSettings(dropCharacters: config.aliases.dropCharacters, suffixSeparators: config.aliases.suffixSeparators)
    }

    /// apus.toml and the directory of users, as the server would load them.
    static func load(_ options: ConfigOptions) throws -> (ApusConfig, MailDirectory) {
        let config = try ApusConfig.load(configDirectory: options.configDirectory)
        let directory = try MailDirectory.load(configDirectory: options.configDirectory, aliases: aliasSettings(config))
        return (config, directory)
    }

    /// `USER@DOMAIN` → lowercased (user, domain); checks the user name when adding.
    static func split(_ address: String, aliases: AliasSettings, checkName: Bool = true) throws -> (String, String) {
        guard let at = address.lastIndex(of: "@") else {
            throw UserCommandError("\"\(address)\" is not an address; write USER@DOMAIN")
        }
        let user = address[..<at].lowercased()
        var domain = address[address.index(after: at)...].lowercased()
        if domain.hasSuffix(".") { domain.removeLast() }
        guard !user.isEmpty, !domain.isEmpty else {
            throw UserCommandError("\"\(address)\" is not an address; write USER@DOMAIN")
        }
        if checkName, let why = UserName.problem(user, aliases: aliases) { throw UserCommandError(why) }
        return (user, domain)
    }

    static func validate(logN: Int, password: String?) throws {
        guard (1...20).contains(logN) else { throw ValidationError("--scrypt-log-n must be 1 to 20") }
        if let password, let why = passwordProblem(password) { throw ValidationError("--password: \(why)") }
    }

    /// Shortest password accepted for a mail account (NIST SP 800-63B §5.1.1.2: at least 8 characters).
    static let minimumPasswordLength = 8

    /// Why a new password is refused, or nil.
    static func passwordProblem(_ password: String) -> String? {
        if password.isEmpty { return "empty password refused" }
        if password.count < minimumPasswordLength {
            return "password too short (\(password.count) characters); use at least \(minimumPasswordLength)"
        }
        return nil
    }
}

/// A failure while running a user command: printed as `Error: …` on standard error, exit status 1.
struct UserCommandError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
