import Foundation
import Testing
@testable import Directory

@Suite struct PasswordHashTests {
    /// Generated with Python (salt = bytes(range(16)), ln=10):
    ///     hashlib.scrypt(pw.encode(), salt=salt, n=2**10, r=8, p=1, dklen=32, maxmem=64*1024*1024)
    /// then standard base64 without padding.
    static let pythonVectors: [(password: String, phc: String)] = [
        ("correct horse battery staple", "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$mp90zEQd5XGhjEv4WArVH4Z0XRSzkGWtJK2S/AXJlRU"),
        ("", "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$aXxV+SdCr+1ofX/yO9ssZIXk0slZ7Pwg0vrrut6MuZw"),
        ("pässwörd", "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$+klCkubs0ckYiTbZO4MWS3k2LxOt6MCvuou+ZUKyyp4"),
    ]

    @Test(arguments: pythonVectors)
    func matchesPython(password: String, phc: String) throws {
        #expect(PasswordHash.verify(password: password, phc: phc))
        #expect(!PasswordHash.verify(password: password + "x", phc: phc))
        let parsed = try PasswordHash.parse(phc)
        #expect(parsed.logN == 10 && parsed.blockSize == 8 && parsed.parallelism == 1)
        #expect(parsed.salt == Array(0..<16))
        #expect(parsed.hash.count == 32)
        #expect(parsed.phcString == phc)
    }

    static let python = "/usr/bin/python3"

    /// A hash made here is checked by Python's hashlib, run live.
    @Test func pythonVerifiesOurHash() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.python), "\(Self.python) is missing: install python3")
        let password = "tëst pass"
        let phc = try PasswordHash.make(password: password, logN: 10)
        let script = """
            import base64, hashlib, sys
            _, alg, params, salt, h = sys.argv[2].split('$')
            p = dict(kv.split('=') for kv in params.split(','))
            unb = lambda s: base64.b64decode(s + '=' * (-len(s) % 4))
            d = hashlib.scrypt(sys.argv[1].encode(), salt=unb(salt), n=2**int(p['ln']), r=int(p['r']), p=int(p['p']),
                               dklen=len(unb(h)), maxmem=64*1024*1024)
            print('ok' if d == unb(h) else 'mismatch')
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.python)
        process.arguments = ["-c", script, password, phc]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        process.waitUntilExit()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(out == "ok\n")
    }

    @Test func makeThenVerify() throws {
        let phc = try PasswordHash.make(password: "s3cret", logN: 10)
        #expect(phc.hasPrefix("$scrypt$ln=10,r=8,p=1$"))
        let parsed = try PasswordHash.parse(phc)
        #expect(parsed.salt.count == 16)
        #expect(parsed.hash.count == 32)
        #expect(PasswordHash.verify(password: "s3cret", phc: phc))
        #expect(!PasswordHash.verify(password: "S3cret", phc: phc))
        #expect(try PasswordHash.make(password: "s3cret", logN: 10) != phc, "salts are random")
    }

    static let malformed: [(phc: String, reason: String)] = [
        ("", "expected $scrypt$ln=15,r=8,p=1$SALT$HASH"),
        ("plaintext", "expected $scrypt$"),
        ("$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw", "expected $scrypt$"),
        ("$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "expected $scrypt$"),
        ("$bcrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$mp90zEQd5XGhjEv4WArVH4Z0XRSzkGWtJK2S/AXJlRU", "unsupported algorithm \"bcrypt\""),
        ("$scrypt$ln=10,r=8$AAECAwQFBgcICQoLDA0ODw$mp90zEQd5XGhjEv4WArVH4Z0XRSzkGWtJK2S/AXJlRU", "ln, r and p are all required"),
        ("$scrypt$ln=10,r=8,p=1,x=2$AAECAwQFBgcICQoLDA0ODw$mp90zEQd5XGhjEv4WArVH4Z0XRSzkGWtJK2S/AXJlRU", "bad parameter \"x=2\""),
        ("$scrypt$ln=10,ln=11,p=1$AAECAwQFBgcICQoLDA0ODw$mp90zEQd5XGhjEv4WArVH4Z0XRSzkGWtJK2S/AXJlRU", "ln given twice"),
        ("$scrypt$ln=-1,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$mp90zEQd5XGhjEv4WArVH4Z0XRSzkGWtJK2S/AXJlRU", "bad parameter \"ln=-1\""),
        ("$scrypt$ln=0,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$mp90zEQd5XGhjEv4WArVH4Z0XRSzkGWtJK2S/AXJlRU", "ln must be 1 to 20"),
        ("$scrypt$ln=30,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$mp90zEQd5XGhjEv4WArVH4Z0XRSzkGWtJK2S/AXJlRU", "ln must be 1 to 20"),
        ("$scrypt$ln=20,r=64,p=1$AAECAwQFBgcICQoLDA0ODw$mp90zEQd5XGhjEv4WArVH4Z0XRSzkGWtJK2S/AXJlRU", "needs more than 256 MiB"),
        ("$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw==$mp90zEQd5XGhjEv4WArVH4Z0XRSzkGWtJK2S/AXJlRU", "the salt must be"),
        ("$scrypt$ln=10,r=8,p=1$AAEC$mp90zEQd5XGhjEv4WArVH4Z0XRSzkGWtJK2S/AXJlRU", "the salt must be 8 to 64 bytes"),
        ("$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$not*base64", "the hash must be"),
        ("$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$mp90", "the hash must be 16 to 64 bytes"),
    ]

    @Test(arguments: malformed)
    func rejectsMalformed(phc: String, reason: String) {
        #expect(!PasswordHash.verify(password: "", phc: phc))
        #expect {
            try PasswordHash.parse(phc)
        } throws: { error in
            let ok = "\(error)".contains(reason)
            if !ok { Issue.record("got: \(error)") }
            return ok
        }
    }

    @Test func constantTimeEqual() {
        #expect(PasswordHash.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!PasswordHash.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!PasswordHash.constantTimeEqual([1, 2, 3], [1, 2]))
        #expect(PasswordHash.constantTimeEqual([], []))
    }
}
