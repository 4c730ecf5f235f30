import Foundation
import SMTPProtocol

/// Where a message for one address finally goes: the output of `apus alias resolve`, one a line.
public struct FinalRecipient: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// A local user's mailbox; `target` is `user@domain` with the stored user name.
        case local
        /// An address in another domain; `target` is that address.
        case forward
        /// A `| command` alias; `target` is the command.
        case pipe
    }

    public var kind: Kind
    public var target: String
    /// The local address whose alias produced this recipient (its domain is the SRS domain of a forward, and a
    /// pipe's RECIPIENT); nil when the address asked for is itself the final recipient.
    public var via: String?

    public init(_ kind: Kind, _ target: String, via: String? = nil) {
        self.kind = kind
        self.target = target
        self.via = via
    }

    /// `local a@b`, `forward x@y` or `pipe cmd` (DESIGN.md §3b). Duplicates are merged on this text.
    public var description: String { "\(kind.rawValue) \(target)" }
}

/// The final recipients of one address, and the targets on the way that reached no one (a typo in an aliases
/// file: logged, not fatal while something else is reached).
public struct AliasResolution: Sendable, Hashable {
    public var recipients: [FinalRecipient]
    public var unreachable: [String]
}

/// Why an address cannot be resolved.
public enum AliasError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No alias, user or catch-all reaches it (also: every target of its alias reaches no one).
    case noSuchAddress(String)
    /// Aliases nested deeper than `AliasLimits.maxDepth`; the chain from the address asked for.
    case tooDeep([String])
    /// An alias reaches itself again without being a user; the chain, ending where it began.
    case loop([String])
    /// The expansion visited more than `AliasLimits.maxExpansions` addresses.
    case tooManyTargets(String)
    /// An `SRS0=`/`SRS1=` address at a local domain that is not valid (or no SRS secret to check it with).
    case invalidSRS(String, String)

    public var description: String {
        switch self {
        case .noSuchAddress(let a): "<\(a)>: no alias, user or catch-all reaches this address"
        case .tooDeep(let chain): "\(chain.joined(separator: " → ")): aliases nested more than \(AliasLimits.maxDepth) deep"
        case .loop(let chain): "alias loop: \(chain.joined(separator: " → "))"
        case .tooManyTargets(let a): "<\(a)>: the aliases expand to more than \(AliasLimits.maxExpansions) addresses"
        case .invalidSRS(let a, let why): "<\(a)>: \(why)"
        }
    }
}

/// Limits of alias expansion (STYLE.md §5).
public enum AliasLimits {
    /// Nested aliases followed from one address, as chasquid's recursion limit.
    public static let maxDepth = 10
    /// Addresses visited while expanding one address: bounds the work of wide aliases of wide aliases.
    public static let maxExpansions = 1000
}

extension MailDirectory {
    /// The final recipients of `localPart@domain`. Lookup order in a local domain (DESIGN.md §3):
    /// 1. an SRS address (`SRS0=`/`SRS1=`): decoded with `srs`, it reaches the original sender;
    /// 2. the alias of that exact (lowercased) name;
    /// 3. the alias of the name without suffix and drop characters (`j.doe+x` → `jdoe`);
    /// 4. the user (`canonicalUser`, with the same normalisation);
    /// 5. the catch-all `*` (skipped when `useCatchAll` is false);
    /// 6. `postmaster` is always someone: the local mailbox `postmaster@domain` if nothing above matched.
    /// Targets are resolved again the same way; an address of another domain is a `forward`. An alias that
    /// names itself (`bob: bob, archive`) reaches the user of that name; any other repetition is a loop.
    public func resolve(localPart: String, domain: String, srs: SRS? = nil, now: Date = Date(),
                        useCatchAll: Bool = true) throws(AliasError) -> AliasResolution {
        var walk = AliasWalk(directory: self, srs: srs, now: now, useCatchAll: useCatchAll)
        let first = AliasWalk.Address(localPart: localPart, domain: Self.key(domain))
        try walk.visit(first, chain: [], via: nil)
        if walk.found.isEmpty { throw .noSuchAddress(first.text) }
        return AliasResolution(recipients: walk.found, unreachable: walk.unreachable)
    }

    /// The final recipients of an address written `local@domain`.
    public func resolve(_ address: Mailbox, srs: SRS? = nil, now: Date = Date(),
                        useCatchAll: Bool = true) throws(AliasError) -> AliasResolution {
        try resolve(localPart: address.localPart, domain: address.domain.lookupKey, srs: srs, now: now,
                    useCatchAll: useCatchAll)
    }

