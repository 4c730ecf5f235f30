import Foundation

/// Real HTTP clients and Python checks for the API tests: curl for requests, Python's `email` and dkimpy
/// for what arrives at the MX, a Python HTTP server as webhook receiver.
enum APITestSupport {
    struct HTTPResult {
        var status: Int
        var body: String
        var headers: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
    }

    /// One request with curl. `body` is sent as is.
    static func curl(_ method: String, _ url: String, key: String? = nil, headers: [String] = [],
                     body: String? = nil, bodyFile: String? = nil) throws -> HTTPResult {
        let dir = NSTemporaryDirectory() + "apus-curl-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var arguments = ["-s", "-S", "-X", method, "-o", dir + "/body", "-D", dir + "/headers", "-w", "%{http_code}",
                         "--max-time", "30"]
        if let key { arguments += ["-H", "Authorization: Bearer \(key)"] }
        for header in headers { arguments += ["-H", header] }
        if let body {
            try body.write(toFile: dir + "/request", atomically: true, encoding: .utf8)
            arguments += ["-H", "Content-Type: application/json", "--data-binary", "@" + dir + "/request"]
        }
        if let bodyFile { arguments += ["-H", "Content-Type: application/json", "--data-binary", "@" + bodyFile] }
        arguments.append(url)
        let output = try run("/usr/bin/curl", arguments)
        return HTTPResult(status: Int(output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0,
                          body: (try? String(contentsOfFile: dir + "/body", encoding: .utf8)) ?? "",
                          headers: (try? String(contentsOfFile: dir + "/headers", encoding: .utf8)) ?? "")
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String], input: String? = nil,
                    environment: [String: String]? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe()
        process.standardOutput = out
        let inPipe = Pipe()
        process.standardInput = inPipe
        try process.run()
        if let input { inPipe.fileHandleForWriting.write(Data(input.utf8)) }
        try inPipe.fileHandleForWriting.close()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// Checks a delivered message with dkimpy (the DKIM TXT given, no DNS) and Python's `email` package;
    /// prints one JSON object: dkim (bool), signed headers (h=), subject, from, parts [{type, filename, text|size}].
    static let inspectScript = #"""
    import sys, json, email, email.policy, dkim
    txt = sys.argv[1].encode()
    raw = sys.stdin.buffer.read()
    def dns(name, timeout=5):
        return txt
    ok = dkim.verify(raw, dnsfunc=dns)
    sig = email.message_from_bytes(raw, policy=email.policy.compat32).get_all('DKIM-Signature') or []
    h = ''
    for s in sig:
        for tag in ''.join(s.split()).split(';'):
            if tag.startswith('h='): h = tag[2:]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    parts = []
    for part in msg.walk():
        if part.is_multipart(): continue
        entry = {'type': part.get_content_type(), 'filename': part.get_filename()}
        payload = part.get_payload(decode=True) or b''
        if part.get_content_maintype() == 'text' and not part.get_filename():
            entry['text'] = payload.decode(part.get_content_charset() or 'utf-8').replace('\r\n', '\n')
        else:
            entry['size'] = len(payload); entry['sha'] = __import__('hashlib').sha256(payload).hexdigest()
        parts.append(entry)
    print(json.dumps({'dkim': ok, 'h': h.lower(), 'subject': str(msg['subject']), 'from': str(msg['from']),
                      'list_unsubscribe': msg['List-Unsubscribe'], 'list_unsubscribe_post': msg['List-Unsubscribe-Post'],
                      'parts': parts}))
    """#

    static func inspect(_ message: String, dkimTXT: String) throws -> [String: Any] {
        let output = try run("/usr/bin/python3", ["-c", inspectScript, dkimTXT], input: message)
        return (try? JSONSerialization.jsonObject(with: Data(output.utf8))) as? [String: Any] ?? ["error": output]
    }

    /// A webhook receiver: answers 503 while `<dir>/down` exists, else 200; appends each request to
    /// `<dir>/received.jsonl` with whether its Apus-Signature is valid (Python's own HMAC).
    static let receiverScript = #"""
    import sys, os, json, hmac, hashlib, time
    from http.server import HTTPServer, BaseHTTPRequestHandler
    d, secret = sys.argv[1], sys.argv[2].encode()
    class H(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get('Content-Length', '0')))
            if os.path.exists(os.path.join(d, 'down')):
                self.send_response(503); self.end_headers(); return
            sig = dict(p.split('=', 1) for p in self.headers.get('Apus-Signature', '').split(',') if '=' in p)
            expected = hmac.new(secret, sig.get('t', '').encode() + b'.' + body, hashlib.sha256).hexdigest()
            valid = hmac.compare_digest(expected, sig.get('v1', '')) and abs(time.time() - int(sig.get('t', '0'))) < 300
            with open(os.path.join(d, 'received.jsonl'), 'a') as f:
                f.write(json.dumps({'valid': valid, 'event': json.loads(body)}) + '\n')
            self.send_response(200); self.end_headers(); self.wfile.write(b'ok')
        def log_message(self, *a): pass
    s = HTTPServer(('127.0.0.1', 0), H)
    print(s.server_address[1], flush=True)
    s.serve_forever()
    """#

    final class WebhookReceiver {
        let process: Process
        let port: Int
        let directory: String

        init(secret: String) throws {
            directory = NSTemporaryDirectory() + "apus-hook-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = ["-c", APITestSupport.receiverScript, directory, secret]
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            var line = Data()
            while true {
                let byte = out.fileHandleForReading.readData(ofLength: 1)
                if byte.isEmpty || byte == Data("\n".utf8) { break }
                line.append(byte)
            }
            port = Int(String(decoding: line, as: UTF8.self)) ?? 0
        }

        var down: Bool {
            get { FileManager.default.fileExists(atPath: directory + "/down") }
            set {
                if newValue { _ = FileManager.default.createFile(atPath: directory + "/down", contents: Data()) }
                else { try? FileManager.default.removeItem(atPath: directory + "/down") }
            }
        }

        /// Every request received so far: (signature valid, event object).
        var received: [(valid: Bool, event: [String: Any])] {
            guard let text = try? String(contentsOfFile: directory + "/received.jsonl", encoding: .utf8) else { return [] }
            return text.split(separator: "\n").compactMap {
                guard let o = try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any],
                      let e = o["event"] as? [String: Any] else { return nil }
                return (o["valid"] as? Bool ?? false, e)
            }
        }

        func stop() {
            // SIGKILL: a child of the test process may inherit a mask that blocks SIGTERM.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            try? FileManager.default.removeItem(atPath: directory)
        }
    }
}
