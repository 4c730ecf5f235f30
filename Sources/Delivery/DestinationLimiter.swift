/// At most `limit` deliveries at once to one destination domain.
actor DestinationLimiter {
    let limit: Int
    var active: [String: Int] = [:]
    var waiters: [String: [CheckedContinuation<Void, Never>]] = [:]

    init(limit: Int) { self.limit = max(limit, 1) }

    func acquire(_ key: String) async {
        if active[key, default: 0] < limit {
            active[key, default: 0] += 1
            return
        }
        await withCheckedContinuation { waiters[key, default: []].append($0) }
    }

    func release(_ key: String) {
        if var queue = waiters[key], !queue.isEmpty {
            let next = queue.removeFirst()
            waiters[key] = queue.isEmpty ? nil : queue
            next.resume()
        } else {
            active[key, default: 1] -= 1
            if active[key] == 0 { active[key] = nil }
        }
    }
}
