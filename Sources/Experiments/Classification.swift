import Datasets
import Explain
import Foundation
import ImageIO
import Metrics
import Models
import NN
import TensorCore

/// The interpretable classifiers of a run, saved as `RUN/classifiers.json`.
public struct ClassifierBundle: Codable, Sendable {
    /// Latents used as features (the active ones), their names, and class names.
    public var featureLatents: [Int], featureNames: [String], classNames: [String]
    /// The CSV column the labels came from (`nil`: the data set's own labels).
    public var labelColumn: String?
    /// Split: seed and sizes (indices are re-derived from them), and the rule: `sampled` (nil in
    /// bundles written before rules existed) or `stratified` (see `TrainedRun.split`).
    public var seed: UInt64, trainCount: Int, testCount: Int
    public var splitRule: String?
    /// Standard deviation of each feature on the training codes (counterfactual units).
    public var featureScales: [Double]
    /// The pruned CART tree, its complexity α and the pruning path.
    public var tree: DecisionTree, treeAlpha: Double, pruningAlphas: [Double], pruningImpurities: [Double]
    /// The chosen sparse logistic model and the λ values of the path with each fit's non-zero count.
    public var logistic: SparseLogisticRegression, pathLambdas: [Double], pathNonZero: [Int]
    /// Test-set scores per model: `tree`, `logistic`, `cnn`.
    public var scores: [String: ClassifierScores]
    /// Counterfactual validity rates (decode → encode → classifier flips) for the tree and the logistic model.
    public var counterfactualValidity: [String: Double]
    /// Per model, the test scores of each fold of the stratified cross-validation that small finite
    /// data sets also get (``TrainedRun/crossValidationBelow``); nil when the set is large enough.
    public var crossValidation: [String: [ClassifierScores]]?

    /// The probe's best factor of each feature latent (the factor with the highest MI, whether or
    /// not the latent is clean enough to be named after it); nil in bundles written before 0.4.0
    /// or when the run was never probed.
    public var featureFactors: [String?]?

    /// The ground-truth factor a feature is matched to when its use is checked against a label
    /// rule: the probe's best factor, else the factor its name stands for (``factorName(_:)``,
    /// `size (1 of 2)` → size).
    public func bestFactor(_ feature: Int) -> String {
        if let factors = featureFactors, feature < factors.count, let best = factors[feature] { return best }
        return LatentNaming.factor(of: factorName(feature))
    }

    /// Mean and sample standard deviation (n − 1; 0 for one value).
    static func meanAndSpread(_ values: [Double]) -> (mean: Double, std: Double) {
        let m = values.reduce(0, +) / Double(max(values.count, 1))
        let v = values.count > 1 ? values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count - 1) : 0
        return (m, v.squareRoot())
    }

    /// The factor a feature stands for: its name without the `z3:` prefix that tells apart
    /// latents sharing a name.
    public func factorName(_ feature: Int) -> String {
        let name = featureNames[feature]
        guard name.hasPrefix("z"), let colon = name.firstIndex(of: ":") else { return name }
        return String(name[name.index(after: colon)...])
    }
}

extension TrainedRun {
    /// Binary labels for dataset indices: the data set's own labels (`column` nil or "label"), or a CSV
    /// attribute column of an image folder with exactly two distinct values (sorted: first is class 0).
    func labels(column: String?) throws -> (names: [String], of: (Int) -> Int) {
        if column == nil || column == "label" {
            let data = try labelled()
            return (data.labelNames, { data.label(of: $0) })
        }
        guard let folder = dataset as? ImageFolder else {
            throw ConfigError("--labels \(column!)", "CSV columns exist only for images:DIR data sets; use --labels label")
        }
        guard let values = folder.attributes[column!] else {
            throw ConfigError("--labels \(column!)", "no such column (columns: \(folder.attributes.keys.sorted().joined(separator: ", ")))")
        }
        let names = Array(Set(values)).sorted()
        guard names.count == 2 else {
            throw ConfigError("--labels \(column!)", "has \(names.count) distinct values; the interpretable classifiers are binary")
        }
        return (names, { names.firstIndex(of: values[$0])! })
    }

