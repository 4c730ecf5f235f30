import MailQueue
import NIOCore

/// One attempt's work for one message: its pending recipients grouped into `DeliveryBatch`es, one per
/// (route taken now, destination domain for `remote`, envelope sender), in the order the recipients were
/// queued. Pure: the route comes from the recipient (or `Router` for old queue files), the courier table
/// says which route is in effect.
struct DeliveryPlan {
    struct Group {
        /// Indices into `QueuedMessage.recipients`, in order, one per batch recipient.
        var indices: [Int]
        var batch: DeliveryBatch
    }

    var groups: [Group]

    init(_ meta: QueuedMessage, body: ByteBuffer, router: Router, couriers: CourierTable) {
        struct Key: Hashable {
            var route: Route
            var destination: String
            var mailFrom: String
        }
        var order: [Key] = []
        var members: [Key: [Int]] = [:]
        for (i, recipient) in meta.recipients.enumerated() where recipient.state == .pending {
            let route = couriers.effective(router.route(of: recipient))
            let destination = route == .remote ? QueuedMessage.domain(of: recipient.address).lowercased() : ""
            let key = Key(route: route, destination: destination, mailFrom: recipient.mailFrom ?? meta.mailFrom)
            if members[key] == nil { order.append(key) }
            members[key, default: []].append(i)
        }
        let options = order.contains { !$0.route.isLocal }
            ? DeliveryOptions(requireTLS: meta.requiresTLS, message: body) : DeliveryOptions()
        groups = order.map { key in
            let indices = members[key]!
            var batch = DeliveryBatch(route: key.route, messageID: meta.id, mailFrom: key.mailFrom,
                                      recipients: indices.map { meta.recipients[$0] }, message: body,
                                      smtputf8: meta.smtputf8, destination: key.destination)
            batch.options = options
            return Group(indices: indices, batch: batch)
        }
    }
}
