import CPNG

/// One `tEXt` chunk: a Latin-1 keyword (1–79 characters) and its text.
public struct PNGTextChunk: Sendable, Equatable {
    public var key: String
    public var text: String
    public init(key: String, text: String) { self.key = key; self.text = text }
}

/// PNG encoding and decoding through libpng's *simplified* API, which contains libpng's `longjmp` error
/// handling inside the library (a `longjmp` through Swift frames would be undefined behaviour). That API
/// cannot write text chunks, so `tEXt` chunks are spliced in after `IHDR` here (a valid PNG: text chunks may
/// appear anywhere between `IHDR` and `IEND`) and read back by walking the chunk list.
public enum PNG {
    /// Decoding refuses images with more pixels than this, judged from the IHDR chunk before anything is
    /// decoded: 2^24 pixels (4096×4096; a 48 MiB RGB buffer). Callers pass a smaller limit when they know one.
    public static let defaultMaxPixels = 1 << 24

    // MARK: Encoding

    /// The PNG bytes of an RGB8 image with the given text chunks (in order).
    public static func encode(_ image: RGBImage, text: [PNGTextChunk] = []) throws -> [UInt8] {
        guard image.width > 0, image.height > 0 else {
            throw RuntimeError.pngEncode(message: "empty image (\(image.width)x\(image.height))")
        }
        var img = png_image()
        img.version = png_uint_32(PNG_IMAGE_VERSION)
        img.width = png_uint_32(image.width)
        img.height = png_uint_32(image.height)
        img.format = png_uint_32(PNG_FORMAT_RGB)
        // Raw size plus a generous allowance for filter bytes, zlib blocks and chunk headers.
        var capacity = image.pixels.count + image.height + 4096 + image.pixels.count / 16
        var out = [UInt8](repeating: 0, count: capacity)
        for _ in 0..<2 {
            var written = png_alloc_size_t(capacity)
            let ok = image.pixels.withUnsafeBytes { px in
                out.withUnsafeMutableBytes { o in
                    png_image_write_to_memory(&img, o.baseAddress, &written, 0, px.baseAddress,
                                              png_int_32(image.width * 3), nil)
                }
            }
            if ok != 0 {
                out.removeSubrange(Int(written)...)
                return try insertText(text, into: out)
            }
            let message = messageOf(&img)
            png_image_free(&img)
            guard Int(written) > capacity else { throw RuntimeError.pngEncode(message: message) }
            capacity = Int(written)                 // buffer too small: libpng told us the size it needs
            out = [UInt8](repeating: 0, count: capacity)
            img.opaque = nil
        }
        throw RuntimeError.pngEncode(message: "output buffer size kept growing")
    }

    /// Encodes and writes atomically (see `AtomicFile`): the file appears complete or not at all.
    public static func write(_ image: RGBImage, text: [PNGTextChunk] = [], to path: String) throws {
        try AtomicFile.write(try encode(image, text: text), to: path)
    }

    // MARK: Decoding