    /// The alias that `localPart` matches in `domain`: the exact name, else the normalised one. No catch-all.
    func alias(localPart: String, domain: String) -> AliasEntry? {
        guard let entry = domainTable[Self.key(domain)] else { return nil }
        if let exact = entry.aliasTable[localPart.lowercased()] { return exact }
        return entry.normalizedAliases[aliases.normalize(localPart: localPart)].flatMap { entry.aliasTable[$0] }
    }

    /// The catch-all alias of a domain.
    func catchAll(domain: String) -> AliasEntry? {
        domainTable[Self.key(domain)]?.aliasTable["*"]
    }
}

/// One expansion in progress.
struct AliasWalk {
    struct Address: Hashable {
        var localPart: String
        /// Lookup key: lowercased, or `[literal]`.
        var domain: String

        /// `local@domain`, quoting the local part when it is not a dot-string.
        var text: String {
            Mailbox(localPart: localPart, domain: .name(ascii: domain, display: domain)).lookupKey
        }
        /// For comparing: local parts of local domains are case-insensitive here.
        var key: String { "\(localPart.lowercased())@\(domain)" }
    }

    let directory: MailDirectory
    let srs: SRS?
    let now: Date
    let useCatchAll: Bool
    var found: [FinalRecipient] = []
    var seen: Set<String> = []
    var unreachable: [String] = []
    var visits = 0

    init(directory: MailDirectory, srs: SRS?, now: Date, useCatchAll: Bool) {
        self.directory = directory
        self.srs = srs
        self.now = now
        self.useCatchAll = useCatchAll
    }

    mutating func add(_ recipient: FinalRecipient) {
        if seen.insert(recipient.description).inserted { found.append(recipient) }
    }

    /// `chain`: the addresses expanded on the way here, from the one asked for; `via`: the last of them.
    mutating func visit(_ address: Address, chain: [Address], via: String?) throws(AliasError) {
        visits += 1
        if visits > AliasLimits.maxExpansions { throw .tooManyTargets(chain.first?.text ?? address.text) }
        guard directory.isLocalDomain(address.domain) else {
            add(FinalRecipient(.forward, address.text, via: via))
            return
        }
        let here = chain + [address]
        let user = directory.canonicalUser(localPart: address.localPart, domain: address.domain)
        if chain.contains(where: { $0.key == address.key }) {
            if let user { add(FinalRecipient(.local, "\(user)@\(address.domain)", via: via)); return }
            throw .loop(here.map(\.text))
        }
        if SRS.isSRS(localPart: address.localPart) {
            guard let srs else { throw .invalidSRS(address.text, "no SRS secret to check this address with") }
            let original: String
            do {
                original = try srs.reverse(localPart: address.localPart, now: now)
            } catch {
                throw .invalidSRS(address.text, error.description)
            }
            guard let mailbox = try? Mailbox.parse(original) else {
                throw .invalidSRS(address.text, "the SRS address does not hold a valid address")
            }
            try expand([.address(localPart: mailbox.localPart, domain: mailbox.domain.lookupKey)],
                       for: address, chain: here)
            return
        }
        if let alias = directory.alias(localPart: address.localPart, domain: address.domain) {
            try expand(alias.targets, for: address, chain: here)
        } else if let user {
            add(FinalRecipient(.local, "\(user)@\(address.domain)", via: via))
        } else if useCatchAll, let alias = directory.catchAll(domain: address.domain) {
            try expand(alias.targets, for: address, chain: here)
        } else if address.localPart.lowercased() == "postmaster" {
            add(FinalRecipient(.local, "postmaster@\(address.domain)", via: via))
        } else if !chain.isEmpty {
            unreachable.append(address.text)
        }
    }

    mutating func expand(_ targets: [AliasTarget], for address: Address, chain: [Address]) throws(AliasError) {
        if chain.count > AliasLimits.maxDepth { throw .tooDeep(chain.map(\.text)) }
        let via = address.text
        for target in targets {
            switch target {
            case .pipe(let command):
                add(FinalRecipient(.pipe, command, via: via))
            case .address(let localPart, let domain):
                let next = Address(localPart: localPart == "*" ? address.localPart : localPart, domain: domain)
                try visit(next, chain: chain, via: via)
            }
        }
    }
}
