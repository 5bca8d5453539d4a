/// One configuration or sampling value outside its accepted range, named as the user wrote it: a JSON field
/// (`width`, `sampling.top_k`), a flag (`--cfg`) or a value inferred from a tensor's shape.
public struct LimitViolation: Error, Equatable, Sendable, CustomStringConvertible {
    /// The field or flag, e.g. `patch_sizes` or `sampling.temperature`.
    public var field: String
    /// The value as given (escaped when it came from a file).
    public var value: String
    /// What is accepted, e.g. `an integer in 1…65536` or `a multiple of heads (16)`.
    public var allowed: String
    /// The file the value came from (a model JSON or a checkpoint it was inferred from), if any.
    public var source: String?

    public init(field: String, value: String, allowed: String, source: String? = nil) {
        self.field = field; self.value = value; self.allowed = allowed; self.source = source
    }

    /// The same violation attributed to `file`.
    public func from(_ file: String) -> LimitViolation {
        var v = self; v.source = file; return v
    }

    public var description: String {
        (source.map { DisplayText.escaped($0) + ": " } ?? "") + "\(field) is \(value); expected \(allowed)"
    }
}

/// Helpers that check numbers against a range and render the violation.
enum Check {
    static func int(_ v: Int, _ range: ClosedRange<Int>, _ field: String) throws {
        guard range.contains(v) else {
            throw LimitViolation(field: field, value: String(v), allowed: "an integer in \(range.lowerBound)…\(range.upperBound)")
        }
    }

    static func double(_ v: Double, _ range: ClosedRange<Double>, _ field: String) throws {
        guard v.isFinite, range.contains(v) else {
            throw LimitViolation(field: field, value: String(v), allowed: "a finite number in \(range.lowerBound)…\(range.upperBound)")
        }
    }

    /// Patch sides: 1…`maxScales` entries, strictly increasing, each in 1…`maxSide`, Σ side² ≤ `maxTokens`.
    static func schedule(_ sizes: [Int], _ field: String, maxScales: Int, maxSide: Int, maxTokens: Int) throws {
        let shown = sizes.count <= 16 ? "\(sizes)" : "[\(sizes.prefix(16).map(String.init).joined(separator: ", ")), …] (\(sizes.count) entries)"
        func bad(_ allowed: String) -> LimitViolation { LimitViolation(field: field, value: shown, allowed: allowed) }
        guard (1...maxScales).contains(sizes.count) else { throw bad("1…\(maxScales) patch sizes") }
        guard sizes.allSatisfy({ (1...maxSide).contains($0) }) else { throw bad("patch sizes in 1…\(maxSide)") }
        guard zip(sizes, sizes.dropFirst()).allSatisfy({ $0 < $1 }) else { throw bad("strictly increasing patch sizes") }
        let tokens = sizes.reduce(0) { $0 + $1 * $1 }   // ≤ 64 · 2^20: no overflow
        guard tokens <= maxTokens else { throw bad("at most \(maxTokens) tokens in all (Σ pn²), not \(tokens)") }
    }
}
