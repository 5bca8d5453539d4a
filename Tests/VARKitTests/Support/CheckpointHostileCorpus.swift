@testable import VARCore
import VARKit

/// Hostile checkpoints built in memory: each must be refused with a `CheckpointError` whose message
/// contains `expect`. Built from the valid sample of `CheckpointTorchTests` by replacing the pickle,
/// patching ZIP fields, or writing malformed safetensors headers.
struct HostileFile {
    var name: String
    var ext: String
    var bytes: [UInt8]
    var expect: String
}

enum HostileCorpus {
    /// The sample archive with `ops` as data.pkl (PROTO 2 prepended, STOP appended unless `stop` is false).
    static func pickle(_ name: String, _ expect: String, proto: Int = 2, stop: Bool = true,
                       _ ops: (inout PickleWriter) -> Void) -> HostileFile {
        var p = PickleWriter(proto: proto)
        ops(&p)
        var bytes = p.finished()
        if !stop { bytes.removeLast() }
        return HostileFile(name: name, ext: "pth", bytes: CheckpointTorchTests.sample().bytes(pickle: bytes),
                           expect: expect)
    }

    /// Emit `GLOBAL module name` (text form), bypassing the writer's memo.
    static func textGlobal(_ p: inout PickleWriter, _ module: String, _ name: String) {
        p.op(0x63); p.bytes(Array("\(module)\n\(name)\n".utf8))
    }

    /// A persistent-id storage tuple with the given fields already pushed by `fields`.
    static func rebuild(_ p: inout PickleWriter, args: Int = 6, pid: ((inout PickleWriter) -> Void)? = nil,
                        size: [Int] = [2, 3], stride: [Int]? = nil, offset: Int = 0, seventh: ((inout PickleWriter) -> Void)? = nil) {
        textGlobal(&p, "torch._utils", "_rebuild_tensor_v2")
        p.op(0x28)
        p.op(0x28)
        if let pid { pid(&p) } else {
            p.rawString("storage"); textGlobal(&p, "torch", "FloatStorage"); p.rawString("0"); p.rawString("cpu"); p.int(6)
        }
        p.op(0x74)
        p.op(0x51)
        p.int(offset)
        p.intTuple(size)
        p.intTuple(stride ?? StoredTensor.contiguousStrides(size))
        p.op(0x89)
        p.op(0x7D)
        if args == 7 { if let seventh { seventh(&p) } else { p.op(0x4E) } }
        if args == 5 { p.op(0x30) }
        if args == 8 { p.op(0x4E); p.op(0x4E) }
        p.op(0x74)
        p.op(0x52)
    }

    /// `{"w": <tensor from rebuild(...)>}`.
    static func stateDict(_ p: inout PickleWriter, _ tensor: (inout PickleWriter) -> Void) {
        p.op(0x7D); p.rawString("w"); tensor(&p); p.op(0x73)
    }