    /// The labelled data set behind the run (lesions or an image folder with labels).
    func labelled() throws -> any LabeledDataset {
        guard let data = dataset as? any LabeledDataset, !data.labelNames.isEmpty else {
            throw ConfigError(config.dataset, "has no labels; classify needs lesions or images:DIR?labels=F.csv&label=COLUMN")
        }
        guard data.labelNames.count == 2 else {
            throw ConfigError(config.dataset, "has \(data.labelNames.count) label classes; the interpretable classifiers are binary")
        }
        return data
    }

    /// The seeded train/test split (distinct dataset indices) shared by every classifier.
    ///
    /// - A data set with at least `trainCount + testCount` images (the generators): that many distinct
    ///   indices drawn at random, the first `trainCount` for training (rule `sampled`).
    /// - A smaller, finite one (an image folder): every image, split per class — ``testFraction`` of
    ///   each class (rounded, at least ``minimumTestPerClass``) for testing, the rest for training,
    ///   shuffled (rule `stratified`). A class too small for that is refused, naming the counts.
    ///
    /// Either way both sets must hold both classes, so no score is ever computed on an empty or
    /// single-class set.
    func split(_ data: any ImageDataset, labels labelOf: (Int) -> Int, classNames: [String], trainCount: Int, testCount: Int,
               seed: UInt64) throws -> (train: [Int], test: [Int], rule: String) {
        var rng = RandomStream.classificationSplit.generator(seed: seed)
        let train: [Int], test: [Int], rule: String
        if data.count >= trainCount + testCount {
            var seen = Set<Int>(), indices: [Int] = []
            while indices.count < trainCount + testCount {
                let i = rng.int(below: data.count)
                if seen.insert(i).inserted { indices.append(i) }
            }
            (train, test, rule) = (Array(indices.prefix(trainCount)), Array(indices.dropFirst(trainCount)), "sampled")
        } else {
            var byClass = [[Int]](repeating: [], count: classNames.count)
            for i in 0..<data.count { byClass[labelOf(i)].append(i) }
            let counts = zip(classNames, byClass).map { "\($0) \($1.count)" }.joined(separator: ", ")
            var trainPart: [Int] = [], testPart: [Int] = []
            for (c, members) in byClass.enumerated() {
                let testShare = max(TrainedRun.minimumTestPerClass, Int((Double(members.count) * TrainedRun.testFraction).rounded()))
                guard members.count - testShare >= TrainedRun.minimumTrainPerClass else {
                    throw ConfigError(config.dataset, "class '\(classNames[c])' has \(members.count) images (classes: \(counts)); a train/test split needs at least \(TrainedRun.minimumTestPerClass + TrainedRun.minimumTrainPerClass) per class (\(TrainedRun.minimumTestPerClass) to test, \(TrainedRun.minimumTrainPerClass) to train)")
                }
                var shuffled = members
                shuffled.shuffle(using: &rng)
                testPart += shuffled.prefix(testShare)
                trainPart += shuffled.dropFirst(testShare)
            }
            trainPart.shuffle(using: &rng) // the validation split takes the last fifth: mix the classes
            testPart.shuffle(using: &rng)
            (train, test, rule) = (trainPart, testPart, "stratified")
        }
        for (name, part) in [("training", train), ("test", test)] where Set(part.map(labelOf)).count < 2 {
            throw ConfigError(config.dataset, "the \(name) set (\(part.count) images) holds \(part.isEmpty ? "no images" : "only class '\(classNames[labelOf(part[0])])'"); scores on it would mean nothing — use more images or another --seed")
        }
        return (train, test, rule)
    }

    /// Share of each class held out for testing when a finite data set is split (20 %).
    public static let testFraction = 0.2
    /// Fewest test images per class (a smaller test set cannot be trusted).
    public static let minimumTestPerClass = 5
    /// Fewest training images per class.
    public static let minimumTrainPerClass = 10

    /// Feature rows (active latents' means) for dataset indices.
    func features(_ indices: [Int], latents: [Int], data: any ImageDataset, meter: WorkMeter? = nil) -> [Float] {
        let codes = encodeMeans(of: indices, in: data, meter: meter), z = config.latentCount
        return (0..<indices.count).flatMap { i in latents.map { codes.scalars[i * z + $0] } }
    }

