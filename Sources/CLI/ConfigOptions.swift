import ArgumentParser
import Foundation

/// `--config DIR`, shared by every command (DESIGN.md §3b): default `$APUS_CONFIG`, else `/etc/apus`.
public struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Configuration directory (default: $APUS_CONFIG or /etc/apus).", valueName: "DIR"))
    public var config: String?

    public init() {}

    /// The configuration directory to use. `--config /etc/apus/apus.toml` (the file itself, as users
    /// often type) means its directory.
    public var configDirectory: String {
        let given: String
        if let config { given = config } else if let env = ProcessInfo.processInfo.environment["APUS_CONFIG"], !env.isEmpty {
            given = env
        } else {
            return "/etc/apus"
        }
        return Self.isMainFile(given) ? (given as NSString).deletingLastPathComponent.nonEmpty ?? "." : given
    }

    /// Any other regular file is refused with what to give instead.
    public func validate() throws {
        guard let config, !Self.isMainFile(config) else { return }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: config, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw ValidationError("--config expects the configuration directory (the one holding apus.toml), "
                + "but \(config) is a file; try --config \((config as NSString).deletingLastPathComponent.nonEmpty ?? ".")")
        }
    }

    /// An existing regular file named apus.toml.
    static func isMainFile(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return (path as NSString).lastPathComponent == "apus.toml"
            && FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }
}

extension String {
    /// nil for the empty string.
    var nonEmpty: String? { isEmpty ? nil : self }
}
