import Testing
@testable import VARCore
import VARKit

@Suite struct TensorTests {
    @Test func linearMatchesNaiveLoop() {
        let x = Tensor(shape: [3, 4], data: (0..<12).map { Float($0) * 0.5 - 2 })
        let w = Tensor(shape: [5, 4], data: (0..<20).map { Float(($0 * 7) % 11) - 5 })
        let b = Tensor(shape: [5], data: [1, -1, 0.5, 2, 0])
        let y = x.linear(w, bias: b, parallelism: .allCores)
        #expect(y.shape == [3, 5])
        for r in 0..<3 { for o in 0..<5 {
            var s = b.data[o]
            for i in 0..<4 { s += x.data[r * 4 + i] * w.data[o * 4 + i] }
            #expect(abs(y.data[r * 5 + o] - s) < 1e-5)
        } }
    }
}
