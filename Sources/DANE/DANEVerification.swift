/// The outcome of checking a presented chain against TLSA records.
public enum DANEVerification: Sendable, Hashable {
    /// `record` matched (the first one that did).
    case verified(TLSARecord)
    /// Nothing matched; the text says why, naming the host and what the server's certificate gives.
    case failed(String)
}
