import Datasets
import Foundation
import Metrics
import TensorCore
import Testing

/// disentanglement_lib's known-answer oracles.
@Suite struct MetricOracleTests {
    let grid = FactorGrid(classCounts: [Int](repeating: 10, count: 10))

    func identity(_ classes: [[Int]]) -> Tensor {
        Tensor(shape: [classes.count, classes[0].count], scalars: classes.flatMap { $0.map(Float.init) })
    }
    func zeros(_ classes: [[Int]]) -> Tensor { Tensor.zeros([classes.count, classes[0].count]) }
    func duplicated(_ classes: [[Int]]) -> Tensor {
        Tensor(shape: [classes.count, 2 * classes[0].count], scalars: classes.flatMap { c in c.flatMap { [Float($0), Float($0)] } })
    }

    func metrics(_ representation: @escaping Representation) -> DisentanglementMetrics {
        var m = DisentanglementMetrics(space: grid, representation: representation, seed: 0)
        m.trainCount = 1000
        m.evalCount = 500
        return m
    }

    @Test func identityRepresentationScoresNearOne() {
        let m = metrics(identity)
        #expect((0.9...1).contains(m.betaVAEScore().eval))
        #expect((0.9...1).contains(m.factorVAEScore().eval))
        let sample = m.codeSample()
        let mi = sample.mutualInformationMatrix()
        #expect((0.9...1).contains(sample.mig(mutualInformation: mi)))
        #expect((0.9...1).contains(sample.sap(continuousFactors: true).score), "dlib's oracle uses continuous factors")
        #expect(sample.sap(classifier: .tree).score > 0.8, "the threshold classifier: matching latent 1.0, others at chance")
        #expect((0.9...1).contains(CodeSample.modularity(mutualInformation: mi)))
        let dci = sample.dci(seed: 0, importance: .randomForest) // gradient boosting: `GradientBoostingTests`, smaller
        #expect(dci.disentanglement > 0.9 && dci.completeness > 0.9 && dci.evalAccuracy > 0.9)
        #expect(sample.explicitness() > 0.9 && sample.explicitness(standardized: true) > 0.9)
    }

    @Test func zeroCodesScoreNearZero() {
        let m = metrics(zeros)
        #expect((0...0.2).contains(m.betaVAEScore().eval))
        #expect(m.factorVAEScore().activeLatents == 0 && m.factorVAEScore().eval == 0)
        let sample = m.codeSample()
        #expect((0...0.2).contains(sample.mig()))
        #expect((0...0.2).contains(sample.sap().score) && (0...0.2).contains(sample.sap(continuousFactors: true).score))
    }

    @Test func duplicatedLatentsHaveNoGap() {
        let sample = metrics(duplicated).codeSample()
        #expect((0...0.1).contains(sample.mig()))
        #expect((0...0.2).contains(sample.sap().score) && (0...0.2).contains(sample.sap(continuousFactors: true).score))
    }

    @Test func dciOnKnownImportanceMatrices() {
        var diagonal = [[Double]](repeating: [Double](repeating: 0, count: 5), count: 5)
        for i in 0..<5 { diagonal[i][i] = 5 }
        let (d, c) = CodeSample.dci(importance: diagonal)
        #expect(Swift.abs(d - 1) < 1e-12 && Swift.abs(c - 1) < 1e-12)
        var doubled = [[Double]](repeating: [Double](repeating: 0, count: 5), count: 10)
        for f in 0..<5 { doubled[2 * f][f] = 1; doubled[2 * f + 1][f] = 1 }
        let (d2, c2) = CodeSample.dci(importance: doubled)
        #expect(Swift.abs(d2 - 1) < 1e-12)
        #expect(Swift.abs(c2 - (1 - log(2) / log(10))) < 1e-12)
    }

    @Test func modularityOfConstantLatentsIsZeroAsInDisentanglementLib() {
        // A constant latent has MI exactly 0 with every factor, and dlib scores such a latent 0.
        let factor = (0..<1000).map { $0 % 7 }, constant = [Int](repeating: 1, count: 1000)
        #expect(Information.mutualInformation(constant, factor) == 0 && Information.mutualInformation(factor, constant) == 0)
        #expect(CodeSample.modularity(mutualInformation: [[0, 0, 0], [0, 0, 0]]) == 0, "all-zero codes")
        // Identity codes on 5 factors plus 5 constant latents: five latents score 1, five 0.
        let m = metrics { classes in
            Tensor(shape: [classes.count, 10], scalars: classes.flatMap { c in c.prefix(5).map(Float.init) + [Float](repeating: 3, count: 5) })
        }
        let sample = m.codeSample()
        let mi = sample.mutualInformationMatrix().map { Array($0.prefix(5)) }
        #expect(mi[5...].allSatisfy { $0.allSatisfy { $0 == 0 } })
        #expect(Swift.abs(CodeSample.modularity(mutualInformation: mi) - 0.5) < 0.01)
    }

