import Foundation
import TensorCore
import VectorLoops
import Testing

/// `log1pOfUnitInterval` (VectorLoops) against a double-precision `log1p`, in ulps of the float result, over
/// [0, 1]: a uniform sweep, powers of two down to the subnormals, and the values around √2 − 1 where
/// the reduction switches.
@Suite struct VectorLoopsTests {
    /// |float − exact| in units of the float's last place.
    func ulps(_ value: Float, _ exact: Double) -> Double {
        let reference = Float(exact)
        return abs(Double(value) - exact) / Double(reference == 0 ? Float.leastNonzeroMagnitude : reference.ulp)
    }

    @Test func log1pIsWithinOneAndAHalfUlpOnTheUnitInterval() {
        var inputs: [Float] = (0...200_000).map { Float($0) / 200_000 }
        var p: Float = 1
        while p > 0 { inputs.append(p); inputs.append(p * 1.5); p /= 2 }
        let pivot = Float(2.0.squareRoot() - 1)
        var q = pivot
        for _ in 0..<64 { inputs.append(q); q = q.nextDown }
        q = pivot
        for _ in 0..<64 { inputs.append(q); q = q.nextUp }
        inputs.append(contentsOf: [0, 1, Float.leastNormalMagnitude, Float.leastNonzeroMagnitude])
        while inputs.count % 16 != 0 { inputs.append(0.5) }
        var worst = 0.0, worstInput: Float = 0
        inputs.withUnsafeBufferPointer { x in
            for start in stride(from: 0, to: inputs.count, by: 16) {
                let result = log1pOfUnitInterval(UnsafeRawPointer(x.baseAddress! + start).loadUnaligned(as: SIMD16<Float>.self))
                for lane in 0..<16 {
                    let e = x[start + lane], error = ulps(result[lane], Foundation.log1p(Double(e)))
                    if error > worst { (worst, worstInput) = (error, e) }
                }
            }
        }
        #expect(worst <= 1.5, "worst \(worst) ulp at e = \(worstInput)")
    }
}
