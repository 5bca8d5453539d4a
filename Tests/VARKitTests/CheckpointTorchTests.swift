import Testing
@testable import VARCore
import VARKit

@Suite struct CheckpointTorchTests {
    /// A small state dict: f32 weight, f16 and bf16 tensors, an int64 buffer, a strided view with
    /// an offset into a shared storage, a 0-d tensor.
    static func sample(proto: Int = 2, ordered: Bool = true, singleSetItem: Bool = false,
                       zip64: TorchSaveWriter.Zip64 = .none, prefix: String = "archive") -> TorchSaveWriter {
        var w = TorchSaveWriter()
        w.proto = proto; w.ordered = ordered; w.singleSetItem = singleSetItem; w.zip64 = zip64; w.prefix = prefix
        w.add(TorchTensorSpec("conv.weight", storage: "0", numel: 6, size: [2, 3]), TestEncode.f32([1, 2, 3, 4, 5, 6]))
        w.add(TorchTensorSpec("half", storage: "1", storageClass: "HalfStorage", numel: 2, size: [2]),
              TestEncode.f16([0.5, -3]))
        w.add(TorchTensorSpec("bf", storage: "2", storageClass: "BFloat16Storage", numel: 3, size: [3]),
              TestEncode.bf16([1, -2, 0.25]))
        w.add(TorchTensorSpec("lvl_1L", storage: "3", storageClass: "LongStorage", numel: 4, size: [1, 4]),
              TestEncode.i64([0, 1, 1, 1 << 40]))
        // Transposed view of storage 0 with offset: rows of conv.weight's storage [1..6] read as
        // offset 1, size (2, 2), stride (1, 3) → [[2, 5], [3, 6]].
        w.add(TorchTensorSpec("view", storage: "0", numel: 6, offset: 1, size: [2, 2], stride: [1, 3]))
        w.add(TorchTensorSpec("scalar", storage: "4", numel: 1, size: [], parameter: true), TestEncode.f32([7]))
        return w
    }

    func checkSample(_ ck: Checkpoint) throws {
        #expect(ck.format == .torchZip)
        #expect(ck.names == ["conv.weight", "half", "bf", "lvl_1L", "view", "scalar"])
        #expect(ck.entry("lvl_1L") == TensorEntry(name: "lvl_1L", dtype: .int64, shape: [1, 4]))
        #expect(try ck.tensor("conv.weight") == Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6]))
        #expect(try ck.tensor("half").data == [0.5, -3])
        #expect(try ck.tensor("bf").data == [1, -2, 0.25])
        #expect(try ck.int64s("lvl_1L") == [0, 1, 1, 1 << 40])
        #expect(try ck.tensor("view") == Tensor(shape: [2, 2], data: [2, 5, 3, 6]))
        #expect(try ck.tensor("scalar") == Tensor(shape: [], data: [7]))
        #expect(ck.isZeroCopy("conv.weight") && !ck.isZeroCopy("view"))
        #expect(try ck.withFloat32Storage("view") { Array($0) } == [2, 5, 3, 6])
        #expect(try ck.rawBytes("view") == nil)
    }

    @Test(arguments: [2, 4]) func roundTripsOrderedDict(proto: Int) throws {
        try checkSample(try Checkpoint(path: Self.sample(proto: proto).write()))
    }

    @Test func roundTripsPlainDictWithSingleSetItems() throws {
        try checkSample(try Checkpoint(path: Self.sample(ordered: false, singleSetItem: true, prefix: "renamed").write()))
    }

    @Test(arguments: [TorchSaveWriter.Zip64.offsets, .all]) func roundTripsZip64(mode: TorchSaveWriter.Zip64) throws {
        try checkSample(try Checkpoint(path: Self.sample(zip64: mode).write()))
    }

    @Test func payloadsAreAligned() throws {
        let ck = try Checkpoint(path: Self.sample().write())
        let raw = try #require(try ck.rawBytes("conv.weight"))
        let base = try #require(try ck.rawBytes("conv.weight")?.baseAddress)
        #expect(raw.count == 24 && Int(bitPattern: base) % 64 == 0)
    }

    @Test func refusesLegacyAndBigEndian() throws {
        let legacy = CheckpointWriters.write([0x80, 0x02, 0x8A, 0x0A], "legacy", "pth")
        #expect { try Checkpoint(path: legacy) } throws: { "\($0)".contains("legacy") }
        var w = Self.sample()
        w.byteorder = "big"
        let path = w.write()
        #expect { try Checkpoint(path: path) } throws: { "\($0)".contains("byteorder is `big`") }
    }
}