    @Test func sapWithTheLinearSVMOnBinaryFactors() {
        // Binary factors, identity codes: the matching latent classifies perfectly, every other latent
        // is independent of the factor (chance, 0.5 on the balanced grid): SAP = 1 − 0.5 = 0.5.
        var m = DisentanglementMetrics(space: FactorGrid(classCounts: [2, 2, 2]), representation: identity, seed: 1)
        m.trainCount = 2000
        m.evalCount = 2000
        let (score, matrix) = m.codeSample().sap()
        for f in 0..<3 {
            #expect(matrix[f][f] == 1)
            for l in 0..<3 where l != f { #expect(Swift.abs(matrix[l][f] - 0.5) < 0.05) }
        }
        #expect(Swift.abs(score - 0.5) < 0.05)
    }

    @Test func modularityWithOneCodeSplitAcrossTwoFactors() {
        var row = [Double](repeating: 0, count: 10)
        row[0] = 1; row[1] = 1
        #expect(Swift.abs(CodeSample.modularity(mutualInformation: [row]) - (1 - 1.0 / 9)) < 1e-12)
    }

    @Test func histogramDiscretization() {
        #expect(Information.discretize([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], bins: 3) == [1, 1, 2, 2, 3, 3])
        #expect(Swift.abs(Information.mutualInformation([0, 0, 1, 1], [5, 5, 7, 7]) - log(2)) < 1e-12)
        #expect(Information.mutualInformation([0, 1, 0, 1], [0, 0, 1, 1]) < 1e-12)
        #expect(Swift.abs(Information.entropy([0, 1, 2, 3]) - log(4)) < 1e-12)
    }

    @Test func unsupervisedScores() {
        // Independent codes: Gaussian TC ≈ 0; perfectly correlated pair: large TC.
        var rng = RandomGenerator(seed: 1)
        let independent = (0..<2000).map { _ in [rng.normal(), rng.normal()] }
        let s = CodeSample(trainCodes: independent, trainFactors: independent.map { _ in [0] }, evalCodes: [],
                           evalFactors: [], classCounts: [1])
        #expect(s.unsupervised().gaussianTotalCorrelation < 0.01)
        let correlated = independent.map { [$0[0], $0[0] + 0.01 * $0[1]] }
        let t = CodeSample(trainCodes: correlated, trainFactors: s.trainFactors, evalCodes: [], evalFactors: [], classCounts: [1])
        #expect(t.unsupervised().gaussianTotalCorrelation > 3)
        #expect(t.unsupervised().mutualInformationScore > s.unsupervised().mutualInformationScore)
    }
}

@Suite struct LearnerTests {
    @Test func rocAUCKnownValues() {
        #expect(rocAUC(scores: [0.1, 0.4, 0.35, 0.8], labels: [0, 0, 1, 1]) == 0.75)
        #expect(rocAUC(scores: [1, 2, 3], labels: [0, 1, 1]) == 1)
        #expect(rocAUC(scores: [3, 2, 1], labels: [0, 1, 1]) == 0)
        #expect(rocAUC(scores: [1, 1, 1, 1], labels: [0, 1, 0, 1]) == 0.5)
    }

    @Test func logisticRegressionSeparatesAndRegularises() {
        var rng = RandomGenerator(seed: 2)
        var x: [Float] = [], y: [Int] = []
        for _ in 0..<600 {
            let label = rng.int(below: 3)
            x += [Float(label) * 3 + rng.normal() * 0.3, rng.normal()]
            y.append(label)
        }
        let model = LogisticRegression(x: x, featureCount: 2, y: y, classCount: 3)
        #expect(model.accuracy(x, y) > 0.98)
        let p = model.probabilities(Array(x.prefix(2)))
        #expect(Swift.abs(p.reduce(0, +) - 1) < 1e-5)
        // Strong regularisation pulls probabilities towards the class frequencies.
        let flat = LogisticRegression(x: x, featureCount: 2, y: y, classCount: 3, inverseRegularization: 1e-6)
        #expect(flat.probabilities(Array(x.prefix(2))).max()! < 0.4)
    }

    @Test func decisionTreeRecoversAnAxisAlignedRuleExactly() {
        // y = 1 ⇔ x0 > 0.5 and x1 ≤ 0.3, on a grid; x2 is noise.
        var rng = RandomGenerator(seed: 3)
        var x: [Float] = [], y: [Int] = []
        for i in 0..<20 { for j in 0..<20 {
            let (a, b) = (Float(i) / 19, Float(j) / 19)
            x += [a, b, rng.uniform()]
            y.append(a > 0.5 && b <= 0.3 ? 1 : 0)
        } }
        let tree = DecisionTree(x: x, featureCount: 3, y: y, classCount: 2, maximumDepth: 2)
        #expect(tree.predict(x) == y)
        let root = tree.nodes[0]
        #expect(root.feature == 0 || root.feature == 1)
        let thresholds = tree.nodes.filter { !$0.isLeaf }.map { ($0.feature, $0.threshold) }
        #expect(thresholds.contains { $0.0 == 0 && $0.1 > Float(9) / 19 && $0.1 < Float(10) / 19 })
        #expect(thresholds.contains { $0.0 == 1 && $0.1 > Float(5) / 19 && $0.1 < Float(6) / 19 })
        #expect(tree.featureImportances[2] == 0)
        let forest = RandomForest(x: x, featureCount: 3, y: y, classCount: 2, treeCount: 10, seed: 1)
        #expect(Double(zip(forest.predict(x), y).filter { $0 == $1 }.count) / Double(y.count) > 0.97)
        #expect(forest.featureImportances[2] < 0.1)
    }
}
