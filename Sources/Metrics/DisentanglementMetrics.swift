import Datasets
import Foundation
import TensorCore

/// Codes `[N, Z]` of a batch of factor-class combinations: the representation under test
/// (e.g. render the images and take the encoder's mean; or the identity for oracles).
public typealias Representation = ([[Int]]) -> Tensor

/// The disentanglement metrics of disentanglement_lib, with its definitions and defaults
/// (Locatello et al. 2019; `disentanglement_lib/evaluation/metrics/*.py`). All sampling is seeded.
public struct DisentanglementMetrics {
    /// The ground-truth factors to sample.
    public let space: any FactorSpace
    /// Codes of factor combinations.
    public let representation: Representation
    /// Seed of every metric's sampling (each metric forks its own stream).
    public let seed: UInt64
    /// Training / evaluation points (10,000 / 5,000) and batch size (64).
    public var trainCount = 10_000, evalCount = 5_000, batchSize = 64
    /// The codes the BetaVAE and FactorVAE scores have encoded, each grid image once (shared by
    /// copies of this value).
    public let pool: CodePool

    /// Images per `representation` call when encoding many (the pool's batches and the sample's):
    /// at least 256.
    public let encodingBatch: Int

    /// Metrics of `representation` on `space`'s grid, sampled from `seed`; `encodingBatch` images a
    /// `representation` call (the encoder's own choice, e.g. `TrainedRun.encodingPiece`; 256 if less).
    public init(space: any FactorSpace, representation: @escaping Representation, seed: UInt64, encodingBatch: Int = 256) {
        self.space = space
        self.representation = representation
        self.seed = seed
        self.encodingBatch = max(encodingBatch, 256)
        pool = CodePool(space: space, representation: representation, batchSize: self.encodingBatch)
    }

    func stream(_ salt: UInt64) -> RandomGenerator { RandomGenerator(seed: seed).fork(salt) }

    /// Codes in batches of `batchSize` → rows `[N][Z]`; `meter` counts the images (one phase).
    func encode(_ classes: [[Int]], meter: WorkMeter? = nil) -> [[Float]] {
        var out: [[Float]] = []
        meter?.begin("encoding \(classes.count) points", total: classes.count, unit: "images")
        defer { meter?.end() }
        let chunk = max(batchSize, encodingBatch)
        for start in stride(from: 0, to: classes.count, by: chunk) {
            let codes = representation(Array(classes[start..<min(classes.count, start + chunk)]))
            let z = codes.shape[1]
            for i in 0..<codes.shape[0] { out.append(Array(codes.scalars[(i * z)..<((i + 1) * z)])) }
            meter?.advance(by: codes.shape[0])
        }
        return out
    }

    // MARK: BetaVAE score (Higgins et al. 2017)

    /// BetaVAE score: per point a factor k is drawn, `batchSize` pairs sharing factor k are
    /// encoded, the feature is the mean |z₁ − z₂| over the pairs, and a multinomial logistic
    /// regression predicts k. Returns (train accuracy, eval accuracy). `meter` counts the
    /// pool's encodings.
    public func betaVAEScore(meter: WorkMeter? = nil) -> (train: Double, eval: Double) {
        var rng = stream(1)
        // Every point's pairs are drawn first — the same draws, in the same order, as encoding
        // point by point — then each distinct image is encoded once (``CodePool``).
        func draw(_ count: Int) -> (images: [Int], y: [Int]) {
            var images: [Int] = [], y: [Int] = []
            images.reserveCapacity(count * 2 * batchSize)
            for _ in 0..<count {
                let k = rng.int(below: space.factors.count)
                let first = space.sampleClasses(batchSize, rng: &rng)
                var second = space.sampleClasses(batchSize, rng: &rng)
                for i in 0..<batchSize { second[i][k] = first[i][k] }
                images += (first + second).map { space.index(of: $0) }
                y.append(k)
            }
            return (images, y)
        }
        func features(_ images: [Int]) -> [Float] {
            var x: [Float] = []
            for start in stride(from: 0, to: images.count, by: 2 * batchSize) {
                var feature = [Float](repeating: 0, count: pool.code(images[start]).count)
                for i in 0..<batchSize {
                    let (a, b) = (pool.code(images[start + i]), pool.code(images[start + batchSize + i]))
                    for l in feature.indices { feature[l] += abs(a[a.startIndex + l] - b[b.startIndex + l]) / Float(batchSize) }
                }
                x += feature
            }
            return x
        }
        let (trainDraw, evalDraw) = (draw(trainCount), draw(evalCount))
        pool.prefetch(trainDraw.images + evalDraw.images, meter: meter)
        let train = (x: features(trainDraw.images), y: trainDraw.y), eval = (x: features(evalDraw.images), y: evalDraw.y)
        let d = train.x.count / trainCount
        let model = LogisticRegression(x: train.x, featureCount: d, y: train.y, classCount: space.factors.count)
        return (model.accuracy(train.x, train.y), model.accuracy(eval.x, eval.y))
    }

    // MARK: FactorVAE score (Kim & Mnih 2018)

