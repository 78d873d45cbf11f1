// Notebook 02 — score how disentangled the quickstart model is, and name its latents.
//   swift run -c release nb02-probe-and-name            (≈ 1–2 min after nb01; ≈ 10 min alone)
import Datasets
import Experiments
import Foundation
import Notebook
import Metrics
import Plotting
import TensorCore

Notebook.run {
    let nb = Notebook(name: "nb02-probe-and-name", title: "Notebook 02 — how disentangled is it, and what is each latent?",
                      abstract: "We take the quickstart Ada-GVAE (trained by notebook 01, or trained now), score it with disentanglement_lib's metrics, and name each latent after the ground-truth factor it carries — or call it mixed when it carries several. The names are what notebooks 03 and 04 explain decisions with, so we check them twice: against mutual information, and against what the traversals show.")
    let plan = try nb.plan("quickstart")
    let run = try nb.trainedRun(plan.base)
    let data = try run.groundTruth()

    nb.section("Disentanglement metrics")
    let metrics = plan.stages[EvaluateStage()].metrics.isEmpty ? MetricRegistry.all.filter { $0.need != .evaluator } : plan.stages[EvaluateStage()].metrics
    nb.say("Each metric encodes \(plan.stages[EvaluateStage()].trainPoints) random factor combinations (mean representation) and asks a different question: MIG — is each factor's information concentrated in one latent (gap between the top two latents' normalised MI)? SAP — the same with per-latent predictability. DCI — do gradient-boosted trees' importances concentrate (disentanglement: one factor per latent; completeness: one latent per factor)? Modularity — does each latent depend on one factor? Gaussian total correlation — how far are the latents from independent?")
    let (values, seconds) = try run.evaluate(metrics, trainCount: plan.stages[EvaluateStage()].trainPoints, evalCount: plan.stages[EvaluateStage()].evalPoints)
    nb.show(values.map { $0.0.padding(toLength: 30, withPad: " ", startingAt: 0) + String(format: "%.4f", $0.1) }.joined(separator: "\n"))
    let mig = values.first { $0.0 == "mig" }?.1
    nb.say(String(format: "(%.0f s.) MIG, SAP, DCI, modularity and explicitness run from 0 to 1, higher meaning more disentangled (or, for informativeness and explicitness, more predictive); the Gaussian total correlation is lower-is-better; active units is a count. ", seconds.reduce(0) { $0 + $1.1 })
           + (mig.map { $0 < 0.1 ? String(format: "MIG %.3f says factors are spread over several latents here.", $0) : String(format: "MIG %.3f says most factors have a dominant latent.", $0) } ?? ""))

    nb.section("Mutual information between latents and factors")
    let names = try run.probe(points: plan.stages[EvaluateStage()].trainPoints)
    let miText = try String(contentsOfFile: (run.run.path as NSString).appendingPathComponent("mi_matrix.csv"), encoding: .utf8)
    let miRows = miText.split(separator: "\n").dropFirst().map { $0.split(separator: ",").dropFirst().compactMap { Double($0) } }
    let factorNames = data.factors.map(\.name)
    try Figures.heatMap(miRows, rowLabels: names.map { "z\($0.latent) \($0.name)" }, columnLabels: factorNames,
                                   title: "MI(latent; factor) in nats", output: nb.path("mi-matrix.png"))
    nb.figures([nb.path("mi-matrix.png")])
    nb.say("A latent gets a factor's name when that factor holds at least half of the latent's MI (in nats, as the matrix above shows), the runner-up at most half as much, and the latent carries at least 10 % of the factor's entropy; otherwise it is mixed(best,second), or unnamed when it carries no factor. When n latents get the same name they read \"posX (1 of n)\": the factor is split. Latents with KL ≤ 0.01 nats are inactive.")
    nb.show(TrainedRun.nameTable(names))
    let named = names.filter { $0.kl > LatentNaming.activeKL && factorNames.contains(LatentNaming.factor(of: $0.name)) }
    let mixed = names.filter { $0.name.hasPrefix("mixed") }
    let covered = LatentNaming.namedFactors(names.map(\.name), among: factorNames)
    let uncovered = factorNames.filter { !covered.contains($0) }
    nb.say((named.isEmpty ? "No latent carries a single factor cleanly" : "\(named.count) latent\(named.count == 1 ? " carries" : "s carry") one factor cleanly (\(named.map { "z\($0.latent) = \($0.name)" }.joined(separator: ", ")))") + "; \(mixed.count) \(mixed.count == 1 ? "is" : "are") mixed. Factors with no latent of their own: \(uncovered.isEmpty ? "none" : uncovered.joined(separator: ", ")). A factor without a latent cannot appear in a factor-level explanation — notebook 03 will run into exactly this on the lesion data.")

    nb.section("Checking the names against the traversals")
    nb.say("MI is computed from encodings; the traversals show the decoder's side. If z is named posX, moving it should move the sprite's centroid horizontally and little else. We measure the image properties along each active latent's traversal and report the two that move most (as a fraction of the range real images span):")
    let kl = names.map(\.kl)
    let active = kl.indices.filter { kl[$0] > LatentNaming.activeKL }.sorted { kl[$0] > kl[$1] }
    let changes = nb.propertyChanges(run, latents: active)
    var table = "latent  name                      largest change along the traversal\n"
    for (r, l) in active.enumerated() {
        let order = changes[r].indices.sorted { abs(changes[r][$0]) > abs(changes[r][$1]) }
        table += "z\(l)".padding(toLength: 8, withPad: " ", startingAt: 0) + names[l].name.padding(toLength: 26, withPad: " ", startingAt: 0)
            + order.prefix(2).map { String(format: "%@ %+.2f", ImageProperties.names[$0], changes[r][$0]) }.joined(separator: ", ") + "\n"
    }
    nb.show(table)
    nb.say("posX/posY should pair with centroidX/centroidY, scale with area; orientation and shape have no single image property, so their rows are the ones to look at in the figure. When the two views disagree, trust neither name: rename the latent by hand (`untangle probe RUN --rename 3=x-position`) only after looking at its traversal.")
    let traversals = try run.writeTraversals(kl: kl)
    nb.figures([try nb.keep(traversals[0], as: "named-traversals.png")])
    nb.finish()
}