    static func pickles() -> [HostileFile] {
        var out: [HostileFile] = []
        // Code-execution attempts.
        for (m, n) in [("os", "system"), ("builtins", "eval"), ("subprocess", "Popen"), ("builtins", "exec"),
                       ("torch", "load"), ("collections", "defaultdict"), ("torch._utils", "_rebuild_device_tensor_from_numpy")] {
            out.append(pickle("global \(m).\(n)", "global `\(m).\(n)`") { p in
                textGlobal(&p, m, n); p.rawString("touch /tmp/pwned"); p.op(0x85); p.op(0x52)
            })
        }
        out.append(pickle("posix.system via STACK_GLOBAL", "global `posix.system`", proto: 4) { p in
            p.rawString("posix"); p.rawString("system"); p.op(0x93); p.rawString("id"); p.op(0x85); p.op(0x52)
        })
        out.append(pickle("STACK_GLOBAL of non-strings", "STACK_GLOBAL needs two strings", proto: 4) { p in
            p.int(1); p.int(2); p.op(0x93)
        })
        // REDUCE on things that are not allow-listed callables.
        out.append(pickle("REDUCE on a storage class", "may not be called") { p in
            textGlobal(&p, "torch", "FloatStorage"); p.op(0x29); p.op(0x52)
        })
        out.append(pickle("REDUCE on a string", "not callable") { p in
            p.rawString("os.system"); p.op(0x29); p.op(0x52)
        })
        out.append(pickle("REDUCE with non-tuple args", "not a tuple") { p in
            textGlobal(&p, "collections", "OrderedDict"); p.op(0x4E); p.op(0x52)
        })
        out.append(pickle("OrderedDict with arguments", "no arguments") { p in
            textGlobal(&p, "collections", "OrderedDict"); p.op(0x5D); p.op(0x85); p.op(0x52)
        })
        for arity in [5, 8] {
            out.append(pickle("_rebuild_tensor_v2 with \(arity) args", "called with \(arity) arguments") { p in
                stateDict(&p) { rebuild(&$0, args: arity) }
            })
        }
        out.append(pickle("_rebuild_tensor_v2 with metadata", "metadata") { p in
            stateDict(&p) { rebuild(&$0, args: 7, seventh: { q in q.op(0x7D); q.rawString("k"); q.int(1); q.op(0x73) }) }
        })
        out.append(pickle("_rebuild_tensor_v2 on a non-storage", "not a storage") { p in
            stateDict(&p) { q in
                textGlobal(&q, "torch._utils", "_rebuild_tensor_v2")
                q.op(0x28); q.int(0); q.int(0); q.intTuple([1]); q.intTuple([1]); q.op(0x89); q.op(0x7D); q.op(0x74); q.op(0x52)
            }
        })
        out.append(pickle("_rebuild_parameter on an int", "expects (tensor") { p in
            textGlobal(&p, "torch._utils", "_rebuild_parameter"); p.int(1); p.op(0x89); p.op(0x7D); p.op(0x87); p.op(0x52)
        })
        out.append(pickle("BUILD on a tuple", "BUILD on a tuple") { p in p.op(0x29); p.op(0x7D); p.op(0x62) })
        out.append(pickle("BUILD on a list", "BUILD on a list") { p in p.op(0x5D); p.op(0x4E); p.op(0x62) })
        // Opcodes that construct or look up objects.
        for (op, name) in [(UInt8(0x69), "INST"), (0x6F, "OBJ"), (0x81, "NEWOBJ"), (0x92, "NEWOBJ_EX"), (0x82, "EXT1"),
                           (0x83, "EXT2"), (0x84, "EXT4"), (0x50, "PERSID"), (0x56, "UNICODE"), (0x8F, "EMPTY_SET"),
                           (0xFF, "unknown opcode"), (0x00, "unknown opcode")] {
            let hex = (op < 16 ? "0" : "") + String(op, radix: 16)
            let expect = name == "unknown opcode" ? "unknown pickle opcode (0x\(hex))" : "pickle opcode \(name) (0x\(hex))"
            out.append(pickle("opcode \(name)", expect) { p in
                if op == 0x69 { p.op(0x28); p.op(op); p.bytes(Array("os\nsystem\n".utf8)) }
                else if op == 0x50 { p.op(op); p.bytes(Array("0\n".utf8)) }
                else { p.op(0x4E); p.op(op); p.op(1); p.op(1) }
            })
        }
        // Persistent ids that are not ("storage", cls, key, location, numel).
        let pids: [(String, String, (inout PickleWriter) -> Void)] = [
            ("4-tuple pid", "of 4 items", { q in q.rawString("storage"); textGlobal(&q, "torch", "FloatStorage"); q.rawString("0"); q.rawString("cpu") }),
            ("pid tag", "does not start with \"storage\"", { q in q.rawString("module"); textGlobal(&q, "torch", "FloatStorage"); q.rawString("0"); q.rawString("cpu"); q.int(6) }),
            ("pid class", "not a torch storage class", { q in q.rawString("storage"); textGlobal(&q, "collections", "OrderedDict"); q.rawString("0"); q.rawString("cpu"); q.int(6) }),
            ("pid key", "storage key is an int", { q in q.rawString("storage"); textGlobal(&q, "torch", "FloatStorage"); q.int(0); q.rawString("cpu"); q.int(6) }),
            ("pid numel", "element count is out of range", { q in q.rawString("storage"); textGlobal(&q, "torch", "FloatStorage"); q.rawString("0"); q.rawString("cpu"); q.int(-6) }),
            ("pid missing storage", "data/77` is missing", { q in q.rawString("storage"); textGlobal(&q, "torch", "FloatStorage"); q.rawString("77"); q.rawString("cpu"); q.int(6) }),
            ("pid path traversal", "is missing", { q in q.rawString("storage"); textGlobal(&q, "torch", "FloatStorage"); q.rawString("../../etc/passwd"); q.rawString("cpu"); q.int(6) }),
            ("numel 2^60", "need 4611686018427387904", { q in q.rawString("storage"); textGlobal(&q, "torch", "FloatStorage"); q.rawString("0"); q.rawString("cpu"); q.int(1 << 60) }),
            ("numel 2^62 overflow", "more than 2^63", { q in q.rawString("storage"); textGlobal(&q, "torch", "FloatStorage"); q.rawString("0"); q.rawString("cpu"); q.int(1 << 62) }),
            ("numel wider than 64 bits", "out of range", { q in q.rawString("storage"); textGlobal(&q, "torch", "FloatStorage"); q.rawString("0"); q.rawString("cpu"); q.op(0x8A); q.op(9); q.bytes([0, 0, 0, 0, 0, 0, 0, 0, 1]) }),
        ]
        for (name, expect, pid) in pids {
            out.append(pickle(name, expect) { p in stateDict(&p) { rebuild(&$0, pid: pid) } })
        }
        out.append(pickle("text persistent id via BINPERSID", "persistent id is a str") { p in
            stateDict(&p) { q in q.rawString("storage 0"); q.op(0x51) }
        })
        // Views that do not fit their storage.
        out.append(pickle("shape product overflow", "too many elements") { p in
            stateDict(&p) { rebuild(&$0, size: [1 << 32, 1 << 32], stride: [1, 1]) }
        })
        out.append(pickle("stride overflow", "strides") { p in
            stateDict(&p) { rebuild(&$0, size: [2, 2], stride: [1 << 62, 1 << 62]) }
        })
        out.append(pickle("view past storage", "reaches element 6") { p in
            stateDict(&p) { rebuild(&$0, size: [2, 3], offset: 1) }
        })
        out.append(pickle("stride-0 expansion bomb", "overlapping strides") { p in
            stateDict(&p) { rebuild(&$0, size: [1 << 20, 1 << 20], stride: [0, 0]) }
        })
        out.append(pickle("negative stride", "negative stride") { p in
            stateDict(&p) { rebuild(&$0, size: [2, 3], stride: [-3, 1]) }
        })
        out.append(pickle("negative offset", "negative storage offset") { p in
            stateDict(&p) { rebuild(&$0, offset: -1) }
        })
        out.append(pickle("rank mismatch", "size has 2 dimensions but stride has 1") { p in
            stateDict(&p) { rebuild(&$0, size: [2, 3], stride: [1]) }
        })
        out.append(pickle("shared storage with two numels", "elsewhere") { p in
            p.op(0x7D)
            p.rawString("a"); rebuild(&p); p.op(0x73)
            p.rawString("b")
            rebuild(&p, pid: { q in q.rawString("storage"); textGlobal(&q, "torch", "FloatStorage"); q.rawString("0"); q.rawString("cpu"); q.int(5) }, size: [5])
            p.op(0x73)
        })
        // Oversized lengths and truncation inside the pickle.
        out.append(pickle("BINUNICODE8 length 2^62", "runs past the end", proto: 4) { p in
            p.op(0x8D); p.out.le64(UInt64(1) << 62); p.bytes([0x41, 0x41])
        })
        out.append(pickle("BINUNICODE length 2^32-1", "truncated") { p in p.op(0x58); p.out.le32(-1) })
        out.append(pickle("LONG4 length 2^31-1", "truncated") { p in p.op(0x8B); p.out.le32(Int(Int32.max)) })
        out.append(pickle("LONG4 negative length", "negative LONG4") { p in p.op(0x8B); p.out.le32(-5) })
        out.append(pickle("FRAME past the end", "FRAME of", proto: 2) { p in p.op(0x95); p.out.le64(1 << 40) })
        out.append(pickle("protocol 6", "unsupported pickle protocol 6") { p in p.op(0x80); p.op(6) })
        out.append(pickle("no STOP", "no STOP", stop: false) { p in p.op(0x7D) })
        out.append(pickle("GLOBAL without newline", "truncated GLOBAL", stop: false) { p in p.op(0x63); p.bytes(Array("os".utf8)) })
        out.append(pickle("invalid UTF-8 key", "not valid UTF-8") { p in p.op(0x58); p.out.le32(2); p.bytes([0xC3, 0x28]) })
        // Stack and memo misuse.
        out.append(pickle("empty stack STOP", "stack underflow") { _ in })
        out.append(pickle("SETITEM underflow", "stack underflow") { p in p.op(0x73) })
        out.append(pickle("SETITEMS odd", "odd number") { p in p.op(0x7D); p.op(0x28); p.int(1); p.op(0x75) })
        out.append(pickle("SETITEM on a list", "SETITEM(S) on a list") { p in p.op(0x5D); p.int(1); p.int(2); p.op(0x73) })
        out.append(pickle("APPEND on a dict", "not a list") { p in p.op(0x7D); p.int(1); p.op(0x61) })
        out.append(pickle("TUPLE without MARK", "no MARK") { p in p.int(1); p.op(0x74) })
        out.append(pickle("pop across MARK", "MARK") { p in p.int(1); p.op(0x28); p.op(0x85) })
        out.append(pickle("STOP with open MARK", "open MARK") { p in p.op(0x7D); p.op(0x28) })
        out.append(pickle("BINGET of unknown memo", "never stored") { p in p.op(0x6A); p.out.le32(123_456) })
        out.append(pickle("BINPUT on empty stack", "stack underflow") { p in p.op(0x71); p.op(0) })
        out.append(pickle("MARK bomb", "open MARKs") { p in p.bytes([UInt8](repeating: 0x28, count: 70_000)) })
        out.append(pickle("stack bomb", "stack deeper") { p in
            p.op(0x4E); p.op(0x71); p.op(0); p.bytes(Array([UInt8]([0x68, 0]).repeated(1_100_000)))
        })
        out.append(pickle("memo self-reference", "not a state dict") { p in
            p.op(0x5D); p.op(0x71); p.op(0); p.op(0x68); p.op(0); p.op(0x61)  // l.append(l)
            p.op(0x7D); p.op(0x71); p.op(1); p.rawString("self"); p.op(0x68); p.op(1); p.op(0x73); p.op(0x61)
        })
        // The container budget (one per 8 pickle bytes) stops these ~79k levels deep, still deep enough
        // that a recursive teardown would overflow the stack.
        out.append(pickle("deep nesting (600k TUPLE1)", "tuples/lists/dicts") { p in
            p.op(0x4E); p.bytes([UInt8](repeating: 0x85, count: 600_000))
        })
        // Regression (found by the fuzzer): a deep structure still on the stack or in the memo when an
        // error is thrown crashed teardown with a recursive release.
        out.append(pickle("deep nesting on the stack at an error", "tuples/lists/dicts") { p in
            p.op(0x4E); p.bytes([UInt8](repeating: 0x85, count: 600_000)); p.op(0xFF)
        })
        out.append(pickle("deep nesting in the memo at an error", "tuples/lists/dicts") { p in
            p.op(0x4E); p.bytes([UInt8](repeating: 0x85, count: 600_000)); p.op(0x71); p.op(0); p.op(0x30); p.op(0x30)
        })
        // Regression (found by the fuzzer, release builds only): POP_MARK over memoised values, then an
        // error; teardown crashed destroying the memo before PickleValue became `indirect`.
        out.append(pickle("POP_MARK over memoised values", "unknown pickle opcode (0x2d)") { p in
            p.op(0x29); p.op(0x28); p.rawString("conv.weight"); p.op(0x71); p.op(2)
            textGlobal(&p, "collections", "OrderedDict"); p.op(0x31); p.op(0x2D)
        })
        out.append(pickle("deep nesting of lists", "tuples/lists/dicts") { p in
            p.op(0x5D); p.bytes(Array([UInt8]([0x5D, 0x61]).repeated(300_000)))  // wrong nesting is fine too
        })
        // Wrong top-level structure.
        out.append(pickle("top-level list", "is a list, not a state dict") { p in p.op(0x5D) })
        out.append(pickle("non-tensor value", "value is an int") { p in p.op(0x7D); p.rawString("w"); p.int(3); p.op(0x73) })
        out.append(pickle("non-string key", "key is an int") { p in p.op(0x7D); p.int(1); p.op(0x7D); p.op(0x73) })
        return out
    }

