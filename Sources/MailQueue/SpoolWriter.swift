#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import ConfigFiles
import Foundation
import NIOCore

/// The queue directory's group-commit writer: one thread that writes new queue files and removes delivered
/// ones in batches, so that concurrent sessions share the expensive part — the wait for the disk.
///
/// A batch is whatever was waiting when the thread came round (no timer, so a lone client waits for
/// nothing but its own writes):
/// 1. each new message is written to a temp file `.tmp-<hex>` in the queue directory;
/// 2. the data is made durable: `fsync` of that file when the batch holds one message, otherwise one
///    `syncfs` of the queue's filesystem for all of them;
/// 3. each temp file is renamed to `<id>.msg`; each delivered message is unlinked (its `.state` too);
/// 4. one `fsync` of the directory makes every rename and unlink of the batch durable;
/// 5. then, and only then, every waiting `store` returns (and the client hears `250`).
/// A crash at any point loses no stored message: before step 4 nobody was told it was stored, and a file
/// renamed before the crash holds complete, synced data. Temp files left by a crash are removed at start
/// (`DurableFile.removeLeftovers`).
///
/// A removal waits up to `removalGather` (10 ms) for a batch of new messages and is done with it (under load
/// it never wakes the writer on its own); it returns after step 3 and does not ask for a directory sync of
/// its own: the next batch's sync covers it, or a sync at most `removalSyncDelay` later when no message
/// arrives. An unlink is effective at once for every process (a killed server restarts without the
/// message); only a power cut within that delay can bring a delivered message back, to be delivered a second
/// time — never lost.
///
/// Files are recycled: a delivered message's file is renamed to a temp name instead of unlinked, and the
/// next message is written into it. On ext4 without a journal, allocating an inode skips
/// every inode freed in the last minute, so a queue that creates and deletes thousands of files a minute
/// spends most of its time in that scan; a renamed inode costs nothing. At most `poolLimit` are kept — as
/// many as the largest backlog a burst of mail builds before delivery catches up, so that the next burst
/// creates no inode and the end of this one unlinks none. A recycled file of up to `keptBytes` keeps the
/// delivered message's bytes until the next message overwrites them in place (no block freed, none
/// allocated; in the queue directory, mode 0700, where that message lay anyway); a larger one is emptied.
/// The pool is removed at the next start like any temp file.
final class SpoolWriter: @unchecked Sendable {
    struct Store {
        let id: String
        let header: [UInt8]
        let body: ByteBuffer
        let done: CheckedContinuation<Void, any Error>
    }

    struct Remove {
        let id: String
        let done: CheckedContinuation<Void, any Error>
    }

    let directory: String
    /// The most files one batch takes; the rest wait for the next round.
    let maxBatch = 256
    let poolLimit = 4096
    let removalSyncDelay: TimeInterval = 1
    /// Unlinks not yet covered by a directory sync. Touched by the writer thread only.
    private var unsyncedRemovals = false
    private let condition = NSCondition()
    private var stores: [Store] = []
    private var removes: [Remove] = []
    private var started = false
    /// When the oldest pending removal is to be done without waiting longer for new messages.
    private var removalsDue: Date?
    /// The writer sleeps with no deadline (nothing pending): a removal must wake it.
    private var waitingForWork = false
    let removalGather: TimeInterval = 0.01
    /// Touched by the writer thread only.
    private var pool: [String] = []
    private var dirFD: Int32 = -1
    private let owner: (uid: uid_t, gid: gid_t)?

    init(directory: String) throws {
        self.directory = directory
        self.owner = try DurableFile.foreignOwner(of: directory)
    }

    func store(id: String, header: [UInt8], body: ByteBuffer) async throws {
        try await withCheckedThrowingContinuation { done in
            enqueue(wake: true) { $0.stores.append(Store(id: id, header: header, body: body, done: done)) }
        }
    }

    /// Returns once the message's files are gone (renamed into the pool or unlinked). Removals wait up to
    /// `removalGather` for a batch of new messages to ride with, so that under load a delivered message
    /// costs the writer no wake-up of its own; a kill -9 within that time delivers the message again
    /// (at-least-once, as for a kill between the remote `250` and the removal; Maildir delivery is
    /// idempotent).
    func remove(id: String) async throws {
        try await withCheckedThrowingContinuation { done in
            enqueue(wake: false) { writer in
                if writer.removes.isEmpty { writer.removalsDue = Date(timeIntervalSinceNow: writer.removalGather) }
                writer.removes.append(Remove(id: id, done: done))
            }
        }
    }

