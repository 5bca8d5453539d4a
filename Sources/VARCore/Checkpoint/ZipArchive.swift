/// The central directory of a ZIP archive, as written by `torch.save` (docs/model.md §8.2, pitfalls 33–34).
///
/// Only what torch writes is accepted: one disk, stored (method 0) unencrypted entries, classic or
/// ZIP64 end records. Sizes and offsets come from the central directory (local headers written with
/// flag bit 3 hold zeros); a payload starts after the *local* header's name and extra field, whose
/// `FB` padding aligns it to 64 bytes. Every offset and length is overflow-checked and range-checked
/// against the file before use.
struct ZipArchive {
    struct Entry {
        var name: String
        var localHeaderOffset: Int
        var size: Int
        /// Offset of this entry's central-directory record (for error messages).
        var recordOffset: Int
    }

    let file: String
    let view: ByteView
    /// Entries in central-directory order.
    private(set) var entries: [Entry] = []
    private var index: [String: Int] = [:]
    /// Where the central directory starts; every payload must end before it.
    private(set) var centralDirectoryOffset = 0

    static let eocdSignature: UInt32 = 0x0605_4B50
    static let zip64LocatorSignature: UInt32 = 0x0706_4B50
    static let zip64EOCDSignature: UInt32 = 0x0606_4B50
    static let centralSignature: UInt32 = 0x0201_4B50
    static let localSignature: UInt32 = 0x0403_4B50
    /// EOCD record (22 bytes) plus the longest possible comment (65 535 bytes).
    static let eocdSearchWindow = 22 + 65_535

