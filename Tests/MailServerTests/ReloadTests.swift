import Certificates
import Directory
import Foundation
import NIOSSL
import Testing

/// Edited users files and renewed certificates apply without a restart (the server polls them).
struct ReloadTests {
    func authenticate(_ server: TestServer, _ plain: String) async throws -> String? {
        let client = try await TestClient(port: server.ports[.submissions]!, implicitTLS: true)
        defer { Task { await client.close() } }
        _ = try await client.readLine()
        try await client.send(Array("EHLO c\r\n".utf8))
        while let line = try await client.readLine(), line.hasPrefix("250-") {}
        try await client.send(Array("AUTH PLAIN \(plain)\r\n".utf8))
        return try await client.readLine()
    }

    @Test func newUserCanAuthenticateWithoutRestart() async throws {
        let server = try await TestServer()
        let carol = Data("\0carol@example.test\0secret".utf8).base64EncodedString()
        #expect(try await authenticate(server, carol) == "535 5.7.8 Authentication credentials invalid")
        let users = server.configDirectory + "/domains/example.test/users"
        let text = try String(contentsOfFile: users, encoding: .utf8) + "carol \(TestServer.passwordHash)\n"
        try text.write(toFile: users, atomically: true, encoding: .utf8)
        try await Task.sleep(for: .seconds(1.5))   // the AUTH failure delay and the poll interval
        #expect(try await authenticate(server, carol) == "235 2.7.0 Authentication successful")
        await server.stop()
    }

    @Test func renewedCertificateIsServedToNewConnections() async throws {
        let server = try await TestServer()
        func serial() async throws -> String? {
            let client = try await TestClient(port: server.ports[.submissions]!, implicitTLS: true)
            _ = try await client.readLine()
            let cert = try await client.peerCertificate()
            await client.close()
            return cert.map { "\($0)" }
        }
        let before = try await serial()
        // What certbot's renewal does: new files in place (here a new self-signed pair).
        let (pem, key) = try SelfSignedCertificate.generate(hostname: "mx.example.test")
        let dir = server.configDirectory + "/certs/mx.example.test"
        try key.write(toFile: dir + "/privkey.pem", atomically: true, encoding: .utf8)
        try pem.write(toFile: dir + "/fullchain.pem", atomically: true, encoding: .utf8)
        try await Task.sleep(for: .milliseconds(800))
        let after = try await serial()
        #expect(before != nil && after != nil)
        #expect(before != after, "the old certificate is still served")
        await server.stop()
    }
}
