import Foundation
import HTTPAPI
import Testing

/// TLS-RPT over HTTPS (RFC 8460 §5.4): the report POSTed to a Python HTTPS server whose certificate
/// (made by openssl, IP SAN 127.0.0.1) is trusted through `ca_file`; the server records the Content-Type
/// and the body. A 500 answer and an untrusted certificate are reported as failures.
struct TLSReportPosterTests {
    static let server = #"""
import http.server, ssl, sys
out, status = sys.argv[3], int(sys.argv[4])
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        open(out, "wb").write(self.headers["Content-Type"].encode() + b"\n" + body)
        self.send_response(status); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[1], sys.argv[2])
s.socket = ctx.wrap_socket(s.socket, server_side=True)
open(sys.argv[5], "w").write(str(s.server_address[1]))
s.serve_forever()
"""#

    static func run(_ args: [String]) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: args[0])
        p.arguments = Array(args.dropFirst())
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }

    @Test(arguments: [200, 500])
    func postsTheGzipAsTLSRPT(status: Int) async throws {
        let dir = NSTemporaryDirectory() + "apus-tlsrpt-post-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let made = try Self.run(["/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                 "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-days", "1",
                                 "-keyout", dir + "/key.pem", "-out", dir + "/cert.pem"])
        try #require(made == 0)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        server.arguments = ["-c", Self.server, dir + "/cert.pem", dir + "/key.pem", dir + "/got", String(status), dir + "/port"]
        try server.run()
        // SIGKILL: a child of the test runner inherits its blocked SIGTERM.
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }
        var port: Int?
        for _ in 0..<100 where port == nil {
            port = (try? String(contentsOfFile: dir + "/port", encoding: .utf8)).flatMap { Int($0) }
            if port == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let serverPort = try #require(port, "the Python HTTPS server did not start")
        let body: [UInt8] = [0x1f, 0x8b, 8, 0, 1, 2, 3]
        let url = "https://127.0.0.1:\(serverPort)/tlsrpt"

        let poster = try TLSReportPoster(caFile: dir + "/cert.pem")
        let failure = await poster.post(url: url, gzip: body, submitter: "mx.example.test")
        await poster.shutdown()
        if status == 200 { #expect(failure == nil) } else { #expect(failure == "HTTP 500") }
        let got = try Data(contentsOf: URL(fileURLWithPath: dir + "/got"))
        #expect(got == Data("application/tlsrpt+gzip\n".utf8) + Data(body))

        // Without trusting the certificate: a failure, nothing sent.
        try FileManager.default.removeItem(atPath: dir + "/got")
        let untrusting = try TLSReportPoster()
        #expect(await untrusting.post(url: url, gzip: body, submitter: "mx.example.test") != nil)
        await untrusting.shutdown()
        #expect(!FileManager.default.fileExists(atPath: dir + "/got"))
    }
}