    /// The pruned tree and the sparse logistic model for training rows `x` (`N × D`) and labels `y`:
    /// α and λ chosen on the last fifth of the rows (the simplest model within 0.5 % of the best
    /// balanced accuracy there), then refitted on all rows.
    func fitInterpretable(x: [Float], y: [Int], featureCount d: Int, progress: (String) -> Void)
        -> (tree: DecisionTree, alpha: Double, logistic: SparseLogisticRegression, path: [SparseLogisticRegression]) {
        // Validation split inside the training set for α and λ.
        let fit = y.count * 4 / 5
        let (xFit, yFit) = (Array(x[..<(fit * d)]), Array(y[..<fit]))
        let (xValidation, yValidation) = (Array(x[(fit * d)...]), Array(y[fit...]))
        // Model selection by balanced accuracy: plain accuracy would favour the majority class.
        func accuracy(_ predicted: [Int], _ y: [Int]) -> Double {
            ClassifierScores(probabilities: predicted.map(Double.init), labels: y).balancedAccuracy
        }
        progress("growing and pruning the decision tree")
        let grown = DecisionTree(x: xFit, featureCount: d, y: yFit, classCount: 2, maximumDepth: 6, minimumSamplesLeaf: 20)
        let path = grown.pruningPath()
        let validation = path.alphas.map { accuracy(grown.pruned(alpha: $0).predict(xValidation), yValidation) }
        let bestValidation = validation.max() ?? 0
        let alpha = zip(path.alphas, validation).filter { $0.1 >= bestValidation - 0.005 }.map(\.0).max() ?? 0
        let tree = DecisionTree(x: x, featureCount: d, y: y, classCount: 2, maximumDepth: 6, minimumSamplesLeaf: 20).pruned(alpha: alpha)

        progress("fitting the L1 logistic regression path")
        let lassoPath = SparseLogisticRegression.path(x: xFit, featureCount: d, y: yFit, count: 15)
        let lassoValidation = lassoPath.map { m in accuracy(m.predict(xValidation), yValidation) }
        let bestLasso = lassoValidation.max() ?? 0
        // Sparsest model (largest λ, first on the path) within 0.5 % of the best.
        let chosen = lassoPath[lassoValidation.firstIndex { $0 >= bestLasso - 0.005 } ?? 0]
        return (tree, alpha, SparseLogisticRegression(x: x, featureCount: d, y: y, lambda: chosen.lambda), lassoPath)
    }

    /// The pixel CNN baseline trained on data set images `indices` with `labels`.
    func trainPixelCNN(_ indices: [Int], labels: [Int], data: any ImageDataset, steps: Int, seed: UInt64, meter: WorkMeter? = nil) -> PixelCNN {
        let cnn = PixelCNN(imageShape: data.imageShape, classCount: 2, seed: seed &+ 7)
        PixelClassifier.train(cnn, trainCount: indices.count, images: { data.images($0.map { indices[$0] }) },
                              labels: labels, steps: steps, seed: seed &+ 8, meter: meter)
        return cnn
    }

    /// Test scores of the three models on feature rows `x`, labels `y` and the same `images`.
    static func scores(tree: DecisionTree, logistic: SparseLogisticRegression, cnn: PixelCNN, x: [Float], y: [Int],
                       images: Tensor) -> [String: ClassifierScores] {
        ["tree": ClassifierScores(probabilities: tree.probability(of: 1, x), labels: y),
         "logistic": ClassifierScores(probabilities: logistic.probability(of: 1, x), labels: y),
         "cnn": ClassifierScores(probabilities: PixelClassifier.probabilities(cnn, images), labels: y)]
    }

    /// Below this many images in its smallest class, a finite data set is also scored by
    /// ``crossValidationFoldCount``-fold stratified cross-validation: its one test set (20 %) holds
    /// fewer than 30 images of that class, too few to trust a single score.
    public static let crossValidationBelow = 150
    /// Folds of the cross-validation.
    public static let crossValidationFoldCount = 5

    /// Stratified folds over the whole data set (each class shuffled and dealt round-robin), when
    /// its smallest class is below ``crossValidationBelow`` (and holds one image per fold); nil otherwise.
    func crossValidationFolds(_ data: any ImageDataset, labels labelOf: (Int) -> Int, classCount: Int, seed: UInt64) -> [[Int]]? {
        var byClass = [[Int]](repeating: [], count: classCount)
        for i in 0..<data.count { byClass[labelOf(i)].append(i) }
        guard let smallest = byClass.map(\.count).min(), smallest < TrainedRun.crossValidationBelow,
              smallest >= TrainedRun.crossValidationFoldCount else { return nil }
        var rng = RandomStream.crossValidation.generator(seed: seed)
        var folds = [[Int]](repeating: [], count: TrainedRun.crossValidationFoldCount)
        var next = 0
        for members in byClass {
            var shuffled = members
            shuffled.shuffle(using: &rng)
            for i in shuffled { folds[next % folds.count].append(i); next += 1 }
        }
        return folds.map { var f = $0; f.shuffle(using: &rng); return f }
    }

