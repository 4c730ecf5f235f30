import Hummingbird

/// One finished API request, for `apus_api_requests_total` and `apus_api_request_duration_seconds`.
public struct APIRequestObservation: Sendable {
    /// The matched route pattern (e.g. `/v1/messages/{id}`), never the raw path, so label values stay few;
    /// "unmatched" for a path no route has.
    public var route: String
    public var status: Int
    public var duration: Duration

    public init(route: String, status: Int, duration: Duration) {
        self.route = route
        self.status = status
        self.duration = duration
    }
}

/// Reports every request to `observe` with the status the client gets. It wraps `APIErrorMiddleware`, so
/// an error a route throws is seen as the status of its JSON answer.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let observe: @Sendable (APIRequestObservation) -> Void

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        do {
            let response = try await next(request, context)
            observe(.init(route: Self.route(context), status: response.status.code, duration: ContinuousClock.now - started))
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            observe(.init(route: Self.route(context), status: status, duration: ContinuousClock.now - started))
            throw error
        }
    }

    /// The route the router matched; Hummingbird names a miss "NotFound" (or nothing), reported as "unmatched".
    static func route(_ context: Context) -> String {
        guard let path = context.endpointPath, path.hasPrefix("/") else { return "unmatched" }
        return path
    }
}