    static func archives() -> [HostileFile] {
        var out: [HostileFile] = []
        let sample = CheckpointTorchTests.sample()
        let good = sample.bytes()
        func patched(_ name: String, _ expect: String, _ base: [UInt8]? = nil, _ edit: (inout [UInt8]) -> Void) {
            var b = base ?? good
            edit(&b)
            out.append(HostileFile(name: name, ext: "pth", bytes: b, expect: expect))
        }
        let central = good.offsets(of: [0x50, 0x4B, 0x01, 0x02])
        let eocd = good.offsets(of: [0x50, 0x4B, 0x05, 0x06]).last!
        patched("compressed entry (deflate)", "compressed (method 8)") { $0[central[0] + 10] = 8 }
        patched("encrypted entry", "encrypted") { $0[central[0] + 8] |= 1 }
        patched("zip bomb by declared size", "declares 1099511627776 bytes") { $0.put32(0, at: central[2] + 20); $0.put32(0, at: central[2] + 24)
            // make the byteorder entry claim 1 TiB through a ZIP64 extra field is tested below; here 32-bit
            $0.put32(Int(UInt32.max - 1), at: central[2] + 20); $0.put32(Int(UInt32.max - 1), at: central[2] + 24) }
        out[out.count - 1].expect = "declares 4294967294 bytes"
        patched("sizes disagree", "compressed size") { $0.put32(5, at: central[0] + 20) }
        patched("local header offset into garbage", "no local file header") { $0.put32(3, at: central[0] + 42) }
        patched("local header offset past the file", "no local file header") { $0.put32(Int(UInt32.max - 1), at: central[0] + 42) }
        patched("local name mismatch", "local header name differs") { $0[30] ^= 0x20 }
        patched("central directory past the file", "lies outside the file") { $0.put32(good.count, at: eocd + 16) }
        patched("entry count too large", "cannot fit") { $0.put16(0xFFFE, at: eocd + 8); $0.put16(0xFFFE, at: eocd + 10) }
        patched("bad central signature", "expected a central directory record") { $0[central[1]] = 0 }
        patched("multi-disk", "multi-disk") { $0.put16(1, at: eocd + 4) }
        patched("no EOCD", "no end-of-central-directory") { $0.removeLast(22) }
        patched("name with invalid UTF-8", "not valid UTF-8") { $0[central[1] + 46] = 0xFF }
        patched("duplicate entry", "appears twice") { b in
            // rename data/0's central name to data/1 (same length)
            let n = central[4] + 46 + "archive/data/".utf8.count
            b[n] = UInt8(ascii: "1")
        }
        out[out.count - 1].expect = "appears twice"
        patched("truncated storage (entry shorter than numel)", "has 20 bytes but 6 float32 elements need 24") { b in
            // shrink data/0 from 24 to 20 bytes in the central directory
            b.put32(20, at: central[2] + 20); b.put32(20, at: central[2] + 24)
        }
        var noPickle = sample
        noPickle.prefix = "archive"
        patched("no data.pkl", "without data.pkl") { b in
            let n = central[0] + 46 + "archive/".utf8.count
            b[n] = UInt8(ascii: "x"); b[30 + "archive/".utf8.count] = UInt8(ascii: "x")
        }
        patched("PK but not a local header", "does not start with a ZIP local file header") { $0[2] = 0x05; $0[3] = 0x06 }

        // ZIP64 records pointing outside the file.
        var z = sample
        z.zip64 = .all
        let g64 = z.bytes()
        let loc = g64.offsets(of: [0x50, 0x4B, 0x06, 0x07]).last!
        let rec = g64.offsets(of: [0x50, 0x4B, 0x06, 0x06]).last!
        let c64 = g64.offsets(of: [0x50, 0x4B, 0x01, 0x02])
        patched("ZIP64 locator past the file", "ZIP64 end record offset", g64) { $0.put64(UInt64(1) << 50, at: loc + 8) }
        patched("ZIP64 locator offset 2^64-1", "ZIP64 end record offset 18446744073709551615 is outside", g64) {
            $0.put64(UInt64.max, at: loc + 8)
        }
        patched("ZIP64 locator to wrong record", "does not point at a ZIP64 end record", g64) { $0.put64(0, at: loc + 8) }
        patched("ZIP64 directory offset past the file", "lies outside the file", g64) { $0.put64(UInt64(1) << 40, at: rec + 48) }
        patched("ZIP64 directory size 2^64-1", "63 bits", g64) { $0.put64(UInt64.max, at: rec + 40) }
        patched("ZIP64 entry count 2^40", "cannot fit", g64) { $0.put64(UInt64(1) << 40, at: rec + 32) }
        // The first central record's ZIP64 extra: sizes at +4, +12 and offset at +20 of the extra data.
        let x0 = c64[2] + 46 + "archive/data/0".utf8.count
        patched("ZIP64 zip bomb (1 TiB entry)", "declares 1099511627776 bytes", g64) { b in
            b.put64(UInt64(1) << 40, at: x0 + 4); b.put64(UInt64(1) << 40, at: x0 + 12)
        }
        patched("ZIP64 local offset past the file", "no local file header", g64) { $0.put64(UInt64(1) << 45, at: x0 + 20) }
        patched("ZIP64 size 2^64-1", "63 bits", g64) { $0.put64(UInt64.max, at: x0 + 4) }
        patched("ZIP64 extra field missing", "needs a ZIP64 extra field", g64) { $0.put16(0x9999, at: x0) }
        patched("ZIP64 extra too short", "too short", g64) { $0.put16(8, at: x0 + 2) }
        out[out.count - 1].expect = "ZIP64"
        return out
    }

