import Autodiff
import Datasets
import Explain
import Foundation
import Metrics
import Models
import NN
import Plotting
import TensorCore

extension TrainedRun {
    /// The pixel CNN saved by `classify`.
    func loadPixelCNN(classCount: Int) throws -> PixelCNN {
        let path = (run.path as NSString).appendingPathComponent("pixel_cnn.safetensors")
        let cnn = PixelCNN(imageShape: dataset.imageShape, classCount: classCount, seed: 0)
        let (tensors, _) = try Safetensors.read(path)
        try Safetensors.load(tensors, into: cnn.parameters, path: path)
        return cnn
    }

    /// Scores of the factor-level logistic model on images, differentiable: encoder mean →
    /// active latents → standardised → log-odds `[B]`.
    func logisticScore(_ bundle: ClassifierBundle) -> ScoreFunction {
        let z = config.latentCount, d = bundle.featureLatents.count
        var select = Tensor.zeros([z, d])
        for (j, l) in bundle.featureLatents.enumerated() { select[l, j] = 1 }
        let m = bundle.logistic
        let scaledWeights = Tensor(shape: [d, 1], scalars: (0..<d).map { Float(m.weights[$0] / m.scale[$0]) })
        let offset = Float(m.bias - (0..<d).reduce(0.0) { $0 + m.weights[$1] * m.mean[$1] / m.scale[$1] })
        return { x in
            let mean = self.model.encoder(x).mean
            let features = Variable.matmul(mean, x.tape.constant(select))
            return (Variable.matmul(features, x.tape.constant(scaledWeights)) + offset).reshaped([x.shape[0]])
        }
    }

    /// The models `compare` and `explain` explain, each with the registered methods that apply to
    /// it: the pixel CNN with every method; encoder → logistic with the three cheapest kinds
    /// (gradient, path, perturbation: each costs a pass through the encoder per sample, step or
    /// window); the tree with the perturbation methods; and for each factor of `latentsFor` (the
    /// label rule's), the first feature latent whose best factor it is, with Integrated Gradients
    /// of its mean, signed to rise with the factor.
    func explainedModels(_ bundle: ClassifierBundle, cnn: PixelCNN, latentsFor factors: [String]) -> [(ExplainedModel, [any Attribution])] {
        let factorScore = logisticScore(bundle)
        func treeProbability(_ x: Tensor) -> [Double] {
            let codes = encodeMeans(x), z = config.latentCount
            let rows = (0..<x.shape[0]).flatMap { i in bundle.featureLatents.map { codes.scalars[i * z + $0] } }
            return bundle.tree.probability(of: 1, rows)
        }
        // Latent shift: the decoded code and the decoded counterfactual code of each image.
        let z = config.latentCount, m = bundle.logistic
        let direction = (0..<z).map { l -> Float in
            bundle.featureLatents.firstIndex(of: l).map { Float(m.weights[$0] / m.scale[$0]) } ?? 0
        }
        let norm = direction.reduce(Float(0)) { $0 + $1 * $1 }
        func shifted(_ x: Tensor, _ counterfactual: ([Float]) -> [Float]?) -> (reconstruction: Tensor, counterfactual: Tensor) {
            let codes = encodeMeans(x), n = x.shape[0]
            var moved = codes.scalars
            for i in 0..<n {
                let code = Array(codes.scalars[(i * z)..<((i + 1) * z)])
                if let target = counterfactual(code) { moved.replaceSubrange((i * z)..<((i + 1) * z), with: target) }
            }
            return (decode(codes), decode(Tensor(shape: [n, z], scalars: moved)))
        }
        let logisticShift = { (x: Tensor) in
            shifted(x) { code in
                guard norm > 0 else { return nil }
                let row = bundle.featureLatents.map { code[$0] }
                let logit = Float(m.logOdds(row))
                return zip(code, direction).map { $0 + (-2 * logit / norm) * $1 } // the mirror point: log-odds −f(z)
            }
        }
        let treeShift = { (x: Tensor) in shifted(x) { code in self.flip(bundle, model: "tree", code: code)?.1 } }
        let encoderMethods: Set<String> = ["gradient", "ig-gausslegendre", "occlusion", "latent-shift"]
        var explained: [(ExplainedModel, [any Attribution])] = [
            (PixelClassifier.explained(cnn), AttributionRegistry.all),
            (ExplainedModel(name: "factor-logistic", scored: .logOdds, score: factorScore, latentShift: logisticShift),
             AttributionRegistry.named(encoderMethods)),
            (ExplainedModel(name: "factor-tree", scored: .probability, values: treeProbability, latentShift: treeShift), AttributionRegistry.all),
        ]
        for factor in factors {
            guard let l = bundle.featureNames.indices.first(where: { bundle.bestFactor($0) == factor }).map({ bundle.featureLatents[$0] }) else { continue }
            // Oriented so that a higher score means more of the factor (a latent may fall as its
            // factor grows): positive relevance is then evidence for "larger", "blurrier".
            let sign: Float = (factorDirection(latent: l, factor: factor) ?? 1) < 0 ? -1 : 1
            let latentScore: ScoreFunction = { x in self.model.encoder(x).mean.slice(axis: 1, l..<(l + 1)).reshaped([x.shape[0]]) * sign }
            explained.append((ExplainedModel(name: "latent:\(factor)", scored: .latentMean, score: latentScore), AttributionRegistry.named(["ig-gausslegendre"])))
        }
        return explained
    }

