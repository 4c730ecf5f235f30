import ArgumentParser
import Directory

/// `apus authenticate USER@DOMAIN [--password PW]` (DESIGN.md §3b): checks a password as AUTH would.
struct AuthenticateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "authenticate",
        abstract: "Check a user's password, as SMTP AUTH would.",
        discussion: """
            Prints "Authentication succeeded" and exits 0 when the password is right; prints \
            "Authentication failed" and exits 1 when it is wrong or the user does not exist (the two are not \
            told apart, as in AUTH). Without --password, asks for it on the terminal without echoing it, or \
            reads the first line of standard input when that is not a terminal.
            """)

    @OptionGroup var options: ConfigOptions
    @Argument(help: ArgumentHelp("The user's address; a bare USER works when there is one local domain.",
                                 valueName: "USER@DOMAIN"))
    var address: String
    @Option(help: "The password (default: ask for it).") var password: String?

    func run() throws {
        let (_, directory) = try UserTool.load(options)
        let secret = try password ?? PasswordPrompt.read(prompt: "Password for \(address): ")
        if case .success = directory.authenticate(username: address, password: secret) {
            print("Authentication succeeded")
        } else {
            print("Authentication failed")
            throw ExitCode.failure
        }
    }
}