    static func safetensors() -> [HostileFile] {
        var w = SafetensorsWriter()
        w.f32("x", [2], [1, 2])
        w.f32("y", [1], [3])
        func st(_ name: String, _ expect: String, header: String) -> HostileFile {
            HostileFile(name: name, ext: "safetensors", bytes: w.bytes(header: header), expect: expect)
        }
        func entry(_ dtype: String = "F32", _ shape: String = "[2]", _ offsets: String = "[0,8]") -> String {
            "{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":\(offsets)}"
        }
        let y = "\"y\":" + entry("F32", "[1]", "[8,12]")
        var out = [
            st("overlapping ranges", "overlaps", header: w.header(offsets: [(0, 8), (4, 8)])),
            st("range past data", "run past", header: w.header(offsets: [(0, 8), (12, 16)])),
            st("gap", "gap in the data section", header: "{\"x\":" + entry("F32", "[1]", "[0,4]") + ",\"y\":" + entry("F32", "[1]", "[8,12]") + "}"),
            st("reversed offsets", "reversed", header: "{\"x\":" + entry("F32", "[0]", "[8,0]") + "," + y + "}"),
            st("ranges leaving a gap at the start", "gap in the data section", header: "{\"x\":" + entry("F32", "[2]", "[4,12]") + ",\"y\":" + entry("F32", "[1]", "[4,8]") + "}"),
            st("trailing bytes", "data section has 12 bytes", header: "{\"x\":" + entry() + "}"),
            st("U32 dtype", "dtype U32", header: "{\"x\":" + entry("U32") + "," + y + "}"),
            st("F8 dtype", "dtype F8_E4M3", header: "{\"x\":" + entry("F8_E4M3", "[8]") + "," + y + "}"),
            st("shape overflow", "overflows", header: "{\"x\":" + entry("F32", "[4294967296,4294967296]") + "," + y + "}"),
            st("shape 2^64", "non-negative 64-bit", header: "{\"x\":" + entry("F32", "[18446744073709551616]") + "," + y + "}"),
            st("negative shape", "non-negative", header: "{\"x\":" + entry("F32", "[-2]") + "," + y + "}"),
            st("float shape", "non-negative", header: "{\"x\":" + entry("F32", "[2.0]") + "," + y + "}"),
            st("byte count mismatch", "needs 12", header: "{\"x\":" + entry("F32", "[3]") + "," + y + "}"),
            st("offsets 2^63", "data_offsets", header: "{\"x\":" + entry("F32", "[2]", "[0,9223372036854775808]") + "," + y + "}"),
            st("missing dtype", "no dtype", header: "{\"x\":{\"shape\":[2],\"data_offsets\":[0,8]}}"),
            st("duplicate key", "listed twice", header: "{\"x\":" + entry() + ",\"x\":" + entry() + "}"),
            st("metadata not strings", "__metadata__[\"a\"] is not a string", header: "{\"__metadata__\":{\"a\":1}," + y + "}"),
            st("header not an object", "not a JSON object", header: "[]"),
            st("deep JSON", "deeper than 64", header: String(repeating: "[", count: 200_000)),
            st("unterminated string", "unterminated string", header: "{\"x"),
            st("bad escape", "invalid escape", header: "{\"\\q\":1}"),
            st("lone surrogate", "surrogate", header: "{\"\\ud800\":1}"),
            st("trailing garbage", "trailing characters", header: "{} x"),
        ]
        var long = w.bytes()
        long.put64(UInt64(1) << 40, at: 0)
        // A length field that cannot be a header within the file: the bytes are not interpreted (nor printed).
        let notAHeader = "not the length of a JSON header"
        out.append(HostileFile(name: "header length 2^40", ext: "safetensors", bytes: long, expect: notAHeader))
        long.put64(UInt64.max, at: 0)
        out.append(HostileFile(name: "header length 2^64-1", ext: "safetensors", bytes: long, expect: notAHeader))
        long.put64(5000, at: 0)
        out.append(HostileFile(name: "header length beyond file", ext: "safetensors", bytes: long, expect: notAHeader))
        out.append(HostileFile(name: "3-byte file", ext: "safetensors", bytes: [1, 2, 3], expect: notAHeader))
        out.append(HostileFile(name: "empty file", ext: "safetensors", bytes: [], expect: "empty"))
        out.append(HostileFile(name: "legacy torch", ext: "pth", bytes: [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC], expect: "legacy"))
        var invalidUTF8 = w.bytes(header: "{\"xx\":" + entry() + "," + y + "}")
        invalidUTF8[10] = 0xFF
        out.append(HostileFile(name: "invalid UTF-8 name", ext: "safetensors", bytes: invalidUTF8, expect: "UTF-8"))
        return out
    }

    static func all() -> [HostileFile] { pickles() + archives() + safetensors() }
}

extension Array where Element == UInt8 {
    func offsets(of pattern: [UInt8]) -> [Int] {
        guard count >= pattern.count else { return [] }
        return (0...(count - pattern.count)).filter { i in pattern.indices.allSatisfy { self[i + $0] == pattern[$0] } }
    }
    func repeated(_ n: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count * n)
        for _ in 0..<n { out += self }
        return out
    }
    mutating func put16(_ v: Int, at o: Int) { self[o] = UInt8(truncatingIfNeeded: v); self[o + 1] = UInt8(truncatingIfNeeded: v >> 8) }
}
