// swift-tools-version:6.2
// Apus: a self-hosted mail server. Module layers follow ../shared/DESIGN.md §2; imports only point down.
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "Apus",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "apus", targets: ["apus"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // Wave 2 (DESIGN §5): HTTP serving, HTTP requests, the SQLite store, metrics.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        // Layer 0: pure
        .target(name: "SMTPProtocol",
                dependencies: ["DNSCore", .product(name: "NIOCore", package: "swift-nio")],
                swiftSettings: strict),
        .target(name: "MailMessage", dependencies: ["DNSCore"], swiftSettings: strict),
        .target(name: "DNSCore",
                dependencies: [.product(name: "NIOCore", package: "swift-nio")],
                swiftSettings: strict),
        .target(name: "Directory",
                dependencies: [
                    "SMTPProtocol", "ConfigFiles",
                    .product(name: "Crypto", package: "swift-crypto"),
                    .product(name: "CryptoExtras", package: "swift-crypto"),
                ],
                swiftSettings: strict),
        .target(name: "Config", dependencies: [], swiftSettings: strict),
        // DANE (RFC 7672): TLSA records matched against a presented certificate chain.
        .target(name: "DANE",
                dependencies: [
                    "DNSCore",
                    .product(name: "Crypto", package: "swift-crypto"),
                    .product(name: "X509", package: "swift-certificates"),
                    .product(name: "SwiftASN1", package: "swift-asn1"),
                ],
                swiftSettings: strict),
        .target(name: "ConfigFiles", dependencies: [], swiftSettings: strict),
        .target(name: "DKIM",
                dependencies: [
                    "DNSCore", "ConfigFiles",
                    .product(name: "Crypto", package: "swift-crypto"),
                    .product(name: "CryptoExtras", package: "swift-crypto"),
                ],
                swiftSettings: strict),

        .target(name: "DMARC", dependencies: ["DNSCore"],
                // The Public Suffix List as published (its source form); the rules compiled in are generated
                // from it by scripts/update-psl.
                exclude: ["public_suffix_list.dat"], swiftSettings: strict),

        .target(name: "SPF", dependencies: ["DNSCore"], swiftSettings: strict),

        // chasquid's files (protobuf text format) and their Apus equivalents, for `apus import chasquid`.
        .target(name: "Chasquid", dependencies: ["Config", "Directory"], swiftSettings: strict),

        // Layer 1: I/O
        .target(name: "DNSResolver",
                dependencies: [
                    "DNSCore",
                    .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "NIOPosix", package: "swift-nio"),
                    .product(name: "Logging", package: "swift-log"),
                ],
                swiftSettings: strict),
        // Server cipher order for TLS 1.2: a BoringSSL option swift-nio-ssl does not expose (docs/security.md).
        .target(name: "CTLSOptions"),
        .target(name: "Certificates",
                dependencies: [
                    "ConfigFiles", "CTLSOptions",
                    .product(name: "NIOSSL", package: "swift-nio-ssl"),
                    .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                    .product(name: "X509", package: "swift-certificates"),
                    .product(name: "SwiftASN1", package: "swift-asn1"),
                    .product(name: "Crypto", package: "swift-crypto"),
                    .product(name: "Logging", package: "swift-log"),
                ],
                swiftSettings: strict),
        .target(name: "ACME",
                dependencies: [
                    "Certificates", "ConfigFiles",
                    .product(name: "AsyncHTTPClient", package: "async-http-client"),
                    .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "NIOPosix", package: "swift-nio"),
                    .product(name: "NIOHTTP1", package: "swift-nio"),
                    .product(name: "NIOSSL", package: "swift-nio-ssl"),
                    .product(name: "NIOTLS", package: "swift-nio"),
                    .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                    .product(name: "X509", package: "swift-certificates"),
                    .product(name: "SwiftASN1", package: "swift-asn1"),
                    .product(name: "Crypto", package: "swift-crypto"),
                    .product(name: "Logging", package: "swift-log"),
                ],
                swiftSettings: strict),
        .target(name: "MailQueue",
                dependencies: [
                    "SMTPProtocol", "ConfigFiles",
                    .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "NIOPosix", package: "swift-nio"),
                    .product(name: "Logging", package: "swift-log"),
                ],
                swiftSettings: strict),
        .target(name: "Delivery",
                dependencies: [
                    "MailQueue", "ConfigFiles", "Config", "Directory", "SMTPProtocol", "SMTPTransport", "DNSCore", "MailMessage",
                    "DANE",
                    "MailStore",
                    .product(name: "NIOSSL", package: "swift-nio-ssl"),
                    .product(name: "NIOHTTP1", package: "swift-nio"),
                    .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "NIOPosix", package: "swift-nio"),
                    .product(name: "Logging", package: "swift-log"),
                ],
                swiftSettings: strict),
        .target(name: "SMTPTransport",
                dependencies: [
                    "SMTPProtocol",
                    .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                    .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "NIOPosix", package: "swift-nio"),
                    .product(name: "NIOSSL", package: "swift-nio-ssl"),
                    .product(name: "NIOTLS", package: "swift-nio"),
                    .product(name: "Logging", package: "swift-log"),
                ],
                swiftSettings: strict),

        .target(name: "MailStore",
                dependencies: [
                    "ConfigFiles",
                    .product(name: "GRDB", package: "GRDB.swift"),
                    .product(name: "Logging", package: "swift-log"),
                    .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                ],
                swiftSettings: strict),

        // Layer 2: composition
        .target(name: "HTTPAPI",
                dependencies: [
                    "MailStore", "MailMessage", "Directory", "Config", "Certificates",
                    .product(name: "Hummingbird", package: "hummingbird"),
                    .product(name: "HummingbirdCore", package: "hummingbird"),
                    .product(name: "HTTPTypes", package: "swift-http-types"),
                    .product(name: "AsyncHTTPClient", package: "async-http-client"),
                    .product(name: "Metrics", package: "swift-metrics"),
                    .product(name: "Prometheus", package: "swift-prometheus"),
                    .product(name: "Crypto", package: "swift-crypto"),
                    .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "NIOHTTP1", package: "swift-nio"),
                    .product(name: "NIOSSL", package: "swift-nio-ssl"),
                    .product(name: "Logging", package: "swift-log"),
                    .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                ],
                swiftSettings: strict),
        .target(name: "MailServer",
                dependencies: [
                    "SMTPProtocol", "SMTPTransport", "MailMessage", "MailQueue", "Delivery", "ConfigFiles",
                    "Directory", "Config", "Certificates", "ACME", "DKIM", "DNSCore", "DNSResolver", "SPF", "DMARC",
                    "MailStore", "HTTPAPI",
                    .product(name: "Hummingbird", package: "hummingbird"),
                    .product(name: "Prometheus", package: "swift-prometheus"),
                    .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "NIOPosix", package: "swift-nio"),
                    .product(name: "NIOSSL", package: "swift-nio-ssl"),
                    .product(name: "Logging", package: "swift-log"),
                    .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                    .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                    .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                    .product(name: "NIOHTTP1", package: "swift-nio"),
                ],
                swiftSettings: strict),
        .target(name: "CLI",
                dependencies: [
                    "SPF", "MailServer", "Config", "Directory", "DNSCore", "DNSResolver", "Certificates",
                    "MailQueue", "SMTPProtocol", "DKIM", "DMARC", "Delivery", "SMTPTransport", "MailMessage",
                    "ConfigFiles", "MailStore", "HTTPAPI", "Chasquid", "ACME", "DANE",
                    .product(name: "ArgumentParser", package: "swift-argument-parser"),
                    .product(name: "Logging", package: "swift-log"),
                    .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "NIOPosix", package: "swift-nio"),
                    .product(name: "NIOSSL", package: "swift-nio-ssl"),
                ],
                swiftSettings: strict),

        // Test support (fixtures shared by test targets; never linked into `apus`).
        .target(name: "TestSupport",
                dependencies: [
                    "DNSCore", "DNSResolver",
                    .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "NIOPosix", package: "swift-nio"),
                    .product(name: "NIOSSL", package: "swift-nio-ssl"),
                    .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                ],
                swiftSettings: strict),

        // Layer 3: executables
        .target(name: "FuzzSupport", path: "Fuzz/FuzzSupport"),
        .executableTarget(name: "apus", dependencies: ["CLI"], swiftSettings: strict),
        .executableTarget(name: "FuzzSMTP", dependencies: ["FuzzSupport", "SMTPProtocol",
                          .product(name: "NIOCore", package: "swift-nio")],
                          path: "Fuzz/FuzzSMTP", exclude: ["corpus"]),
        .executableTarget(name: "FuzzDMARC", dependencies: ["FuzzSupport", "DMARC"], path: "Fuzz/FuzzDMARC", exclude: ["corpus"]),
        .executableTarget(name: "FuzzDKIM", dependencies: ["FuzzSupport", "DKIM"], path: "Fuzz/FuzzDKIM", exclude: ["corpus"]),
        .executableTarget(name: "FuzzDNS", dependencies: ["FuzzSupport", "DNSCore",
                          .product(name: "NIOCore", package: "swift-nio")],
                          path: "Fuzz/FuzzDNS", exclude: ["corpus"]),
        .executableTarget(name: "FuzzReports", dependencies: ["FuzzSupport", "MailMessage"], path: "Fuzz/FuzzReports", exclude: ["corpus"]),
        .executableTarget(name: "FuzzChasquid", dependencies: ["FuzzSupport", "Chasquid"], path: "Fuzz/FuzzChasquid", exclude: ["corpus"]),
        .executableTarget(name: "FuzzSMTPReply", dependencies: ["FuzzSupport", "SMTPProtocol",
                          .product(name: "NIOCore", package: "swift-nio")],
                          path: "Fuzz/FuzzSMTPReply", exclude: ["corpus"]),
        .executableTarget(name: "FuzzSPF", dependencies: ["FuzzSupport", "SPF"], path: "Fuzz/FuzzSPF", exclude: ["corpus"]),
        .executableTarget(name: "FuzzMailbox", dependencies: ["FuzzSupport", "MailMessage"], path: "Fuzz/FuzzMailbox", exclude: ["corpus"]),

        // Tests
        .testTarget(name: "SMTPProtocolTests", dependencies: ["SMTPProtocol"]),
        .testTarget(name: "MailStoreTests", dependencies: ["MailStore", .product(name: "Logging", package: "swift-log"),
                                                          .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "HTTPAPITests", dependencies: ["HTTPAPI", "MailMessage", "MailStore"], exclude: ["Fixtures"]),
        .testTarget(name: "DNSCoreTests", dependencies: ["DNSCore"]),
        .testTarget(name: "DANETests", dependencies: ["DANE", "DNSCore",
                    .product(name: "X509", package: "swift-certificates"),
                    .product(name: "SwiftASN1", package: "swift-asn1"),
                    .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "DNSResolverTests", dependencies: ["TestSupport", "DNSResolver", "DNSCore",
                    .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "NIOPosix", package: "swift-nio")]),
        .testTarget(name: "DMARCTests", dependencies: ["TestSupport", "DMARC", "DNSCore", "DNSResolver",
                    .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "NIOPosix", package: "swift-nio")],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "DKIMTests", dependencies: ["DKIM", "DNSCore"], resources: [.copy("Fixtures")]),
        .testTarget(name: "SPFTests", dependencies: ["SPF", "DNSCore"], exclude: ["Fixtures"]),
        .testTarget(name: "DirectoryTests", dependencies: ["Directory"]),
        .testTarget(name: "MailMessageTests", dependencies: ["MailMessage"]),
        .testTarget(name: "ChasquidTests", dependencies: ["Chasquid", "Config", "Directory"]),
        .testTarget(name: "ConfigTests", dependencies: ["Config"]),
        .testTarget(name: "ConfigFilesTests", dependencies: ["ConfigFiles"]),
        .testTarget(name: "ACMETests", dependencies: ["ACME",
                    .product(name: "Crypto", package: "swift-crypto"),
                    .product(name: "X509", package: "swift-certificates"),
                    .product(name: "SwiftASN1", package: "swift-asn1"),
                    .product(name: "NIOHTTP1", package: "swift-nio")]),
        .testTarget(name: "CLITests", dependencies: ["CLI", "MailStore", "Config", "Chasquid", "MailQueue", "ConfigFiles", "DKIM", "DNSCore", "Directory", "Certificates", "TestSupport",
                            .product(name: "NIOPosix", package: "swift-nio")]),
        .testTarget(name: "MailQueueTests", dependencies: ["MailQueue", "Delivery", "ConfigFiles",
                    .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "DeliveryTests", dependencies: ["TestSupport", 
                    "Delivery", "MailQueue", "MailMessage", "SMTPTransport", "DNSCore", "DNSResolver",
                    "MailServer", "Config", "Certificates", "Directory", "MailStore", "DKIM", "ConfigFiles", "DANE",
                    .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "NIOPosix", package: "swift-nio"),
                    .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                    .product(name: "NIOHTTP1", package: "swift-nio"),
                    .product(name: "NIOSSL", package: "swift-nio-ssl"),
                    .product(name: "Logging", package: "swift-log"),
                    .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]),
        .testTarget(name: "MailServerTests", dependencies: [
                    "MailServer", "Delivery", "Config", "Directory", "Certificates", "MailQueue", "SMTPProtocol", "DKIM", "DNSCore", "TestSupport",
                    "MailStore",
                    .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "NIOPosix", package: "swift-nio"),
                    .product(name: "NIOSSL", package: "swift-nio-ssl"),
                    .product(name: "NIOTLS", package: "swift-nio")],
                    exclude: ["Transcripts", "Reports"]),
    ]
)

// CI builds with warnings as errors (scripts/test sets APUS_WARNINGS_AS_ERRORS=1): for this package's own targets
// only. `treatAllWarnings` (SE-0480) is a safe setting that SwiftPM applies to root-package targets and never to
// dependencies, so swift-nio & co. may warn without failing the build; `-Xswiftc -warnings-as-errors` would hit
// them too (and clash with the `-suppress-warnings` SwiftPM gives remote packages).
if Context.environment["APUS_WARNINGS_AS_ERRORS"] == "1" {
    for target in package.targets {
        if target.name == "CTLSOptions" {
            target.cSettings = (target.cSettings ?? []) + [.treatAllWarnings(as: .error)]
        } else {
            target.swiftSettings = (target.swiftSettings ?? []) + [.treatAllWarnings(as: .error)]
        }
    }
}
