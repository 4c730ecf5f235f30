/// Where per-provider limits are kept (DESIGN.md §7: process-local today, token buckets in PostgreSQL when
/// several nodes share the work). `RemoteCourier` asks it before each connection and each message to a
/// provider's MX hosts and tells it about rate-limit deferrals.
public protocol ProviderPacing: Sendable {
    /// Takes a connection slot to `provider` if one is free now (true), without waiting; the caller polls.
    func tryOpenConnection(_ provider: Provider) -> Bool
    /// The connection holding a slot closed.
    func connectionClosed(_ provider: Provider)
    /// Waits until the next message to `provider` may start.
    func awaitMessageSlot(_ provider: Provider) async
    /// `provider` answered with a rate-limit deferral: slow it down (it alone).
    func rateLimited(_ provider: Provider)
    /// Messages per minute allowed now for each of `providers`, by name (for metrics).
    func currentPace(of providers: [Provider]) -> [String: Double]
}
