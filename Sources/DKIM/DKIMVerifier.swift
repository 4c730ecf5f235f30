// The verifier (RFC 6376 §6): for each DKIM-Signature field, top first and at most `maxSignatures` of them,
// parse and validate it, check x=, fetch and check the key record, compare the body hash, check the signature.
// Order of the checks decides the reason reported; results never depend on other signatures.

public struct DKIMVerifier: Sendable {
    public var lookup: DKIMKeyLookup
    public var maxSignatures: Int
    public var minimumRSABits: Int

    public init(lookup: @escaping DKIMKeyLookup, maxSignatures: Int = DKIMLimits.maxSignaturesEvaluated,
                minimumRSABits: Int = DKIMLimits.minimumVerifyRSABits) {
        self.lookup = lookup
        self.maxSignatures = maxSignatures
        self.minimumRSABits = minimumRSABits
    }

    /// One result per DKIM-Signature field (empty: the message is unsigned). `now` is seconds since the epoch.
    public func verify(message: [UInt8], now: Int64) async -> [DKIMVerificationResult] {
        let parsed: DKIMMessage
        do {
            parsed = try DKIMMessage(message)
        } catch {
            return [DKIMVerificationResult(status: .permerror, reason: .malformedMessage("\(error)"))]
        }
        var bodies = CanonicalBodies(body: parsed.body)
        return await verify(parsed, bodies: &bodies, now: now)
    }

    /// The same for a message whose body is not in memory: `header` is its header section and `bodyHashes`
    /// holds a digest for each of `bodyHashRequests(header:)`, computed over the body with `DKIMBodyHashSet`.
    public func verify(header: [UInt8], bodyHashes: [DKIMBodyHashRequest: DKIMBodyDigest],
                       now: Int64) async -> [DKIMVerificationResult] {
        let parsed: DKIMMessage
        do {
            parsed = try DKIMMessage(header)
        } catch {
            return [DKIMVerificationResult(status: .permerror, reason: .malformedMessage("\(error)"))]
        }
        var bodies = CanonicalBodies(digests: bodyHashes)
        return await verify(parsed, bodies: &bodies, now: now)
    }

    /// The body hashes the signatures of this header section ask for (at most `maxSignatures` of them).
    public func bodyHashRequests(header: [UInt8]) -> Set<DKIMBodyHashRequest> {
        guard let parsed = try? DKIMMessage(header) else { return [] }
        var requests: Set<DKIMBodyHashRequest> = []
        for field in parsed.headers.lazy.filter({ $0.hasName("dkim-signature") }).prefix(maxSignatures) {
            if let sig = try? DKIMSignature.parse(field.valueBytes) {
                requests.insert(DKIMBodyHashRequest(canonicalization: sig.bodyCanonicalization, length: sig.bodyLength))
            }
        }
        return requests
    }

    func verify(_ parsed: DKIMMessage, bodies: inout CanonicalBodies, now: Int64) async -> [DKIMVerificationResult] {
        var results: [DKIMVerificationResult] = []
        var evaluated = 0
        for field in parsed.headers where field.hasName("dkim-signature") {
            if evaluated >= maxSignatures {
                var r = DKIMVerificationResult(status: .policy, reason: .tooManySignatures(limit: maxSignatures))
                if let sig = try? DKIMSignature.parse(field.valueBytes) {
                    r.domain = sig.domain
                    r.selector = sig.selector
                }
                results.append(r)
                continue
            }
            evaluated += 1
            results.append(await verify(field: field, in: parsed, bodies: &bodies, now: now))
        }
        return results
    }

