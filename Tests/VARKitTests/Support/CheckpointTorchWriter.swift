@testable import VARCore
import VARKit

/// Emits pickle opcodes the way CPython's pickler does for a torch state dict (protocol 2, or 4
/// with FRAME/SHORT_BINUNICODE/STACK_GLOBAL/MEMOIZE), with memoised globals and strings.
struct PickleWriter {
    var proto: Int
    var out: [UInt8] = []
    private var memo: [String: Int] = [:]
    private var memoCount = 0

    init(proto: Int = 2) { self.proto = proto }

    mutating func op(_ b: UInt8) { out.append(b) }
    mutating func bytes(_ b: [UInt8]) { out += b }

    /// Store the top of the stack in the memo (BINPUT/LONG_BINPUT, or MEMOIZE in protocol 4).
    mutating func put() -> Int {
        let i = memoCount
        memoCount += 1
        if proto >= 4 { op(0x94) } else if i < 256 { op(0x71); op(UInt8(i)) } else { op(0x72); out.le32(i) }
        return i
    }
    mutating func get(_ i: Int) { if i < 256 { op(0x68); op(UInt8(i)) } else { op(0x6A); out.le32(i) } }

    mutating func rawString(_ s: String) {
        let u = Array(s.utf8)
        if proto >= 4 && u.count < 256 { op(0x8C); op(UInt8(u.count)) } else { op(0x58); out.le32(u.count) }
        out += u
    }
    /// A string, memoised (a second use becomes BINGET), like the pickler does for "storage"/"cpu".
    mutating func string(_ s: String, memoize: Bool = true) {
        if memoize, let i = memo["s:" + s] { get(i); return }
        rawString(s)
        if memoize { memo["s:" + s] = put() } else { _ = put() }
    }
    mutating func global(_ module: String, _ name: String) {
        if let i = memo["g:\(module) \(name)"] { get(i); return }
        if proto >= 4 {
            rawString(module); _ = put()
            rawString(name); _ = put()
            op(0x93)
        } else {
            op(0x63); out += Array("\(module)\n\(name)\n".utf8)
        }
        memo["g:\(module) \(name)"] = put()
    }
    mutating func int(_ v: Int) {
        if v >= 0 && v < 256 { op(0x4B); op(UInt8(v)) }
        else if v >= 0 && v < 65536 { op(0x4D); out.le16(v) }
        else if v >= Int(Int32.min) && v <= Int(Int32.max) { op(0x4A); out.le32(v) }
        else { op(0x8A); op(8); out.le64(v) }
    }
    mutating func tuple(_ body: (inout PickleWriter) -> Int) {
        // body pushes n items and returns n
        let start = out.count
        let n = body(&self)
        if n == 0 { out.removeSubrange(start...); op(0x29); return }
        if n <= 3 { op(0x84 + UInt8(n)); return }
        out.insert(0x28, at: start)
        op(0x74)
    }
    mutating func intTuple(_ xs: [Int]) {
        if xs.isEmpty { op(0x29); return }
        if xs.count > 3 { op(0x28) }
        for x in xs { int(x) }
        op(xs.count > 3 ? 0x74 : 0x84 + UInt8(xs.count))
    }
    mutating func emptyOrderedDict() {
        global("collections", "OrderedDict")
        op(0x29); op(0x52); _ = put()
    }

    /// The finished stream: PROTO, then for protocol 4 one FRAME around the rest; STOP appended.
    func finished() -> [UInt8] {
        var body = out
        body.append(0x2E)
        if proto >= 4 {
            var f: [UInt8] = [0x80, UInt8(proto), 0x95]
            f.le64(body.count)
            return f + body
        }
        return [0x80, UInt8(proto)] + body
    }
}

/// A tensor to write into a torch.save archive: a view `(offset, size, stride)` of storage `storage`.
struct TorchTensorSpec {
    var key: String
    var storage: String
    var storageClass = "FloatStorage"
    var numel: Int
    var offset = 0
    var size: [Int]
    var stride: [Int]
    var parameter = false