    /// Compares pixel saliency with factor-level explanations on `count` test images of the
    /// lesion set, scored against the ground-truth masks and the label rule. Writes
    /// `compare/scores.csv`, `compare/factors.json` (``FactorRuleCheck``), `compare/sanity.csv`, the raw
    /// attributions `compare/attributions/<model>-<method>.npy` (float32 `[n, C, H, W]`, rows in the
    /// order of `compare/attributions/indices.npy`),
    /// `compare/panel-<index>.png` and, for the same `panels` images, the `explain` page
    /// `explanations/image-<index>/index.html`; returns the table.
    /// `progress` gets a line as each part starts, `meter` counts each method's images while it runs.
    public func compare(count: Int = 100, seed: UInt64 = 0, panels: Int = 4, meter: WorkMeter? = nil,
                        progress: (String) -> Void = { _ in }) throws -> String {
        guard let lesions = dataset.maskedView else {
            throw ConfigError(config.dataset, "compare needs a data set with ground-truth masks (lesions, or an image folder whose labels CSV has a mask column)")
        }
        let bundle = try loadClassifiers()
        let cnn = try loadPixelCNN(classCount: 2)
        let (_, classLabels) = try labels(column: bundle.labelColumn)
        let (_, testIndices, _) = try split(lesions, labels: classLabels, classNames: bundle.classNames, trainCount: bundle.trainCount,
                                            testCount: bundle.testCount, seed: bundle.seed)
        let indices = Array(testIndices.prefix(count))
        let images = lesions.images(indices)
        let masks = indices.map { Array(lesions.mask($0).scalars) }
        let shape = lesions.imageShape, plane = shape[1] * shape[2]
        var rng = RandomGenerator(seed: seed)

        let explained = explainedModels(bundle, cnn: cnn, latentsFor: lesions.ruleFactors)
        let methods = explained.flatMap { model, candidates in candidates.filter { $0.applies(to: model) }.map { (model, $0) } }

        var rows = ["model,method,score,relevance_mass,relevance_rank,pointing_game,pointing_game_15px,deletion_auc,insertion_auc,ig_abs_delta,seconds"]
        var maps: [String: Tensor] = [:], relevanceMass: [String: Double] = [:]
        for (model, method) in methods {
            progress("\(model.name) \(method.name)")
            let start = Date()
            var attributions: [Tensor] = []
            let methodMeter = meter?.scoped("\(model.name) \(method.name)")
            methodMeter?.begin("attributing \(indices.count) images", total: indices.count, unit: "images")
            for s in stride(from: 0, to: indices.count, by: 10) {
                attributions.append(method.attribute(model, images.slice(axis: 0, s..<min(indices.count, s + 10)), rng: &rng))
                methodMeter?.advance(by: attributions[attributions.count - 1].shape[0])
            }
            methodMeter?.begin("scoring \(indices.count) maps", total: indices.count, unit: "images")
            let a = Tensor.concatenate(attributions, axis: 0)
            maps["\(model.name) \(method.name)"] = a
            var mass = 0.0, rank = 0.0, point = 0.0, point15 = 0.0, deletion = 0.0, insertion = 0.0
            let channels = a.shape[1]
            for i in 0..<indices.count {
                let map = SaliencyScores.collapse(a.scalars[(i * channels * plane)..<((i + 1) * channels * plane)], channels: channels)
                mass += SaliencyScores.relevanceMass(map, mask: masks[i])
                rank += SaliencyScores.relevanceRank(map, mask: masks[i])
                point += SaliencyScores.pointingGame(map, mask: masks[i], width: shape[2]) ? 1 : 0
                point15 += SaliencyScores.pointingGame(map, mask: masks[i], width: shape[2], tolerance: 15) ? 1 : 0
                if let probability = model.probability {
                    let image = Array(images.scalars[(i * shape.product)..<((i + 1) * shape.product)])
                    let predicted = probability(Tensor(shape: [1] + shape, scalars: image))[0] >= 0.5
                    let ofInterest = { (x: Tensor) in probability(x).map { predicted ? $0 : 1 - $0 } }
                    deletion += SaliencyScores.curveAUC(image: image, map: map, channels: shape[0], step: 128, probability: ofInterest, shape: shape)
                    insertion += SaliencyScores.curveAUC(image: image, map: map, channels: shape[0],
                                                         start: SaliencyScores.blurred(image, channels: shape[0], height: shape[1], width: shape[2]),
                                                         step: 128, probability: ofInterest, shape: shape)
                }
                methodMeter?.advance()
            }
            methodMeter?.end()
            let n = Double(indices.count)
            var delta: Double?
            let m = min(indices.count, 20)
            if let deltas = method.convergenceDelta(model, images.slice(axis: 0, 0..<m)) {
                delta = deltas.reduce(0.0) { $0 + Swift.abs($1) } / Double(m)
            }
            let p = model.probability != nil
            relevanceMass["\(model.name) \(method.name)"] = mass / n
            rows.append([model.name, method.name, model.scored.rawValue, f(mass / n), f(rank / n), f(point / n), f(point15 / n),
                         p ? f(deletion / n) : "", p ? f(insertion / n) : "", delta.map(f) ?? "",
                         String(format: "%.1f", Date().timeIntervalSince(start))].joined(separator: ","))
        }

        // Factor level: the factors each interpretable model relies on vs. the label rule's.
        let check = FactorRuleCheck(bundle: bundle, rule: lesions.ruleFactors, relevanceMass: relevanceMass)
        for name in ["factor-tree", "factor-logistic"] {
            let m = check.models[name]!
            rows.append("\(name),factors used: \(m.factorsUsed.joined(separator: " ")),,precision \(f(m.precision)),recall \(f(m.recall)),counterfactual validity \(f(m.counterfactualValidity)),,,,,")
        }
        let directory = (run.path as NSString).appendingPathComponent("compare")
        try AtomicFile.write(rows.joined(separator: "\n") + "\n", to: directory + "/scores.csv")
        // The raw attributions, for one's own analysis: one .npy per model and method, rows in `indices.npy` order.
        let raw = directory + "/attributions"
        try AtomicFile.createDirectory(raw)
        try NPYArray(int64: indices.map(Int64.init), shape: [indices.count]).write(to: raw + "/indices.npy")
        for (key, a) in maps { try NPYArray(float32: a.scalars, shape: a.shape).write(to: raw + "/" + key.replacingOccurrences(of: " ", with: "-").replacingOccurrences(of: ":", with: "-") + ".npy") }
        try AtomicFile.write(try JSONEncoder.sorted.encode(check) + Data("\n".utf8), to: directory + "/" + FactorRuleCheck.fileName)

        progress("sanity check: cascading randomisation of the CNN")
        try AtomicFile.write(try sanityCheck(cnn: cnn, images: images.slice(axis: 0, 0..<min(10, indices.count)), seed: seed), to: directory + "/sanity.csv")

        progress("panels")
        try writePanels(maps: maps, images: images, masks: masks, indices: indices, bundle: bundle, count: min(panels, indices.count), directory: directory)
        progress("one page per panel image (explanations/image-K/index.html)")
        for index in indices.prefix(panels) { _ = try explain(index: index, seed: seed) }
        return rows.joined(separator: "\n") + "\n\n" + check.text
    }

