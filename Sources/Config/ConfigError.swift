import Foundation

/// An error in the configuration: `PATH:LINE: reason`, or `PATH: reason` when no line applies.
public struct ConfigError: Error, CustomStringConvertible, LocalizedError, Sendable, Equatable {
    /// The file, or nil for a configuration built in code (see `ApusConfig.validate()`).
    public var path: String?
    /// The 1-based line the problem is on, when it is on one.
    public var line: Int?
    /// What is wrong, naming the key, in plain words.
    public var reason: String

    public init(path: String?, line: Int?, reason: String) {
        self.path = path
        self.line = line
        self.reason = reason
    }

    public var description: String {
        switch (path, line) {
        case let (path?, line?): "\(path):\(line): \(reason)"
        case let (path?, nil): "\(path): \(reason)"
        case let (nil, line?): "line \(line): \(reason)"
        case (nil, nil): reason
        }
    }

    public var errorDescription: String? { description }
}
