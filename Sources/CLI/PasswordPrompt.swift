#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser

/// Reading a password from the terminal without echo, or from the first line of standard input when that is
/// not a terminal (for scripts: `printf '%s\n' "$PW" | apus user add alice@example.com`).
enum PasswordPrompt {
    /// Whether standard input is a terminal.
    static var isInteractive: Bool { isatty(STDIN_FILENO) == 1 }

    /// Reads one password: prompts on standard error without echo on a terminal, else reads one line.
    static func read(prompt: String) throws -> String {
        guard isInteractive else {
            guard let line = readLine(strippingNewline: true) else {
                throw UserCommandError("no password: standard input is empty; use --password or type it on a terminal")
            }
            return line.hasSuffix("\r") ? String(line.dropLast()) : line
        }
        writeToStandardError(prompt)
        var saved = termios()
        let haveTerminal = tcgetattr(STDIN_FILENO, &saved) == 0
        if haveTerminal {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            quiet.c_lflag |= tcflag_t(ECHONL)
            _ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet)
        }
        defer { if haveTerminal { _ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved) } }
        guard let line = readLine(strippingNewline: true) else {
            writeToStandardError("\n")
            throw UserCommandError("no password given")
        }
        return line
    }

    /// A new password: twice on a terminal (they must match), once from a pipe; at least
    /// `UserTool.minimumPasswordLength` characters.
    static func readNew(for address: String) throws -> String {
        let first = try read(prompt: "New password for \(address): ")
        if let why = UserTool.passwordProblem(first) { throw UserCommandError("\(why); nothing changed") }
        if isInteractive {
            let second = try read(prompt: "Type it again: ")
            guard first == second else { throw UserCommandError("the two passwords differ; nothing changed") }
        }
        return first
    }

    static func writeToStandardError(_ text: String) {
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}
