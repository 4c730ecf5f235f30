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
    ],
    targets: [
        // Layer 0: pure
        .target(name: "SMTPProtocol",
                dependencies: ["DNSCore", .product(name: "NIOCore", package: "swift-nio")],
                swiftSettings: strict),
        .target(name: "MailMessage", dependencies: [], swiftSettings: strict),
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

        // Layer 1: I/O
        .target(name: "DNSResolver",
                dependencies: [
                    "DNSCore",
                    .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "NIOPosix", package: "swift-nio"),
                    .product(name: "Logging", package: "swift-log"),
                ],
                swiftSettings: strict),
        .target(name: "Certificates",
                dependencies: [
                    "ConfigFiles",
                    .product(name: "NIOSSL", package: "swift-nio-ssl"),
                    .product(name: "NIOCore", package: "swift-nio"),
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
                    .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "NIOPosix", package: "swift-nio"),
                    .product(name: "NIOSSL", package: "swift-nio-ssl"),
                    .product(name: "NIOTLS", package: "swift-nio"),
                    .product(name: "Logging", package: "swift-log"),
                ],
                swiftSettings: strict),

        // Layer 2: composition
        .target(name: "MailServer",
                dependencies: [
                    "SMTPProtocol", "SMTPTransport", "MailMessage", "MailQueue", "Delivery", "ConfigFiles",
                    "Directory", "Config", "Certificates", "DKIM", "DNSCore", "DNSResolver", "SPF", "DMARC",
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
                    "ConfigFiles",
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
        .executableTarget(name: "FuzzSPF", dependencies: ["FuzzSupport", "SPF"], path: "Fuzz/FuzzSPF", exclude: ["corpus"]),

        // Tests
        .testTarget(name: "SMTPProtocolTests", dependencies: ["SMTPProtocol"]),
        .testTarget(name: "DNSCoreTests", dependencies: ["DNSCore"]),
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
        .testTarget(name: "ConfigTests", dependencies: ["Config"]),
        .testTarget(name: "ConfigFilesTests", dependencies: ["ConfigFiles"]),
        .testTarget(name: "CLITests", dependencies: ["CLI", "Config", "ConfigFiles", "DKIM", "DNSCore", "Directory", "Certificates", "TestSupport",
                    .product(name: "NIOPosix", package: "swift-nio")]),
        .testTarget(name: "MailQueueTests", dependencies: ["MailQueue", "Delivery", "ConfigFiles",
                    .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "DeliveryTests", dependencies: ["TestSupport", 
                    "Delivery", "MailQueue", "MailMessage", "SMTPTransport", "DNSCore", "DNSResolver",
                    "MailServer", "Config", "Certificates", "Directory", "ConfigFiles",
                    .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "NIOPosix", package: "swift-nio"),
                    .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                    .product(name: "NIOHTTP1", package: "swift-nio"),
                    .product(name: "NIOSSL", package: "swift-nio-ssl"),
                    .product(name: "Logging", package: "swift-log"),
                    .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]),
        .testTarget(name: "MailServerTests", dependencies: [
                    "MailServer", "Delivery", "Config", "Directory", "Certificates", "MailQueue", "SMTPProtocol", "DKIM", "DNSCore", "TestSupport",
                    .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "NIOPosix", package: "swift-nio"),
                    .product(name: "NIOSSL", package: "swift-nio-ssl"),
                    .product(name: "NIOTLS", package: "swift-nio")],
                    exclude: ["Transcripts"]),
    ]
)
