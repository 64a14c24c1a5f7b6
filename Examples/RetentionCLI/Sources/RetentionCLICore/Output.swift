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
final class BufferedWriter {
    private let sink: any OutputSink
    private let capacity: Int
    private var buffer: [UInt8] = []

    init(_ sink: any OutputSink = Console.output, capacity: Int = 64 * 1024) {
        self.sink = sink
        self.capacity = capacity
        buffer.reserveCapacity(capacity)
    }

    deinit { flush() }

    func write(_ text: String) {
        var text = text
        text.withUTF8 { append($0) }
    }

    func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { append($0) }
    }

    func line(_ text: String = "") {
        write(text)
        buffer.append(0x0A)
        if buffer.count >= capacity { flush() }
    }

    /// Appends one byte.
    func byte(_ value: UInt8) {
        buffer.append(value)
        if buffer.count >= capacity { flush() }
    }

    /// Appends the decimal digits of `value` (as `String(value)` spells it, without making the string).
    func integer(_ value: Int64) {
        var magnitude = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var start = 20
            repeat {
                start -= 1
                digits[start] = 0x30 + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude != 0
            if value < 0 { byte(0x2D) }
            append(UnsafeBufferPointer(rebasing: digits[start..<20]))
        }
    }

    private func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        if buffer.count + bytes.count > capacity { flush() }
        if bytes.count >= capacity {
            sink.write(UnsafeRawBufferPointer(bytes))
        } else {
            buffer.append(contentsOf: bytes)
        }
    }

    func flush() {
        guard !buffer.isEmpty else { return }
        buffer.withUnsafeBytes { sink.write($0) }
        buffer.removeAll(keepingCapacity: true)
    }
}