    /// `wake`: signal the writer in any case (new messages, whose clients wait for `250`); otherwise only
    /// when it sleeps without a deadline for pending removals.
    private func enqueue(wake: Bool, _ add: (SpoolWriter) -> Void) {
        condition.lock()
        add(self)
        if !started {
            started = true
            let thread = Thread { [self] in run() }
            thread.name = "apus-spool-writer"
            thread.start()
        }
        let signal = wake || waitingForWork
        condition.unlock()
        // After unlocking: a writer woken while the lock is still held would only block again on it.
        if signal { condition.signal() }
    }

    private func run() {
        while true {
            condition.lock()
            while stores.isEmpty {
                if !removes.isEmpty {
                    let due = removalsDue ?? Date()
                    if due.timeIntervalSinceNow <= 0 { break }
                    _ = condition.wait(until: due)
                } else if unsyncedRemovals {
                    waitingForWork = true
                    let signalled = condition.wait(until: Date(timeIntervalSinceNow: removalSyncDelay))
                    waitingForWork = false
                    if !signalled, stores.isEmpty, removes.isEmpty {
                        condition.unlock()
                        syncRemovals()
                        condition.lock()
                    }
                } else {
                    waitingForWork = true
                    condition.wait()
                    waitingForWork = false
                }
            }
            let batchStores = Self.take(&stores, upTo: maxBatch)
            let batchRemoves = Self.take(&removes, upTo: maxBatch)
            if removes.isEmpty { removalsDue = nil } else { removalsDue = Date() }
            condition.unlock()
            commit(batchStores, batchRemoves)
        }
    }

    /// The first `limit` of `list` (usually all of it: then the arrays are swapped, nothing is copied).
    private static func take<T>(_ list: inout [T], upTo limit: Int) -> [T] {
        guard list.count > limit else {
            var all: [T] = []
            swap(&all, &list)
            return all
        }
        let first = Array(list.prefix(limit))
        list.removeFirst(limit)
        return first
    }

    /// Steps 1–5 above for one batch. Every continuation is resumed exactly once.
    private func commit(_ stores: [Store], _ removes: [Remove]) {
        if dirFD < 0 {
            dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if dirFD < 0 {
                let error = DurableFile.IOError(operation: .open, path: directory, errno: errno)
                stores.forEach { $0.done.resume(throwing: error) }
                removes.forEach { $0.done.resume(throwing: error) }
                return
            }
        }
        var written: [(store: Store, temp: String, fd: Int32)] = []
        var results: [String: any Error] = [:]   // by id, failures only
        for store in stores {
            do { written.append(try write(store)) } catch { results[store.id] = error }
        }
        let syncError = syncData(written.map(\.fd))
        written.forEach { close($0.fd) }
        if let syncError {
            for w in written { results[w.store.id] = syncError; recycle(w.temp) }
            written = []
        }
        var changed = false
        for w in written {
            if renameat(dirFD, w.temp, dirFD, "\(w.store.id).msg") == 0 {
                changed = true
            } else {
                results[w.store.id] = DurableFile.IOError(operation: .rename, path: "\(directory)/\(w.store.id).msg", errno: errno)
                unlinkat(dirFD, w.temp, 0)
            }
        }
        for remove in removes {
            if let error = unlinkMessage(remove.id) { results[remove.id] = error } else { unsyncedRemovals = true }
        }
        if changed {
            if fsync(dirFD) == 0 {
                unsyncedRemovals = false
            } else {
                let error = DurableFile.IOError(operation: .fsync, path: directory, errno: errno)
                for w in written { results[w.store.id] = error }
            }
        }
        for w in written {
            if let error = results[w.store.id] { w.store.done.resume(throwing: error) } else { w.store.done.resume() }
        }
        let renamed = Set(written.map(\.store.id))
        for store in stores where !renamed.contains(store.id) {
            store.done.resume(throwing: results[store.id] ?? DurableFile.IOError(operation: .write, path: directory, errno: EIO))
        }
        for remove in removes {
            if let error = results[remove.id] { remove.done.resume(throwing: error) } else { remove.done.resume() }
        }
    }

