import Glibc

/// A read-only memory map of a whole file, unmapped when the last reference goes away.
///
/// Checkpoints are mapped rather than read so that a 1.2 GB float32 file costs no copy until a
/// tensor is requested, and float32 weights can be used in place (`Checkpoint.withFloat32Storage`).
/// If another process truncates the file while it is mapped, touching the lost pages raises SIGBUS;
/// that is the usual contract of mapped model files (llama.cpp has the same).
final class MappedFile: @unchecked Sendable {
    let path: String
    /// The whole file. Empty files are represented without a mapping.
    let bytes: UnsafeRawBufferPointer
    private let base: UnsafeMutableRawPointer?
    private let length: Int

    init(path: String) throws {
        self.path = path
        // Only regular files, checked before any open that could block (a FIFO) or touch a device.
        let fd: Int32, size: Int
        do { (fd, size) = try InputFile.openRegular(path) } catch let f as InputFile.Failure {
            throw CheckpointError.cannotOpen(file: path, reason: f.reason)
        }
        defer { close(fd) }
        length = size
        if size == 0 {
            base = nil
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        if p == MAP_FAILED || p == nil {
            throw CheckpointError.cannotOpen(file: path, reason: "mmap failed: " + Self.errnoText())
        }
        base = p
        bytes = UnsafeRawBufferPointer(start: p, count: size)
    }

    /// An in-memory copy (64-byte aligned like a mapping), for tests and fuzzing without files.
    init(copying data: [UInt8], name: String) {
        path = name
        length = data.count
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(data.count, 1), alignment: 64)
        data.withUnsafeBytes { src in
            if let s = src.baseAddress { p.copyMemory(from: s, byteCount: data.count) }
        }
        base = nil
        owned = p
        bytes = UnsafeRawBufferPointer(start: p, count: data.count)
    }

    private var owned: UnsafeMutableRawPointer?

    deinit {
        if let base { munmap(base, length) }
        owned?.deallocate()
    }

    var count: Int { length }

    /// Drops the mapped pages lying wholly inside `[offset, offset + byteCount)` from the resident set
    /// (`MADV_DONTNEED`): the mapping is read-only and file-backed, so a later read of those bytes faults them
    /// in again from the page cache. Called after a tensor has been copied out, so that loading a checkpoint
    /// costs the copies, not the copies plus the file. No effect on in-memory copies.
    func release(_ offset: Int, _ byteCount: Int) {
        guard let base, offset >= 0, byteCount > 0, offset <= length - byteCount else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard page > 0 else { return }
        let start = (offset + page - 1) / page * page, end = (offset + byteCount) / page * page
        guard end > start else { return }
        _ = madvise(base + start, end - start, MADV_DONTNEED)
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}

/// Bounds-checked little-endian reads from a byte buffer. Every read returns nil instead of trapping
/// when `[offset, offset + width)` is not inside the buffer, so callers turn bad offsets into errors.
struct ByteView {
    let bytes: UnsafeRawBufferPointer

    var count: Int { bytes.count }

    /// True when `[offset, offset + length)` lies inside the buffer (overflow-safe).
    func contains(_ offset: Int, _ length: Int) -> Bool {
        guard offset >= 0, length >= 0 else { return false }
        let (end, overflow) = offset.addingReportingOverflow(length)
        return !overflow && end <= bytes.count
    }

    func u8(_ o: Int) -> UInt8? { contains(o, 1) ? bytes[o] : nil }
    func u16(_ o: Int) -> UInt16? {
        contains(o, 2) ? UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt16.self)) : nil
    }
    func u32(_ o: Int) -> UInt32? {
        contains(o, 4) ? UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt32.self)) : nil
    }
    func u64(_ o: Int) -> UInt64? {
        contains(o, 8) ? UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt64.self)) : nil
    }
    /// A sub-range, or nil if it is not inside the buffer.
    func slice(_ o: Int, _ length: Int) -> UnsafeRawBufferPointer? {
        guard contains(o, length) else { return nil }
        return UnsafeRawBufferPointer(rebasing: bytes[o..<(o + length)])
    }
    /// Whether the bytes at `o` equal `pattern`.
    func matches(_ o: Int, _ pattern: [UInt8]) -> Bool {
        guard contains(o, pattern.count) else { return false }
        for (i, b) in pattern.enumerated() where bytes[o + i] != b { return false }
        return true
    }
}

/// Overflow-checked arithmetic on sizes read from files: nil on overflow or negative results.
enum SafeMath {
    static func add(_ a: Int, _ b: Int) -> Int? {
        let (r, o) = a.addingReportingOverflow(b); return o ? nil : r
    }
    static func mul(_ a: Int, _ b: Int) -> Int? {
        let (r, o) = a.multipliedReportingOverflow(by: b); return o ? nil : r
    }
    /// Product of non-negative sizes, nil on overflow.
    static func product(_ xs: [Int]) -> Int? {
        var p = 1
        for x in xs {
            guard x >= 0, let q = mul(p, x) else { return nil }
            p = q
        }
        return p
    }
    /// UInt64 → Int, nil when it does not fit.
    static func int(_ x: UInt64) -> Int? { x <= UInt64(Int.max) ? Int(x) : nil }
}
