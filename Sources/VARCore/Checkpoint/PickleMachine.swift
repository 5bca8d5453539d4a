/// A data-only pickle interpreter for `data.pkl` of `torch.save` state dicts (docs/model.md §8.3–8.4).
///
/// It runs the opcodes PyTorch writes (protocol 2, plus the protocol 4/5 ones a re-save produces)
/// and nothing that could run code: GLOBAL only yields a symbol from a fixed allow-list, REDUCE only
/// evaluates `OrderedDict()`, `_rebuild_tensor_v2(...)` and `_rebuild_parameter(...)`, persistent ids
/// must be storage 5-tuples, and BUILD is accepted only on a dict (its state is ignored). Every
/// other global or opcode is refused with its name and byte offset. Stack depth, marks, memo size,
/// container elements and string lengths are bounded so hostile files fail fast instead of
/// exhausting memory, and nested containers are torn down without recursion.
///
/// For reference, the start of a real protocol-2 state dict (`python -m pickletools data.pkl`):
/// ```
///     0: \x80 PROTO      2
///     2: c    GLOBAL     'collections OrderedDict'
///    27: q    BINPUT     0
///    29: )    EMPTY_TUPLE
///    30: R    REDUCE
///    31: q    BINPUT     1
///    33: (    MARK
///    34: X        BINUNICODE 'encoder.conv_in.weight'
///    61: q        BINPUT     2
///    63: c        GLOBAL     'torch._utils _rebuild_tensor_v2'
///    96: q        BINPUT     3
///    98: (        MARK
///    99: (            MARK
///   100: X                BINUNICODE 'storage'
///   112: q                BINPUT     4
///   114: c                GLOBAL     'torch FloatStorage'
///   134: q                BINPUT     5
///   136: X                BINUNICODE '0'
///   142: q                BINPUT     6
///   144: X                BINUNICODE 'cpu'
///   152: q                BINPUT     7
///   154: M                BININT2    4320
///   157: t                TUPLE      (MARK at 99)
///   158: q            BINPUT     8
///   160: Q            BINPERSID
///   161: K            BININT1    0
///   ...
/// ```
struct PickleMachine {
    struct Limits {
        var maxPickleBytes = 256 << 20
        var maxStack = 1 << 20
        var maxMarks = 1 << 16
        var maxMemo = 1 << 20
        /// Elements across all tuples, lists and dicts.
        var maxElements = 1 << 22
        /// Containers (tuples, lists, dicts) per byte of pickle, plus a fixed allowance: a real state dict
        /// makes about 7 containers per tensor record of 60+ bytes; a nested-tuple bomb makes one per byte.
        /// Each container costs ~125 bytes of memory, so this bounds the machine's memory near 16× the pickle.
        var containerAllowance = 4096
        var bytesPerContainer = 8
    }

    /// One `key → tensor` pair of the state dict, in pickle order.
    struct Item { var key: String; var tensor: TensorRef }

