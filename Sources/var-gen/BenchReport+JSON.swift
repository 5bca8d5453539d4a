import Foundation
import VARKit

extension BenchReport {
    /// The report in `format`.
    func render(_ format: BenchOutputFormat) throws -> String {
        switch format {
        case .md: return markdown
        case .json: return try Self.line(record)
        case .jsonl: return try results.map { try Self.line(rowRecord($0)) }.joined()
        case .csv: return csv
        }
    }

    /// Everything in one object: environment, timing settings, the settings of each configuration (each its
    /// own field) and every row.
    var record: [String: Any] {
        ["environment": environment.json, "peak_rss_bytes": peakRSS, "repeats": repeats, "warmup": warmup,
         "configurations": configurations.map { $0[0].configurationJSON }, "runs": results.map(\.json)]
    }

    /// One row with the run's environment and timing settings (`jsonl`: each line stands alone).
    func rowRecord(_ r: BenchResult) -> [String: Any] {
        r.json.merging(["environment": environment.json, "peak_rss_bytes": peakRSS, "repeats": repeats,
                        "warmup": warmup]) { row, _ in row }
    }

    /// The sampling settings as fields (a per-scale setting is a list, one value per scale).
    static func samplingJSON(_ s: SamplingConfig) -> [String: Any] {
        func value<T>(_ p: PerScale<T>) -> Any {
            switch p {
            case let .uniform(v): return v
            case let .perScale(list): return list
            }
        }
        return ["cfg": s.cfg, "top_k": value(s.topK), "top_p": s.topP, "temperature": value(s.temperature),
                "more_smooth": s.moreSmooth, "seed": s.seed]
    }

    /// `object` as one line of sorted-key JSON.
    static func line(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self) + "\n"
    }
}
