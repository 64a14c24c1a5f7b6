#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A value behind a `pthread_mutex_t`: ``withLock(_:)`` runs one body at a time.
///
/// Why not `Synchronization.Mutex`: it is correct, but on Linux a contended `Mutex` hands over through futex
/// system calls inside the uninstrumented standard library, which ThreadSanitizer does not model, so
/// `swift test --sanitize=thread` reported races between accesses that were both inside the lock. TSan
/// intercepts `pthread_mutex_lock`/`unlock`, so with this lock a TSan run stays meaningful (see
/// `Documentation/Reliability.md`, ThreadSanitizer).
final class PthreadLocked<Value>: @unchecked Sendable {
    // @unchecked Sendable: `value` is read and written only inside `withLock`, under `mutex`.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    init(_ value: Value) {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        let status = pthread_mutex_init(mutex, nil)
        precondition(status == 0, "pthread_mutex_init failed with \(status)")
        self.value = value
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// Runs `body` with the value while holding the lock.
    /// - Complexity: O(1) plus `body`.
    func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
