import Dispatch

/// Where a transformer forward spends its time, by kind of operation (seconds summed over calls).
/// Off by default; `VARWorkspace.profile` switches it on (`var-gen bench --profile`). Timing one operation
/// costs two clock reads, against ≥ 10 µs of work per operation.
public struct OpProfile: Sendable, Equatable {
    public enum Op: Int, CaseIterable, Sendable {
        case embed, layerNorm, qkv, attentionPrepare, attention, proj, residual, fc1, gelu, fc2, head

        public var name: String {
            switch self {
            case .embed: "input embedding"
            case .layerNorm: "LayerNorm + modulation"
            case .qkv: "linear qkv"
            case .attentionPrepare: "attention: normalise q, k; fill cache"
            case .attention: "attention: scores, softmax, values"
            case .proj: "linear proj"
            case .residual: "gated residual"
            case .fc1: "linear fc1"
            case .gelu: "GELU"
            case .fc2: "linear fc2"
            case .head: "head (LayerNorm + linear)"
            }
        }
    }

    public private(set) var seconds = [Double](repeating: 0, count: Op.allCases.count)
    /// Floating-point operations of the weight products and of attention's two products.
    public private(set) var flops = [Double](repeating: 0, count: Op.allCases.count)

    public init() {}

    public subscript(op: Op) -> Double { seconds[op.rawValue] }
    public func flops(_ op: Op) -> Double { flops[op.rawValue] }

    mutating func add(_ op: Op, seconds s: Double, flops f: Double) {
        seconds[op.rawValue] += s
        flops[op.rawValue] += f
    }

    public static func + (a: OpProfile, b: OpProfile) -> OpProfile {
        var r = a
        for i in r.seconds.indices { r.seconds[i] += b.seconds[i]; r.flops[i] += b.flops[i] }
        return r
    }

    public static func - (a: OpProfile, b: OpProfile) -> OpProfile {
        var r = a
        for i in r.seconds.indices { r.seconds[i] -= b.seconds[i]; r.flops[i] -= b.flops[i] }
        return r
    }
}

extension VARWorkspace {
    /// Runs `body`, adding its wall time (and `flops`, evaluated only then) to `op` when profiling is on.
    @inline(__always)
    func timed(_ op: OpProfile.Op, flops: @autoclosure () -> Double = 0, _ body: () -> Void) {
        guard profile != nil else { return body() }
        let t0 = DispatchTime.now().uptimeNanoseconds
        body()
        profile?.add(op, seconds: Double(DispatchTime.now().uptimeNanoseconds &- t0) * 1e-9, flops: flops())
    }
}
