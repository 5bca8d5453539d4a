import Foundation

/// A short, printable description of a JSON decoding failure: the field path and what was wrong,
/// without Foundation's debug dump (which can quote the input).
public enum JSONErrorText {
    public static func describe(_ error: Error) -> String {
        guard let e = error as? DecodingError else { return "not valid JSON" }
        func path(_ keys: [CodingKey]) -> String {
            let parts = keys.map { k in k.intValue.map { "[\($0)]" } ?? "." + k.stringValue }
            let text = parts.joined()
            return text.hasPrefix(".") ? String(text.dropFirst()) : (text.isEmpty ? "(top level)" : text)
        }
        switch e {
        case let .typeMismatch(type, context):
            return "field \(path(context.codingPath)): expected \(expected(type))"
        case let .valueNotFound(type, context):
            return "field \(path(context.codingPath)): expected \(expected(type)), found null"
        case let .keyNotFound(key, context):
            return "missing field \(path(context.codingPath + [key]))"
        case let .dataCorrupted(context):
            if context.codingPath.isEmpty { return "not valid JSON" }
            return "field \(path(context.codingPath)): \(context.debugDescription.prefix(120))"
        @unknown default:
            return "not a valid model JSON"
        }
    }

    private static func expected(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type: return "an integer"
        case is Double.Type, is Float.Type: return "a number"
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        default: return "a value of type \(type)"
        }
    }
}