    private let file: String
    private let b: UnsafeRawBufferPointer
    private let limits: Limits
    private var pos = 0
    private var opOffset = 0
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]
    private var elements = 0
    private var containers = 0
    private let maxContainers: Int
    /// Every container created, so `teardown` can empty them iteratively: deeply nested or
    /// self-referencing structures would otherwise recurse in deinit or leak.
    private var lists: [PickleList] = []
    private var dicts: [PickleDict] = []

    /// Runs `data.pkl` and returns the state dict's tensors in order.
    static func stateDict(_ bytes: UnsafeRawBufferPointer, file: String, limits: Limits = Limits()) throws -> [Item] {
        guard bytes.count <= limits.maxPickleBytes else {
            throw CheckpointError.badPickle(file: file, offset: 0, reason: "data.pkl is \(bytes.count) bytes "
                                            + "(limit \(limits.maxPickleBytes))")
        }
        var m = PickleMachine(file: file, b: bytes, limits: limits)
        defer { m.teardown() }
        let top = try m.run()
        return try m.items(of: top)
    }

    private init(file: String, b: UnsafeRawBufferPointer, limits: Limits) {
        self.file = file; self.b = b; self.limits = limits
        maxContainers = limits.containerAllowance + b.count / limits.bytesPerContainer
    }

    /// Empties every container while `lists`/`dicts` still retain them all, so no release below
    /// can cascade into a recursive deinit chain (a few KB of TUPLE1 opcodes nest thousands deep
    /// and would overflow the thread's stack), and self-references cannot leak.
    private mutating func teardown() {
        for l in lists { l.items.removeAll() }
        for d in dicts { d.removeAll() }
        stack.removeAll(); memo.removeAll()
        lists.removeAll(); dicts.removeAll()
    }

    // MARK: errors

    private func bad(_ reason: String) -> CheckpointError { .badPickle(file: file, offset: opOffset, reason: reason) }
    private func forbidden(_ module: String, _ name: String, _ reason: String) -> CheckpointError {
        .forbiddenGlobal(file: file, global: Self.printable(module) + "." + Self.printable(name),
                         offset: opOffset, reason: reason)
    }
    private static func printable(_ s: String) -> String { s.count <= 200 ? s : String(s.prefix(200)) + "…" }  // escaped when printed

    // MARK: reading operands

    private mutating func take(_ n: Int) throws -> UnsafeRawBufferPointer {
        guard n >= 0, n <= b.count - pos else {
            throw bad("truncated: needs \(n) more bytes, \(b.count - pos) left")
        }
        defer { pos += n }
        return UnsafeRawBufferPointer(rebasing: b[pos..<(pos + n)])
    }
    private mutating func u8() throws -> Int { Int(try take(1)[0]) }
    private mutating func u16() throws -> Int { Int(UInt16(littleEndian: try take(2).loadUnaligned(as: UInt16.self))) }
    private mutating func u32() throws -> UInt32 { UInt32(littleEndian: try take(4).loadUnaligned(as: UInt32.self)) }
    private mutating func u64() throws -> UInt64 { UInt64(littleEndian: try take(8).loadUnaligned(as: UInt64.self)) }

    private mutating func string(_ n: Int) throws -> String {
        let raw = try take(n)
        guard let s = String(validating: raw, as: UTF8.self) else { throw bad("string is not valid UTF-8") }
        return s
    }

    /// A newline-terminated ASCII line (GLOBAL operands).
    private mutating func line() throws -> String {
        var end = pos
        while end < b.count, b[end] != 0x0A { end += 1 }
        guard end < b.count else { throw bad("truncated GLOBAL operand") }
        let s = String(decoding: UnsafeRawBufferPointer(rebasing: b[pos..<end]), as: UTF8.self)
        pos = end + 1
        return s
    }

    /// Little-endian two's-complement integer of `n` bytes (LONG1/LONG4).
    private mutating func long(_ n: Int) throws -> PickleValue {
        let raw = try take(n)
        if n == 0 { return .int(0) }
        var v: UInt64 = 0
        for k in 0..<min(n, 8) { v |= UInt64(raw[k]) << (8 * UInt64(k)) }
        if n < 8 && raw[n - 1] & 0x80 != 0 { v |= ~0 << (8 * UInt64(n)) }  // sign-extend
        let value = Int64(bitPattern: v)
        if n > 8 {
            let fill: UInt8 = value < 0 ? 0xFF : 0x00
            for k in 8..<n where raw[k] != fill { return .bigInt }
        }
        return .int(Int(value))
    }

    // MARK: stack

    private mutating func push(_ v: PickleValue) throws {
        guard stack.count < limits.maxStack else { throw bad("stack deeper than \(limits.maxStack) items") }
        stack.append(v)
    }
    private mutating func pop() throws -> PickleValue {
        guard let v = stack.popLast() else { throw bad("stack underflow") }
        if let m = marks.last, stack.count < m { throw bad("pop across a MARK") }
        return v
    }
    private func top() throws -> PickleValue {
        guard let v = stack.last else { throw bad("stack underflow") }
        if let m = marks.last, stack.count <= m { throw bad("stack empty above the MARK") }
        return v
    }
    /// Everything above the last MARK, removing the mark.
    private mutating func popMark() throws -> [PickleValue] {
        guard let m = marks.popLast() else { throw bad("no MARK on the stack") }
        let items = Array(stack[m...])
        stack.removeSubrange(m...)
        return items
    }
    private mutating func count(_ n: Int) throws {
        elements += n
        guard elements <= limits.maxElements else {
            throw bad("more than \(limits.maxElements) container elements")
        }
    }
    /// One more tuple, list or dict.
    private mutating func container() throws {
        containers += 1
        guard containers <= maxContainers else {
            throw bad("more than \(maxContainers) tuples/lists/dicts for a \(b.count)-byte pickle (at most one per "
                      + "\(limits.bytesPerContainer) bytes plus \(limits.containerAllowance))")
        }
    }
    private mutating func tuple(_ items: [PickleValue]) throws -> PickleValue {
        try container()
        try count(items.count)
        let l = PickleList(items)
        lists.append(l)
        return .tuple(l)
    }
    private mutating func newDict() throws -> PickleValue {
        try container()
        let d = PickleDict()
        dicts.append(d)
        return .dict(d)
    }
    private mutating func memoPut(_ index: Int) throws {
        let v = try top()
        if memo[index] == nil && memo.count >= limits.maxMemo { throw bad("memo larger than \(limits.maxMemo) entries") }
        memo[index] = v
    }
    private mutating func memoGet(_ index: Int) throws {
        guard let v = memo[index] else { throw bad("memo entry \(index) was never stored") }
        try push(v)
    }
    private mutating func setItems(_ dict: PickleValue, _ pairs: ArraySlice<PickleValue>) throws {
        guard case .dict(let d) = dict else { throw bad("SETITEM(S) on \(dict.aKind), not a dict") }
        guard pairs.count % 2 == 0 else { throw bad("SETITEMS with an odd number of items") }
        try count(pairs.count / 2)
        var i = pairs.startIndex
        while i < pairs.endIndex { d.set(pairs[i], pairs[i + 1]); i += 2 }
    }

    // MARK: the machine

    private mutating func run() throws -> PickleValue {
        while true {
            opOffset = pos
            guard pos < b.count else { throw bad("truncated: no STOP opcode") }
            let op = b[pos]
            pos += 1
            switch op {
            case 0x80:  // PROTO
                let v = try u8()
                guard v <= 5 else { throw bad("unsupported pickle protocol \(v)") }
            case 0x95:  // FRAME: a length hint; the frame must fit in what is left
                let n = try u64()
                guard n <= UInt64(b.count - pos) else { throw bad("FRAME of \(n) bytes runs past the end") }
            case 0x2E:  // STOP
                guard marks.isEmpty else { throw bad("STOP with an open MARK") }
                return try pop()
            case 0x28:  // MARK
                guard marks.count < limits.maxMarks else { throw bad("more than \(limits.maxMarks) open MARKs") }
                marks.append(stack.count)
            case 0x30: _ = try pop()                  // POP
            case 0x31: _ = try popMark()              // POP_MARK
            case 0x29: try push(try tuple([]))        // EMPTY_TUPLE
            case 0x74: try push(try tuple(try popMark()))  // TUPLE
            case 0x85, 0x86, 0x87:                     // TUPLE1/2/3
                let n = Int(op) - 0x84
                var items: [PickleValue] = []
                for _ in 0..<n { items.append(try pop()) }
                try push(try tuple(items.reversed()))
            case 0x5D:  // EMPTY_LIST
                try container()
                let l = PickleList([])
                lists.append(l)
                try push(.list(l))
            case 0x61, 0x65:  // APPEND, APPENDS
                let items = op == 0x61 ? [try pop()] : try popMark()
                guard case .list(let l) = try top() else { throw bad("APPEND on \(try top().aKind), not a list") }
                try count(items.count)
                l.items += items
            case 0x7D: try push(try newDict())         // EMPTY_DICT
            case 0x73:  // SETITEM
                let value = try pop()
                let key = try pop()
                try setItems(try top(), [key, value])
            case 0x75:  // SETITEMS
                let pairs = try popMark()
                try setItems(try top(), pairs[...])
            case 0x58: try push(.string(try string(Int(try u32()))))     // BINUNICODE
            case 0x8C: try push(.string(try string(try u8())))           // SHORT_BINUNICODE
            case 0x8D:                                                    // BINUNICODE8
                let n = try u64()
                guard n <= UInt64(b.count - pos) else { throw bad("string of \(n) bytes runs past the end") }
                try push(.string(try string(Int(n))))
            case 0x4A: try push(.int(Int(Int32(bitPattern: try u32()))))  // BININT
            case 0x4B: try push(.int(try u8()))                             // BININT1
            case 0x4D: try push(.int(try u16()))                            // BININT2
            case 0x8A: try push(try long(try u8()))                         // LONG1
            case 0x8B:                                                      // LONG4
                let n = Int32(bitPattern: try u32())
                guard n >= 0 else { throw bad("negative LONG4 length") }
                try push(try long(Int(n)))
            case 0x4E: try push(.none)                                      // NONE
            case 0x88: try push(.bool(true))                                // NEWTRUE
            case 0x89: try push(.bool(false))                               // NEWFALSE
            case 0x47:                                                      // BINFLOAT (big-endian)
                let raw = try take(8)
                var v: UInt64 = 0
                for k in 0..<8 { v = v << 8 | UInt64(raw[k]) }
                try push(.float(Double(bitPattern: v)))
            case 0x63:  // GLOBAL
                let module = try line()
                let name = try line()
                try push(try global(module, name))
            case 0x93:  // STACK_GLOBAL
                let name = try pop()
                let module = try pop()
                guard case .string(let n) = name, case .string(let m) = module else {
                    throw bad("STACK_GLOBAL needs two strings, got \(module.kind) and \(name.kind)")
                }
                try push(try global(m, n))
            case 0x71: try memoPut(try u8())                  // BINPUT
            case 0x72: try memoPut(Int(try u32()))            // LONG_BINPUT
            case 0x94: try memoPut(memo.count)                // MEMOIZE
            case 0x68: try memoGet(try u8())                  // BINGET
            case 0x6A: try memoGet(Int(try u32()))            // LONG_BINGET
            case 0x51: try push(try persistentLoad(try pop()))  // BINPERSID
            case 0x52:  // REDUCE
                let args = try pop()
                let callable = try pop()
                try push(try reduce(callable, args))
            case 0x62:  // BUILD: only `_metadata` on a state dict; the state is ignored
                let state = try pop()
                let target = try top()
                guard case .dict = target else {
                    throw bad("BUILD on \(target.aKind) (state \(state.kind)); only dicts accept BUILD")
                }
            default:
                throw CheckpointError.forbiddenOpcode(file: file, opcode: op, name: Self.opcodeName(op), offset: opOffset)
            }
        }
    }

    /// GLOBAL/STACK_GLOBAL: a symbol, only from the allow-list.
    private func global(_ module: String, _ name: String) throws -> PickleValue {
        switch (module, name) {
        case ("collections", "OrderedDict"), ("torch._utils", "_rebuild_tensor_v2"),
             ("torch._utils", "_rebuild_parameter"):
            return .global(module: module, name: name)
        case ("torch", _) where DType(torchStorage: name) != nil:
            return .global(module: module, name: name)
        default:
            throw forbidden(module, name, "not in the allow-list (OrderedDict, _rebuild_tensor_v2, "
                            + "_rebuild_parameter, torch storage classes)")
        }
    }

    /// BINPERSID: `("storage", torch.<X>Storage, key, location, numel)`.
    private func persistentLoad(_ pid: PickleValue) throws -> PickleValue {
        guard case .tuple(let t) = pid, t.items.count == 5 else {
            throw bad("persistent id is \(pid.aKind)\(pidArity(pid)); expected (\"storage\", class, key, location, numel)")
        }
        let f = t.items
        guard case .string("storage") = f[0] else { throw bad("persistent id does not start with \"storage\"") }
        guard case .global(let module, let cls) = f[1], module == "torch", let dtype = DType(torchStorage: cls) else {
            throw bad("persistent id's storage class is \(f[1].aKind), not a torch storage class")
        }
        guard case .string(let key) = f[2] else { throw bad("persistent id's storage key is \(f[2].aKind)") }
        guard case .int(let numel) = f[4], numel >= 0 else {
            throw bad("persistent id's element count is \(f[4].kind == "int" ? "out of range" : f[4].kind)")
        }
        return .storage(StorageRef(dtype: dtype, key: key, count: numel))
    }

    private func pidArity(_ v: PickleValue) -> String {
        if case .tuple(let t) = v { return " of \(t.items.count) items" }
        return ""
    }

    /// REDUCE: the only calls the machine evaluates.
    private mutating func reduce(_ callable: PickleValue, _ args: PickleValue) throws -> PickleValue {
        guard case .global(let module, let name) = callable else {
            throw bad("REDUCE on \(callable.aKind), which is not callable")
        }
        guard case .tuple(let t) = args else { throw bad("REDUCE arguments are \(args.aKind), not a tuple") }
        let a = t.items
        switch (module, name) {
        case ("collections", "OrderedDict"):
            guard a.isEmpty else { throw forbidden(module, name, "may only be called with no arguments") }
            return try newDict()
        case ("torch._utils", "_rebuild_tensor_v2"):
            guard a.count == 6 || a.count == 7 else {
                throw forbidden(module, name, "called with \(a.count) arguments (expected 6, or 7 with empty metadata)")
            }
            if a.count == 7 {
                switch a[6] {
                case .none: break
                case .dict(let d) where d.count == 0: break
                default: throw forbidden(module, name, "7th argument (metadata) must be empty, got \(a[6].kind)")
                }
            }
            guard case .storage(let storage) = a[0] else {
                throw forbidden(module, name, "first argument is \(a[0].aKind), not a storage")
            }
            guard case .int(let offset) = a[1] else { throw forbidden(module, name, "storage_offset is \(a[1].aKind)") }
            let size = try ints(a[2], "size")
            let stride = try ints(a[3], "stride")
            return .tensor(TensorRef(storage: storage, storageOffset: offset, size: size, stride: stride))
        case ("torch._utils", "_rebuild_parameter"):
            guard a.count == 3, case .tensor(let tensor) = a[0] else {
                throw forbidden(module, name, "expects (tensor, requires_grad, backward_hooks)")
            }
            return .tensor(tensor)
        default:
            throw forbidden(module, name, "may not be called (storage classes only appear inside persistent ids)")
        }
    }

    private func ints(_ v: PickleValue, _ what: String) throws -> [Int] {
        guard case .tuple(let t) = v else { throw bad("tensor \(what) is \(v.aKind), not a tuple") }
        return try t.items.map {
            guard case .int(let i) = $0 else { throw bad("tensor \(what) holds \($0.aKind)") }
            return i
        }
    }

    /// The top-level object must be a dict of string → tensor.
    private func items(of top: PickleValue) throws -> [Item] {
        guard case .dict(let d) = top else {
            throw bad("the pickled object is \(top.aKind), not a state dict (dict of tensors)")
        }
        var out: [Item] = []
        for (k, v) in zip(d.keys, d.values) {
            guard case .string(let key) = k else { throw bad("state dict key is \(k.aKind), not a string") }
            guard case .tensor(let t) = v else {
                throw CheckpointError.badTensor(file: file, key: key, reason: "value is \(v.aKind), not a tensor; "
                                                + "only plain state dicts of tensors are read")
            }
            out.append(Item(key: key, tensor: t))
        }
        return out
    }

    static func opcodeName(_ op: UInt8) -> String {
        switch op {
        case 0x69: return "INST"
        case 0x6F: return "OBJ"
        case 0x81: return "NEWOBJ"
        case 0x92: return "NEWOBJ_EX"
        case 0x82: return "EXT1"
        case 0x83: return "EXT2"
        case 0x84: return "EXT4"
        case 0x50: return "PERSID"
        case 0x70: return "PUT"
        case 0x67: return "GET"
        case 0x49: return "INT"
        case 0x4C: return "LONG"
        case 0x53: return "STRING"
        case 0x56: return "UNICODE"
        case 0x46: return "FLOAT"
        case 0x54: return "BINSTRING"
        case 0x55: return "SHORT_BINSTRING"
        case 0x42: return "BINBYTES"
        case 0x43: return "SHORT_BINBYTES"
        case 0x8E: return "BINBYTES8"
        case 0x8F: return "EMPTY_SET"
        case 0x90: return "ADDITEMS"
        case 0x91: return "FROZENSET"
        case 0x96: return "BYTEARRAY8"
        case 0x97: return "NEXT_BUFFER"
        case 0x98: return "READONLY_BUFFER"
        case 0x32: return "DUP"
        case 0x64: return "DICT"
        case 0x6C: return "LIST"
        default: return "UNKNOWN"
        }
    }
}
