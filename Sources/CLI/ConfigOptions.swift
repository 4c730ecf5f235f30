import ArgumentParser
import Foundation

/// `--config DIR`, shared by every command (DESIGN.md §3b): default `$APUS_CONFIG`, else `/etc/apus`.
public struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Configuration directory (default: $APUS_CONFIG or /etc/apus).", valueName: "DIR"))
    public var config: String?

    public init() {}

    /// The configuration directory to use, without a trailing slash.
    public var configDirectory: String {
        if let config { return config }
        if let env = ProcessInfo.processInfo.environment["APUS_CONFIG"], !env.isEmpty { return env }
        return "/etc/apus"
    }
}
