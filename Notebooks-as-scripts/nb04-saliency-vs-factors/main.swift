// Notebook 04 — pixel saliency against factor explanations, measured on lesion masks.
//   swift run -c release nb04-saliency-vs-factors       (≈ 1–2 min after nb03; ≈ 10 min alone)
import Datasets
import Experiments
import Foundation
import Notebook
import TensorCore

Notebook.run {
    let nb = Notebook(name: "nb04-saliency-vs-factors", title: "Notebook 04 — do saliency maps point at the lesion?",
                      abstract: "Saliency maps are the usual way to 'explain' a pixel classifier. On the lesion data we know where the evidence is (the lesion mask) and what it is (size and blur), so we can score the maps instead of admiring them: relevance mass and rank accuracy inside the mask, the pointing game, deletion and insertion curves, Integrated Gradients' completeness error, and the cascading-randomisation sanity check. The factor route (encoder → named factors → logistic / tree) gets the same scores.")
    let plan = try nb.plan("lesions-adagvae", overrides: Notebook.lesionOverrides)
    let run = try nb.trainedRun(plan.base)
    let classifiers = (run.run.path as NSString).appendingPathComponent("classifiers.json")
    if FileManager.default.fileExists(atPath: classifiers) {
        nb.say("Using the classifiers notebook 03 trained (\(classifiers)).")
    } else {
        nb.say("Notebook 03 has not run on this model; naming the factors and training the classifiers first.")
        _ = try run.probe(points: plan.stages[EvaluateStage()].trainPoints)
        _ = try run.classify(trainCount: plan.stages[ClassifyStage()].train, testCount: plan.stages[ClassifyStage()].test, cnnSteps: plan.stages[ClassifyStage()].cnnSteps)
    }

    nb.section("Scoring every method on \(min(60, plan.stages[CompareStage()].count)) test images")
    let table = try run.compare(count: min(60, plan.stages[CompareStage()].count), seed: 0, panels: 3) { nb.show($0) }
    nb.show(table)
    nb.say("Columns: relevance mass = share of |attribution| inside the lesion mask (higher is better; the mask's share of the image is the chance level); rank accuracy = share of the top-|mask| pixels inside the mask; pointing = the maximum falls in the mask (and within 15 px); deletion AUC ↓ = the class score as the most relevant pixels are removed first; insertion AUC ↑ = as they are added to a blurred copy; |IG δ| = Integrated Gradients' completeness error.")

    nb.section("Sanity check")
    let sanity = try String(contentsOfFile: (run.run.path as NSString).appendingPathComponent("compare/sanity.csv"), encoding: .utf8)
    nb.show(sanity)
    nb.say("Cascading randomisation re-initialises the CNN's layers from the top down and recomputes each map. A method that explains the model must change when the model is destroyed: Spearman ρ between the original and the fully randomised map should fall near 0 (|ρ| < 0.5 passes). A method whose map survives randomisation is showing the image, not the model.")

    nb.section("Panels")
    let directory = (run.run.path as NSString).appendingPathComponent("compare")
    let panels = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasPrefix("panel-") }.sorted()
    nb.figures(try panels.filter { $0.hasSuffix(".png") }.map { try nb.keep((directory as NSString).appendingPathComponent($0)) })

    nb.section("What the numbers say")
    let csv = try String(contentsOfFile: directory + "/scores.csv", encoding: .utf8)
    var best: [String: (method: String, mass: Double, pointing: Double)] = [:]
    let lines = csv.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    let header = lines.first ?? []
    let (massColumn, pointingColumn) = (header.firstIndex(of: "relevance_mass"), header.firstIndex(of: "pointing_game"))
    for f in lines.dropFirst() {
        guard let mc = massColumn, let pc = pointingColumn, f.count == header.count,
              let mass = Double(f[mc]), let pointing = Double(f[pc]) else { continue }
        if mass > best[f[0]]?.mass ?? -1 { best[f[0]] = (f[1], mass, pointing) }
    }
    nb.show(best.keys.sorted().map { k in
        String(format: "%@ best relevance mass %.3f (%@, pointing game %.2f)", k.padding(toLength: 16, withPad: " ", startingAt: 0), best[k]!.mass, best[k]!.method, best[k]!.pointing)
    }.joined(separator: "\n"))
    if let cnn = best["cnn"], let factor = best.filter({ $0.key != "cnn" }).max(by: { $0.value.mass < $1.value.mass }) {
        nb.say(factor.value.mass > cnn.mass
               ? String(format: "Routed through the named factors (%@), the explanation puts more of its relevance on the lesion than any map of the CNN (%.3f vs %.3f). Relevance mass measures where a map points, not whether the model is right: check notebook 03 for which factors the factor models actually use — if those are position or texture latents, the concentration on the lesion comes from the encoder's receptive field, not from the rule.", factor.key, factor.value.mass, cnn.mass)
               : String(format: "Here the CNN's best map (%@) puts more relevance on the lesion than the factor route (%.3f vs %.3f). Look at the latent-shift maps before reading this as a failure of the factors: when blur decides, the pixels that change are the border, half of it outside the mask (drawn at half the lesion's contrast); when a lesion is benign because it is small, the evidence is where the lesion is not. A mask of the lesion is the ground truth for 'where is the lesion', not for 'where is the evidence for this rule'.", cnn.method, cnn.mass, factor.value.mass))
    }
    nb.say("Neither kind of map is 'the truth'. Which explanation helps depends on the question: 'where is the evidence?' (saliency, scored above against the masks) or 'which property decided?' (factors, scored against the rule in notebook 03).")
    nb.finish()
}
