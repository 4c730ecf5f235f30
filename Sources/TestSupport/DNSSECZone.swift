import Foundation

/// A zone signed for tests with ldns (Debian package `ldnsutils`): `ldns-keygen` makes one ECDSA P-256
/// key (used as KSK and ZSK), `ldns-signzone -n` signs the zone text with NSEC3. The DS record is the trust
/// anchor a validating resolver (`Unbound`) is given for the zone.
public struct DNSSECZone: Sendable {
    public static let keygen = "/usr/bin/ldns-keygen"
    public static let signzone = "/usr/bin/ldns-signzone"

    /// The signed zone file text, for `Nsd.start(zones:)`.
    public var signed: String
    /// `zone. IN DS …`: the trust anchor.
    public var ds: String

    public struct Missing: Error, CustomStringConvertible {
        public var description: String {
            "ldns-keygen/ldns-signzone not found: install the Debian package ldnsutils (apt-get install -y ldnsutils)"
        }
    }

    public struct Failed: Error, CustomStringConvertible {
        public let description: String
    }

    /// Signs `text` (a whole zone file for `zone`, with SOA and NS) in a new directory under `directory`.
    public static func sign(zone: String, text: String, in directory: String) throws -> DNSSECZone {
        guard access(keygen, X_OK) == 0, access(signzone, X_OK) == 0 else { throw Missing() }
        let root = "\(directory)/ldns-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try text.write(toFile: "\(root)/zone", atomically: true, encoding: .utf8)
        let key = try run(keygen, ["-a", "ECDSAP256SHA256", "-k", zone], in: root)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try run(signzone, ["-n", "-f", "\(root)/zone.signed", "\(root)/zone", "\(root)/\(key)"], in: root)
        let signed = try String(contentsOfFile: "\(root)/zone.signed", encoding: .utf8)
        let ds = try String(contentsOfFile: "\(root)/\(key).ds", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return DNSSECZone(signed: signed, ds: ds)
    }

    /// Runs `tool` with `arguments` in `directory`; its standard output, or `Failed` with its error output.
    @discardableResult
    public static func run(_ tool: String, _ arguments: [String], in directory: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failed(description: "\(tool) \(arguments.joined(separator: " ")): exit \(process.terminationStatus): "
                + String(decoding: errors, as: UTF8.self))
        }
        return String(decoding: output, as: UTF8.self)
    }
}
