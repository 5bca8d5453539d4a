/// Writes `.npz` files as numpy's `np.savez` does: an uncompressed (stored) ZIP of NPY 1.0 members, with
/// ZIP64 records when sizes or offsets pass 4 GiB (50,000 images of 256×256 are 9.8 GB). Array data is
/// streamed: a member's header is written with its final shape, bytes are appended in any number of pieces
/// and the CRC is patched into the local header at the end, so no array has to sit in memory.
/// The file is written through `AtomicFile`: it appears only after `finish()`.
///
/// ```swift
/// let npz = try NPZWriter(path: "samples.npz")
/// try npz.beginArray("arr_0", descr: "|u1", shape: [n, 256, 256, 3])
/// for image in images { try npz.append(image.pixels) }
/// try npz.endArray()
/// try npz.addArray("arr_1", descr: "<i8", shape: [n], bytes: labelBytes)
/// try npz.finish()
/// ```
public final class NPZWriter {
    private struct Member { var name: String; var offset: UInt64; var size: UInt64; var crc: UInt32 }

    private let file: AtomicFile
    private var members: [Member] = []
    private var current: (name: String, offset: UInt64, expected: UInt64, written: UInt64, crc: CRC32)?

    /// Sizes and offsets at or above this use ZIP64 fields (0xFFFFFFFF itself is the ZIP64 marker);
    /// tests lower it to exercise the ZIP64 layout with small files.
    let zip64Threshold: UInt64

    public convenience init(path: String) throws { try self.init(path: path, zip64Threshold: 0xFFFF_FFFF) }

    init(path: String, zip64Threshold: UInt64) throws {
        file = try AtomicFile(path: path)
        self.zip64Threshold = zip64Threshold
    }

    /// Starts member `name.npy`; exactly `shape.product × itemsize` data bytes must follow via `append`.
    public func beginArray(_ name: String, descr: String, shape: [Int]) throws {
        precondition(current == nil, "NPZWriter: previous array not ended")
        let itemSize = UInt64(Int(descr.dropFirst(2)) ?? 1)
        let header = NPY.header(descr: descr, shape: shape)
        let dataSize = UInt64(shape.reduce(1, *)) * itemSize
        let size = UInt64(header.count) + dataSize
        let fileName = Array((name + ".npy").utf8)
        let offset = file.offset
        // The local header always carries a ZIP64 extra field when the member is large; sizes are known now,
        // only the CRC is patched later.
        let zip64 = size >= zip64Threshold
        var local: [UInt8] = []
        local += le32(0x0403_4B50)
        local += le16(zip64 ? 45 : 20)                  // version needed to extract
        local += le16(0) + le16(0)                       // flags, method (stored)
        local += le16(0) + le16(0x21)                    // DOS time 00:00, date 1980-01-01
        local += le32(0)                                 // CRC-32, patched in endArray
        local += le32(zip64 ? 0xFFFF_FFFF : UInt32(size)) + le32(zip64 ? 0xFFFF_FFFF : UInt32(size))
        local += le16(UInt16(fileName.count)) + le16(zip64 ? 20 : 0)
        local += fileName
        if zip64 { local += le16(1) + le16(16) + le64(size) + le64(size) }
        try file.write(local)
        var crc = CRC32()
        crc.update(header)
        try file.write(header)
        current = (name + ".npy", offset, size, UInt64(header.count), crc)
    }

    /// Appends data bytes of the current member.
    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        guard var c = current else { preconditionFailure("NPZWriter.append outside an array") }
        guard c.written + UInt64(bytes.count) <= c.expected else {
            throw RuntimeError.invalidArrayFile(path: file.path, message: "more data than the declared shape of \(c.name)")
        }
        c.crc.update(bytes)
        c.written += UInt64(bytes.count)
        current = c
        try file.write(bytes)
    }

    public func append(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try append($0) } }

    /// Ends the current member, checking that all declared bytes were written.
    public func endArray() throws {
        guard let c = current else { preconditionFailure("NPZWriter.endArray outside an array") }
        guard c.written == c.expected else {
            throw RuntimeError.invalidArrayFile(path: file.path, message: "\(c.name): wrote \(c.written) of \(c.expected) bytes")
        }
        try file.patch(le32(c.crc.value), at: c.offset + 14)
        members.append(Member(name: c.name, offset: c.offset, size: c.expected, crc: c.crc.value))
        current = nil
    }

    /// A whole small member at once.
    public func addArray(_ name: String, descr: String, shape: [Int], bytes: [UInt8]) throws {
        try beginArray(name, descr: descr, shape: shape)
        try append(bytes)
        try endArray()
    }

    /// Writes the central directory and renames the file into place.
    public func finish() throws {
        precondition(current == nil, "NPZWriter.finish with an open array")
        let cdOffset = file.offset
        var cd: [UInt8] = []
        for m in members {
            let name = Array(m.name.utf8)
            let bigSize = m.size >= zip64Threshold, bigOffset = m.offset >= zip64Threshold
            var extra: [UInt8] = []
            if bigSize { extra += le64(m.size) + le64(m.size) }
            if bigOffset { extra += le64(m.offset) }
            if !extra.isEmpty { extra = le16(1) + le16(UInt16(extra.count)) + extra }
            let zip64 = !extra.isEmpty
            cd += le32(0x0201_4B50)
            cd += le16(zip64 ? 45 : 20) + le16(zip64 ? 45 : 20)   // made by, needed
            cd += le16(0) + le16(0) + le16(0) + le16(0x21)
            cd += le32(m.crc)
            cd += le32(bigSize ? 0xFFFF_FFFF : UInt32(m.size)) + le32(bigSize ? 0xFFFF_FFFF : UInt32(m.size))
            cd += le16(UInt16(name.count)) + le16(UInt16(extra.count)) + le16(0)   // name, extra, comment
            cd += le16(0) + le16(0) + le32(0)                                      // disk, internal, external attrs
            cd += le32(bigOffset ? 0xFFFF_FFFF : UInt32(m.offset))
            cd += name + extra
        }
        try file.write(cd)
        let cdSize = UInt64(cd.count)
        let needsZip64 = cdOffset >= zip64Threshold || cdSize >= zip64Threshold
            || members.count >= 0xFFFF || members.contains { $0.size >= zip64Threshold || $0.offset >= zip64Threshold }
        var end: [UInt8] = []
        if needsZip64 {
            let eocd64Offset = file.offset
            end += le32(0x0606_4B50) + le64(44) + le16(45) + le16(45) + le32(0) + le32(0)
            end += le64(UInt64(members.count)) + le64(UInt64(members.count)) + le64(cdSize) + le64(cdOffset)
            end += le32(0x0706_4B50) + le32(0) + le64(eocd64Offset) + le32(1)
        }
        let count16 = UInt16(min(members.count, 0xFFFF))
        end += le32(0x0605_4B50) + le16(0) + le16(0) + le16(count16) + le16(count16)
        end += le32(cdSize >= zip64Threshold ? 0xFFFF_FFFF : UInt32(cdSize))
        end += le32(cdOffset >= zip64Threshold ? 0xFFFF_FFFF : UInt32(cdOffset))
        end += le16(0)
        try file.write(end)
        try file.commit()
    }

    /// Discards the partial file.
    public func abort() { file.abort() }
}

