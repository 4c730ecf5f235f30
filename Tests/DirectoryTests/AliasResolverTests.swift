import Foundation
import Testing
@testable import Directory

@Suite struct AliasResolverTests {
    /// example.test: users dev, bob, jdoe; example.org: user ann; other.example is not local.
    static func directory(_ aliases: String, org: String? = nil,
                          settings: AliasSettings = AliasSettings()) throws -> MailDirectory {
        let dir = try TestConfigDirectory(domains: [
            "example.test": "dev \(Fixtures.horse)\nbob \(Fixtures.horse)\njdoe \(Fixtures.horse)\n",
            "example.org": "ann \(Fixtures.horse)\n",
        ])
        try dir.write("domains/example.test/aliases", aliases)
        if let org { try dir.write("domains/example.org/aliases", org) }
        return try MailDirectory.load(configDirectory: dir.path, aliases: settings)
    }

    static func lines(_ directory: MailDirectory, _ address: String) throws -> [String] {
        let at = address.lastIndex(of: "@")!
        return try directory.resolve(localPart: String(address[..<at]), domain: String(address[address.index(after: at)...]))
            .recipients.map(\.description)
    }

    static let aliases = """
        info: bob, dev
        bob+sales: ann@example.org
        j.doe: someone@other.example
        list: | /usr/bin/list --x
        team: info, dev, DEV, jdoe+x
        *: dev
        """

    /// Lookup order: exact alias, alias after suffix/drop removal, user, catch-all; forwards and pipes.
    @Test(arguments: [
        ("info@example.test", ["local bob@example.test", "local dev@example.test"]),
        ("INFO@Example.Test", ["local bob@example.test", "local dev@example.test"]),
        ("info+x@example.test", ["local bob@example.test", "local dev@example.test"]),
        ("i.n.f.o@example.test", ["local bob@example.test", "local dev@example.test"]),
        ("bob@example.test", ["local bob@example.test"]),
        ("bob+tag@example.test", ["local bob@example.test"]),          // the user, never the catch-all
        ("b.o.b+tag@example.test", ["local bob@example.test"]),
        ("bob+sales@example.test", ["local ann@example.org"]),         // the exact alias beats the user
        ("jdoe@example.test", ["forward someone@other.example"]),      // alias j.doe after drop removal
        ("jdoe+x@example.test", ["forward someone@other.example"]),
        ("random@example.test", ["local dev@example.test"]),           // catch-all
        ("list@example.test", ["pipe /usr/bin/list --x"]),
        ("team@example.test", ["local bob@example.test", "local dev@example.test", "forward someone@other.example"]),
        ("postmaster@example.test", ["local dev@example.test"]),       // no alias or user: the catch-all
        ("ann@example.org", ["local ann@example.org"]),
        ("postmaster@example.org", ["local postmaster@example.org"]),  // postmaster is always someone
        ("Someone@Other.Example", ["forward Someone@other.example"]),
    ])
    func lookupOrder(address: String, expected: [String]) throws {
        #expect(try Self.lines(Self.directory(Self.aliases), address) == expected)
    }

