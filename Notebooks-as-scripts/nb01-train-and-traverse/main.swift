// Notebook 01 — train the quickstart Ada-GVAE on dSprites and look at what each latent does.
//   swift run -c release nb01-train-and-traverse        (≈ 9 min here; seconds when the run exists)
import Datasets
import Experiments
import Foundation
import Notebook
import ImageIO
import Metrics
import Plotting

Notebook.run {
    let nb = Notebook(name: "nb01-train-and-traverse", title: "Notebook 01 — train a VAE and traverse its latents",
                      abstract: "We train the quickstart model (Experiments/quickstart.toml: an Ada-GVAE, weakly supervised by pairs of images that differ in one factor; dlib's conv architecture, β 1, 10 latents) on the built-in dSprites, check that it reconstructs, and move one latent at a time to see which image property each one controls. Everything here is what `untangle run Experiments/quickstart.toml` and `untangle traverse` do, with the reasoning spelled out.")

    nb.section("The data")
    let plan = try nb.plan("quickstart")
    let config = plan.base
    let data = try DatasetSpec(parsing: config.dataset).open()
    let shown = try DataShow.run(data, count: 32, seed: 0, outputDirectory: nb.path("data"))
    nb.say("dSprites renders every combination of five ground-truth factors as a 64×64 binary image. The model never sees these factors; we keep them to judge afterwards what it learned.")
    nb.show(String(shown.report.split(separator: "\n").prefix(7).joined(separator: "\n")))
    nb.figures([try nb.keep(shown.gridPath, as: "data-samples.png")])

    nb.section("Training")
    nb.say("The objective is Ada-GVAE's (Locatello et al. 2020): each step sees pairs of images that share all but one ground-truth factor. Both are encoded; per pair, the latents whose posteriors moved less than halfway between the smallest and largest change are judged shared and replaced by the pair's average, so only the latents that changed can explain the difference. Then the usual reconstruction (Bernoulli log-likelihood, in nats) plus β × KL(q(z|x) ‖ N(0, I)), here with β 1. The pairing, not a heavy KL penalty, is what lines single latents up with single factors.")
    let run = try nb.trainedRun(config)
    let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run.run.metricsPath))) as? [String: Any] ?? [:]
    let reconstruction = metrics["reconstruction"] as? Double ?? .nan, kl = metrics["kl"] as? Double ?? .nan
    nb.say(String(format: "On %d held-out images the model spends %.1f nats on reconstruction and %.1f nats of KL; the ELBO is %.1f nats per image.", metrics["held_out"] as? Int ?? 0, reconstruction, kl, -(reconstruction + kl)))
    try Figures.trainingCurves(logCSV: run.run.logPath, output: nb.path("training-curves.png"))
    nb.figures([nb.path("training-curves.png")])

    nb.section("Reconstructions")
    let recon = try run.writeReconstructions(count: 10, output: nb.path("reconstructions.png"))
    nb.say("Top row: held-out inputs; bottom row: decoder output for their posterior means. Position and size come back first; the shape (square, ellipse, heart) is the last thing a short run gets right.")
    nb.figures([recon])

    nb.section("How much each latent carries")
    let klPerLatent = run.klPerLatent()
    let order = klPerLatent.indices.sorted { klPerLatent[$0] > klPerLatent[$1] }
    var table = "latent   KL (nats)   \n"
    for l in order { table += String(format: "z%-6d  %8.3f    %@\n", l, klPerLatent[l], klPerLatent[l] > LatentNaming.activeKL ? String(repeating: "█", count: min(40, Int(klPerLatent[l] * 4))) : "(inactive)") }
    nb.show(table)
    let active = order.filter { klPerLatent[$0] > LatentNaming.activeKL }
    nb.say("\(active.count) of \(config.latentCount) latents are active (mean KL above \(LatentNaming.activeKL) nats)."
           + (active.count < config.latentCount ? " The rest sit at the prior: the decoder ignores them, the KL penalty having priced them out." : "")
           + " dSprites has five factors, so a well-disentangled model uses about five (orientation and shape are hard; many runs leave shape out).")

    nb.section("Traversals")
    let paths = try run.writeTraversals(kl: klPerLatent)
    nb.figures([try nb.keep(paths[0]), try nb.keep(paths[2])])
    nb.say("Each row starts from the average code of a few held-out images and sets one latent to −2 … 2 prior standard deviations. A disentangled latent moves one property (x, y, size, rotation, shape); an entangled one moves several together. We measure what moves, instead of eyeballing it:")
    let changes = nb.propertyChanges(run, latents: active)
    var measured = "latent   " + ImageProperties.names.map { $0.padding(toLength: 15, withPad: " ", startingAt: 0) }.joined() + "\n"
    for (r, l) in active.enumerated() {
        measured += "z\(l)".padding(toLength: 9, withPad: " ", startingAt: 0)
            + changes[r].map { String(format: "%+.2f", $0).padding(toLength: 15, withPad: " ", startingAt: 0) }.joined() + "\n"
    }
    nb.show(measured)
    nb.say("Each number is how far the property moves along the row, as a fraction of the range it spans over real held-out images (5th–95th percentile), signed by its direction. A disentangled latent has one entry near ±1 and the rest near 0; rows with several large entries are entangled. Notebook 02 names the latents properly, against the ground-truth factors.")
    nb.finish()
}
