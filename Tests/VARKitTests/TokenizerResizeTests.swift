import Testing
@testable import VARCore
import VARKit

/// Resampling operators against the numeric vectors of docs/model.md §3.3, §3.4 and §11 (≤ 1e-6: the
/// spec prints 6 decimals, so a rounding error of 5e-7 plus float32 storage).
@Suite struct TokenizerResizeTests {
    static let pn2: [[Float]] = [[1.103821, -0.103821], [1.110779, -0.110779], [1.092834, -0.092834],
                                 [1.041199, -0.041199], [0.950317, 0.049683], [0.836304, 0.163696],
                                 [0.707642, 0.292358], [0.570190, 0.429810]]
    static let pn3: [[Float]] = [[1.107414, -0.107414, 0], [1.100136, -0.100136, 0], [1.021996, -0.021996, 0],
                                 [0.866409, 0.149040, -0.015450], [0.673874, 0.384285, -0.058159],
                                 [0.464859, 0.634361, -0.099220], [0.259140, 0.849831, -0.108971],
                                 [0.076492, 0.981255, -0.057747]]

    /// Rows 0…7 as printed; rows 8…15 are rows 7…0 with the columns reversed.
    func checkBicubic(_ pn: Int, _ half: [[Float]]) {
        let m = ResizeMatrix.bicubic(from: pn, to: 16)
        #expect(m.outCount == 16 && m.inCount == pn)
        for o in 0..<16 {
            let row = o < 8 ? half[o] : Array(half[15 - o].reversed())
            for i in 0..<pn { #expect(abs(m[o, i] - row[i]) <= 1e-6, "pn \(pn) row \(o) col \(i)") }
        }
    }

    @Test func bicubicMatricesMatchSpec() {
        checkBicubic(2, Self.pn2)
        checkBicubic(3, Self.pn3)
        let one = ResizeMatrix.bicubic(from: 1, to: 16)   // a 1×1 map becomes constant
        for o in 0..<16 { #expect(abs(one[o, 0] - 1) <= 1e-6) }
    }

    @Test func bicubicColumnExample() {
        let expected: [Float] = [0.892586, 0.899864, 0.978004, 1.102692, 1.209808, 1.336700, 1.522919, 1.808014,
                                 2.210732, 2.627251, 3.028938, 3.405907, 3.748268, 4.043991, 4.200272, 4.214828]
        let col = Tensor(shape: [3, 1], data: [1, 2, 4])
        let y = col.resized(rows: .bicubic(from: 3, to: 16), cols: .identity(1))
        #expect(y.shape == [16, 1])
        for o in 0..<16 { #expect(abs(y.data[o] - expected[o]) <= 1e-6, "output \(o)") }
    }

    @Test func bicubicTapWeightsAtHalf() {
        // t = 0.5 gives (−0.09375, 0.59375, 0.59375, −0.09375): 4 → 8 puts o = 1 at u = 0.25, but
        // 2 → 1 puts the only output at u = 0.5 with taps clamped to the two inputs.
        let m = ResizeMatrix.bicubic(from: 2, to: 1)
        #expect(abs(m[0, 0] - (-0.09375 + 0.59375)) <= 1e-7)
        #expect(abs(m[0, 1] - (0.59375 - 0.09375)) <= 1e-7)
    }

    @Test(arguments: [
        (13, [0.5, 1.5, 2.5, 3.5, 5, 6.5, 7.5, 8.5, 10, 11.5, 12.5, 13.5, 14.5] as [Float]),
        (10, [0.5, 2, 3.5, 5, 6.5, 8.5, 10, 11.5, 13, 14.5]),
        (6, [1, 3.5, 6, 9, 11.5, 14]),
        (5, [1.5, 4.5, 7.5, 10.5, 13.5]),
        (3, [2.5, 7.5, 12.5]),
    ])
    func areaRamp(_ c: (Int, [Float])) {
        let ramp = Tensor(shape: [1, 16], data: (0..<16).map(Float.init))
        let y = ramp.resized(rows: .identity(1), cols: .area(from: 16, to: c.0))
        #expect(y.shape == [1, c.0])
        for i in 0..<c.0 { #expect(abs(y.data[i] - c.1[i]) <= 1e-6, "pn \(c.0) output \(i)") }
    }

    @Test func areaWindowsOf2DAverageAllCells() {
        // 16 → 3: windows [0,6) [5,11) [10,16); cell (1, 2) averages rows 5..<11 × cols 10..<16.
        let x = Tensor(shape: [1, 1, 16, 16], data: (0..<256).map { Float($0) })
        let m = ResizeMatrix.area(from: 16, to: 3)
        let y = x.resized(rows: m, cols: m)
        var s: Float = 0
        for r in 5..<11 { for c in 10..<16 { s += Float(r * 16 + c) } }
        #expect(abs(y.data[1 * 3 + 2] - s / 36) <= 1e-4)
    }

    @Test func bilinearMatrixAndEditMask() {
        // 16 → 4: u = 4·(o + 0.5) − 0.5 = 1.5, 5.5, 9.5, 13.5: equal halves of two taps.
        let m = ResizeMatrix.bilinear(from: 16, to: 4)
        #expect(m[0, 1] == 0.5 && m[0, 2] == 0.5 && m[3, 13] == 0.5 && m[3, 14] == 0.5)
        // 2 → 4 upsampling: u = −0.25 clamps to 0 → weight 1 on input 0; last: u = 1.25 → taps (1, 1).
        let up = ResizeMatrix.bilinear(from: 2, to: 4)
        #expect(up[0, 0] == 1 && up[1, 0] == 0.75 && up[1, 1] == 0.25 && up[3, 1] == 1)
        // Keep the left half of a 16×16 mask.
        let mask = (0..<256).map { $0 % 16 < 8 }
        let m4 = EditMask.resized(mask, side: 16, to: 4)
        #expect(m4 == (0..<16).map { $0 % 4 < 2 })
        // 13: column 6 has u = 16/13·6.5 − 0.5 = 7.5 → value 0.5, not > 0.5 → generate.
        let m13 = EditMask.resized(mask, side: 16, to: 13)
        #expect(m13[5] == true && m13[6] == false)
        #expect(EditMask.resized([Bool](repeating: false, count: 256), side: 16, to: 1) == [true])
    }
}
