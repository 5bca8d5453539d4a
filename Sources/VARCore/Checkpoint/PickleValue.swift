/// Values of the data-only pickle machine. Nothing here can be called: globals are symbols, and
/// the only "calls" are the allow-listed constructors evaluated by `PickleMachine.reduce`.
///
/// `indirect` is deliberate: with the payloads stored inline (a ~60-byte multi-payload enum), release
/// builds of Swift 6.3.1 intermittently destroyed memo entries as the wrong case after POP_MARK
/// (SIGSEGV releasing string bytes as an object; never in debug or under ASan). Boxing every payload
/// made the fuzzer's reproducer and 300k fuzz iterations clean; see `HostileCorpus` "POP_MARK …".
indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer wider than 64 bits (LONG1/LONG4); an error wherever a size is needed.
    case bigInt
    case float(Double)
    case string(String)
    case tuple(PickleList)
    case list(PickleList)
    case dict(PickleDict)
    /// A `module name` symbol from GLOBAL/STACK_GLOBAL (already checked against the allow-list).
    case global(module: String, name: String)
    /// A storage from a persistent id `("storage", cls, key, location, numel)`.
    case storage(StorageRef)
    /// The result of `_rebuild_tensor_v2` (or `_rebuild_parameter`).
    case tensor(TensorRef)

    /// `kind` with its indefinite article, for messages ("an int", "a tuple").
    var aKind: String {
        let k = kind
        return (k.first.map { "aeiouAEIOU".contains($0) } ?? false ? "an " : "a ") + k
    }

    var kind: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int, .bigInt: return "int"
        case .float: return "float"
        case .string: return "str"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case .global(let m, let n): return "global \(m).\(n)"
        case .storage: return "storage"
        case .tensor: return "tensor"
        }
    }
}

/// Shared, mutable element list (tuples and lists; memo entries alias them like Python objects).
final class PickleList {
    var items: [PickleValue]
    init(_ items: [PickleValue]) { self.items = items }
}

/// Insertion-ordered dict; string keys are unique (a later SETITEM replaces the value).
final class PickleDict {
    var keys: [PickleValue] = []
    var values: [PickleValue] = []
    private var stringIndex: [String: Int] = [:]

    var count: Int { keys.count }

    func set(_ key: PickleValue, _ value: PickleValue) {
        if case .string(let s) = key {
            if let i = stringIndex[s] { values[i] = value; return }
            stringIndex[s] = keys.count
        }
        keys.append(key)
        values.append(value)
    }

    func removeAll() {
        keys.removeAll(); values.removeAll(); stringIndex.removeAll()
    }
}

struct StorageRef {
    var dtype: DType
    var key: String
    var count: Int
}

struct TensorRef {
    var storage: StorageRef
    var storageOffset: Int
    var size: [Int]
    var stride: [Int]
}
