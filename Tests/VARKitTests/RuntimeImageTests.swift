import Foundation
import Testing
@testable import VARCore
import VARKit

@Suite("Runtime: images, NPZ, memory, atomic files")
struct RuntimeImageTests {
    /// Spec §6.6: clamp, then ⌊255·x⌋ — truncation, so 0.999 → 254 and only 1.0 → 255.
    @Test func byteConversionTruncatesAfterClamping() {
        let cases: [(Float, UInt8)] = [(-0.5, 0), (0, 0), (0.5, 127), (1.0 / 255, 1), (0.999, 254),
                                       (0.99999994, 254), (1, 255), (3, 255), (.nan, 0), (-.infinity, 0), (.infinity, 255)]
        for (x, expected) in cases { #expect(RGBImage.byte(x) == expected, "x = \(x)") }
    }

    @Test func tensorToImagesIsHWC() throws {
        // (B=2, 3, H=1, W=2): channel planes → interleaved pixels.
        let t = Tensor(shape: [2, 3, 1, 2], data: [0, 1, 0.5, 0.25, 1, 1,  0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
        let images = try RGBImage.images(from: t)
        #expect(images.count == 2)
        #expect(images[0].pixels == [0, 127, 255, 255, 63, 255])
        #expect(images[1].pixels == [25, 76, 127, 51, 102, 153])
        #expect(throws: RuntimeError.self) { try RGBImage.images(from: Tensor(zeros: [1, 4, 2, 2])) }
    }

    @Test func gridLayout() throws {
        let tiles = (0..<5).map { RGBImage(width: 3, height: 2, fill: (UInt8($0 + 1), 0, 0)) }
        let g = try RGBImage.grid(tiles)              // 5 images → 3 columns, 2 rows
        #expect(g.width == 3 * 3 + 4 * 2 && g.height == 2 * 2 + 3 * 2)
        func red(_ x: Int, _ y: Int) -> UInt8 { g.pixels[(y * g.width + x) * 3] }
        #expect(red(0, 0) == 0 && red(1, 1) == 0)     // padding
        #expect(red(2, 2) == 1 && red(4, 3) == 1)     // first tile
        #expect(red(2 + 5, 2) == 2)                   // second tile, one column right
        #expect(red(2 + 10, 2) == 3)
        #expect(red(2, 2 + 4) == 4 && red(2 + 5, 2 + 4) == 5)
        #expect(red(2 + 10, 2 + 4) == 0)              // the empty sixth cell
        let column = try RGBImage.grid(tiles, columns: 1, padding: 0)
        #expect(column.width == 3 && column.height == 10)
    }

    @Test func npyHeaderIsAlignedAndParsable() throws {
        for shape in [[5], [2, 3], [50000, 256, 256, 3], [0, 4]] {
            let h = NPY.header(descr: "|u1", shape: shape)
            #expect(h.count % 64 == 0)
            #expect(h.last == 0x0A)
            #expect(Array(h[0..<8]) == [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
            if shape.reduce(1, *) < 1000 {
                let parsed = try NPY.parse(h + [UInt8](repeating: 9, count: shape.reduce(1, *)))
                #expect(parsed.shape == shape && parsed.dataOffset == h.count && parsed.descr == "|u1")
            }
        }
        let text = String(decoding: NPY.header(descr: "<i8", shape: [3]).dropFirst(10), as: UTF8.self)
        #expect(text.hasPrefix("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }"))
    }

    /// `zip64Threshold: 0` forces the ZIP64 records (used for > 4 GiB archives) on a small file.
    /// Also checked with numpy: `np.load(path)["arr_0"].shape == (3, 2, 4, 3)` for both layouts.
    @Test(arguments: [UInt64(0xFFFF_FFFF), 0])
    func npzLayoutAndRoundTrip(zip64Threshold: UInt64) throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/s.npz"
        let images = (0..<3).map { _ in gradientImage(width: 4, height: 2) }
        let npz = try NPZWriter(path: path, zip64Threshold: zip64Threshold)
        try npz.beginArray("arr_0", descr: "|u1", shape: [3, 2, 4, 3])
        for im in images { try npz.append(im.pixels) }   // streamed one image at a time
        try npz.endArray()
        let labels: [Int64] = [7, -1, 1 << 40]
        try npz.addArray("arr_1", descr: "<i8", shape: [3], bytes: labels.flatMap { v in (0..<8).map { UInt8((UInt64(bitPattern: v) >> (8 * $0)) & 0xFF) } })
        try npz.finish()
        let bytes = try FileIO.readAll(path)
        #expect(Array(bytes[0..<4]) == [0x50, 0x4B, 0x03, 0x04])
        #expect(Array(bytes[30..<39]) == Array("arr_0.npy".utf8))
        let arrays = try NPZReader.arrays(bytes)
        #expect(arrays["arr_0"]?.shape == [3, 2, 4, 3])
        #expect(arrays["arr_0"]?.descr == "|u1")
        #expect(arrays["arr_0"]?.data == images.flatMap { $0.pixels })
        #expect(arrays["arr_0"].map { $0.dataOffset % 64 } == 0)
        #expect(arrays["arr_1"]?.int64s == labels)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["s.npz"])
    }

    @Test func npzRejectsWrongByteCount() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let npz = try NPZWriter(path: dir + "/x.npz")
        try npz.beginArray("arr_0", descr: "|u1", shape: [4])
        try npz.append([1, 2])
        #expect(throws: RuntimeError.self) { try npz.endArray() }
        #expect(throws: RuntimeError.self) { try npz.append([1, 2, 3]) }
        npz.abort()
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }

    @Test func atomicWriteLeavesNothingOnFailure() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Failure while writing: an abandoned file vanishes with its temporary.
        do {
            let f = try AtomicFile(path: dir + "/out.png")
            try f.write([1, 2, 3])
            #expect(TemporaryFiles.shared.pending.contains(f.temporaryPath))
            f.abort()
        }
        // Failure at rename (destination is a non-empty directory).
        try FileManager.default.createDirectory(atPath: dir + "/busy/x", withIntermediateDirectories: true)
        #expect(throws: RuntimeError.self) { try AtomicFile.write([1], to: dir + "/busy") }
        // Interrupt path: the signal handler's removeAll deletes registered temporaries.
        let g = try AtomicFile(path: dir + "/late.png")
        try g.write([9])
        TemporaryFiles.shared.removeAll()
        #expect(!FileManager.default.fileExists(atPath: g.temporaryPath))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["busy"])
        // After the interrupt handler closed the registry, other threads cannot start new temporaries.
        let registry = TemporaryFiles()
        let h = try AtomicFile(path: dir + "/before.png", registry: registry)
        registry.removeAll(closing: true)
        #expect(!FileManager.default.fileExists(atPath: h.temporaryPath))
        #expect(throws: RuntimeError.self) { try AtomicFile(path: dir + "/after.png", registry: registry) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["busy"])
        // Missing directory: error names the path.
        #expect(throws: RuntimeError.self) { try AtomicFile.write([1], to: dir + "/no/such/dir/a.png") }
    }