    init(_ key: String, storage: String, storageClass: String = "FloatStorage", numel: Int, offset: Int = 0,
         size: [Int], stride: [Int]? = nil, parameter: Bool = false) {
        self.key = key; self.storage = storage; self.storageClass = storageClass; self.numel = numel
        self.offset = offset; self.size = size
        self.stride = stride ?? StoredTensor.contiguousStrides(size)
        self.parameter = parameter
    }
}

/// Writes torch.save-format ZIP archives: `<prefix>/data.pkl`, `byteorder`, `data/<key>`, `version`,
/// `.data/serialization_id`; flags 0x0808 with zero local sizes and a trailing data descriptor;
/// `FB` padding so every payload starts at a multiple of 64; optional ZIP64 records (docs/model.md §8.2).
struct TorchSaveWriter {
    enum Zip64 { case none, offsets, all }

    var prefix = "archive"
    var proto = 2
    /// OrderedDict + `_metadata` BUILD (state_dict()) or a plain dict.
    var ordered = true
    /// Write each key/value with its own SETITEM instead of MARK … SETITEMS batches.
    var singleSetItem = false
    var zip64 = Zip64.none
    var byteorder: String? = "little"
    var tensors: [TorchTensorSpec] = []
    var storages: [String: [UInt8]] = [:]

    mutating func add(_ spec: TorchTensorSpec, _ bytes: [UInt8]? = nil) {
        tensors.append(spec)
        if let bytes { storages[spec.storage] = bytes }
    }

    func pickle() -> [UInt8] {
        var p = PickleWriter(proto: proto)
        if ordered { p.emptyOrderedDict() } else { p.op(0x7D); _ = p.put() }
        if !singleSetItem && tensors.count > 1 { p.op(0x28) }
        for t in tensors {
            p.string(t.key, memoize: false)
            if t.parameter { p.global("torch._utils", "_rebuild_parameter"); p.op(0x28) }
            p.global("torch._utils", "_rebuild_tensor_v2")
            p.op(0x28)
            p.op(0x28)
            p.string("storage")
            p.global("torch", t.storageClass)
            p.string(t.storage, memoize: false)
            p.string("cpu")
            p.int(t.numel)
            p.op(0x74); _ = p.put()
            p.op(0x51)
            p.int(t.offset)
            p.intTuple(t.size); _ = p.put()
            p.intTuple(t.stride); _ = p.put()
            p.op(0x89)
            p.emptyOrderedDict()
            p.op(0x74); _ = p.put()
            p.op(0x52); _ = p.put()
            if t.parameter { p.op(0x88); p.emptyOrderedDict(); p.op(0x74); p.op(0x52); _ = p.put() }
            if singleSetItem || tensors.count == 1 { p.op(0x73) }
        }
        if !singleSetItem && tensors.count > 1 { p.op(0x75) }
        if ordered {
            // state_dict()._metadata = OrderedDict({"": {"version": 1}}) attached with BUILD
            p.op(0x7D); _ = p.put()
            p.string("_metadata")
            p.emptyOrderedDict()
            p.string("", memoize: false)
            p.op(0x7D); _ = p.put()
            p.string("version"); p.int(1); p.op(0x73)
            p.op(0x73)
            p.op(0x73)
            p.op(0x62)
        }
        return p.finished()
    }

    /// The archive's entries in torch's order.
    func entries(pickle override: [UInt8]? = nil) -> [(String, [UInt8])] {
        var list: [(String, [UInt8])] = [("\(prefix)/data.pkl", override ?? pickle())]
        if let byteorder { list.append(("\(prefix)/byteorder", Array(byteorder.utf8))) }
        for key in storages.keys.sorted(by: { ($0.count, $0) < ($1.count, $1) }) {
            list.append(("\(prefix)/data/\(key)", storages[key]!))
        }
        list.append(("\(prefix)/version", Array("3\n".utf8)))
        list.append(("\(prefix)/.data/serialization_id", Array(String(repeating: "1", count: 40).utf8)))
        return list
    }