    /// Trains the CART tree (gini, depth ≤ 6, ≥ 20 samples per leaf, cost-complexity pruned with α
    /// chosen on a 20 % validation split: the largest α within 0.5 % of the best validation
    /// balanced accuracy), the L1 logistic model (λ chosen the same way on its path) and the pixel CNN on
    /// the same split; scores all three on the test set; measures counterfactual validity; writes
    /// `classifiers.json` and `pixel_cnn.safetensors`. `progress` gets a line as each part starts,
    /// `meter` counts the long parts' work (images encoded, CNN steps) while they run.
    public func classify(labels column: String? = nil, trainCount: Int = 4000, testCount: Int = 1000, cnnSteps: Int = 1500,
                         seed: UInt64 = 0, meter: WorkMeter? = nil, progress: (String) -> Void = { _ in }) throws -> ClassifierBundle {
        try CountLimit.require("--train", trainCount, bytesEach: dataset.imageBytes) // the pixel CNN trains on the images
        try CountLimit.require("--test", testCount, bytesEach: dataset.imageBytes)
        let data = dataset
        let (classNames, labelOf) = try labels(column: column)
        let kl = klPerLatent()
        let names = try latentNames()
        let latents = kl.indices.filter { kl[$0] > LatentNaming.activeKL }
        guard !latents.isEmpty else { throw ConfigError(run.path, "has no active latents to classify with") }
        // a name shared by several latents (mixed ones often are) gets its latent as a prefix
        let featureNames = latents.map { l -> String in
            let name = names[l]
            if name == "inactive" || name == "z\(l)" { return "z\(l)" }
            return latents.filter { names[$0] == name }.count > 1 ? "z\(l):\(name)" : name
        }
        let (trainIndices, testIndices, splitRule) = try split(data, labels: labelOf, classNames: classNames, trainCount: trainCount,
                                                               testCount: testCount, seed: seed)
        progress("encoding \(trainIndices.count) training and \(testIndices.count) test images (\(splitRule) split)")
        let xTrain = features(trainIndices, latents: latents, data: data, meter: meter?.scoped("training set"))
        let xTest = features(testIndices, latents: latents, data: data, meter: meter?.scoped("test set"))
        let yTrain = trainIndices.map(labelOf), yTest = testIndices.map(labelOf)
        let d = latents.count
        let scales = (0..<d).map { j -> Double in
            let column = stride(from: j, to: xTrain.count, by: d).map { Double(xTrain[$0]) }
            let m = column.reduce(0, +) / Double(column.count)
            return (column.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(column.count)).squareRoot()
        }
        let fitted = fitInterpretable(x: xTrain, y: yTrain, featureCount: d, progress: progress)
        progress("training the pixel CNN baseline (\(cnnSteps) steps)")
        let cnn = trainPixelCNN(trainIndices, labels: yTrain, data: data, steps: cnnSteps, seed: seed, meter: meter)
        let scores = TrainedRun.scores(tree: fitted.tree, logistic: fitted.logistic, cnn: cnn, x: xTest, y: yTest, images: data.images(testIndices))
        let (tree, alpha, fullPath, logistic, lassoPath) = (fitted.tree, fitted.alpha, fitted.tree.pruningPath(), fitted.logistic, fitted.path)
        try Safetensors.write(Dictionary(uniqueKeysWithValues: cnn.parameters.map { ($0.name, $0.value) }),
                              metadata: ["format": "untangle-pixel-cnn-1"], to: (run.path as NSString).appendingPathComponent("pixel_cnn.safetensors"))

        var bundle = ClassifierBundle(featureLatents: latents, featureNames: featureNames, classNames: classNames,
                                      labelColumn: column == "label" ? nil : column, seed: seed,
                                      trainCount: trainIndices.count, testCount: testIndices.count, splitRule: splitRule, featureScales: scales,
                                      tree: tree, treeAlpha: alpha, pruningAlphas: fullPath.alphas, pruningImpurities: fullPath.impurities,
                                      logistic: logistic, pathLambdas: lassoPath.map(\.lambda),
                                      pathNonZero: lassoPath.map { $0.weights.filter { $0 != 0 }.count }, scores: scores,
                                      counterfactualValidity: [:])
        if let naming = try latentNaming() { bundle.featureFactors = latents.map { naming[$0].bestFactor } }
        if let folds = crossValidationFolds(data, labels: labelOf, classCount: classNames.count, seed: seed) {
            var perModel: [String: [ClassifierScores]] = [:]
            for (k, test) in folds.enumerated() {
                progress("cross-validation fold \(k + 1) of \(folds.count): \(test.count) test images")
                let inTest = Set(test)
                let train = folds.joined().filter { !inTest.contains($0) }
                let (x, y) = (features(train, latents: latents, data: data), train.map(labelOf))
                let f = fitInterpretable(x: x, y: y, featureCount: d) { _ in }
                let foldCNN = trainPixelCNN(train, labels: y, data: data, steps: cnnSteps, seed: seed &+ UInt64(k + 1) &* 101,
                                            meter: meter?.scoped("fold \(k + 1)"))
                for (model, score) in TrainedRun.scores(tree: f.tree, logistic: f.logistic, cnn: foldCNN, x: features(test, latents: latents, data: data),
                                                        y: test.map(labelOf), images: data.images(test)) {
                    perModel[model, default: []].append(score)
                }
            }
            bundle.crossValidation = perModel
        }
        progress("checking counterfactual validity on 100 test images")
        let sample = Array(testIndices.prefix(100))
        for model in ["tree", "logistic"] {
            var valid = 0, total = 0
            for index in sample {
                guard let cf = counterfactual(bundle, model: model, index: index, data: data) else { continue }
                total += 1
                if cf.roundTripClass == cf.counterfactual.toClass { valid += 1 }
            }
            bundle.counterfactualValidity[model] = total > 0 ? Double(valid) / Double(total) : 0
        }
        let json = try JSONEncoder.sorted.encode(bundle)
        try AtomicFile.write(json + Data("\n".utf8), to: (run.path as NSString).appendingPathComponent(ClassifyStage().output))
        return bundle
    }

