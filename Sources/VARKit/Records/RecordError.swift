import Foundation

/// Why a PNG's generation record (or a sample manifest) cannot be used.
public enum RecordError: Error, CustomStringConvertible, Equatable {
    /// The PNG has no `var-gen` text chunk: it was not written by var-gen (or the chunk was stripped).
    case noRecord(path: String)
    /// The chunk holds the `key=value` text of var-gen before records (0.1), which lacks file hashes and
    /// precision.
    case legacy(path: String, text: String)
    /// A field is missing, of the wrong type, or out of range; `field` is its dotted JSON path.
    case invalidField(path: String, field: String, reason: String)
    /// A layout this var-gen does not read.
    case unsupportedFormat(path: String, format: Int)

    public var description: String {
        switch self {
        case let .noRecord(path):
            return "\(path): no var-gen record (tEXt chunk 'var-gen'); it was not written by var-gen or its metadata was removed"
        case let .legacy(path, text):
            return "\(path): the metadata '\(text.prefix(80))' predates generation records and cannot be re-run exactly"
                + "\nHINT: pass its settings as flags (--class, --seed, --cfg, …) instead"
        case let .invalidField(path, field, reason):
            return "\(path): record field '\(field)': \(reason)"
        case let .unsupportedFormat(path, format):
            return "\(path): record format \(format) is not supported (this var-gen reads format \(GenerationRecord.currentFormat))"
                + "\nHINT: use the var-gen version that wrote the file"
        }
    }

    /// A decoding failure of `path` as a field error, without Foundation's internal type names.
    static func from(_ error: Error, path: String) -> RecordError {
        guard let e = error as? DecodingError else {
            return .invalidField(path: path, field: "(document)", reason: "not valid JSON")
        }
        func name(_ keys: [CodingKey]) -> String {
            var s = ""
            for k in keys {
                if let i = k.intValue { s += "[\(i)]" } else { s += (s.isEmpty ? "" : ".") + k.stringValue }
            }
            return s.isEmpty ? "(document)" : s
        }
        switch e {
        case let .keyNotFound(key, c):
            return .invalidField(path: path, field: name(c.codingPath + [key]), reason: "missing")
        case let .typeMismatch(type, c):
            return .invalidField(path: path, field: name(c.codingPath), reason: "expected \(describe(type))")
        case let .valueNotFound(type, c):
            return .invalidField(path: path, field: name(c.codingPath), reason: "expected \(describe(type)), found null")
        case let .dataCorrupted(c):
            let reason = c.codingPath.isEmpty ? "not valid JSON" : c.debugDescription
            return .invalidField(path: path, field: name(c.codingPath), reason: reason)
        @unknown default:
            return .invalidField(path: path, field: "(document)", reason: "unreadable")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        case is Double.Type, is Float.Type: return "a number"
        case is Int.Type, is UInt64.Type, is Int64.Type, is UInt32.Type: return "an integer"
        default:
            let t = String(describing: type)
            if t.hasPrefix("Array") { return "a list" }
            if t.hasPrefix("Dictionary") { return "an object" }
            return "an object or value of another type"
        }
    }
}
