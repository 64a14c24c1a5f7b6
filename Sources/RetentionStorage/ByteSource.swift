#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Bytes read in fixed-size chunks from a file descriptor or from memory; memory use is one chunk.
final class ByteSource {
    private enum Storage {
        case file(Int32)
        case memory([UInt8], position: Int)
        case closed
    }

    private var storage: Storage
    let chunkSize: Int
    let path: String?

    init(path: String, chunkSize: Int) throws(InputError) {
        precondition(chunkSize >= 1, "chunkSize must be at least 1")
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw InputError(.unreadableFile, line: nil, value: path, "cannot be opened: \(ByteSource.errnoText())")
        }
        self.storage = .file(descriptor)
        self.chunkSize = chunkSize
        self.path = path
    }

    init(bytes: [UInt8], chunkSize: Int) {
        precondition(chunkSize >= 1, "chunkSize must be at least 1")
        self.storage = .memory(bytes, position: 0)
        self.chunkSize = chunkSize
        self.path = nil
    }

    deinit {
        if case .file(let descriptor) = storage { _ = posixClose(descriptor) }
    }

    /// Replaces `buffer`'s contents with the next chunk; returns false at the end of the input.
    func read(into buffer: inout [UInt8]) throws(InputError) -> Bool {
        switch storage {
        case .closed:
            buffer.removeAll(keepingCapacity: true)
            return false
        case .memory(let bytes, let position):
            let end = min(bytes.count, position + chunkSize)
            buffer.removeAll(keepingCapacity: true)
            buffer.append(contentsOf: bytes[position..<end])
            storage = end == bytes.count ? .closed : .memory(bytes, position: end)
            return !buffer.isEmpty
        case .file(let descriptor):
            if buffer.count != chunkSize { buffer = [UInt8](repeating: 0, count: chunkSize) }
            var count = 0
            while true {
                count = buffer.withUnsafeMutableBytes { raw in posixRead(descriptor, raw.baseAddress, chunkSize) }
                if count >= 0 { break }
                if errno == EINTR { continue }
                let message = ByteSource.errnoText()
                _ = posixClose(descriptor)
                storage = .closed
                throw InputError(.unreadableFile, line: nil, value: path, "cannot be read: \(message)")
            }
            if count == 0 {
                _ = posixClose(descriptor)
                storage = .closed
                buffer.removeAll(keepingCapacity: true)
                return false
            }
            if count < chunkSize { buffer.removeLast(chunkSize - count) }
            return true
        }
    }

    static func errnoText() -> String {
        guard let text = strerror(errno) else { return "error \(errno)" }
        return String(cString: text)
    }
}

/// Writes bytes to a file through a 1 MiB buffer.
final class ByteSink {
    private var descriptor: Int32
    private let path: String
    private var buffer: [UInt8] = []
    private let flushThreshold = 1 << 20

    init(path: String) throws(InputError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else {
            throw InputError(.unreadableFile, line: nil, value: path, "cannot be created: \(ByteSource.errnoText())")
        }
        self.descriptor = descriptor
        self.path = path
        buffer.reserveCapacity(flushThreshold + 4096)
    }

    deinit {
        if descriptor >= 0 { _ = posixClose(descriptor) }
    }

    func append(_ bytes: [UInt8]) throws(InputError) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= flushThreshold { try flush() }
    }

    func flush() throws(InputError) {
        var written = 0
        while written < buffer.count {
            let count = buffer.withUnsafeBytes { raw in
                posixWrite(descriptor, raw.baseAddress! + written, raw.count - written)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw InputError(
                    .unreadableFile, line: nil, value: path, "cannot be written: \(ByteSource.errnoText())")
            }
            written += count
        }
        buffer.removeAll(keepingCapacity: true)
    }

    func close() throws(InputError) {
        try flush()
        if posixClose(descriptor) != 0 {
            descriptor = -1
            throw InputError(.unreadableFile, line: nil, value: path, "cannot be closed: \(ByteSource.errnoText())")
        }
        descriptor = -1
    }
}

@inline(__always)
private func posixRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}

@inline(__always)
private func posixWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, buffer, count)
}

@inline(__always)
private func posixClose(_ descriptor: Int32) -> Int32 { close(descriptor) }
