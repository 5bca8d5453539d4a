import Foundation
import Testing
@testable import VARCore
import VARKit

/// A unique scratch directory per test.
func makeScratchDirectory(_ name: String = #function) throws -> String {
    let dir = NSTemporaryDirectory() + "vargen-\(name.filter { $0.isLetter || $0.isNumber })-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

func gradientImage(width: Int, height: Int) -> RGBImage {
    var px = [UInt8](repeating: 0, count: width * height * 3)
    for y in 0..<height { for x in 0..<width {
        px[(y * width + x) * 3] = UInt8((x * 255) / max(1, width - 1))
        px[(y * width + x) * 3 + 1] = UInt8((y * 255) / max(1, height - 1))
        px[(y * width + x) * 3 + 2] = UInt8((x * 7 + y * 13) & 0xFF)
    } }
    return RGBImage(width: width, height: height, pixels: px)
}

@Suite("Runtime: PNG")
struct RuntimePNGTests {
    @Test func roundTripPixelsAndText() throws {
        let image = gradientImage(width: 37, height: 19)
        let text = [PNGTextChunk(key: "var-gen", text: "class=3 seed=7 cfg=2 top_k=0 top_p=0 model=drafter.pth draft_steps=3 version=0.1"),
                    PNGTextChunk(key: "Comment", text: "Latin-1 é ok")]
        let bytes = try PNG.encode(image, text: text)
        #expect(Array(bytes[12..<16]) == Array("IHDR".utf8))
        #expect(Array(bytes[37..<41]) == Array("tEXt".utf8))   // spliced right after IHDR
        let (decoded, readText) = try PNG.decode(bytes)
        #expect(decoded == image)
        #expect(readText == text)
    }

    @Test func fileRoundTripIsAtomic() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/a.png"
        try PNG.write(gradientImage(width: 8, height: 8), text: [PNGTextChunk(key: "k", text: "v")], to: path)
        #expect(PNG.isValidFile(path))
        #expect(try PNG.read(path).text == [PNGTextChunk(key: "k", text: "v")])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["a.png"])
    }

    @Test func rejectsInvalidKeys() {
        let img = RGBImage(width: 1, height: 1)
        #expect(throws: RuntimeError.self) { try PNG.encode(img, text: [PNGTextChunk(key: "", text: "x")]) }
        #expect(throws: RuntimeError.self) { try PNG.encode(img, text: [PNGTextChunk(key: "k", text: "→")]) }
        #expect(throws: RuntimeError.self) { try PNG.encode(img, text: [PNGTextChunk(key: String(repeating: "k", count: 80), text: "")]) }
    }

    @Test func readsOtherColourTypes() throws {
        // 8-bit grayscale: gray g → (g, g, g).
        let gray = handmadePNG(width: 2, height: 1, colourType: 0, bitDepth: 8, rows: [[0, 7, 200]])
        #expect(try PNG.decode(gray).image.pixels == [7, 7, 7, 200, 200, 200])
        // 8-bit RGBA: opaque pixel kept, transparent pixel composited onto black.
        let rgba = handmadePNG(width: 2, height: 1, colourType: 6, bitDepth: 8, rows: [[0, 10, 20, 30, 255, 90, 90, 90, 0]])
        #expect(try PNG.decode(rgba).image.pixels == [10, 20, 30, 0, 0, 0])
        // 16-bit RGB: reduced to 8 bits.
        let deep = handmadePNG(width: 1, height: 1, colourType: 2, bitDepth: 16, rows: [[0, 0xFF, 0xFF, 0, 0, 0x80, 0x80]])
        let px = try PNG.decode(deep).image.pixels
        #expect(px[0] == 255 && px[1] == 0 && px[2] >= 127 && px[2] <= 129)
    }

    @Test func rejectsTruncatedAndCorruptFiles() throws {
        let bytes = try PNG.encode(gradientImage(width: 16, height: 16), text: [PNGTextChunk(key: "k", text: "v")])
        for cut in [0, 7, 8, 20, 33, bytes.count / 2, bytes.count - 12, bytes.count - 1] {
            #expect(throws: RuntimeError.self) { try PNG.decode(Array(bytes[..<cut])) }
        }
        var corrupt = bytes
        corrupt[bytes.count / 2] ^= 0xFF            // inside IDAT: CRC mismatch on a critical chunk
        #expect(throws: RuntimeError.self) { try PNG.decode(corrupt) }
        #expect(throws: RuntimeError.self) { try PNG.decode(Array("not a png at all".utf8)) }
    }

    /// Mutated PNGs must either decode or throw — never crash or allocate absurd amounts.
    /// `VARGEN_FUZZ_ITERATIONS` raises the iteration count for long runs.
    @Test func fuzzMutatedBytes() throws {
        let iterations = ProcessInfo.processInfo.environment["VARGEN_FUZZ_ITERATIONS"].flatMap(Int.init) ?? 2000
        let seedBytes = try PNG.encode(gradientImage(width: 12, height: 9), text: [PNGTextChunk(key: "var-gen", text: "class=1")])
        var rng = SplitMix64(seed: 0x5EED)
        var thrown = 0
        for _ in 0..<iterations {
            var b = seedBytes
            switch rng.next() % 4 {
            case 0: for _ in 0...(rng.next() % 4) { b[Int(rng.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: rng.next()) }
            case 1: b.removeSubrange(Int(rng.next() % UInt64(b.count))...)
            case 2: let i = Int(rng.next() % UInt64(b.count)); b.insert(contentsOf: (0..<(rng.next() % 16)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: i)
            default: // a plausible-looking chunk header with a hostile length
                let i = 8 + Int(rng.next() % UInt64(b.count - 12))
                b.replaceSubrange(i..<(i + 4), with: [0x7F, 0xFF, 0xFF, UInt8(truncatingIfNeeded: rng.next())])
            }
            do { _ = try PNG.decode(b, maxPixels: 1 << 20) } catch is RuntimeError { thrown += 1 }
        }
        #expect(thrown > 0)
    }
}

/// A PNG assembled by hand (zlib "stored" blocks), to test colour types the writer never produces.
/// `rows` are the filtered scanlines (filter byte 0 first).
func handmadePNG(width: Int, height: Int, colourType: UInt8, bitDepth: UInt8, rows: [[UInt8]]) -> [UInt8] {
    func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
    func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return be32(UInt32(data.count)) + body + be32(CRC32.checksum(body))
    }
    let raw = rows.flatMap { $0 }
    var a: UInt32 = 1, b: UInt32 = 0
    for x in raw { a = (a + UInt32(x)) % 65521; b = (b + a) % 65521 }
    let n = UInt16(raw.count)
    let zlib: [UInt8] = [0x78, 0x01, 0x01, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8(~n >> 8)] + raw + be32(b << 16 | a)
    let ihdr = be32(UInt32(width)) + be32(UInt32(height)) + [bitDepth, colourType, 0, 0, 0]
    return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr) + chunk("IDAT", zlib) + chunk("IEND", [])
}
