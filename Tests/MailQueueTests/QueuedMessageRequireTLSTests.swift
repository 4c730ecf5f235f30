import Foundation
import Testing
@testable import MailQueue

/// The REQUIRETLS flag (RFC 8689) in the queue envelope: old queue files read as false, a set flag survives
/// a round trip, and an unset flag is not written at all (queue files of ordinary mail do not change).
struct QueuedMessageRequireTLSTests {
    static let oldLine = #"{"id":"0000000100000001","mailFrom":"a@b.example","recipients":[{"address":"c@d.example","original":"c@d.example","state":"pending","attempts":0}],"receivedAt":0,"clientAddress":"127.0.0.1","clientName":"c","smtputf8":false,"size":10}"#

    @Test func oldFileReadsAsFalse() throws {
        let meta = try JSONDecoder().decode(QueuedMessage.self, from: Data(Self.oldLine.utf8))
        #expect(meta.requireTLS == nil)
        #expect(!meta.requiresTLS)
    }

    @Test func flagRoundTrips() throws {
        var meta = try JSONDecoder().decode(QueuedMessage.self, from: Data(Self.oldLine.utf8))
        #expect(!String(decoding: try JSONEncoder().encode(meta), as: UTF8.self).contains("requireTLS"))
        meta.requireTLS = true
        let again = try JSONDecoder().decode(QueuedMessage.self, from: try JSONEncoder().encode(meta))
        #expect(again.requiresTLS)
    }
}