    /// Loads `classifiers.json`.
    public func loadClassifiers() throws -> ClassifierBundle {
        let path = (run.path as NSString).appendingPathComponent(ClassifyStage().output)
        guard let data = try BoundedFile.readIfPresent(path, limit: BoundedFile.Limit.record, as: ConfigError.init) else {
            throw ConfigError(path, "not found: run `untangle classify \(run.path)` first")
        }
        do { return try JSONDecoder().decode(ClassifierBundle.self, from: data) } catch {
            throw ConfigError(path, "is not a valid classifier file: \(error.localizedDescription)")
        }
    }

    /// The full code (all latents) of one image and its feature row.
    func code(of index: Int, data: any ImageDataset) -> [Float] { Array(encodeMeans(data.images([index])).scalars) }

    /// Decision of `model` ("tree" or "logistic") on a feature row.
    func decide(_ bundle: ClassifierBundle, model: String, _ row: [Double]) -> Int {
        let x = row.map(Float.init)
        if model == "tree" { return bundle.tree.predict(x)[0] }
        return bundle.logistic.predict(x)[0]
    }

    /// How far past the decision boundary a counterfactual lands, in standard deviations of the
    /// changed feature: 0.5 σ ≈ one class step of a uniform six-class factor (σ ≈ 1.7 steps), so the
    /// decoded image shows a member of the next class rather than a point on the boundary, which
    /// re-encodes to either side (validity ≈ 40 % on the lesion study without a margin).
    public static let counterfactualMargin = 0.5

    /// The smallest single-factor change of the full code `code` that flips `model` ("tree" or
    /// "logistic"), landing ``counterfactualMargin`` past the boundary, and the changed code; nil
    /// when no single factor flips it.
    func flip(_ bundle: ClassifierBundle, model: String, code: [Float]) -> (Counterfactual, [Float])? {
        let row = bundle.featureLatents.map { Double(code[$0]) }
        guard let cf = CounterfactualSearch.smallestFlip(row, features: Array(row.indices), scales: bundle.featureScales,
                                                         classify: { decide(bundle, model: model, $0) },
                                                         margin: TrainedRun.counterfactualMargin) else { return nil }
        var flipped = code
        flipped[bundle.featureLatents[cf.feature]] = Float(cf.value)
        return (cf, flipped)
    }