    /// Step 1 for one message: a recycled or new temp file holding the magic, the envelope line and the body.
    private func write(_ store: Store) throws -> (store: Store, temp: String, fd: Int32) {
        var temp = pool.popLast()
        var fd: Int32 = -1
        if let recycled = temp {
            // Not O_TRUNC: overwriting the old message's blocks in place and cutting the file to its new
            // length below costs no block freed and none allocated (truncating and refilling it cost 5% of
            // the server's time under load).
            fd = openat(dirFD, recycled, O_WRONLY | O_CLOEXEC)
            if fd < 0 { unlinkat(dirFD, recycled, 0); temp = nil }
        }
        if temp == nil {
            let name = DurableFile.temporaryName()
            fd = openat(dirFD, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw DurableFile.IOError(operation: .create, path: "\(directory)/\(name)", errno: errno) }
            if let owner, fchown(fd, owner.uid, owner.gid) != 0 {
                let failure = DurableFile.IOError(operation: .chown, path: "\(directory)/\(name)", errno: errno)
                close(fd)
                unlinkat(dirFD, name, 0)
                throw failure
            }
            temp = name
        }
        let name = temp!
        do {
            try store.header.withUnsafeBytes { try DurableFile.writeAll(fd, $0, path: name) }
            try store.body.withUnsafeReadableBytes { try DurableFile.writeAll(fd, $0, path: name) }
            guard ftruncate(fd, off_t(store.header.count + store.body.readableBytes)) == 0 else {
                throw DurableFile.IOError(operation: .write, path: "\(directory)/\(name)", errno: errno)
            }
        } catch {
            close(fd)
            recycle(name)
            throw error
        }
        return (store, name, fd)
    }

    /// The delayed directory sync of removals (see the type's comment). A failure is retried next time.
    private func syncRemovals() {
        if dirFD >= 0, fsync(dirFD) == 0 { unsyncedRemovals = false }
    }

    /// Step 2: nil when the data of every file is on stable storage.
    private func syncData(_ fds: [Int32]) -> (any Error)? {
        if fds.count == 1 {
            return fsync(fds[0]) == 0 ? nil : DurableFile.IOError(operation: .fsync, path: directory, errno: errno)
        }
        guard fds.count > 1 else { return nil }
        if let syncfs = Self.syncfs {
            return syncfs(dirFD) == 0 ? nil : DurableFile.IOError(operation: .fsync, path: directory, errno: errno)
        }
        for fd in fds where fsync(fd) != 0 {
            return DurableFile.IOError(operation: .fsync, path: directory, errno: errno)
        }
        return nil
    }

    /// Step 3 for a delivered message: its message file renamed to a temp name for reuse (or unlinked
    /// when the pool is full), then its state file unlinked. In that order, a process killed in
    /// between leaves a temp file (removed at the next start), never an empty `<id>.msg`, and never a
    /// message without its state (which would send it again to recipients already done). A message already
    /// gone is not an error.
    private func unlinkMessage(_ id: String) -> (any Error)? {
        let name = "\(id).msg"
        defer { unlinkat(dirFD, "\(id).state", 0) }
        if pool.count < poolLimit {
            let temp = DurableFile.temporaryName()
            if renameat(dirFD, name, dirFD, temp) == 0 {
                recycle(temp)
                return nil
            }
            if errno == ENOENT { return nil }
        }
        guard unlinkat(dirFD, name, 0) == 0 || errno == ENOENT else {
            return DurableFile.IOError(operation: .unlink, path: "\(directory)/\(name)", errno: errno)
        }
        return nil
    }

    /// A temp file that did not become a message: kept for the next one, or removed. One larger than
    /// `keptBytes` is emptied first, so that the pool never holds more than `poolLimit × keptBytes` of disk.
    private func recycle(_ temp: String) {
        guard pool.count < poolLimit else {
            unlinkat(dirFD, temp, 0)
            return
        }
        var info = stat()
        if fstatat(dirFD, temp, &info, 0) == 0, info.st_size > Self.keptBytes {
            let fd = openat(dirFD, temp, O_WRONLY | O_TRUNC | O_CLOEXEC)
            guard fd >= 0 else {
                unlinkat(dirFD, temp, 0)
                return
            }
            close(fd)
        }
        pool.append(temp)
    }

    /// The most a recycled file keeps of its last message (64 MiB for the whole pool).
    static let keptBytes = 16 * 1024

    /// `syncfs(2)` (Linux ≥ 2.6.39; errors reported since 5.8), looked up at run time: Swift's Glibc module
    /// does not declare it. Nil elsewhere: then every file is fsync'd on its own.
    static let syncfs: (@convention(c) (Int32) -> Int32)? = {
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "syncfs") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32) -> Int32).self)
    }()
}
