#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOPosix
import Synchronization

/// Delivers a message to a `| command` alias (DESIGN.md §3): `/bin/sh -c COMMAND` with the message on stdin and
/// `SENDER` (empty for `<>`), `RECIPIENT` (the alias) and `ORIGINAL_RECIPIENT` (the RCPT address) in a small
/// environment (with `PATH`). The command runs in its own process group, which is killed when it takes longer
/// than `timeout`.
///
/// Outcome, as sysexits(3) and chasquid: exit 0 delivered; exit 75 (EX_TEMPFAIL), a timeout, a signal or a
/// failure to start is temporary (retry later); any other exit status is permanent (bounce), with what the
/// command wrote to stdout and stderr as the reason.
public struct PipeCourier: Sendable {
    public enum Outcome: Sendable, Equatable {
        case delivered
        /// Try again later; the text says why.
        case temporary(String)
        /// Give up and bounce; the text says why.
        case permanent(String)
    }

    /// sysexits.h EX_TEMPFAIL.
    public static let temporaryExitStatus: Int32 = 75
    /// Output kept for the reason of a failure.
    static let maxOutputBytes = 4096

    public var timeout: Duration
    public var shell: String
    let threadPool: NIOThreadPool

    /// Threads that wait for commands: their own, so that slow commands never hold up Maildir writes or scrypt
    /// on `NIOThreadPool.singleton`. More commands than threads wait their turn.
    public static let sharedThreadPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 4)
        pool.start()
        return pool
    }()

    public init(timeout: Duration = .seconds(60), shell: String = "/bin/sh", threadPool: NIOThreadPool = PipeCourier.sharedThreadPool) {
        self.timeout = timeout
        self.shell = shell
        self.threadPool = threadPool
    }

    /// Runs `command` with `message` on stdin, waiting on a thread of `threadPool`.
    public func deliver(command: String, message: ByteBuffer, sender: String, recipient: String,
                        originalRecipient: String? = nil, environment extra: [String: String] = [:]) async -> Outcome {
        let bytes = Array(message.readableBytesView)
        let environment = [
            "PATH=/usr/local/bin:/usr/bin:/bin",
            "SENDER=\(sender)",
            "RECIPIENT=\(recipient)",
            "ORIGINAL_RECIPIENT=\(originalRecipient ?? recipient)",
        ] + extra.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let argv = [shell, "-c", command]
        let limit = timeout
        do {
            return try await threadPool.runIfActive {
                Self.run(argv: argv, environment: environment, input: bytes, timeout: limit)
            }
        } catch {
            return .temporary("cannot run the command: \(error)")
        }
    }

    static func run(argv: [String], environment: [String], input: [UInt8], timeout: Duration) -> Outcome {
        var stdinPipe: [Int32] = [-1, -1], outPipe: [Int32] = [-1, -1]
        guard makePipe(&stdinPipe) == 0 else { return .temporary("pipe failed: \(errnoText())") }
        guard makePipe(&outPipe) == 0 else {
            close(stdinPipe[0]); close(stdinPipe[1])
            return .temporary("pipe failed: \(errnoText())")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 2)
        for fd in [stdinPipe[0], stdinPipe[1], outPipe[0], outPipe[1]] { posix_spawn_file_actions_addclose(&actions, fd) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setpgroup(&attributes, 0)
        // The server ignores SIGPIPE, and signal handling (SIGTERM, SIGHUP…) sets others to "ignore"; an ignored
        // signal stays ignored across exec. The command gets every default and an empty signal mask back.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in 1..<32 where signal != SIGKILL && signal != SIGSTOP { sigaddset(&defaults, Int32(signal)) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        _ = ignoreSIGPIPE
        var pid: pid_t = 0
        let status = spawnLock.withLock { _ in
            withCStrings(argv) { args in
                withCStrings(environment) { env in posix_spawn(&pid, argv[0], &actions, &attributes, args, env) }
            }
        }
        close(stdinPipe[0])
        close(outPipe[1])
        let toChild = stdinPipe[1], fromChild = outPipe[0]
        guard status == 0 else {
            close(toChild); close(fromChild)
            return .temporary("cannot start \(argv[0]): \(String(cString: strerror(status)))")
        }
        _ = fcntl(toChild, F_SETFL, fcntl(toChild, F_GETFL) | O_NONBLOCK)
        _ = fcntl(fromChild, F_SETFL, fcntl(fromChild, F_GETFL) | O_NONBLOCK)

        let deadline = ContinuousClock.now + timeout
        var written = 0
        var inputOpen = true, outputOpen = true
        var output: [UInt8] = []
        var exitStatus: Int32?
        var buffer = [UInt8](repeating: 0, count: 16_384)
        if input.isEmpty { close(toChild); inputOpen = false }
        while exitStatus == nil || outputOpen {
            if ContinuousClock.now >= deadline {
                kill(-pid, SIGKILL)
                if inputOpen { close(toChild) }
                if outputOpen { close(fromChild) }
                if exitStatus == nil { _ = waitForExit(pid) }
                return .temporary("timed out after \(timeout)\(describe(output))")
            }
            var fds: [pollfd] = []
            if inputOpen { fds.append(pollfd(fd: toChild, events: Int16(POLLOUT), revents: 0)) }
            if outputOpen { fds.append(pollfd(fd: fromChild, events: Int16(POLLIN), revents: 0)) }
            // Short waits, so that a command that exits while a grandchild keeps its output open is noticed.
            _ = poll(&fds, nfds_t(fds.count), 50)
            for fd in fds where fd.revents != 0 {
                if fd.fd == toChild {
                    let n = input.withUnsafeBytes { write(toChild, $0.baseAddress! + written, input.count - written) }
                    if n > 0 { written += n }
                    if written == input.count || (n < 0 && errno != EAGAIN && errno != EINTR) {
                        close(toChild); inputOpen = false        // done, or the command stopped reading (EPIPE)
                    }
                } else {
                    let n = buffer.withUnsafeMutableBytes { read(fromChild, $0.baseAddress!, $0.count) }
                    if n > 0 {
                        if output.count < maxOutputBytes { output += buffer[0..<min(n, maxOutputBytes - output.count)] }
                    } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
                        close(fromChild); outputOpen = false
                    }
                }
            }
            if exitStatus == nil {
                var raw: Int32 = 0
                if waitpid(pid, &raw, WNOHANG) == pid {
                    exitStatus = raw
                    if inputOpen { close(toChild); inputOpen = false }
                    // Read what is already there, then stop even if a background process keeps the pipe open.
                    if outputOpen {
                        while true {
                            let n = buffer.withUnsafeMutableBytes { read(fromChild, $0.baseAddress!, $0.count) }
                            if n <= 0 { break }
                            if output.count < maxOutputBytes { output += buffer[0..<min(n, maxOutputBytes - output.count)] }
                        }
                        close(fromChild); outputOpen = false
                    }
                }
            }
        }
        return outcome(status: exitStatus!, output: output)
    }

    static func outcome(status raw: Int32, output: [UInt8]) -> Outcome {
        let signal = raw & 0x7F
        if signal != 0 { return .temporary("the command was killed by signal \(signal)\(describe(output))") }
        let code = (raw >> 8) & 0xFF
        if code == 0 { return .delivered }
        if code == temporaryExitStatus { return .temporary("the command exited with status 75 (temporary failure)\(describe(output))") }
        return .permanent("the command exited with status \(code)\(describe(output))")
    }

    static func describe(_ output: [UInt8]) -> String {
        let text = String(decoding: output, as: UTF8.self)
            .split(whereSeparator: { $0 == "\n" || $0 == "\r" }).joined(separator: " | ")
        return text.isEmpty ? "" : ": \(text)"
    }

    static func waitForExit(_ pid: pid_t) -> Int32 {
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        return raw
    }

    /// A pipe whose ends are closed on exec: a command started at the same time on another thread must not
    /// inherit them (it would hold this command's stdin open, and it would never see the end of its input).
    /// (Swift's Glibc module has no `pipe2`, so the flag is set under `spawnLock`, which every spawn here holds.)
    static func makePipe(_ fds: inout [Int32]) -> Int32 {
        spawnLock.withLock { _ in
            let result = pipe(&fds)
            if result == 0 { for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) } }
            return result
        }
    }

    static let spawnLock = Mutex(())

    static func errnoText() -> String { String(cString: strerror(errno)) }

    /// Writing to a command that stopped reading must fail with EPIPE, not kill the server.
    static let ignoreSIGPIPE: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for p in pointers { free(p) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
