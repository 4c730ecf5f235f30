import Foundation

/// An error in a domain's files: `PATH:LINE: reason`, or `PATH: reason`.
public struct DirectoryError: Error, CustomStringConvertible, LocalizedError, Sendable, Equatable {
    public var path: String?
    public var line: Int?
    public var reason: String

    public init(path: String?, line: Int? = nil, reason: String) {
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
