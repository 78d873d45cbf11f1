import Autodiff
import TensorCore
import TestSupport
import Testing

/// Finite-difference checks for every autodiff primitive.
@Suite struct PrimitiveGradientTests {
    let check = GradientCheck()

    func expectGradients(_ inputs: [Tensor], check: GradientCheck? = nil, _ f: ([Variable]) -> Variable,
                         sourceLocation: SourceLocation = #_sourceLocation) {
        let bad = (check ?? self.check).mismatches(inputs, f)
        #expect(bad.isEmpty, "\(bad.prefix(5))", sourceLocation: sourceLocation)
    }

    @Test func binaryOpsWithBroadcasting() {
        let a = awayFromZero([3, 4], seed: 1), row = awayFromZero([4], seed: 2), col = awayFromZero([3, 1], seed: 3)
        let positive = awayFromZero([3, 4], seed: 4).map { Swift.abs($0) + 0.5 }
        expectGradients([a, row]) { $0[0] + $0[1] }
        expectGradients([a, col]) { $0[0] - $0[1] }
        expectGradients([col, a]) { $0[0] - $0[1] }
        expectGradients([a, row]) { $0[0] * $0[1] }
        expectGradients([a, positive]) { $0[0] / $0[1] }
        expectGradients([row, positive]) { $0[0] / $0[1] }
        expectGradients([a, Tensor(scalar: 0.7)]) { $0[0] * $0[1] }
    }

    @Test func scalarOps() {
        let a = awayFromZero([2, 5], seed: 5)
        expectGradients([a]) { $0[0] + 2 }
        expectGradients([a]) { 3 - $0[0] }
        expectGradients([a]) { $0[0] * -1.5 }
        expectGradients([a]) { $0[0] / 4 }
        expectGradients([a]) { -$0[0] }
    }

    @Test func unaryOps() {
        let a = awayFromZero([4, 5], seed: 6)
        let positive = a.map { Swift.abs($0) + 0.2 }
        expectGradients([a]) { $0[0].exp() }
        expectGradients([positive]) { $0[0].log() }
        expectGradients([a]) { $0[0].squared() }
        expectGradients([positive]) { $0[0].sqrt() }
        expectGradients([a]) { $0[0].relu() }
        expectGradients([a]) { $0[0].abs() }
        expectGradients([a]) { $0[0].leakyRelu(slope: 0.2) }
        expectGradients([a * 4]) { $0[0].sigmoid() }
        expectGradients([a * 2]) { $0[0].tanh() }
        expectGradients([a * 5]) { $0[0].softplus() }
    }

    @Test func stableFormsDoNotOverflow() {
        let tape = Tape()
        let x = tape.input(Tensor(shape: [4], scalars: [-1000, -30, 30, 1000]))
        let s = x.softplus(), sig = x.sigmoid()
        #expect(s.value.scalars == [0, s.value.scalars[1], 30, 1000])
        #expect(sig.value.scalars[0] == 0 && sig.value.scalars[3] == 1)
        let g = tape.backward(from: s.sum())[x]!
        #expect(g.scalars.allSatisfy { $0.isFinite })
        let lse = Tape().input(Tensor(shape: [1, 3], scalars: [1000, 1000, -.infinity])).logSumExp(axis: 1)
        #expect(Swift.abs(lse.value.scalar - (1000 + Float(0.6931472))) < 1e-3)
    }

    @Test func structuralOps() {
        let a = awayFromZero([2, 3, 4], seed: 7)
        expectGradients([a]) { $0[0].reshaped([6, -1]) }
        expectGradients([a]) { $0[0].permuted([2, 0, 1]) }
        expectGradients([a]) { $0[0].slice(axis: 1, 1..<3) }
        expectGradients([a]) { $0[0].slice(axis: -1, 0..<1) }
        expectGradients([a, awayFromZero([2, 2, 4], seed: 8)]) { Variable.concatenate([$0[0], $0[1]], axis: 1) }
        expectGradients([a]) { $0[0].flattened() }
    }

    @Test func reductions() {
        let a = awayFromZero([3, 4, 2], seed: 9)
        expectGradients([a]) { $0[0].sum() }
        expectGradients([a]) { $0[0].mean() }
        expectGradients([a]) { $0[0].sum(axis: 1) }
        expectGradients([a]) { $0[0].sum(axis: 0, keepDims: true) }
        expectGradients([a]) { $0[0].mean(axis: -1) }
        expectGradients([a * 3]) { $0[0].logSumExp(axis: 1) }
        expectGradients([a * 3]) { $0[0].logSumExp(axis: 0, keepDims: true) }
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func matmul(transposeA: Bool, transposeB: Bool) {
        let a = awayFromZero(transposeA ? [4, 3] : [3, 4], seed: 10)
        let b = awayFromZero(transposeB ? [5, 4] : [4, 5], seed: 11)
        expectGradients([a, b]) { Variable.matmul($0[0], $0[1], transposeA: transposeA, transposeB: transposeB) }
    }

    @Test func compositeReusesVariables() {
        // x·x + exp(x)·x uses x several times; gradients must accumulate.
        let a = awayFromZero([5], seed: 12)
        expectGradients([a]) { $0[0] * $0[0] + $0[0].exp() * $0[0] }
    }
}

@Suite struct TapeTests {
    @Test func noGradModeRecordsNothing() {
        let tape = Tape(recording: false)
        let y = (tape.constant(.ones([3])) * 2).exp().sum()
        #expect(tape.nodeCount == 0)
        #expect(Swift.abs(y.value.scalar - 3 * Float(7.389056)) < 1e-4)
    }

    @Test func parameterGradientsAccumulateAcrossPasses() {
        let p = Parameter("w", Tensor(shape: [2], scalars: [1, 2]))
        for _ in 0..<2 {
            let tape = Tape()
            tape.backward(from: (tape.parameter(p) * 3).sum())
        }
        #expect(p.gradient?.scalars == [6, 6])
        p.zeroGradient()
        #expect(p.gradient == nil)
    }

    @Test func inputGradientsAndConstants() {
        let tape = Tape()
        let x = tape.input(Tensor(shape: [3], scalars: [1, 2, 3]))
        let c = tape.constant(Tensor(shape: [3], scalars: [4, 5, 6]))
        let grads = tape.backward(from: (x * c).sum())
        #expect(grads[x]?.scalars == [4, 5, 6])
        #expect(grads[c] == nil)
        #expect(tape.nodeCount == 0, "the tape releases its nodes after backward")
    }

    @Test func deepChainIsIterative() {
        // 20,000 nodes deep: a recursive traversal would overflow the stack.
        let tape = Tape()
        let x = tape.input(Tensor(scalar: 1))
        var y = x
        for _ in 0..<20_000 { y = y + 0.0001 }
        #expect(tape.backward(from: y)[x]?.scalar == 1)
    }

    @Test func detachedStopsGradient() {
        let tape = Tape()
        let x = tape.input(Tensor(shape: [2], scalars: [1, 2]))
        #expect(tape.backward(from: (x.detached * x + x).sum())[x]?.scalars == [2, 3])
    }

    @Test func seedShapeMustMatch() {
        let tape = Tape()
        let x = tape.input(.ones([2, 2]))
        let g = tape.backward(from: x * 2, seed: Tensor(shape: [2, 2], scalars: [1, 0, 0, 1]))
        #expect(g[x]?.scalars == [2, 0, 0, 2])
    }
}
