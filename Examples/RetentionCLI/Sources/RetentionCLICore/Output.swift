import Foundation

/// Where the command's bytes go: standard output or error, or memory in tests.
public protocol OutputSink: Sendable {
    /// Writes bytes, in order.
    func write(_ bytes: UnsafeRawBufferPointer)

    /// Whether the bytes reach a terminal (progress lines are drawn only there). Default `false`.
    var isTerminal: Bool { get }
}

extension OutputSink {
    public var isTerminal: Bool { false }

    /// Writes a string's UTF-8 bytes.
    public func write(_ text: String) {
        var text = text
        text.withUTF8 { write(UnsafeRawBufferPointer($0)) }
    }
}

/// Standard output or standard error.
public struct StandardStream: OutputSink {
    private let handle: FileHandle

    /// The process's standard output.
    public static let output = StandardStream(handle: .standardOutput)
    /// The process's standard error.
    public static let error = StandardStream(handle: .standardError)

    public func write(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        handle.write(Data(bytes))
    }

    public var isTerminal: Bool { isatty(handle.fileDescriptor) == 1 }
}

/// Collects everything written, for tests.
public final class MemorySink: OutputSink, @unchecked Sendable {
    private let lock = NSLock()
    private var bytes: [UInt8] = []

    public init() {}

    public func write(_ bytes: UnsafeRawBufferPointer) {
        lock.lock()
        defer { lock.unlock() }
        self.bytes.append(contentsOf: bytes)
    }

    /// Everything written so far, as UTF-8 text.
    public var text: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The sinks of the running command (task-local, so that tests running in parallel each have their own).
public enum Console {
    @TaskLocal public static var output: any OutputSink = StandardStream.output
    @TaskLocal public static var errors: any OutputSink = StandardStream.error
}

/// Buffers text and hands it to a sink in chunks of `capacity` bytes (64 KiB), so that writing a million CSV rows
/// costs a few hundred writes rather than a million.
///
/// The bytes live in memory the writer allocates itself, and the fill level behind a pointer: every property is a
/// `let`, so appending a byte is a store and an add, with no exclusivity check of a class property per call (those
/// were a tenth of `retention rfm`'s time on 10^7 orders).
final class BufferedWriter {
    private let sink: any OutputSink
    /// The fill level at which the bytes go to the sink.
    private let capacity: Int
    /// `capacity` plus room for one number, so that a number is written before the level is checked.
    private let storage: UnsafeMutablePointer<UInt8>
    /// Bytes of `storage` in use, always below `capacity` between calls.
    private let filled: UnsafeMutablePointer<Int>
    private static let numberRoom = 64

    init(_ sink: any OutputSink = Console.output, capacity: Int = 64 * 1024) {
        precondition(capacity >= 1, "a BufferedWriter needs a positive capacity")
        self.sink = sink
        self.capacity = capacity
        storage = .allocate(capacity: capacity + BufferedWriter.numberRoom)
        filled = .allocate(capacity: 1)
        filled.initialize(to: 0)
    }

    deinit {
        flush()
        storage.deallocate()
        filled.deallocate()
    }

    func write(_ text: String) {
        var text = text
        text.withUTF8 { append($0) }
    }

    func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { append($0) }
    }

    func line(_ text: String = "") {
        write(text)
        byte(0x0A)
    }

    /// Appends one byte.
    @inline(__always)
    func byte(_ value: UInt8) {
        storage[filled.pointee] = value
        filled.pointee += 1
        if filled.pointee >= capacity { flush() }
    }

    /// Appends the decimal digits of `value` (as `String(value)` spells it, without making the string).
    func integer(_ value: Int64) {
        if value < 0 {
            storage[filled.pointee] = 0x2D
            filled.pointee += 1
        }
        writeDigits(value.magnitude, minimumDigits: 1)
        if filled.pointee >= capacity { flush() }
    }

    /// Appends the digits of `value` (>= 0), zero-padded on the left to at least `minimumDigits`.
    func paddedInteger(_ value: Int64, minimumDigits: Int) {
        writeDigits(value.magnitude, minimumDigits: minimumDigits)
        if filled.pointee >= capacity { flush() }
    }

    /// Appends `minorUnits` as an exact decimal with `digits` fraction digits (as `Money.decimalString` spells
    /// it: `-12.50`, `0.07`, `1234`), without making the string.
    func decimal(_ minorUnits: Int64, digits: Int) {
        guard digits > 0 else { return integer(minorUnits) }
        precondition(digits <= 18, "at most 18 fraction digits")
        if minorUnits < 0 {
            storage[filled.pointee] = 0x2D
            filled.pointee += 1
        }
        var scale: UInt64 = 1
        for _ in 0..<digits { scale *= 10 }
        let magnitude = minorUnits.magnitude
        writeDigits(magnitude / scale, minimumDigits: 1)
        storage[filled.pointee] = 0x2E
        filled.pointee += 1
        writeDigits(magnitude % scale, minimumDigits: digits)
        if filled.pointee >= capacity { flush() }
    }

    /// The digits of `value`, left-padded with zeros to `minimumDigits` (at most 20 digits: within the room
    /// past `capacity`).
    @inline(__always)
    private func writeDigits(_ value: UInt64, minimumDigits: Int) {
        var count = 1
        var probe = value
        while probe >= 10 {
            probe /= 10
            count += 1
        }
        count = max(count, minimumDigits)
        var magnitude = value
        let end = filled.pointee + count
        var position = end
        while position > filled.pointee {
            position -= 1
            storage[position] = 0x30 + UInt8(truncatingIfNeeded: magnitude % 10)
            magnitude /= 10
        }
        filled.pointee = end
    }

    private func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        if filled.pointee + bytes.count > capacity { flush() }
        if bytes.count >= capacity {
            sink.write(UnsafeRawBufferPointer(bytes))
        } else if let base = bytes.baseAddress {
            (storage + filled.pointee).update(from: base, count: bytes.count)
            filled.pointee += bytes.count
            if filled.pointee >= capacity { flush() }
        }
    }

    func flush() {
        guard filled.pointee > 0 else { return }
        sink.write(UnsafeRawBufferPointer(start: storage, count: filled.pointee))
        filled.pointee = 0
    }
}