    /// Decodes any PNG (any colour type and bit depth; alpha composited onto black, 16-bit reduced to 8)
    /// to RGB8, and returns its `tEXt` chunks. Throws `RuntimeError.pngDecode` for anything malformed.
    public static func decode(_ bytes: [UInt8], path: String? = nil,
                              maxPixels: Int = defaultMaxPixels) throws -> (image: RGBImage, text: [PNGTextChunk]) {
        let chunks = try parseChunks(bytes, path: path)
        let (width, height) = headerSize(bytes, chunks)
        guard width > 0, height > 0 else {
            throw RuntimeError.pngDecode(path: path, message: "the header declares an empty image (\(width)×\(height))")
        }
        guard width <= maxPixels, height <= maxPixels, width * height <= maxPixels else {   // each ≤ 2^31: no overflow
            throw RuntimeError.imageTooLarge(path: path, width: width, height: height, maxPixels: maxPixels)
        }
        var img = png_image()
        img.version = png_uint_32(PNG_IMAGE_VERSION)
        let began = bytes.withUnsafeBytes { b in
            png_image_begin_read_from_memory(&img, b.baseAddress, b.count)
        }
        guard began != 0 else {
            let message = messageOf(&img)
            png_image_free(&img)
            throw RuntimeError.pngDecode(path: path, message: message)
        }
        let w = Int(img.width), h = Int(img.height)
        guard w > 0, h > 0, w * h <= maxPixels else {
            png_image_free(&img)
            throw RuntimeError.pngDecode(path: path, message: "image size \(w)x\(h) exceeds the limit of \(maxPixels) pixels")
        }
        img.format = png_uint_32(PNG_FORMAT_RGB)
        // 16-bit samples are sRGB-encoded like 8-bit ones in practice; without this flag libpng treats them as
        // linear light and gamma-encodes them on the way to 8 bits.
        img.flags |= png_uint_32(PNG_IMAGE_FLAG_16BIT_sRGB)
        var pixels = [UInt8](repeating: 0, count: w * h * 3)   // zero: alpha composites onto black
        let finished = pixels.withUnsafeMutableBytes { p in
            png_image_finish_read(&img, nil, p.baseAddress, png_int_32(w * 3), nil)
        }
        guard finished != 0 else {
            let message = messageOf(&img)
            png_image_free(&img)
            throw RuntimeError.pngDecode(path: path, message: message)
        }
        png_image_free(&img)
        return (RGBImage(width: w, height: h, pixels: pixels), textChunks(in: chunks, of: bytes))
    }

    /// Reads and decodes a PNG file (a regular file only; its header's size is checked before decoding).
    public static func read(_ path: String, maxPixels: Int = defaultMaxPixels) throws -> (image: RGBImage, text: [PNGTextChunk]) {
        try decode(try FileIO.readAll(path), path: path, maxPixels: maxPixels)
    }

    /// Width and height from the IHDR chunk, without decoding anything.
    public static func dimensions(_ bytes: [UInt8], path: String? = nil) throws -> (width: Int, height: Int) {
        headerSize(bytes, try parseChunks(bytes, path: path))
    }

    /// IHDR's width and height (big-endian, first 8 bytes of its data; 0 when IHDR is too short).
    static func headerSize(_ bytes: [UInt8], _ chunks: [Chunk]) -> (Int, Int) {
        guard let ihdr = chunks.first, ihdr.dataRange.count >= 8 else { return (0, 0) }
        let at = ihdr.dataRange.lowerBound
        return (Int(be32(bytes, at)), Int(be32(bytes, at + 4)))
    }

    /// The `tEXt` chunks of a PNG without decoding its pixels (the chunk list is still checked: signature,
    /// IHDR first, lengths within the file, IEND present). Chunks with a bad CRC are skipped.
    public static func readText(_ path: String) throws -> [PNGTextChunk] {
        let bytes = try FileIO.readAll(path)
        return textChunks(in: try parseChunks(bytes, path: path), of: bytes)
    }

    /// Whether `path` holds a complete, decodable PNG (used to resume interrupted sampling runs).
    public static func isValidFile(_ path: String) -> Bool {
        (try? read(path)) != nil
    }

    // MARK: Chunks

    private static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    struct Chunk { var type: String; var dataRange: Range<Int>; var crcOK: Bool }

    /// Walks the chunk list, checking lengths against the file size; requires IHDR first and IEND present.
    static func parseChunks(_ bytes: [UInt8], path: String?) throws -> [Chunk] {
        func fail(_ m: String) -> RuntimeError { .pngDecode(path: path, message: m) }
        guard bytes.count >= 8, Array(bytes[0..<8]) == signature else {
            if let kind = FileKind.describe(bytes) { throw fail("the file is \(kind), not a PNG image") }
            throw fail("missing PNG signature")
        }
        var chunks: [Chunk] = []
        var at = 8
        while at < bytes.count {
            guard bytes.count - at >= 12 else { throw fail("truncated chunk header at byte \(at)") }
            let length = Int(be32(bytes, at))
            guard length <= 0x7FFF_FFFF, length <= bytes.count - at - 12 else {
                throw fail("chunk at byte \(at) claims \(length) bytes, beyond the end of the file")
            }
            let typeBytes = bytes[(at + 4)..<(at + 8)]
            guard typeBytes.allSatisfy({ (65...90).contains($0) || (97...122).contains($0) }) else {
                throw fail("invalid chunk type at byte \(at)")
            }
            let type = String(decoding: typeBytes, as: UTF8.self)
            let crc = CRC32.checksum(bytes[(at + 4)..<(at + 8 + length)])
            chunks.append(Chunk(type: type, dataRange: (at + 8)..<(at + 8 + length),
                                crcOK: crc == be32(bytes, at + 8 + length)))
            at += 12 + length
            if type == "IEND" { break }
        }
        guard chunks.first?.type == "IHDR" else { throw fail("first chunk is not IHDR") }
        guard chunks.last?.type == "IEND" else { throw fail("missing IEND (file truncated?)") }
        return chunks
    }

