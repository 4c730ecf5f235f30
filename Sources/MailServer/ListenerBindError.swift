#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Config
import NIOCore

/// A listener that could not be bound (DESIGN §4): names the role, the address, the reason in plain words
/// and what to change, e.g.
/// `cannot listen for mx on 127.0.0.1:25: address already in use (errno 98): another program listens there;
/// stop it, or change "mx" in [listen] of /etc/apus/apus.toml`.
public struct ListenerBindError: Error, CustomStringConvertible {
    /// `mx`, `submission`, `submissions` or `admin`: the key in `[listen]`.
    public var listener: String
    public var address: ListenAddress
    public var underlying: any Error
    /// What to change, e.g. `change "mx" in [listen] of /etc/apus/apus.toml` or `use --mx-port`.
    public var fix: String

    public init(listener: String, address: ListenAddress, underlying: any Error, fix: String) {
        self.listener = listener
        self.address = address
        self.underlying = underlying
        self.fix = fix
    }

    public var description: String {
        "cannot listen for \(listener) on \(address): \(reason); \(fix)"
    }

    /// The errno in words, with the usual cause.
    public var reason: String {
        guard let io = underlying as? IOError else { return "\(underlying)" }
        let code = io.errnoCode
        let text = "\(String(cString: strerror(code))) (errno \(code))"
        switch code {
        case EADDRINUSE: return "\(text): another program (or another apus) listens there; stop it, or pick another port"
        case EACCES: return "\(text): ports below 1024 need root or CAP_NET_BIND_SERVICE (dist/systemd/apus.service grants it)"
        case EADDRNOTAVAIL: return "\(text): no network interface of this machine has that address"
        default: return text
        }
    }
}
