import Foundation
import Testing
@testable import VARCore
import VARKit

/// SHA-256 against the FIPS 180-2 example vectors (also in NIST's "SHA256.pdf" examples), on every kernel this
/// CPU runs, and the kernels against each other on random lengths and split updates.
@Suite("Records: SHA-256 content hashes")
struct RecordHashTests {
    static let kernels = SHA256.Kernel.allCases.filter(\.isAvailable)

    @Test(arguments: kernels)
    func fipsVectors(kernel: SHA256.Kernel) {
        let vectors: [(String, String)] = [
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
             "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
            ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
             "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
        ]
        for (message, digest) in vectors {
            #expect(SHA256.hex(SHA256.hash(Array(message.utf8), kernel: kernel)) == digest, "kernel \(kernel.rawValue)")
        }
        // One million 'a' (FIPS 180-2 appendix B.3), fed in uneven pieces.
        var h = SHA256(kernel: kernel)
        let piece = [UInt8](repeating: 0x61, count: 999)
        var left = 1_000_000
        while left > 0 { let n = min(left, piece.count); h.update(Array(piece[0..<n])); left -= n }
        #expect(SHA256.hex(h.finalize()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func kernelsAgreeOnEveryLengthAndSplit() {
        var rng = MT19937(seed: 5)
        let data = (0..<5000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        for n in [0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 4999] {
            let slice = Array(data[0..<n])
            let reference = SHA256.hash(slice, kernel: .portable)
            for kernel in Self.kernels {
                #expect(SHA256.hash(slice, kernel: kernel) == reference, "kernel \(kernel.rawValue), \(n) bytes")
                var split = SHA256(kernel: kernel)
                let cut = n / 3
                split.update(Array(slice[0..<cut])); split.update(Array(slice[cut...]))
                #expect(split.finalize() == reference, "kernel \(kernel.rawValue), \(n) bytes split at \(cut)")
            }
        }
        print("SHA-256 kernels tested: \(Self.kernels.map(\.rawValue).joined(separator: ", ")); best here: \(SHA256.Kernel.best.rawValue)")
    }

    @Test func fileHashesAreCachedAndFollowContentNotName() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try AtomicFile.write(bytes, to: dir + "/a.pth")
        let expected = SHA256.hex(SHA256.hash(bytes, kernel: .portable))
        #expect(try SHA256.hashFile(dir + "/a.pth") == expected)
        let hashes = ContentHashes()
        hashes.prefetch(dir + "/a.pth")
        #expect(try hashes.hash(dir + "/a.pth") == expected)
        #expect(try hashes.hash(dir + "/a.pth") == expected)
        try FileManager.default.copyItem(atPath: dir + "/a.pth", toPath: dir + "/renamed.pth")
        #expect(try ContentHashes().hash(dir + "/renamed.pth") == expected)
        // A rewritten file is a new entry.
        try AtomicFile.write(bytes + [1], to: dir + "/a.pth")
        #expect(try hashes.hash(dir + "/a.pth") == SHA256.hex(SHA256.hash(bytes + [1])))
        #expect(throws: RuntimeError.self) { try hashes.hash(dir + "/missing.pth") }
        #expect(throws: RuntimeError.self) { try SHA256.hashFile(dir) }
    }

    @Test func pngTextReaderSkipsPixels() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let text = [PNGTextChunk(key: "var-gen", text: "{\"a\":1}"), PNGTextChunk(key: "parameters", text: "x\nSeed: 1")]
        try PNG.write(gradientImage(width: 5, height: 4), text: text, to: dir + "/t.png")
        #expect(try PNG.readText(dir + "/t.png") == text)
        try AtomicFile.write(Array("not a png".utf8), to: dir + "/bad.png")
        #expect(throws: RuntimeError.self) { try PNG.readText(dir + "/bad.png") }
    }
}
