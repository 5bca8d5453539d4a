import Foundation

/// `var-gen bench --output-format`: how the report is printed (llama-bench's names).
enum BenchOutputFormat: String, CaseIterable {
    /// Markdown tables (the default).
    case md
    /// One JSON record: environment, settings, and every row.
    case json
    /// One JSON object per row, each carrying the environment and settings (for appending to a log).
    case jsonl
    /// A header line, then one line per row; per-scale and per-operation detail is left to the JSON formats.
    case csv

    /// From `--output-format` and the older `--json` flag (which means `json`; both must then agree).
    init(flag: String?, json: Bool) throws {
        guard let flag else { self = json ? .json : .md; return }
        guard let format = BenchOutputFormat(rawValue: flag.lowercased()) else {
            throw UsageError.invalid("output-format", flag, expected: "one of md, json, jsonl, csv")
        }
        if json && format != .json {
            throw UsageError("--json asks for JSON but --output-format asks for \(format.rawValue); give one of them")
        }
        self = format
    }
}

/// Comma-separated values (RFC 4180 quoting: a field with a comma, quote or line break is quoted, quotes doubled).
enum CSV {
    static func field(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func table(header: [String], rows: [[String]]) -> String {
        ([header] + rows).map { $0.map(field).joined(separator: ",") + "\n" }.joined()
    }
}
