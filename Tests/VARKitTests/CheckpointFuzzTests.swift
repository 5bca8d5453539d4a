import Foundation
import Testing
@testable import VARCore
import VARKit

/// Mutation fuzzing of small valid checkpoints (both formats): every mutated file must either load
/// (and then read without trapping) or throw a `CheckpointError`. A crash fails the whole run.
///
/// CI runs 3,000 seeded iterations (a few seconds). Long runs outside CI:
/// `VARGEN_FUZZ_ITERATIONS=1000000 VARGEN_FUZZ_SEED=7 VARGEN_FUZZ_SAVE=fuzz-input.bin \
///  swift test -c release -Xswiftc -enable-testing --filter CheckpointFuzz`
/// (`VARGEN_FUZZ_SAVE` keeps the current input on disk, so a crash leaves its reproducer behind.)
@Suite struct CheckpointFuzzTests {
    typealias RNG = SplitMix64

    struct Seed { var name: String; var bytes: [UInt8]; var hot: Range<Int> }

    /// Valid inputs, each with the region most worth mutating (data.pkl, or the safetensors header).
    static func seeds() -> [Seed] {
        var out: [Seed] = []
        for (proto, zip64) in [(2, TorchSaveWriter.Zip64.none), (4, .all), (2, .offsets)] {
            let w = CheckpointTorchTests.sample(proto: proto, ordered: proto == 2, zip64: zip64)
            let bytes = w.bytes()
            let pickle = w.pickle()
            let start = bytes.offsets(of: Array(pickle.prefix(12))).first ?? 0
            out.append(Seed(name: "pth-p\(proto)-\(zip64)", bytes: bytes, hot: start..<(start + pickle.count)))
        }
        var st = SafetensorsWriter()
        st.metadata = ["format": "pt"]
        st.f32("a.weight", [2, 3], [1, 2, 3, 4, 5, 6])
        st.add("b", "F16", [2], TestEncode.f16([1, 2]))
        st.add("c", "BF16", [2], TestEncode.bf16([1, 2]))
        st.add("lvl", "I64", [1, 2], TestEncode.i64([0, 1]))
        let sb = st.bytes()
        let headerEnd = 8 + Int(sb[0]) + Int(sb[1]) << 8
        out.append(Seed(name: "safetensors", bytes: sb, hot: 0..<headerEnd))
        return out
    }

    static let interesting: [UInt64] = [0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000,
                                        0xFFFF_FFFF, 1 << 32, 1 << 40, 1 << 62, 0x7FFF_FFFF_FFFF_FFFF, UInt64.max]

    static func mutate(_ input: [UInt8], hot: Range<Int>, _ rng: inout RNG) -> [UInt8] {
        var b = input
        let rounds = 1 + rng.below(3)
        for _ in 0..<rounds {
            guard !b.isEmpty else { return b }
            // Half of the mutations land in the structured region.
            let region = rng.below(2) == 0 && hot.upperBound <= b.count ? hot : 0..<b.count
            let at = region.lowerBound + rng.below(region.count)
            switch rng.below(7) {
            case 0: b[at] ^= UInt8(1) << UInt8(rng.below(8))
            case 1: b[at] = UInt8(truncatingIfNeeded: interesting[rng.below(interesting.count)])
            case 2:
                let v = interesting[rng.below(interesting.count)]
                let width = [2, 4, 8][rng.below(3)]
                for k in 0..<width where at + k < b.count { b[at + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) }
            case 3: b.removeLast(rng.below(b.count + 1))
            case 4: b.removeSubrange(at..<min(b.count, at + 1 + rng.below(16)))
            case 5:
                let from = rng.below(b.count)
                let chunk = Array(b[from..<min(b.count, from + 1 + rng.below(32))])
                b.insert(contentsOf: chunk, at: at)
            default: b[at] = UInt8(truncatingIfNeeded: rng.next())
            }
        }
        return b
    }

    @Test func mutatedCheckpointsLoadOrThrow() throws {
        let env = ProcessInfo.processInfo.environment
        let iterations = env["VARGEN_FUZZ_ITERATIONS"].flatMap { Int($0) } ?? 3000
        var rng = RNG(seed: env["VARGEN_FUZZ_SEED"].flatMap { UInt64($0) } ?? 20_261_126)
        let savePath = env["VARGEN_FUZZ_SAVE"]
        let seeds = Self.seeds()
        for s in seeds { _ = try Checkpoint(bytes: s.bytes, name: s.name) }  // the seeds themselves are valid
        var loaded = 0
        var refused = 0
        for i in 0..<iterations {
            let seed = seeds[i % seeds.count]
            let bytes = Self.mutate(seed.bytes, hot: seed.hot, &rng)
            if let save = savePath {  // after a crash this file holds the input that caused it
                _ = FileManager.default.createFile(atPath: save, contents: Data(bytes))
            }
            do {
                let ck = try Checkpoint(bytes: bytes, name: "\(seed.name)#\(i)")
                loaded += 1
                for name in ck.names {
                    let entry = try #require(ck.entry(name))
                    #expect(entry.count <= bytes.count)  // every allocation is bounded by the file
                    _ = try ck.tensor(name)
                    _ = try? ck.int64s(name)
                    _ = try ck.withFloat32Storage(name) { $0.count }
                    _ = try ck.rawBytes(name)
                }
            } catch is CheckpointError {
                refused += 1
            }
        }
        #expect(loaded + refused == iterations)
        #expect(refused > 0)
    }
}