/// Reads the members of a stored (uncompressed) ZIP such as an `.npz` written by `NPZWriter` or `np.savez`
/// (ZIP64 included). Loads the whole file; meant for tests and small archives.
public enum NPZReader {
    public static func arrays(_ bytes: [UInt8], path: String? = nil) throws -> [String: NPYArray] {
        func fail(_ m: String) -> RuntimeError { .invalidArrayFile(path: path, message: "not a readable NPZ: \(m)") }
        guard bytes.count >= 22, let eocd = (0...(bytes.count - 22)).reversed().first(where: { le32(bytes, $0) == 0x0605_4B50 }) else {
            throw fail("no end of central directory")
        }
        var count = UInt64(le16(bytes, eocd + 10))
        var cdOffset = UInt64(le32(bytes, eocd + 16))
        if eocd >= 20, le32(bytes, eocd - 20) == 0x0706_4B50 {
            let e64 = Int(le64(bytes, eocd - 20 + 8))
            guard e64 + 56 <= bytes.count, le32(bytes, e64) == 0x0606_4B50 else { throw fail("bad ZIP64 record") }
            count = le64(bytes, e64 + 32)
            cdOffset = le64(bytes, e64 + 48)
        }
        var out: [String: NPYArray] = [:]
        var at = Int(cdOffset)
        for _ in 0..<count {
            guard at + 46 <= bytes.count, le32(bytes, at) == 0x0201_4B50 else { throw fail("bad central directory") }
            guard le16(bytes, at + 10) == 0 else { throw fail("compressed members are not supported") }
            var size = UInt64(le32(bytes, at + 24))
            var offset = UInt64(le32(bytes, at + 42))
            let nameLength = Int(le16(bytes, at + 28)), extraLength = Int(le16(bytes, at + 30))
            let commentLength = Int(le16(bytes, at + 32))
            guard at + 46 + nameLength + extraLength <= bytes.count else { throw fail("truncated central directory") }
            let name = String(decoding: bytes[(at + 46)..<(at + 46 + nameLength)], as: UTF8.self)
            var e = at + 46 + nameLength
            let extraEnd = e + extraLength
            while e + 4 <= extraEnd {
                let id = le16(bytes, e), len = Int(le16(bytes, e + 2))
                if id == 1 {
                    var f = e + 4
                    if size == 0xFFFF_FFFF { size = le64(bytes, f); f += 16 }   // uncompressed, then compressed
                    if offset == 0xFFFF_FFFF { offset = le64(bytes, f) }
                }
                e += 4 + len
            }
            let local = Int(offset)
            guard local + 30 <= bytes.count, le32(bytes, local) == 0x0403_4B50 else { throw fail("bad local header for \(name)") }
            let dataStart = local + 30 + Int(le16(bytes, local + 26)) + Int(le16(bytes, local + 28))
            guard dataStart + Int(size) <= bytes.count else { throw fail("\(name) truncated") }
            let member = Array(bytes[dataStart..<(dataStart + Int(size))])
            guard CRC32.checksum(member) == le32(bytes, at + 16) else { throw fail("CRC mismatch in \(name)") }
            let key = name.hasSuffix(".npy") ? String(name.dropLast(4)) : name
            out[key] = try NPY.parse(member, path: path)
            at += 46 + nameLength + extraLength + commentLength
        }
        return out
    }

    static func le16(_ b: [UInt8], _ i: Int) -> UInt16 { UInt16(b[i]) | UInt16(b[i + 1]) << 8 }
    static func le32(_ b: [UInt8], _ i: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(b[i + $1]) << (8 * $1) } }
    static func le64(_ b: [UInt8], _ i: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(b[i + $1]) << (8 * $1) } }
}

@inline(__always) private func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
@inline(__always) private func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } }
@inline(__always) private func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8((v >> (8 * $0)) & 0xFF) } }