    func verify(field: DKIMHeaderField, in message: DKIMMessage, bodies: inout CanonicalBodies,
                now: Int64) async -> DKIMVerificationResult {
        let sig: DKIMSignature
        do {
            sig = try DKIMSignature.parse(field.valueBytes)
        } catch {
            // Report d= and s= if the tag list at least gives them.
            let list = try? DKIMTagList.parse(field.valueBytes)
            return DKIMVerificationResult(status: .permerror, reason: .malformedSignature(error),
                                          domain: list?["d"] ?? "", selector: list?["s"] ?? "")
        }
        var result = DKIMVerificationResult(status: .permerror, reason: .verified, domain: sig.domain,
                                            selector: sig.selector, algorithm: sig.algorithm,
                                            identity: sig.effectiveIdentity)
        func finish(_ status: DKIMStatus, _ reason: DKIMReason) -> DKIMVerificationResult {
            result.status = status
            result.reason = reason
            return result
        }

        if let x = sig.expiration, x < now { return finish(.permerror, .signatureExpired(expiration: x)) }

        // §6.1.2: the key.
        let record: DKIMKeyRecord
        switch await lookup(sig.keyName) {
        case .temporaryFailure(let why):
            return finish(.temperror, .keyLookupFailed(why))
        case .notFound:
            return finish(.permerror, .keyNotFound)
        case .found(let txts):
            let nonEmpty = txts.filter { !$0.isEmpty }
            if nonEmpty.isEmpty { return finish(.permerror, .keyNotFound) }
            if nonEmpty.count > 1 { return finish(.permerror, .multipleKeyRecords(nonEmpty.count)) }
            do { record = try DKIMKeyRecord.parse(nonEmpty[0]) } catch { return finish(.permerror, .malformedKeyRecord(error)) }
        }
        result.testing = record.isTesting
        if record.isRevoked { return finish(.permerror, .keyRevoked) }
        if !record.allowsEmail { return finish(.permerror, .keyServiceNotEmail) }
        if !record.allowsSHA256 { return finish(.permerror, .keyHashExcludesSHA256) }
        if record.keyType != sig.algorithm.keyType {
            if record.keyType == "rsa" || record.keyType == "ed25519" {
                return finish(.permerror, .keyTypeMismatch(keyType: record.keyType, algorithm: sig.algorithm))
            }
            return finish(.permerror, .unsupportedKeyType(record.keyType))
        }
        if record.isStrictIdentity, let i = sig.identity,
           let at = i.lastIndex(of: "@"), i[i.index(after: at)...].lowercased() != sig.domain.lowercased() {
            return finish(.permerror, .strictIdentityMismatch)
        }
        let key: DKIMPublicKey
        do {
            key = try DKIMPublicKey(keyType: record.keyType, bytes: record.publicKey, minimumRSABits: minimumRSABits)
        } catch {
            switch error {
            case .keyTooShort(let bits): return finish(.permerror, .keyTooShort(bits: bits))
            case .unsupportedKeyType(let k): return finish(.permerror, .unsupportedKeyType(k))
            case .malformedKey: return finish(.permerror, .malformedKey)
            }
        }

        // §6.1.3: body hash, then header hash and signature.
        switch bodies.hash(sig.bodyCanonicalization, length: sig.bodyLength) {
        case .lengthExceedsBody: return finish(.fail, .bodyLengthExceedsBody)
        case .hash(let hash): if hash != sig.bodyHash { return finish(.fail, .bodyHashMismatch) }
        }

        let signatureField = DKIMHeaderHash.removingSignatureValue(field)
        let data = DKIMHeaderHash.signedData(headers: message.headers, signedHeaders: sig.signedHeaders,
                                             canonicalization: sig.headerCanonicalization,
                                             signatureField: signatureField)
        guard key.isValid(signature: sig.signature, for: data) else { return finish(.fail, .signatureMismatch) }
        return finish(.pass, .verified)
    }
}

/// Each canonical form of the body, computed at most once per message however many signatures use it; or,
/// for a body that was streamed, the digests computed beforehand.
struct CanonicalBodies {
    enum Outcome { case hash([UInt8]), lengthExceedsBody }

    let body: ArraySlice<UInt8>
    let digests: [DKIMBodyHashRequest: DKIMBodyDigest]?
    private var cache: [DKIMCanonicalization: [UInt8]] = [:]

    init(body: ArraySlice<UInt8>) {
        self.body = body
        self.digests = nil
    }

    init(digests: [DKIMBodyHashRequest: DKIMBodyDigest]) {
        self.body = []
        self.digests = digests
    }

    mutating func hash(_ canonicalization: DKIMCanonicalization, length: Int64?) -> Outcome {
        if let digests {
            // A request the caller did not compute cannot match: report it as a mismatch, never a pass.
            guard let digest = digests[DKIMBodyHashRequest(canonicalization: canonicalization, length: length)] else {
                return .hash([])
            }
            if let length, length > digest.canonicalLength { return .lengthExceedsBody }
            return .hash(digest.hash)
        }
        var canonical = self[canonicalization]
        if let l = length {
            guard l <= Int64(canonical.count) else { return .lengthExceedsBody }
            canonical = Array(canonical.prefix(Int(l)))
        }
        return .hash(sha256(canonical))
    }

    subscript(_ canonicalization: DKIMCanonicalization) -> [UInt8] {
        mutating get {
            if let cached = cache[canonicalization] { return cached }
            let canonical = canonicalization.canonicalizeBody(body)
            cache[canonicalization] = canonical
            return canonical
        }
    }
}