    /// Cascading randomisation (Adebayo et al. 2018): re-initialise the CNN's layers from the top
    /// down; after each, the Spearman rank correlation and SSIM between the original and the new
    /// |maps| (mean over images). A method passes when, fully randomised, |ρ| < 0.5.
    func sanityCheck(cnn: PixelCNN, images: Tensor, seed: UInt64) throws -> String {
        let model = PixelClassifier.explained(cnn)
        let methods: [(String, (Tensor) -> Tensor)] = AttributionRegistry.named(["gradient", "input-x-gradient", "ig-gausslegendre", "grad-cam"])
            .map { method in (method.name, { x in var unused = RandomGenerator(seed: 0); return method.attribute(model, x, rng: &unused) }) }
        let original = methods.map { $0.1(images) }
        let saved = cnn.parameters.map(\.value)
        defer { for (p, v) in zip(cnn.parameters, saved) { p.value = v } }
        var rng = RandomStream.saliency.generator(seed: seed)
        let plane = images.shape[2] * images.shape[3], n = images.shape[0]
        var lines = ["randomised_down_to,method,spearman,ssim,passes"]
        for (stage, layer) in ["cnn.out", "cnn.fc", "cnn.conv3", "cnn.conv2", "cnn.conv1"].enumerated() {
            for p in cnn.parameters where p.name.hasPrefix(layer + ".") {
                let fanIn = p.value.shape.dropFirst().product
                p.value = p.name.hasSuffix(".bias") ? .zeros(p.value.shape) : rng.normal(p.value.shape, std: Float((2.0 / Double(max(fanIn, 1))).squareRoot()))
            }
            for (k, method) in methods.enumerated() {
                let randomised = method.1(images)
                var rho = 0.0, similarity = 0.0
                for i in 0..<n {
                    let c = original[k].shape[1]
                    let a = SaliencyScores.collapse(original[k].scalars[(i * c * plane)..<((i + 1) * c * plane)], channels: c).map(Swift.abs)
                    let b = SaliencyScores.collapse(randomised.scalars[(i * c * plane)..<((i + 1) * c * plane)], channels: c).map(Swift.abs)
                    rho += SaliencyScores.rankCorrelation(a, b)
                    similarity += SaliencyScores.ssim(a, b, width: images.shape[3])
                }
                let isLast = stage == 4
                lines.append("\(layer),\(method.0),\(f(rho / Double(n))),\(f(similarity / Double(n))),\(isLast ? (Swift.abs(rho / Double(n)) < 0.5 ? "yes" : "no") : "")")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One panel per image: row 1 the image, its mask and the heat maps; row 2 the tree's
    /// counterfactual strip (original → flipped).
    func writePanels(maps: [String: Tensor], images: Tensor, masks: [[Float]], indices: [Int], bundle: ClassifierBundle,
                     count: Int, directory: String) throws {
        let shape = dataset.imageShape, plane = shape[1] * shape[2]
        let shown = ["cnn gradient", "cnn ig-gausslegendre", "cnn smoothgrad", "cnn occlusion", "cnn grad-cam",
                     "factor-logistic ig-gausslegendre", "factor-logistic occlusion", "factor-tree occlusion"].filter { maps[$0] != nil }
        let columns = 2 + shown.count
        for i in 0..<count {
            let grey = (0..<plane).map { p in (0..<shape[0]).reduce(Float(0)) { $0 + images.scalars[(i * shape[0] + $1) * plane + p] } / Float(shape[0]) }
            var tiles: [Tensor] = [Tensor(shape: [3, shape[1], shape[2]], scalars: grey + grey + grey),
                                   Tensor(shape: [3, shape[1], shape[2]], scalars: masks[i] + masks[i] + masks[i])]
            for key in shown {
                let a = maps[key]!, c = a.shape[1]
                let map = SaliencyScores.collapse(a.scalars[(i * c * plane)..<((i + 1) * c * plane)], channels: c)
                tiles.append(SaliencyScores.heatMap(map, over: grey, height: shape[1], width: shape[2]))
            }
            var strip: [Tensor] = []
            if let cf = counterfactual(bundle, model: "tree", index: indices[i], data: dataset) {
                let decoded = counterfactualStrip(from: cf.code, to: cf.flippedCode, latent: bundle.featureLatents[cf.counterfactual.feature], steps: columns)
                for s in 0..<columns {
                    let g = (0..<plane).map { p in (0..<shape[0]).reduce(Float(0)) { $0 + decoded.scalars[(s * shape[0] + $1) * plane + p] } / Float(shape[0]) }
                    strip.append(Tensor(shape: [3, shape[1], shape[2]], scalars: g + g + g))
                }
            }
            while strip.count < columns { strip.append(Tensor.ones([3, shape[1], shape[2]])) }
            let grid = Tensor.concatenate((tiles + strip).map { $0.reshaped([1, 3, shape[1], shape[2]]) }, axis: 0)
            let label = dataset is any LabeledDataset ? (dataset as! any LabeledDataset).labelNames[(dataset as! any LabeledDataset).label(of: indices[i])] : ""
            try Figures.imageGrid(grid, rows: 2, columns: columns, rowLabels: ["maps (\(label))", "tree counterfactual"],
                                  columnLabels: ["image", "mask"] + shown.map { $0.replacingOccurrences(of: "factor-", with: "f-") },
                                  title: "Image \(indices[i]): pixel saliency vs factor explanation", output: directory + "/panel-\(indices[i]).png")
        }
    }
}

private func f(_ v: Double) -> String { String(format: "%.4f", v) }