    @Test func unknownAddresses() throws {
        let directory = try Self.directory("info: bob\n")
        #expect(throws: AliasError.noSuchAddress("random@example.test")) {
            try directory.resolve(localPart: "random", domain: "example.test")
        }
        #expect(throws: AliasError.noSuchAddress("nobody@example.org")) {
            try directory.resolve(localPart: "nobody", domain: "example.org")
        }
    }

    @Test func rightHandStarKeepsTheLocalPart() throws {
        let directory = try Self.directory("*: *@other.example\nsales: *@example.org\n", org: "*: ann\n")
        #expect(try Self.lines(directory, "Random+x@example.test") == ["forward Random+x@other.example"])
        #expect(try Self.lines(directory, "bob@example.test") == ["local bob@example.test"])
        // `*` is the local part of the address being expanded: sales → sales@example.org → catch-all there.
        #expect(try Self.lines(directory, "sales@example.test") == ["local ann@example.org"])
    }

    @Test func dropCharactersAndSeparatorsFromSettings() throws {
        let settings = AliasSettings(dropCharacters: "", suffixSeparators: "-+")
        let directory = try Self.directory("info: bob\n*: dev\n", settings: settings)
        #expect(try Self.lines(directory, "info-x@example.test") == ["local bob@example.test"])
        #expect(try Self.lines(directory, "bob-x@example.test") == ["local bob@example.test"])
        #expect(try Self.lines(directory, "b.ob@example.test") == ["local dev@example.test"])   // "." kept: catch-all
    }

    @Test func duplicatesMerged() throws {
        let directory = try Self.directory("a: b, c, bob\nb: bob, dev\nc: BOB@EXAMPLE.TEST, dev+x, b\n")
        #expect(try Self.lines(directory, "a@example.test") == ["local bob@example.test", "local dev@example.test"])
    }

    @Test func selfReferenceReachesTheUser() throws {
        let directory = try Self.directory("bob: bob, archive@other.example\n")
        #expect(try Self.lines(directory, "bob@example.test") == ["local bob@example.test", "forward archive@other.example"])
        #expect(try Self.lines(directory, "bob+x@example.test") == ["local bob@example.test", "forward archive@other.example"])
    }

    @Test func loopsDetected() throws {
        let directory = try Self.directory("a: b\nb: c\nc: a\nself: self\n*: *@example.test\n",
                                           org: "x: y@example.test\n")
        #expect(throws: AliasError.loop(["a@example.test", "b@example.test", "c@example.test", "a@example.test"])) {
            try directory.resolve(localPart: "a", domain: "example.test")
        }
        #expect(throws: AliasError.loop(["self@example.test", "self@example.test"])) {
            try directory.resolve(localPart: "self", domain: "example.test")
        }
        // The catch-all to the same domain comes back to the address asked for.
        #expect(throws: AliasError.loop(["zz@example.test", "zz@example.test"])) {
            try directory.resolve(localPart: "zz", domain: "example.test")
        }
        #expect(throws: AliasError.loop(["x@example.org", "y@example.test", "y@example.test"])) {
            try directory.resolve(localPart: "x", domain: "example.org")
        }
    }

    /// a0 → a1 → … → bob: ten nested aliases are followed; the eleventh is refused with the chain so far.
    @Test(arguments: [1, 9, 10, 11, 12])
    func recursionLimit(aliases n: Int) throws {
        var text = ""
        for i in 0..<(n - 1) { text += "a\(i): a\(i + 1)\n" }
        text += "a\(n - 1): bob\n"
        let directory = try Self.directory(text)
        if n <= AliasLimits.maxDepth {
            #expect(try Self.lines(directory, "a0@example.test") == ["local bob@example.test"])
        } else {
            #expect(throws: AliasError.tooDeep((0...AliasLimits.maxDepth).map { "a\($0)@example.test" })) {
                try directory.resolve(localPart: "a0", domain: "example.test")
            }
        }
    }

    @Test func tooDeepMessage() {
        let error = AliasError.tooDeep(["a@x", "b@x"])
        #expect(error.description == "a@x → b@x: aliases nested more than 10 deep")
        #expect(AliasError.loop(["a@x", "a@x"]).description == "alias loop: a@x → a@x")
    }

    @Test func wideExpansionBounded() throws {
        // 5 levels of 5 targets each would be 3125 addresses.
        var text = ""
        for level in 0..<5 {
            let next = (0..<5).map { "l\(level + 1)x\($0)" }.joined(separator: ", ")
            for i in 0..<5 { text += "l\(level)x\(i): \(next)\n" }
        }
        for i in 0..<5 { text += "l5x\(i): bob\n" }
        let directory = try Self.directory(text)
        #expect(throws: AliasError.tooManyTargets("l0x0@example.test")) {
            try directory.resolve(localPart: "l0x0", domain: "example.test")
        }
    }

    @Test func unreachableTargetsSkipped() throws {
        let directory = try Self.directory("info: bob, typo\nnobody: typo, other-typo\n")
        let resolution = try directory.resolve(localPart: "info", domain: "example.test")
        #expect(resolution.recipients.map(\.description) == ["local bob@example.test"])
        #expect(resolution.unreachable == ["typo@example.test"])
        #expect(throws: AliasError.noSuchAddress("nobody@example.test")) {
            try directory.resolve(localPart: "nobody", domain: "example.test")
        }
    }

    @Test func viaNamesTheAliasThatForwards() throws {
        let directory = try Self.directory("*: i\ni: someone@remote.test\n")
        let resolution = try directory.resolve(localPart: "random", domain: "example.test")
        #expect(resolution.recipients == [FinalRecipient(.forward, "someone@remote.test", via: "i@example.test")])
        #expect(try directory.resolve(localPart: "bob", domain: "example.test").recipients
                == [FinalRecipient(.local, "bob@example.test")])
    }

    @Test func catchAllCanBeSkipped() throws {
        let directory = try Self.directory("*: dev\ninfo: bob\n")
        #expect(throws: AliasError.noSuchAddress("random@example.test")) {
            try directory.resolve(localPart: "random", domain: "example.test", useCatchAll: false)
        }
        #expect(try directory.resolve(localPart: "info", domain: "example.test", useCatchAll: false).recipients.count == 1)
    }

    @Test func srsAddresses() throws {
        let srs = SRS(secret: Array(repeating: 7, count: 32))
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let directory = try Self.directory("*: dev\n")
        let address = srs.forward(localPart: "bob", domain: "sender.test", aliasDomain: "example.test", now: now)
        let local = String(address.prefix(while: { $0 != "@" }))
        #expect(try directory.resolve(localPart: local, domain: "example.test", srs: srs, now: now).recipients
                == [FinalRecipient(.forward, "bob@sender.test", via: address)])
        // An altered one is refused, not given to the catch-all.
        let altered = local.replacingOccurrences(of: "=bob", with: "=eve")
        #expect(throws: AliasError.invalidSRS("\(altered)@example.test", SRSError.badHash.description)) {
            try directory.resolve(localPart: altered, domain: "example.test", srs: srs, now: now)
        }
        #expect(throws: AliasError.invalidSRS("\(local)@example.test", "no SRS secret to check this address with")) {
            try directory.resolve(localPart: local, domain: "example.test", now: now)
        }
    }
}
