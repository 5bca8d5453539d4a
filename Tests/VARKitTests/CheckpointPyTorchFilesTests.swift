import Foundation
import Testing
@testable import VARCore
import VARKit

/// Opt-in check against files written by real PyTorch (not committed: they need torch to make).
///
/// For each `X.pth` in `$VARGEN_TORCH_SAMPLES` there is an `X.json` written by
/// `torch.load(X.pth)` → `{"names": [...], "tensors": {key: {"shape": [...], "float": [...]}}}`
/// (non-finite values as strings). Samples used during development (torch 2.15): a `Sequential`'s
/// `state_dict()` (OrderedDict + `_metadata`), a plain dict with a transpose, an offset slice,
/// f16/bf16/f64/i64/i32/bool/u8, a 0-d and an empty tensor and −inf, the same dict with
/// `pickle_protocol=4`, and `{"w": nn.Parameter(...)}` (`_rebuild_parameter`); the JSON came from
/// `{k: {"shape": list(v.shape), "float": v.double().flatten().tolist()} for k, v in sd.items()}`.
/// Run:
/// `VARGEN_TORCH_SAMPLES=samples swift test -c release -Xswiftc -enable-testing --filter CheckpointPyTorchFiles`
@Suite struct CheckpointPyTorchFilesTests {
    @Test func matchesTorchLoad() throws {
        guard let dir = ProcessInfo.processInfo.environment["VARGEN_TORCH_SAMPLES"] else { return }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".pth") }
        #expect(!files.isEmpty)
        for f in files.sorted() {
            let ck = try Checkpoint(path: dir + "/" + f)
            let jsonPath = dir + "/" + f.dropLast(4) + ".json"
            let data = try Data(contentsOf: URL(fileURLWithPath: jsonPath))
            let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let names = try #require(root["names"] as? [String])
            #expect(ck.names == names, "\(f)")
            let tensors = try #require(root["tensors"] as? [String: [String: Any]])
            for name in names {
                let spec = try #require(tensors[name])
                let shape = try #require(spec["shape"] as? [Int])
                let expected: [Float] = try #require(spec["float"] as? [Any]).map {
                    if let d = $0 as? Double { return Float(d) }
                    return Float($0 as? String ?? "nan") ?? .nan
                }
                let t = try ck.tensor(name)
                #expect(t.shape == shape, "\(f) \(name)")
                #expect(t.data == expected, "\(f) \(name)")
            }
        }
    }
}