    @Test func memoryAccountantPeaks() async {
        let m = MemoryAccountant()
        m.charge(100, to: .weights(.model))
        m.charge(50, to: .kvCache)
        m.release(50, from: .kvCache)
        m.charge(30, to: .activations)
        var r = m.report
        #expect(r.categories[.weights(.model)] == .init(current: 100, peak: 100))
        #expect(r.categories[.kvCache] == .init(current: 0, peak: 50))
        #expect(r.total == .init(current: 130, peak: 150))   // peak of the sum, not the sum of peaks (180)
        m.release(1000, from: .activations)                  // over-release clamps
        #expect(m.current(.activations) == 0)
        // Concurrent charges balance out.
        await withTaskGroup(of: Void.self) { g in
            for _ in 0..<8 { g.addTask { for _ in 0..<1000 { m.charge(3, to: .workspace); m.release(3, from: .workspace) } } }
        }
        r = m.report
        #expect(r.categories[.workspace]?.current == 0)
        #expect((r.categories[.workspace]?.peak ?? 0) >= 3)
        m.resetPeaks()
        #expect(m.report.total.peak == 100)
    }

    @Test func processMemoryParsesProcStatus() {
        let status = "Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n"
        #expect(ProcessMemory.parse(status: status) == ProcessMemory(residentBytes: 1 << 20, peakResidentBytes: 2 << 20))
        #expect(ProcessMemory.current().map { $0.residentBytes > 0 && $0.peakResidentBytes >= $0.residentBytes } == true)
    }

    @Test func byteSizes() {
        #expect(ByteSize.parse("6G") == 6 << 30)
        #expect(ByteSize.parse("1.5GiB") == 3 << 29)
        #expect(ByteSize.parse("512m") == 512 << 20)
        #expect(ByteSize.parse("100") == 100)
        #expect(ByteSize.parse("-1G") == nil && ByteSize.parse("lots") == nil)
    }
}
