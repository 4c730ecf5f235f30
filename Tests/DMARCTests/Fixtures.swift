import DNSCore
import Foundation
import Testing

/// Test data under `Fixtures/`: the shared DMARC conformance vectors and the Public Suffix List's own test
/// file (licences in Fixtures/LICENSES.md).
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func data(_ name: String) -> Data {
        guard let data = FileManager.default.contents(atPath: root.appendingPathComponent(name).path) else {
            fatalError("missing fixture \(name)")
        }
        return data
    }

    static func decode<T: Decodable>(_ type: T.Type, _ name: String) -> T {
        do { return try JSONDecoder().decode(type, from: data(name)) } catch { fatalError("\(name): \(error)") }
    }

    // MARK: record-parse.json

    struct RecordFile: Decodable { var cases: [RecordCase] }
    struct RecordCase: Decodable, Sendable, CustomTestStringConvertible {
        var record: String
        var valid: Bool
        var expected: Expected?
        var note: String?
        var lenient: Bool?
        var testDescription: String { record.isEmpty ? "(empty)" : record }
    }
    struct Expected: Decodable, Sendable {
        var p: String, sp: String?, adkim: String, aspf: String, pct: Int, ri: UInt32
        var fo: [String], rf: [String], rua: [String], ruf: [String]
    }
    static let recordCases = decode(RecordFile.self, "record-parse.json").cases

    // MARK: policy-discovery.json and evaluation.json

    struct DiscoveryFile: Decodable {
        var zone: [String: [String]]
        var temperror: [String]
        var cases: [DiscoveryCase]
    }
    struct DiscoveryCase: Decodable, Sendable, CustomTestStringConvertible {
        struct Expect: Decodable, Sendable { var status: String; var policy_domain: String; var p: String? }
        var from_domain: String
        var expect: Expect
        var testDescription: String { from_domain }
    }
    static let discovery = decode(DiscoveryFile.self, "policy-discovery.json")

    struct ExternalFile: Decodable {
        struct Wrapper: Decodable { var external_report_verification: ExternalFile }
        var zone: [String: [String]]
        var temperror: [String]
        var cases: [ExternalCase]
    }
    struct ExternalCase: Decodable, Sendable, CustomTestStringConvertible {
        var domain: String, ext_domain: String, accepts: Bool, status: String
        var testDescription: String { "\(domain) at \(ext_domain)" }
    }
    static let externalReports = decode(ExternalFile.Wrapper.self, "policy-discovery.json").external_report_verification

    struct EvaluationFile: Decodable {
        var zone: [String: [String]]
        var temperror: [String]
        var cases: [EvaluationCase]
        var alignment_cases: [AlignmentCase]
    }
    struct EvaluationCase: Decodable, Sendable, CustomTestStringConvertible {
        struct DKIM: Decodable, Sendable { var result: String; var d: String }
        struct Expect: Decodable, Sendable {
            var dmarc_result: String, reject: Bool, aligned_spf_pass: Bool, aligned_dkim_pass: Bool
            var policy_domain: String, apply_result: Bool
        }
        var description: String
        var from_domain: String
        var dkim_results: [DKIM]
        var spf_result: String
        var spf_domain: String?
        var expect: Expect
        var testDescription: String { description }
    }
    struct AlignmentCase: Decodable, Sendable, CustomTestStringConvertible {
        var from_domain: String, auth_domain: String, mode: String, aligned: Bool
        var testDescription: String { "\(auth_domain) vs \(from_domain) \(mode)" }
    }
    static let evaluation = decode(EvaluationFile.self, "evaluation.json")

    /// A fake resolver serving `zone`; names in `temperror` answer SERVFAIL.
    static func resolver(zone: [String: [String]], temperror: [String]) -> StaticResolver {
        var dns = StaticResolver()
        for (name, texts) in zone {
            for text in texts { dns.addTXT(try! DNSName(name), text) }
        }
        for name in temperror { dns.fail(try! DNSName(name), with: .serverFailure) }
        return dns
    }

    // MARK: test_psl.txt

    struct PSLCase: Sendable, CustomTestStringConvertible {
        var domain: String
        var registrable: String?
        var testDescription: String { "\(domain) → \(registrable ?? "null")" }
    }

    /// The `checkPublicSuffix('domain', 'registrable' | null);` lines, skipping commented-out ones and the
    /// null-input check.
    static let pslCases: [PSLCase] = {
        let text = String(decoding: data("test_psl.txt"), as: UTF8.self)
        func argument(_ s: Substring) -> String? {
            let t = s.trimmingCharacters(in: .whitespaces)
            return t == "null" ? nil : String(t.dropFirst().dropLast())
        }
        return text.split(separator: "\n").compactMap { line -> PSLCase? in
            guard line.hasPrefix("checkPublicSuffix("), let close = line.lastIndex(of: ")") else { return nil }
            let inner = line[line.index(line.startIndex, offsetBy: "checkPublicSuffix(".count)..<close]
            let parts = inner.split(separator: ",", maxSplits: 1)
            guard parts.count == 2, let domain = argument(parts[0]) else { return nil }
            return PSLCase(domain: domain, registrable: argument(parts[1]))
        }
    }()
}
