import SMTPProtocol
import SMTPTransport

/// REQUIRETLS (RFC 8689) and `TLS-Required: No` in the remote courier; see `DeliveryOptions`.
extension RemoteCourier {
    /// The TLS level every host must reach for this message, and the reason to log when one does not.
    /// REQUIRETLS: verified TLS (§4.2.1: the certificate checked against the MX host's name). `TLS-Required:
    /// No`: none (§4.2.2: MTA-STS, DANE and the domain's recorded level are ignored; STARTTLS is still used).
    static func tlsRequirement(_ required: TLSLevel, _ requirement: String, options: DeliveryOptions) -> (TLSLevel, String) {
        if options.requireTLS {
            return (.tlsVerified, "the message requires verified TLS (REQUIRETLS, RFC 8689)")
        }
        if options.tlsOptional { return (.plain, requirement) }
        return (required, requirement)
    }

    /// A host that cannot meet the TLS requirement: for a REQUIRETLS message that counts towards a bounce,
    /// for any other message the next host is tried as before.
    func refusal(_ why: String, _ options: DeliveryOptions) -> Attempt {
        options.requireTLS ? .unfitForRequireTLS(why) : .tryNext(why)
    }

    /// §4.2.1 step 4: after STARTTLS, the server must advertise REQUIRETLS in its EHLO reply.
    static func requireTLSShortfall(ehlo: SMTPClientReply, mta: String, options: DeliveryOptions) -> String? {
        guard options.requireTLS, ehlo.extensions["REQUIRETLS"] == nil else { return nil }
        return "\(mta) does not advertise REQUIRETLS after STARTTLS"
    }

    /// §5: no host could take the message with REQUIRETLS: a permanent failure (`5.7.30`), not a retry.
    static func requireTLSFailure(_ recipients: [String], _ why: String) -> [RecipientResult] {
        RecipientResult.all(recipients, .permanent, EnhancedStatusCode(5, 7, 30),
                            "REQUIRETLS support required: \(why) (RFC 8689)")
    }
}