    /// A counterfactual for dataset image `index` under `model`, with the round-trip check:
    /// the counterfactual code is decoded, re-encoded and classified again.
    public func counterfactual(_ bundle: ClassifierBundle, model: String, index: Int, data: any ImageDataset)
        -> (counterfactual: Counterfactual, code: [Float], flippedCode: [Float], roundTripClass: Int)? {
        counterfactual(bundle, model: model, code: self.code(of: index, data: data))
    }

    /// ``counterfactual(_:model:index:data:)`` for an image's code (mean, all latents).
    public func counterfactual(_ bundle: ClassifierBundle, model: String, code: [Float])
        -> (counterfactual: Counterfactual, code: [Float], flippedCode: [Float], roundTripClass: Int)? {
        guard let (cf, flipped) = flip(bundle, model: model, code: code) else { return nil }
        let reencoded = Array(encodeMeans(decode(Tensor(shape: [1, code.count], scalars: flipped))).scalars)
        let roundTrip = decide(bundle, model: model, bundle.featureLatents.map { Double(reencoded[$0]) })
        return (cf, code, flipped, roundTrip)
    }

    /// A summary of the classifiers: scores, the tree as rules, importances, coefficients, validity.
    public static func classifierSummary(_ b: ClassifierBundle) -> String {
        var s = "test set (\(b.testCount) images)      accuracy  balanced  ROC-AUC\n"
        for model in ["tree", "logistic", "cnn"] {
            let c = b.scores[model]!
            s += model.padding(toLength: 28, withPad: " ", startingAt: 0) + String(format: "%8.3f  %8.3f  %7.3f\n", c.accuracy, c.balancedAccuracy, c.rocAUC)
        }
        let gap = b.scores["cnn"]!.accuracy - max(b.scores["tree"]!.accuracy, b.scores["logistic"]!.accuracy)
        s += String(format: "gap, pixel CNN − best factor model: %+.3f accuracy\n", gap)
        if let cv = b.crossValidation, let folds = cv["tree"]?.count {
            s += "\n\(folds)-fold stratified cross-validation (the smallest class has fewer than \(TrainedRun.crossValidationBelow) images), mean ± std over folds:\n"
                + "            accuracy       balanced       ROC-AUC\n"
            for model in ["tree", "logistic", "cnn"] {
                guard let scores = cv[model] else { continue }
                let cells = [\ClassifierScores.accuracy, \.balancedAccuracy, \.rocAUC].map { key -> String in
                    let (m, sd) = ClassifierBundle.meanAndSpread(scores.map { $0[keyPath: key] })
                    return String(format: "%.3f ± %.3f", m, sd)
                }
                s += model.padding(toLength: 12, withPad: " ", startingAt: 0) + cells.joined(separator: "  ") + "\n"
            }
        }
        s += "\nDecision tree (α = \(String(format: "%.4f", b.treeAlpha)), depth \(b.tree.depth), \(b.tree.leafCount) leaves):\n"
        s += b.tree.text(featureNames: b.featureNames, classNames: b.classNames)
        s += "importances: " + zip(b.featureNames, b.tree.featureImportances).filter { $0.1 > 0 }.sorted { $0.1 > $1.1 }
            .map { "\($0.0) \(String(format: "%.2f", $0.1))" }.joined(separator: ", ") + "\n"
        s += "\nSparse logistic regression (λ = \(String(format: "%.4f", b.logistic.lambda))), standardised coefficients:\n"
        for (name, w) in zip(b.featureNames, b.logistic.weights) { s += "  \(name.padding(toLength: 24, withPad: " ", startingAt: 0)) \(String(format: "%+.3f", w))\n" }
        s += "regularisation path (λ: non-zero): " + zip(b.pathLambdas, b.pathNonZero).map { String(format: "%.3g:%d", $0.0, $0.1) }.joined(separator: " ") + "\n"
        s += "\ncounterfactual validity (decode → encode → classify): " + b.counterfactualValidity.keys.sorted()
            .map { "\($0) \(String(format: "%.0f%%", 100 * b.counterfactualValidity[$0]!))" }.joined(separator: ", ") + "\n"
        return s
    }
}