    init(_ view: ByteView, file: String) throws {
        self.file = file
        self.view = view
        func bad(_ offset: Int, _ reason: String) -> CheckpointError {
            .badZip(file: file, offset: offset, reason: reason)
        }

        // End of central directory: scan backwards for the signature whose comment ends the file.
        var eocd = -1
        var p = view.count - 22
        let lowest = max(0, view.count - Self.eocdSearchWindow)
        while p >= lowest {
            if view.u32(p) == Self.eocdSignature, let commentLength = view.u16(p + 20),
               p + 22 + Int(commentLength) <= view.count {
                eocd = p
                break
            }
            p -= 1
        }
        guard eocd >= 0, let diskNumber = view.u16(eocd + 4), let cdDisk = view.u16(eocd + 6),
              let count16 = view.u16(eocd + 10), let size32 = view.u32(eocd + 12), let offset32 = view.u32(eocd + 16)
        else { throw bad(view.count, "no end-of-central-directory record (file truncated?)") }

        var entryCount = Int(count16)
        var cdSize = Int(size32)
        var cdOffset = Int(offset32)
        var directoryEnd = eocd  // the central directory must end before the end records

        // ZIP64: a locator right before the EOCD points to the ZIP64 end record.
        if eocd >= 20, view.u32(eocd - 20) == Self.zip64LocatorSignature {
            let locator = eocd - 20
            guard let recordRaw = view.u64(locator + 8), let totalDisks = view.u32(locator + 16) else {
                throw bad(locator, "truncated ZIP64 locator")
            }
            guard let record = SafeMath.int(recordRaw) else {
                throw bad(locator, "ZIP64 end record offset \(recordRaw) is outside the file")
            }
            guard totalDisks <= 1 else { throw bad(locator, "multi-disk archives are not supported") }
            guard record <= locator - 56 else {
                throw bad(locator, "ZIP64 end record offset \(recordRaw) is outside the file")
            }
            guard view.u32(record) == Self.zip64EOCDSignature else {
                throw bad(record, "ZIP64 locator does not point at a ZIP64 end record")
            }
            guard let disk64 = view.u32(record + 16), let cdDisk64 = view.u32(record + 20),
                  let n = view.u64(record + 32), let s = view.u64(record + 40), let o = view.u64(record + 48)
            else { throw bad(record, "truncated ZIP64 end record") }
            guard disk64 == 0, cdDisk64 == 0 else { throw bad(record, "multi-disk archives are not supported") }
            guard let n = SafeMath.int(n), let s = SafeMath.int(s), let o = SafeMath.int(o) else {
                throw bad(record, "ZIP64 end record sizes do not fit in 63 bits")
            }
            entryCount = n; cdSize = s; cdOffset = o
            directoryEnd = record
        } else {
            guard diskNumber == 0, cdDisk == 0 else { throw bad(eocd, "multi-disk archives are not supported") }
        }

        guard let cdEnd = SafeMath.add(cdOffset, cdSize), cdEnd <= directoryEnd else {
            throw bad(eocd, "central directory (offset \(cdOffset), \(cdSize) bytes) lies outside the file")
        }
        guard entryCount <= cdSize / 46 else {
            throw bad(eocd, "\(entryCount) entries cannot fit in a \(cdSize)-byte central directory")
        }
        centralDirectoryOffset = cdOffset

        var q = cdOffset
        entries.reserveCapacity(entryCount)
        for _ in 0..<entryCount {
            guard q <= cdEnd - 46, view.u32(q) == Self.centralSignature else {
                throw bad(q, "expected a central directory record")
            }
            guard let flags = view.u16(q + 8), let method = view.u16(q + 10), let comp32 = view.u32(q + 20),
                  let size32 = view.u32(q + 24), let nameLength = view.u16(q + 28), let extraLength = view.u16(q + 30),
                  let commentLength = view.u16(q + 32), let local32 = view.u32(q + 42)
            else { throw bad(q, "truncated central directory record") }
            let nameStart = q + 46
            let extraStart = nameStart + Int(nameLength)
            let recordEnd = extraStart + Int(extraLength) + Int(commentLength)
            guard recordEnd <= cdEnd, let nameBytes = view.slice(nameStart, Int(nameLength)) else {
                throw bad(q, "central directory record runs past the directory")
            }
            guard let name = String(validating: nameBytes, as: UTF8.self) else {
                throw bad(nameStart, "entry name is not valid UTF-8")
            }
            guard flags & 0x0001 == 0 else { throw bad(q, "entry `\(name)` is encrypted") }
            guard method == 0 else {
                throw bad(q, "entry `\(name)` is compressed (method \(method)); torch.save stores entries uncompressed")
            }

            var uncompressed = Int(size32)
            var compressed = Int(comp32)
            var localOffset = Int(local32)
            if size32 == 0xFFFF_FFFF || comp32 == 0xFFFF_FFFF || local32 == 0xFFFF_FFFF {
                // ZIP64 extra field 0x0001: only the overflowed fields, in this order.
                var e = extraStart
                let extraEnd = extraStart + Int(extraLength)
                var found = false
                while e + 4 <= extraEnd, let id = view.u16(e), let length = view.u16(e + 2) {
                    let dataStart = e + 4
                    guard dataStart + Int(length) <= extraEnd else { throw bad(e, "extra field runs past its record") }
                    if id == 0x0001 {
                        found = true
                        var r = dataStart
                        func next() throws -> Int {
                            guard r + 8 <= dataStart + Int(length), let v = view.u64(r) else {
                                throw bad(dataStart, "ZIP64 extra field of `\(name)` is too short")
                            }
                            r += 8
                            guard let i = SafeMath.int(v) else {
                                throw bad(dataStart, "ZIP64 size/offset of `\(name)` does not fit in 63 bits")
                            }
                            return i
                        }
                        if size32 == 0xFFFF_FFFF { uncompressed = try next() }
                        if comp32 == 0xFFFF_FFFF { compressed = try next() }
                        if local32 == 0xFFFF_FFFF { localOffset = try next() }
                        break
                    }
                    e = dataStart + Int(length)
                }
                guard found else { throw bad(q, "entry `\(name)` needs a ZIP64 extra field but has none") }
            }
            guard compressed == uncompressed else {
                throw bad(q, "stored entry `\(name)` has compressed size \(compressed) ≠ size \(uncompressed)")
            }
            guard index[name] == nil else { throw bad(q, "entry `\(name)` appears twice") }
            index[name] = entries.count
            entries.append(Entry(name: name, localHeaderOffset: localOffset, size: uncompressed, recordOffset: q))
            q = recordEnd
        }
    }

    func entry(_ name: String) -> Entry? { index[name].map { entries[$0] } }

    /// The payload byte range of an entry, computed from its local header and checked to lie
    /// inside the file before the central directory.
    func payload(_ entry: Entry) throws -> (offset: Int, count: Int) {
        let h = entry.localHeaderOffset
        func bad(_ offset: Int, _ reason: String) -> CheckpointError {
            .badZip(file: file, offset: offset, reason: reason)
        }
        guard h <= centralDirectoryOffset - 30, view.u32(h) == Self.localSignature,
              let method = view.u16(h + 8), let nameLength = view.u16(h + 26), let extraLength = view.u16(h + 28)
        else { throw bad(h, "no local file header for `\(entry.name)` at offset \(h)") }
        guard method == 0 else { throw bad(h, "local header of `\(entry.name)` says compressed (method \(method))") }
        guard let nameBytes = view.slice(h + 30, Int(nameLength)),
              nameBytes.elementsEqual(entry.name.utf8) else {
            throw bad(h, "local header name differs from the central directory's `\(entry.name)`")
        }
        let start = h + 30 + Int(nameLength) + Int(extraLength)
        guard let end = SafeMath.add(start, entry.size), end <= centralDirectoryOffset else {
            throw bad(h, "entry `\(entry.name)` declares \(entry.size) bytes at offset \(start), past the end "
                      + "of the data (\(centralDirectoryOffset) bytes)")
        }
        return (start, entry.size)
    }
}
