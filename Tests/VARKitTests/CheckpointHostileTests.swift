import Testing
@testable import VARCore
import VARKit

/// Every hostile file must be refused with a `CheckpointError` naming the problem: no crash, no
/// huge allocation, nothing executed.
@Suite struct CheckpointHostileTests {
    static let corpus = HostileCorpus.all()

    @Test func corpusIsRefusedWithAMessageNamingTheProblem() throws {
        #expect(Self.corpus.count >= 100)
        for file in Self.corpus {
            let path = CheckpointWriters.write(file.bytes, "hostile", file.ext)
            do {
                let ck = try Checkpoint(path: path)
                Issue.record("\(file.name): loaded (\(ck.names.count) tensors) instead of being refused")
            } catch let e as CheckpointError {
                #expect(e.description.contains(file.expect), "\(file.name): \(e)")
                #expect(e.description.contains("HINT:"), "\(file.name)")
            } catch {
                Issue.record("\(file.name): non-CheckpointError \(error)")
            }
        }
    }

    @Test func maliciousGlobalErrorNamesGlobalAndOffset() throws {
        let f = try #require(Self.corpus.first { $0.name == "global os.system" })
        let path = CheckpointWriters.write(f.bytes, "os-system", "pth")
        #expect(throws: CheckpointError.forbiddenGlobal(
            file: path, global: "os.system", offset: 2,
            reason: "not in the allow-list (OrderedDict, _rebuild_tensor_v2, _rebuild_parameter, torch storage classes)")) {
            try Checkpoint(path: path)
        }
    }

    /// Cutting the file anywhere must fail cleanly; so must cutting data.pkl at every byte inside an
    /// otherwise valid archive.
    @Test func truncationAtEveryByte() throws {
        let sample = CheckpointTorchTests.sample()
        let pth = sample.bytes()
        var st = SafetensorsWriter()
        st.f32("a", [2, 2], [1, 2, 3, 4]); st.add("b", "I64", [2], TestEncode.i64([5, 6]))
        let sts = st.bytes()
        for (bytes, ext) in [(pth, "pth"), (sts, "safetensors")] {
            for n in 0..<bytes.count {
                #expect(throws: CheckpointError.self, "\(ext) cut at \(n)") {
                    try Checkpoint(bytes: Array(bytes[..<n]), name: "cut.\(ext)")
                }
            }
        }
        let pickle = sample.pickle()
        for n in 0..<(pickle.count - 1) {
            #expect(throws: CheckpointError.self, "pickle cut at \(n)") {
                try Checkpoint(bytes: sample.bytes(pickle: Array(pickle[..<n])), name: "cut.pth")
            }
        }
    }

    /// The limits hold even when they are small, and teardown of what was built never recurses.
    @Test func pickleLimits() throws {
        var limits = PickleMachine.Limits()
        limits.maxMemo = 10
        limits.maxElements = 100
        var p = PickleWriter()
        p.op(0x4E)
        for i in 0..<20 { p.op(0x71); p.op(UInt8(i)) }
        let memo = p.finished()
        #expect { try memo.withUnsafeBytes { try PickleMachine.stateDict($0, file: "m", limits: limits) } }
            throws: { "\($0)".contains("memo larger than 10") }
        var q = PickleWriter()
        q.op(0x5D); q.op(0x28)
        for _ in 0..<200 { q.op(0x4E) }
        q.op(0x65)
        let many = q.finished()
        #expect { try many.withUnsafeBytes { try PickleMachine.stateDict($0, file: "e", limits: limits) } }
            throws: { "\($0)".contains("more than 100 container elements") }
        limits.maxPickleBytes = 4
        #expect { try many.withUnsafeBytes { try PickleMachine.stateDict($0, file: "e", limits: limits) } }
            throws: { "\($0)".contains("limit 4") }
    }
}
