import Foundation
import Testing
@testable import VARCore
import VARKit

@Suite struct CheckpointSafetensorsTests {
    @Test func roundTripsAllDTypes() throws {
        var w = SafetensorsWriter()
        w.metadata = ["format": "pt"]
        w.f32("a.weight", [2, 3], [1, -2, 3.5, 0, .infinity, -.infinity])
        w.add("b.half", "F16", [2], TestEncode.f16([0.5, -1.25]))
        w.add("c.bf", "BF16", [1, 2], TestEncode.bf16([2, -0.375]))
        w.add("d.double", "F64", [3], TestEncode.f64([1e-3, 2, -7]))
        w.add("lvl_1L", "I64", [1, 4], TestEncode.i64([0, 1, 1, 9]))
        w.add("scalar", "F32", [], TestEncode.f32([42]))
        w.add("empty", "F32", [0, 5], [])
        let ck = try Checkpoint(path: w.write())
        #expect(ck.format == .safetensors)
        #expect(ck.metadata == ["format": "pt"])
        #expect(Set(ck.names) == ["a.weight", "b.half", "c.bf", "d.double", "lvl_1L", "scalar", "empty"])
        #expect(ck.entry("a.weight") == TensorEntry(name: "a.weight", dtype: .float32, shape: [2, 3]))
        #expect(try ck.tensor("a.weight").data == [1, -2, 3.5, 0, .infinity, -.infinity])
        #expect(try ck.tensor("b.half").data == [0.5, -1.25])
        #expect(try ck.tensor("c.bf") == Tensor(shape: [1, 2], data: [2, -0.375]))
        #expect(try ck.tensor("d.double").data == [Float(1e-3), 2, -7])
        #expect(try ck.int64s("lvl_1L") == [0, 1, 1, 9])
        #expect(try ck.tensor("scalar") == Tensor(shape: [], data: [42]))
        #expect(try ck.tensor("empty").shape == [0, 5])
        #expect(ck.isZeroCopy("a.weight"))
        let sum = try ck.withFloat32Storage("a.weight") { $0.prefix(4).reduce(0, +) }
        #expect(sum == 2.5)
        #expect(throws: CheckpointError.wrongDType(file: ck.path, key: "a.weight", dtype: .float32,
                                                   wanted: "an integer dtype")) { try ck.int64s("a.weight") }
        #expect(throws: CheckpointError.tensorNotFound(file: ck.path, key: "nope")) { try ck.tensor("nope") }
    }

    /// Regression: a header of 640 bytes starts the file with `80 02`, like a legacy torch pickle.
    @Test func headerLengthStartingWith0x80IsNotLegacyTorch() throws {
        var w = SafetensorsWriter()
        w.f32("x", [2], [1, 2])
        let bytes = w.bytes(headerLength: 640)
        #expect(bytes[0] == 0x80 && bytes[1] == 0x02)
        let ck = try Checkpoint(path: CheckpointWriters.write(bytes, "st80", "safetensors"))
        #expect(try ck.tensor("x").data == [1, 2])
    }

    @Test func refusesBadHeaders() throws {
        func expectBad(_ bytes: [UInt8], _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
            let path = CheckpointWriters.write(bytes, "bad", "safetensors")
            do {
                _ = try Checkpoint(path: path)
                Issue.record("expected an error mentioning \(fragment)", sourceLocation: sourceLocation)
            } catch let e as CheckpointError {
                #expect(e.description.contains(fragment), "\(e)", sourceLocation: sourceLocation)
            } catch {
                Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
            }
        }
        var w = SafetensorsWriter()
        w.f32("x", [2], [1, 2])
        w.f32("y", [1], [3])
        expectBad(w.bytes(header: w.header(offsets: [(0, 8), (4, 8)])), "overlaps")
        expectBad(w.bytes(header: w.header(offsets: [(0, 8), (12, 16)])), "run past")
        var header = w.bytes()
        header.put64(1 << 40, at: 0)
        expectBad(header, "not the length of a JSON header")
        header.put64(1000, at: 0)
        expectBad(header, "not the length of a JSON header")
        expectBad(w.bytes(header: "{\"x\":{\"dtype\":\"U32\",\"shape\":[2],\"data_offsets\":[0,8]}}"), "U32")
        expectBad(w.bytes(header: "{\"x\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}"),
                  "overflows")
        expectBad(w.bytes(header: "{\"x\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}"), "non-negative")
        expectBad(w.bytes(header: "{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}"), "needs 12")
        expectBad(w.bytes(header: "[1,2]"), "not a JSON object")
        expectBad(w.bytes(header: String(repeating: "[", count: 100_000)), "deeper")
        expectBad(w.bytes(header: "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}"),
                  "data section has 12 bytes")
        expectBad([1, 2, 3], "not the length of a JSON header")
    }
}
