/// Reads the header of a `.safetensors` file (docs/model.md §8.6) into validated tensor descriptions.
///
/// Refused: header length over 100 MB or past the end of the file, JSON that is not an object of
/// tensor records, unknown dtypes, negative or overflowing shapes, byte ranges that are unordered,
/// overlapping, leave gaps, run past the file, or disagree with `numel × itemsize`.
enum SafetensorsReader {
    static let maxHeaderBytes = 100_000_000
    /// Most tensors one file may list (official VAR-d30 has about 450; a VQVAE about 250).
    static let maxTensors = 1 << 14
    /// Most JSON values the header may hold: a tensor record is 7 + rank values (object, dtype, shape and
    /// its dims, offsets and their two numbers); 12 per tensor leaves room for rank-5 shapes and metadata.
    /// Parsing stops there, so the time and memory a header costs are bounded however large it is.
    static let maxJSONValues = 12 * maxTensors + 1024

    struct Contents {
        var names: [String]
        var tensors: [String: StoredTensor]
        var metadata: [String: String]
    }

    static func read(_ view: ByteView, file: String) throws -> Contents {
        func bad(_ reason: String) -> CheckpointError { .badSafetensors(file: file, reason: reason) }
        guard let rawLength = view.u64(0) else {
            throw bad("file is \(view.count) bytes, shorter than the 8-byte header length")
        }
        // The length field is never printed: for a file that is not safetensors it is just its first bytes.
        guard rawLength <= UInt64(maxHeaderBytes) else { throw bad("the header length field exceeds the 100 MB limit") }
        let headerLength = Int(rawLength)
        guard let header = view.slice(8, headerLength) else {
            throw bad("the header length field runs past the end of the \(view.count)-byte file")
        }
        let dataStart = 8 + headerLength
        let dataSize = view.count - dataStart

        let json: JSONValue
        do { json = try JSONParser.parse(header, maxValues: maxJSONValues) } catch let f as JSONParser.Failure {
            if f.reason == JSONParser.budgetExceeded {
                throw bad("the header holds more than \(maxJSONValues) JSON values (stopped at header byte \(f.offset)); "
                          + "at most \(maxTensors) tensors are accepted")
            }
            throw bad("header JSON error at header byte \(f.offset): \(f.reason)")
        }
        guard case .object(let members) = json else { throw bad("header is not a JSON object") }
        guard members.count <= maxTensors + 1 else {
            throw bad("the header lists \(members.count) entries; at most \(maxTensors) tensors are accepted")
        }

        var metadata: [String: String] = [:]
        var tensors: [String: StoredTensor] = [:]
        var ranges: [(begin: Int, end: Int, name: String)] = []
        for (name, value) in members {
            if name == "__metadata__" {
                guard case .object(let pairs) = value else { throw bad("__metadata__ is not an object") }
                for (k, v) in pairs {
                    guard case .string(let s) = v else { throw bad("__metadata__[\"\(k)\"] is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard tensors[name] == nil else { throw bad("tensor `\(name)` is listed twice") }
            guard case .object(let fields) = value else { throw bad("entry `\(name)` is not an object") }
            func field(_ key: String) -> JSONValue? { fields.first { $0.key == key }?.value }

            guard case .string(let dtypeName)? = field("dtype") else { throw bad("`\(name)` has no dtype string") }
            guard let dtype = DType(safetensors: dtypeName) else {
                throw CheckpointError.unsupportedDType(file: file, key: name, dtype: dtypeName)
            }
            guard case .array(let dims)? = field("shape") else { throw bad("`\(name)` has no shape array") }
            var shape: [Int] = []
            for d in dims {
                guard let n = d.nonNegativeInt else { throw bad("`\(name)` has a shape entry that is not a "
                                                                 + "non-negative 64-bit integer") }
                shape.append(n)
            }
            guard shape.count <= 64 else { throw bad("`\(name)` has \(shape.count) dimensions") }
            guard case .array(let offsets)? = field("data_offsets"), offsets.count == 2,
                  let begin = offsets[0].nonNegativeInt, let end = offsets[1].nonNegativeInt else {
                throw bad("`\(name)` has no valid data_offsets [begin, end]")
            }
            guard let count = SafeMath.product(shape), let byteCount = SafeMath.mul(count, dtype.itemSize) else {
                throw bad("`\(name)` shape \(CheckpointError.shapeText(shape)) overflows")
            }
            guard begin <= end else { throw bad("`\(name)` data_offsets [\(begin), \(end)] are reversed") }
            guard end - begin == byteCount else {
                throw bad("`\(name)` occupies \(end - begin) bytes but \(dtypeName) "
                          + "\(CheckpointError.shapeText(shape)) needs \(byteCount)")
            }
            guard end <= dataSize else {
                throw bad("`\(name)` data_offsets [\(begin), \(end)] run past the \(dataSize)-byte data section")
            }
            tensors[name] = try StoredTensor.make(
                file: file, name: name, dtype: dtype, shape: shape, storageOffset: 0,
                strides: StoredTensor.contiguousStrides(shape), dataOffset: dataStart + begin, storageCount: count)
            ranges.append((begin, end, name))
        }

        // The data section must be tiled exactly: sorted ranges, each starting where the previous ended.
        ranges.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var cursor = 0
        for r in ranges {
            if r.begin < cursor { throw bad("`\(r.name)` overlaps the previous tensor (starts at \(r.begin), "
                                            + "previous ends at \(cursor))") }
            if r.begin > cursor { throw bad("gap in the data section before `\(r.name)` (bytes \(cursor)..<\(r.begin))") }
            cursor = r.end
        }
        guard cursor == dataSize else {
            throw bad("data section has \(dataSize) bytes but the tensors cover \(cursor)")
        }
        return Contents(names: ranges.map(\.name), tensors: tensors, metadata: metadata)
    }
}
