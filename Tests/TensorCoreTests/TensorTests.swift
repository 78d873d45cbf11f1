import TensorCore
import TestSupport
import Testing

@Suite struct TensorTests {
    @Test func shapesStridesAndIndexing() {
        var t = Tensor(shape: [2, 3], scalars: [0, 1, 2, 3, 4, 5])
        #expect(t.strides == [3, 1] && t[1, 2] == 5)
        t[0, 1] = 9
        #expect(t.scalars[1] == 9)
        #expect(t.reshaped([3, -1]).shape == [3, 2])
        #expect(Tensor(scalar: 2).rank == 0)
    }

    @Test func broadcastingArithmetic() {
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        #expect((a + Tensor(shape: [3], scalars: [10, 20, 30])).scalars == [11, 22, 33, 14, 25, 36])
        #expect((a * Tensor(shape: [2, 1], scalars: [2, 3])).scalars == [2, 4, 6, 12, 15, 18])
        #expect(Broadcast.shape([4, 1, 3], [5, 1]) == [4, 5, 3])
        let outer = Tensor(shape: [3, 1], scalars: [1, 2, 3]) * Tensor(shape: [1, 2], scalars: [1, 10])
        #expect(outer.shape == [3, 2] && outer.scalars == [1, 10, 2, 20, 3, 30])
    }

    @Test func sumToShapeUndoesBroadcast() {
        let g = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        #expect(g.sum(toShape: [3]).scalars == [5, 7, 9])
        #expect(g.sum(toShape: [2, 1]).scalars == [6, 15])
        #expect(g.sum(toShape: []).scalars == [21])
        #expect(g.sum(toShape: [1, 3]).shape == [1, 3])
    }

    @Test func reductionsAlongAxes() {
        let t = Tensor(shape: [2, 3], scalars: [1, 5, 3, 4, 2, 6])
        #expect(t.sum(axis: 0).scalars == [5, 7, 9])
        #expect(t.sum(axis: 1, keepDims: true).shape == [2, 1])
        #expect(t.max(axis: -1).scalars == [5, 6])
        #expect(t.argmaxLastAxis() == [1, 2])
        #expect(t.mean().scalar == 3.5)
    }

    @Test func permuteSliceConcatenate() {
        let t = Tensor(shape: [2, 3, 2], scalars: (0..<12).map(Float.init))
        let p = t.permuted([1, 0, 2])
        #expect(p.shape == [3, 2, 2] && p[2, 1, 0] == t[1, 2, 0])
        #expect(t.permuted([2, 1, 0]).permuted([2, 1, 0]) == t)
        let s = t.slice(axis: 1, 1..<3)
        #expect(s.shape == [2, 2, 2] && s[1, 0, 1] == t[1, 1, 1])
        #expect(Tensor.concatenate([t.slice(axis: 1, 0..<1), s], axis: 1) == t)
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func matmulMatchesLoops(transposeA: Bool, transposeB: Bool) {
        let a = awayFromZero(transposeA ? [5, 3] : [3, 5], seed: 1)
        let b = awayFromZero(transposeB ? [4, 5] : [5, 4], seed: 2)
        let c = Tensor.matmul(a, b, transposeA: transposeA, transposeB: transposeB)
        let at = transposeA ? a.transposed : a, bt = transposeB ? b.transposed : b
        var expected = Tensor.zeros([3, 4])
        for i in 0..<3 { for j in 0..<4 { for k in 0..<5 { expected[i, j] += at[i, k] * bt[k, j] } } }
        #expect(maxAbsDifference(c, expected) < 1e-5)
    }
}

@Suite struct RandomTests {
    @Test func sameSeedSameStreamDifferentSeedDifferent() {
        var a = RandomGenerator(seed: 42), b = RandomGenerator(seed: 42), c = RandomGenerator(seed: 43)
        let xa = (0..<10).map { _ in a.next() }, xb = (0..<10).map { _ in b.next() }, xc = (0..<10).map { _ in c.next() }
        #expect(xa == xb && xa != xc)
    }

    @Test func stateRoundTripsForResume() {
        var a = RandomGenerator(seed: 7)
        _ = a.normal([10])
        var b = RandomGenerator(state: a.state)
        #expect(a.normal([5]) == b.normal([5]))
    }

    @Test func splitAndForkGiveIndependentReproducibleStreams() {
        var parent = RandomGenerator(seed: 1)
        let frozen = parent
        var child = parent.split()
        #expect(parent != frozen)
        #expect(child.next() != parent.next())
        #expect(frozen.fork(3) == frozen.fork(3) && frozen.fork(3) != frozen.fork(4))
    }

    @Test func distributions() {
        var rng = RandomGenerator(seed: 5)
        let n = 100_000
        let z = rng.normal([n])
        let mean = z.sumDouble() / Double(n)
        let variance = z.scalars.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(n) - mean * mean
        #expect(Swift.abs(mean) < 0.02 && Swift.abs(variance - 1) < 0.02)
        let u = rng.uniform([n])
        #expect(u.scalars.allSatisfy { $0 >= 0 && $0 < 1 })
        #expect(Swift.abs(u.sumDouble() / Double(n) - 0.5) < 0.01)
        var counts = [Int](repeating: 0, count: 6)
        for _ in 0..<60_000 { counts[rng.int(below: 6)] += 1 }
        #expect(counts.allSatisfy { Swift.abs($0 - 10_000) < 500 })
        let p = rng.permutation(50)
        #expect(p.sorted() == Array(0..<50) && p != Array(0..<50))
    }
}