    func bytes(pickle override: [UInt8]? = nil) -> [UInt8] {
        ZipWriter.archive(entries(pickle: override), zip64: zip64)
    }

    func write(_ stem: String = "torch", pickle override: [UInt8]? = nil) -> String {
        CheckpointWriters.write(bytes(pickle: override), stem, "pth")
    }
}

/// Layout facts about a written archive, so hostile tests can corrupt precise fields.
enum ZipWriter {
    static func crc32(_ data: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in data {
            c ^= UInt32(b)
            for _ in 0..<8 { c = (c >> 1) ^ (0xEDB8_8320 & (0 &- (c & 1))) }
        }
        return ~c
    }

    static func archive(_ entries: [(String, [UInt8])], zip64: TorchSaveWriter.Zip64) -> [UInt8] {
        var out: [UInt8] = []
        var central: [UInt8] = []
        for (name, data) in entries {
            let n = Array(name.utf8)
            let offset = out.count
            let crc = crc32(data)
            // Local header: sizes and CRC zero (flag bit 3), then ZIP64 extra (if any) and FB padding.
            out.le32(0x0403_4B50); out.le16(zip64 == .none ? 20 : 45); out.le16(0x0808); out.le16(0)
            out.le16(0); out.le16(0); out.le32(0); out.le32(0); out.le32(0)
            out.le16(n.count)
            var extra: [UInt8] = []
            if zip64 != .none { extra.le16(0x0001); extra.le16(16); extra.le64(0); extra.le64(0) }
            let unpadded = out.count + 2 + n.count + extra.count + 4
            let pad = (64 - unpadded % 64) % 64
            extra.le16(0x4246); extra.le16(pad); extra += [UInt8](repeating: 0x5A, count: pad)
            out.le16(extra.count)
            out += n + extra + data
            // Data descriptor.
            out.le32(0x0807_4B50); out.le32(Int(crc))
            if zip64 != .none { out.le64(data.count); out.le64(data.count) } else { out.le32(data.count); out.le32(data.count) }

            let bigSizes = zip64 == .all
            let bigOffset = zip64 != .none
            var cx: [UInt8] = []
            if bigSizes || bigOffset {
                cx.le16(0x0001); cx.le16((bigSizes ? 16 : 0) + (bigOffset ? 8 : 0))
                if bigSizes { cx.le64(data.count); cx.le64(data.count) }
                if bigOffset { cx.le64(offset) }
            }
            central.le32(0x0201_4B50); central.le16(0x031E); central.le16(zip64 == .none ? 20 : 45)
            central.le16(0x0808); central.le16(0); central.le16(0); central.le16(0); central.le32(Int(crc))
            central.le32(bigSizes ? 0xFFFF_FFFF : data.count); central.le32(bigSizes ? 0xFFFF_FFFF : data.count)
            central.le16(n.count); central.le16(cx.count); central.le16(0); central.le16(0); central.le16(0)
            central.le32(0); central.le32(bigOffset ? 0xFFFF_FFFF : offset)
            central += n + cx
        }
        let cdOffset = out.count
        out += central
        if zip64 != .none {
            let record = out.count
            out.le32(0x0606_4B50); out.le64(44); out.le16(45); out.le16(45); out.le32(0); out.le32(0)
            out.le64(entries.count); out.le64(entries.count); out.le64(central.count); out.le64(cdOffset)
            out.le32(0x0706_4B50); out.le32(0); out.le64(record); out.le32(1)
        }
        let big = zip64 != .none
        out.le32(0x0605_4B50); out.le16(0); out.le16(0)
        out.le16(big ? 0xFFFF : entries.count); out.le16(big ? 0xFFFF : entries.count)
        out.le32(big ? 0xFFFF_FFFF : central.count); out.le32(big ? 0xFFFF_FFFF : cdOffset); out.le16(0)
        return out
    }
}
