import Datasets
import Foundation
import Metrics
import TensorCore
import Testing

@Suite struct LinearSVMTests {
    @Test func symmetricPairHasTheClosedFormSolution() {
        // x = +1 (class 1) and −1 (class 0), 50 each, C = 0.01, balanced weights 1: by symmetry b = 0 and
        // f(w) = ½w² + C·100·(1 − w)², so w = 2·C·100 / (1 + 2·C·100) = 2/3.
        let x = (0..<100).map { Float($0 < 50 ? 1 : -1) }, y = (0..<100).map { $0 < 50 ? 1 : 0 }
        let svm = LinearSVM(x: x, y: y, classCount: 2, inverseRegularization: 0.01)
        #expect(Swift.abs(svm.coefficients[0].weight - 2.0 / 3) < 1e-9 && Swift.abs(svm.coefficients[0].bias) < 1e-9)
        #expect(svm.predict(x) == y)
    }

    @Test func overlappingClassesSatisfyTheOptimalityCondition() {
        // Overlapping Gaussian classes with unequal sizes: at the optimum the gradient of
        // ½(w² + b²) + Σ C_i (1 − t_i(w x_i + b))₊² vanishes (computed here from the definition).
        var rng = RandomGenerator(seed: 3)
        let noise = rng.normal([300]).scalars
        let y = (0..<300).map { $0 < 200 ? 0 : 1 }
        let x = (0..<300).map { noise[$0] + (y[$0] == 1 ? 1.5 : 0) }
        let svm = LinearSVM(x: x, y: y, classCount: 2, inverseRegularization: 0.05)
        let (w, b) = svm.coefficients[0]
        let weights = [300.0 / (2 * 200), 300.0 / (2 * 100)]
        var gw = w, gb = b
        for i in 0..<300 {
            let t: Double = y[i] == 1 ? 1 : -1
            let xi = Double(x[i])
            let margin: Double = 1 - t * (w * xi + b)
            guard margin > 0 else { continue }
            let s: Double = 2 * 0.05 * weights[y[i]] * margin * t
            gw -= s * xi
            gb -= s
        }
        #expect(Swift.abs(gw) < 1e-6 && Swift.abs(gb) < 1e-6, "gradient (\(gw), \(gb))")
        #expect(w > 0, "class 1 lies to the right")
    }

    @Test func oneVersusRestSeparatesOrderedClusters() {
        // Three clusters at −5, 0, 5 with a large C: each one-vs-rest problem is solved, the middle one
        // cannot be separated by one line but the argmax of the three decision values still is right at the ends.
        let y = (0..<90).map { $0 / 30 }
        let x: [Float] = (0..<90).map { i in
            let centre = Float(y[i] * 5 - 5)
            return centre + Float(i % 30) * 0.01
        }
        let predicted = LinearSVM(x: x, y: y, classCount: 3, inverseRegularization: 10).predict(x)
        #expect(predicted[0..<30].allSatisfy { $0 == 0 } && predicted[60..<90].allSatisfy { $0 == 2 })
    }
}

@Suite struct GradientBoostingTests {
    @Test func oneInformativeFeatureTakesAllTheImportance() {
        // The label is a step function of feature 0; feature 1 is noise that never lowers the squared error
        // of any stage as much: all importance goes to feature 0 and the fit is perfect.
        var rng = RandomGenerator(seed: 4)
        let n = 200
        let f0 = rng.uniform([n]).scalars, f1 = rng.uniform([n]).scalars
        let y = f0.map { $0 < 0.3 ? 0 : ($0 < 0.7 ? 1 : 2) }
        let x = (0..<n).flatMap { [f0[$0], f1[$0]] }
        let model = GradientBoostedTrees(x: x, featureCount: 2, y: y, stageCount: 20)
        #expect(model.predict(x) == y)
        #expect(model.featureImportances[0] > 0.99 && Swift.abs(model.featureImportances.reduce(0, +) - 1) < 1e-9)
    }

    @Test func multiClassFitIsTheSameOnOneAndTwoThreads() {
        // A stage's class trees grow concurrently; their importances are added in class order, so the
        // fit must not depend on the thread count: same importances and predictions, bit for bit.
        var rng = RandomGenerator(seed: 9)
        let n = 300
        let features = rng.uniform([n * 3]).scalars
        let y = (0..<n).map { i in Int(features[i * 3] * 3) + (features[i * 3 + 1] > 0.5 ? 3 : 0) }
        Parallel.setThreadCount(1)
        let single = GradientBoostedTrees(x: features, featureCount: 3, y: y, stageCount: 10)
        Parallel.setThreadCount(2)
        let double = GradientBoostedTrees(x: features, featureCount: 3, y: y, stageCount: 10)
        let (p1, p2) = (single.predict(features), double.predict(features))
        Parallel.setThreadCount(1)
        #expect(single.featureImportances == double.featureImportances)
        #expect(p1 == p2)
        #expect(Double(zip(p1, y).filter { $0 == $1 }.count) / Double(n) > 0.9, "six classes from two features: fits")
        #expect(single.featureImportances[2] < 0.05, "feature 2 is noise")
    }

    @Test func binaryStumpFollowsTheNewtonStep() {
        // x = 0, 0, 1, 1 with y = 0, 0, 1, 1: F₀ = log(½/½) = 0, p = ½, residuals ∓½, a stump at 0.5 with
        // leaves Σr/Σp(1−p) = ∓1/0.5 = ∓2, so after one stage F = ∓0.2 and the classes are separated.
        let model = GradientBoostedTrees(x: [0, 0, 1, 1], featureCount: 1, y: [0, 0, 1, 1], stageCount: 1, maximumDepth: 1)
        #expect(model.predict([0, 0.2, 0.8, 1]) == [0, 0, 1, 1])
        #expect(model.featureImportances == [1])
        let constant = GradientBoostedTrees(x: [1, 2, 3], featureCount: 1, y: [4, 4, 4])
        #expect(constant.predict([0, 5]) == [4, 4], "one class: predicts it, no trees")
    }

    @Test func dciOfIdentityCodesWithGradientBoosting() {
        var m = DisentanglementMetrics(space: FactorGrid(classCounts: [4, 4, 4]), representation: { classes in
            Tensor(shape: [classes.count, 3], scalars: classes.flatMap { $0.map(Float.init) })
        }, seed: 2)
        m.trainCount = 300
        m.evalCount = 100
        let dci = m.codeSample().dci(seed: 0)
        #expect(dci.disentanglement > 0.95 && dci.completeness > 0.95 && dci.evalAccuracy == 1)
    }
}
