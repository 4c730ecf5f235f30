import Hummingbird
import Logging
import NIOCore

/// The request context of the API and admin listeners: Hummingbird's basic context plus the client's IP
/// address (for the per-address limit on failed key checks and for log lines).
public struct APIRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: String

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }
}
