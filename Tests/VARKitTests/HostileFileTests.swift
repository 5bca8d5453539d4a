import Foundation
import Glibc
import Testing
@testable import VARCore
import VARKit

/// Issue 17 classes 3, 5, 7: only regular files are opened (never blocking), files are named by what they
/// are, names from files are escaped, and pathological files are bounded relative to their size.
@Suite struct HostileFileTests {
    static func directory() -> String {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("vargen-hostile-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    /// Runs `body` on a thread and fails (instead of hanging the suite) if it does not return within 20 s.
    /// On a timeout the FIFO at `fifo` is opened for writing, which releases a reader blocked on it.
    static func withinTimeout(fifo: String, _ what: String, _ body: @escaping @Sendable () -> Error?) -> Error? {
        final class Box: @unchecked Sendable { var error: Error? }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        Thread { box.error = body(); done.signal() }.start()
        if done.wait(timeout: .now() + 20) == .timedOut {
            Issue.record("\(what) blocked on a FIFO")
            let fd = open(fifo, O_WRONLY | O_NONBLOCK)
            if fd >= 0 { close(fd) }
            _ = done.wait(timeout: .now() + 5)
        }
        return box.error
    }

    /// Issue reproduction: a FIFO as checkpoint, model JSON, VQVAE JSON, PNG, token file or any input is
    /// refused at once, naming it.
    @Test func fifoIsRefusedWithoutBlocking() throws {
        let dir = Self.directory()
        let fifo = dir + "/f.pth"
        #expect(mkfifo(fifo, 0o600) == 0)
        let attempts: [(String, @Sendable () throws -> Void)] = [
            ("Checkpoint", { _ = try Checkpoint(path: fifo) }),
            ("VARModel.load", { _ = try VARModel.load(path: fifo) }),
            ("VQVAE.load", { _ = try VQVAE.load(path: fifo) }),
            ("VARConfig.load", { _ = try VARConfig.load(json: fifo) }),
            ("VQVAEConfig", { _ = try VQVAEConfig(contentsOf: URL(fileURLWithPath: fifo)) }),
            ("PNG.read", { _ = try PNG.read(fifo) }),
            ("TokenFile.read", { _ = try TokenFile.read(fifo) }),
            ("FileIO.readAll", { _ = try FileIO.readAll(fifo) }),
        ]
        for (name, body) in attempts {
            let error = Self.withinTimeout(fifo: fifo, name) {
                do { try body(); return nil } catch { return error }
            }
            let text = error.map { "\($0)" } ?? "no error"
            #expect(text.contains("FIFO"), "\(name): \(text)")
        }
        // A JSON beside a checkpoint that is a FIFO: the model's config lookup refuses it too.
        var w = SafetensorsWriter()
        w.f32("a", [1], [1])
        try FileManager.default.copyItem(atPath: w.write("m"), toPath: dir + "/m.safetensors")
        #expect(mkfifo(dir + "/m.json", 0o600) == 0)
        let error = Self.withinTimeout(fifo: dir + "/m.json", "JSON beside a model") {
            do { _ = try VARModel.load(path: dir + "/m.safetensors"); return nil } catch { return error }
        }
        #expect("\(error.map { "\($0)" } ?? "")".contains("FIFO"))
    }

    /// Directories, character devices and sockets are refused by name too.
    @Test func otherFileKindsAreNamed() throws {
        let dir = Self.directory()
        #expect("\(refusal { _ = try Checkpoint(path: dir) })".contains("is a directory"))
        #expect("\(refusal { _ = try PNG.read("/dev/null") })".contains("character device"))
        #expect("\(refusal { _ = try VARConfig.load(json: "/dev/zero") })".contains("character device"))
        // A UNIX socket.
        let socketPath = dir + "/s.sock"
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in socketPath.utf8.prefix(raw.count - 1).enumerated() { raw[i] = b }
        }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if bound == 0 { #expect("\(refusal { _ = try TokenFile.read(socketPath) })".contains("socket")) }
    }

    func refusal(_ body: () throws -> Void) -> String {
        do { try body(); return "accepted" } catch { return "\(error)" }
    }

    /// Issue reproduction: a non-checkpoint is named by its magic bytes, and its bytes never appear as numbers
    /// (the old message printed the first 8 bytes as a "header length").
    @Test(arguments: [
        ("png", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] as [UInt8], "a PNG image"),
        ("json", Array("{\"kind\": \"var\", \"depth\": 16}".utf8), "a JSON document"),
        ("text", Array("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1\n".utf8), "a text file"),
        ("gzip", [0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4], "a gzip archive"),
        ("elf", [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0], "an ELF executable"),
        ("zip", [0x50, 0x4B, 0x05, 0x06] + [UInt8](repeating: 0, count: 18), "ZIP"),
    ])
    func nonCheckpointsAreNamedNotDumped(name: String, bytes: [UInt8], kind: String) throws {
        let path = CheckpointWriters.write(bytes, name, "pth")
        let text = refusal { _ = try Checkpoint(path: path) }
        #expect(text.contains(kind), "\(text)")
        if bytes.count >= 8 {
            let asNumber = String(bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
            #expect(!text.contains(asNumber), "the message shows the file's first bytes as a number: \(text)")
        }
        #expect(!text.contains("header length"))
        // A checkpoint or JSON given where a PNG is expected is named too.
        if kind != "a PNG image" {
            #expect(refusal { _ = try PNG.read(path) }.contains("not a PNG image") || bytes.count < 8)
        }
    }

    /// Issue reproduction: tensor names, pickle globals and JSON strings with terminal escapes are printed in a
    /// visible escaped form.
    @Test func namesFromFilesAreEscaped() throws {
        // The name as JSON escapes in the header: ESC ] 0 ; pwned BEL ESC [ 2 J CR LF "fake line" RLO.
        let evil = "x\\u001b]0;pwned\\u0007\\u001b[2J\\r\\nfake line\\u202e"
        var w = SafetensorsWriter()
        w.f32(evil, [1], [1])
        let contract = refusal { _ = try VQVAE(checkpoint: try Checkpoint(path: w.write("esc")), config: tinyConfig) }
        #expect(contract.contains("\\x1b]0;pwned\\x07") && contract.contains("\\u{202e}"), "\(contract)")
        #expect(!contract.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x0D || $0.value == 0x202E })
        let global = HostileCorpus.pickle("escape in global", "") { p in
            HostileCorpus.textGlobal(&p, "os\u{1B}[31m", "system\u{1B}]2;title\u{07}"); p.op(0x29); p.op(0x52)
        }
        let text = refusal { _ = try Checkpoint(bytes: global.bytes, name: "g.pth") }
        #expect(text.contains("os\\x1b[31m.system\\x1b]2;title\\x07"), "\(text)")
        #expect(!text.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 })
        let json = CheckpointWriters.write(Array("{\"kind\": \"v\\u001b[2Jar\", \"depth\": 1}".utf8), "kind", "json")
        let jsonText = refusal { _ = try VARConfig.load(json: json) }
        #expect(!jsonText.unicodeScalars.contains { $0.value == 0x1B }, "\(jsonText)")
        #expect(DisplayText.escaped("a\\b\u{7F}\u{9B}") == "a\\\\b\\x7f\\x9b")
        #expect(DisplayText.escaped(String(repeating: "n", count: 500)).count == DisplayText.defaultLimit + 1)
    }

    /// Issue reproduction: a 3 MB pickle of nested tuples (377 MB before) is stopped by the container budget
    /// (one per 8 pickle bytes plus 4,096): it fails after ~390,000 containers instead of 3 million.
    @Test func nestedTuplePickleIsBounded() throws {
        let file = HostileCorpus.pickle("3 MB of TUPLE1", "") { p in
            p.op(0x4E); p.bytes([UInt8](repeating: 0x85, count: 3_000_000))
        }
        let text = refusal { _ = try Checkpoint(bytes: file.bytes, name: "tuples.pth") }
        #expect(text.contains("tuples/lists/dicts") && text.contains("one per 8 bytes"), "\(text)")
        // Byte offset of the failure ≈ the budget: the machine stopped early.
        #expect(text.contains("more than \(4096 + 3_000_004 / 8) "))
    }

    /// Issue reproduction in miniature: a safetensors header of empty tensors stops at the tensor cap or the
    /// JSON value budget, whichever comes first, before building any tensor description.
    @Test func headerOfEmptyTensorsIsBounded() throws {
        var header = "{"
        for i in 0..<20_000 { header += "\"t\(i)\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}," }
        header.removeLast(); header += "}"
        let text = refusal { _ = try Checkpoint(bytes: SafetensorsWriter().bytes(header: header), name: "empty.safetensors") }
        #expect(text.contains("at most 16384 tensors"), "\(text)")
    }

    /// `.pth` views may share a storage, but not so that the tensors describe more than 4× the file.
    @Test func sharedStorageViewsAreBounded() throws {
        var w = TorchSaveWriter()
        let n = 4096
        w.add(TorchTensorSpec("t0", storage: "0", numel: n, size: [n]), TestEncode.f32([Float](repeating: 1, count: n)))
        for i in 1..<600 { w.add(TorchTensorSpec("t\(i)", storage: "0", numel: n, size: [n])) }
        let text = refusal { _ = try Checkpoint(bytes: w.bytes(), name: "views.pth") }
        #expect(text.contains("more than 4× the file"), "\(text)")
    }
}
