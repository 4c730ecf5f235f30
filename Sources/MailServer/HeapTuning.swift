#if canImport(Glibc)
import Glibc
#endif

/// glibc's allocator and large messages. A buffer above `M_MMAP_THRESHOLD` gets its own mapping and goes
/// back to the system when freed — but glibc raises that threshold (up to 32 MiB) each time such a buffer
/// is freed, so after a few large messages the next ones come from the heap, and a heap that held 20 large
/// messages at once stays that large when idle (issue 16: 330 MB idle after 20 × 50 MB). Fixing the
/// threshold keeps every large buffer (message bodies, queue files loaded for delivery) in its own
/// mapping, returned at once; measured in docs/benchmarks.md "Large messages".
enum HeapTuning {
    /// Buffers from this size on are mapped on their own (glibc's initial default is 128 KiB).
    static let mmapThresholdBytes: Int32 = 256 * 1024

    /// Sets the threshold once at start; false where it is not glibc, or when the environment has
    /// `APUS_MALLOC_TUNING=off` (to measure glibc's own behaviour, docs/benchmarks.md).
    @discardableResult
    static func returnLargeBuffersToTheSystem() -> Bool {
        #if canImport(Glibc)
        if let off = getenv("APUS_MALLOC_TUNING"), String(cString: off) == "off" { return false }
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        // <malloc.h> does not reach Swift's Glibc module; M_MMAP_THRESHOLD is -3 there.
        guard let symbol = dlsym(nil, "mallopt") else { return false }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        return mallopt(-3, mmapThresholdBytes) == 1
        #else
        return false
        #endif
    }
}
