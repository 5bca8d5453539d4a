/// NPY format 1.0 (docs/model.md §6.6): magic `\x93NUMPY`, version `01 00`, little-endian `uint16` header length, an
/// ASCII Python-dict header padded with spaces and ended by `\n` so the data starts at a multiple of 64,
/// then the raw C-order bytes.
public enum NPY {
    /// The header bytes (magic through the newline) for an array of `descr` (e.g. `|u1`, `<i8`) and `shape`.
    public static func header(descr: String, shape: [Int]) -> [UInt8] {
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(dims), }"
        let unpadded = 10 + dict.utf8.count + 1
        dict += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        let n = dict.utf8.count
        precondition(n <= 0xFFFF, "NPY 1.0 header too long")
        var out: [UInt8] = [0x93]
        out += Array("NUMPY".utf8)
        out += [1, 0, UInt8(n & 0xFF), UInt8(n >> 8)]
        out += Array(dict.utf8)
        return out
    }


    /// Reads a version 1.0 NPY (C order only) from bytes; enough for tests and for checking packed files.
    public static func parse(_ bytes: [UInt8], path: String? = nil) throws -> NPYArray {
        func fail(_ m: String) -> RuntimeError { .invalidArrayFile(path: path, message: "not an NPY 1.0 array: \(m)") }
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else {
            throw fail("bad magic")
        }
        guard bytes[6] == 1 else { throw fail("version \(bytes[6]).\(bytes[7])") }
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        guard bytes.count >= 10 + headerLength else { throw fail("truncated header") }
        let dict = String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self)
        guard let descr = value(of: "descr", in: dict).map({ $0.trimmingQuotes }),
              let shapeText = value(of: "shape", in: dict) else { throw fail("header lacks descr or shape") }
        guard value(of: "fortran_order", in: dict) == "False" else { throw fail("Fortran order is not supported") }
        let shape = shapeText.filter { "0123456789,".contains($0) }.split(separator: ",").compactMap { Int($0) }
        let itemSize = Int(descr.dropFirst(2)) ?? 1
        let count = shape.reduce(1, *) * itemSize
        let offset = 10 + headerLength
        guard bytes.count - offset >= count else { throw fail("data truncated") }
        return NPYArray(descr: descr, shape: shape, data: Array(bytes[offset..<(offset + count)]), dataOffset: offset)
    }

    /// The text after `'key':` up to the next top-level comma or closing brace.
    private static func value(of key: String, in dict: String) -> String? {
        guard let r = dict.range(of: "'\(key)':") else { return nil }
        var depth = 0
        var out = ""
        for ch in dict[r.upperBound...] {
            if ch == "(" { depth += 1 }
            if ch == ")" { depth -= 1 }
            if depth == 0 && (ch == "," || ch == "}") { break }
            out.append(ch)
        }
        return out.trimmingCharacters(in: " ")
    }
}

private extension String {
    var trimmingQuotes: String { String(filter { $0 != "'" && $0 != "\"" }) }
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}

/// A parsed NPY array: dtype descriptor, shape and the raw data bytes.
public struct NPYArray: Equatable {
    public var descr: String
    public var shape: [Int]
    public var data: [UInt8]
    /// Byte offset of the data within the NPY file (a multiple of 64 for files `NPY.header` describes).
    public var dataOffset: Int

    /// The data as little-endian int64 values (`<i8`).
    public var int64s: [Int64] {
        stride(from: 0, to: data.count - 7, by: 8).map { i in
            (0..<8).reduce(Int64(0)) { $0 | Int64(data[i + $1]) << (8 * $1) }
        }
    }
}