    /// `tEXt` chunks with a valid CRC, decoded as Latin-1; malformed ones are skipped as the PNG spec
    /// allows for ancillary chunks.
    /// Text is bounded whatever the file holds (var-gen's records are a few KB): chunks above `maxTextChunkBytes`
    /// are skipped, and reading stops after `maxTextChunks` chunks or `maxTextBytes` bytes of text in all.
    static func textChunks(in chunks: [Chunk], of bytes: [UInt8]) -> [PNGTextChunk] {
        var out: [PNGTextChunk] = [], total = 0
        for c in chunks where c.type == "tEXt" && c.crcOK && c.dataRange.count <= maxTextChunkBytes {
            guard out.count < maxTextChunks, total + c.dataRange.count <= maxTextBytes else { break }
            let data = bytes[c.dataRange]
            guard let zero = data.firstIndex(of: 0), zero > data.startIndex else { continue }
            total += c.dataRange.count
            out.append(PNGTextChunk(key: latin1(data[data.startIndex..<zero]), text: latin1(data[(zero + 1)...])))
        }
        return out
    }

    /// Limits of `textChunks`: 1 MiB per chunk, 64 chunks, 4 MiB of text.
    public static let maxTextChunkBytes = 1 << 20, maxTextChunks = 64, maxTextBytes = 4 << 20

    /// Inserts `tEXt` chunks right after IHDR (bytes 8..<33 of any PNG).
    static func insertText(_ text: [PNGTextChunk], into png: [UInt8]) throws -> [UInt8] {
        if text.isEmpty { return png }
        var chunks: [UInt8] = []
        for t in text {
            let key = try latin1Bytes(t.key, key: t.key)
            guard (1...79).contains(key.count), key.first != 0x20, key.last != 0x20,
                  key.allSatisfy({ (32...126).contains($0) || $0 >= 161 }) else {
                throw RuntimeError.invalidTextChunk(key: t.key, reason: "a keyword has 1–79 printable Latin-1 characters, no leading or trailing space")
            }
            let value = try latin1Bytes(t.text, key: t.key)
            guard !value.contains(0) else { throw RuntimeError.invalidTextChunk(key: t.key, reason: "text contains a NUL character") }
            let body = Array("tEXt".utf8) + key + [0] + value
            chunks += bigEndian(UInt32(body.count - 4)) + body + bigEndian(CRC32.checksum(body))
        }
        let ihdrEnd = 8 + 12 + 13
        return Array(png[..<ihdrEnd]) + chunks + Array(png[ihdrEnd...])
    }

    // MARK: Helpers

    private static func messageOf(_ img: inout png_image) -> String {
        withUnsafeBytes(of: &img.message) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return bytes.isEmpty ? "unknown libpng error" : String(decoding: bytes, as: UTF8.self)
        }
    }

    static func be32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }

    static func bigEndian(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }

    private static func latin1<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
    }

    private static func latin1Bytes(_ s: String, key: String) throws -> [UInt8] {
        try s.unicodeScalars.map { u in
            guard u.value < 256 else {
                throw RuntimeError.invalidTextChunk(key: key, reason: "character '\(u)' is not Latin-1")
            }
            return UInt8(u.value)
        }
    }
}