    /// FactorVAE score: latents with global std < 0.05 are inactive; each vote fixes one
    /// factor, encodes a batch, and votes (argmin over active latents of the variance
    /// normalised by the global variance, factor). A majority-vote classifier maps latents
    /// to factors. Returns (train accuracy, eval accuracy, active latents). `meter` counts the
    /// pool's encodings.
    public func factorVAEScore(meter: WorkMeter? = nil) -> (train: Double, eval: Double, activeLatents: Int) {
        var rng = stream(2)
        let globalImages = space.sampleClasses(trainCount, rng: &rng).map { space.index(of: $0) }
        pool.prefetch(globalImages, meter: meter)
        let variances = columnVariances(globalImages.map { Array(pool.code($0)) })
        let active = variances.indices.filter { variances[$0].squareRoot() >= 0.05 }
        guard !active.isEmpty else { return (0, 0, 0) }
        let factorCount = space.factors.count, z = variances.count
        // All votes' batches are drawn first (the order voting one by one draws them in), then
        // each distinct image is encoded once (``CodePool``).
        func draw(_ count: Int) -> [(factor: Int, images: [Int])] {
            (0..<count).map { _ in
                let k = rng.int(below: factorCount)
                return (k, space.sampleClasses(batchSize, fixing: k, rng: &rng).map { space.index(of: $0) })
            }
        }
        let (trainVotes, evalVotes) = (draw(trainCount), draw(evalCount))
        pool.prefetch((trainVotes + evalVotes).flatMap(\.images), meter: meter)
        func votes(_ draws: [(factor: Int, images: [Int])]) -> [[Int]] {
            var table = [[Int]](repeating: [Int](repeating: 0, count: factorCount), count: z)
            for (k, images) in draws {
                let v = columnVariances(images.map { Array(pool.code($0)) })
                let best = active.min { v[$0] / variances[$0] < v[$1] / variances[$1] }!
                table[best][k] += 1
            }
            return table
        }
        let train = votes(trainVotes), eval = votes(evalVotes)
        let classifier = train.map { row in row.indices.max { row[$0] < row[$1] }! }
        let trainAccuracy = Double(train.reduce(0) { $0 + $1.max()! }) / Double(trainCount)
        let evalAccuracy = Double(eval.enumerated().reduce(0) { $0 + $1.element[classifier[$1.offset]] }) / Double(evalCount)
        return (trainAccuracy, evalAccuracy, active.count)
    }

    /// Per-latent variance with ddof 1.
    func columnVariances(_ rows: [[Float]]) -> [Double] {
        let n = Double(rows.count), z = rows[0].count
        return (0..<z).map { l in
            let mean = rows.reduce(0.0) { $0 + Double($1[l]) } / n
            return rows.reduce(0.0) { $0 + pow(Double($1[l]) - mean, 2) } / max(n - 1, 1)
        }
    }
}

/// Codes and factors of `trainCount` + `evalCount` sampled points, shared by the
/// metrics that work on a fixed sample (MIG, SAP, DCI, modularity, explicitness,
/// unsupervised scores).
public struct CodeSample: Sendable {
    /// Codes `[N][Z]` and factor classes `[N][F]` of the training and evaluation points.
    public var trainCodes: [[Float]], trainFactors: [[Int]], evalCodes: [[Float]], evalFactors: [[Int]]
    /// Number of classes of each factor.
    public var classCounts: [Int]
    public var latentCount: Int { trainCodes.first?.count ?? 0 }
    public var factorCount: Int { classCounts.count }

    public init(trainCodes: [[Float]], trainFactors: [[Int]], evalCodes: [[Float]], evalFactors: [[Int]], classCounts: [Int]) {
        self.trainCodes = trainCodes; self.trainFactors = trainFactors
        self.evalCodes = evalCodes; self.evalFactors = evalFactors; self.classCounts = classCounts
    }

    func latent(_ l: Int, _ codes: [[Float]]) -> [Float] { codes.map { $0[l] } }
    func factor(_ f: Int, _ factors: [[Int]]) -> [Int] { factors.map { $0[f] } }

    /// `MI[latent][factor]` on the training points, latents discretised into `bins` bins.
    public func mutualInformationMatrix(bins: Int = 20) -> [[Double]] {
        Information.matrix(codes: (0..<latentCount).map { Information.discretize(latent($0, trainCodes), bins: bins) },
                           factors: (0..<factorCount).map { factor($0, trainFactors) })
    }

    /// Entropy of each factor on the training points.
    public func factorEntropies() -> [Double] { (0..<factorCount).map { Information.entropy(factor($0, trainFactors)) } }
}

extension DisentanglementMetrics {
    /// Samples and encodes the shared training and evaluation points (`meter` counts the images).
    public func codeSample(meter: WorkMeter? = nil) -> CodeSample {
        var rng = stream(3)
        let train = space.sampleClasses(trainCount, rng: &rng), eval = space.sampleClasses(evalCount, rng: &rng)
        return CodeSample(trainCodes: encode(train, meter: meter), trainFactors: train, evalCodes: encode(eval, meter: meter), evalFactors: eval,
                          classCounts: space.factors.map(\.classCount))
    }
}
