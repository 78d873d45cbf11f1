import ArgumentParser
import Experiments
import Explain
import Foundation
import TensorCore

struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train interpretable classifiers on a run's named factors (and a pixel CNN baseline); writes RUN/classifiers.json.",
        discussion: """
        Labels come from the run's data set: lesions (the diagnosis rule), or images:DIR?labels=F.csv&label=COLUMN. \
        Run `untangle probe RUN` first so the classifiers speak in factor names.
        """)

    @OptionGroup var target: RunArguments
    @Option(help: "label (the data set's labels) or a CSV column of an images:DIR data set.") var labels = "label"
    @Option(help: "Training images.") var train = 4000
    @Option(help: "Test images.") var test = 1000
    @Option(help: "Pixel CNN training steps.") var cnnSteps = 1500
    @Option(help: "Split seed.") var seed: UInt64 = 0
    @OptionGroup var threading: ThreadOptions

    func validate() throws {
        guard train >= 50, test >= 10, cnnSteps >= 1 else { throw ValidationError("--train ≥ 50, --test ≥ 10, --cnn-steps ≥ 1") }
    }

    func run() throws {
        threading.apply()
        let trained = try target.open()
        let bundle = try trained.classify(labels: labels, trainCount: train, testCount: test, cnnSteps: cnnSteps, seed: seed,
                                          meter: ConsoleProgress.meter(indent: "  ")) { print($0) }
        print("")
        print(TrainedRun.classifierSummary(bundle), terminator: "")
        print("wrote \(target.file("classifiers.json"))")
    }
}

struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Explain one image two ways on one page: the rule in named factors and every saliency map.",
        discussion: """
        Needs `untangle classify RUN` first. Prints the decisions, the tree's rule path with the true factor values, \
        the logistic contributions and the counterfactuals; writes RUN/explanations/image-K/index.html with the input, \
        mask, counterfactual strips and each saliency method's signed and absolute overlays.
        """)

    @OptionGroup var target: RunArguments
    @Option(name: [.customLong("image"), .customLong("index")], help: "Data set index of the image (--index is the old spelling).")
    var image: Int
    @Option(help: "Seed (SmoothGrad noise).") var seed: UInt64 = 0
    @OptionGroup var threading: ThreadOptions

    func run() throws {
        threading.apply()
        let (text, page, _) = try target.open().explain(index: image, seed: seed)
        print(text, terminator: "")
        print("wrote \(page)")
    }
}

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score pixel saliency against factor explanations on lesion test images; writes RUN/compare/.",
        discussion: """
        Needs `untangle classify RUN` first. Methods (each on every model it applies to): \(AttributionRegistry.helpText) \
        on the pixel CNN (all but latent-shift); gradient, IG, occlusion and latent shift on encoder → logistic; occlusion, LIME and latent shift on the tree; IG on the latents of the rule's factors (size, blur). \
        Scores: relevance mass and \
        rank accuracy, pointing game, deletion/insertion AUC, IG convergence delta, the cascading randomisation \
        sanity check, and factor precision/recall against the label rule.
        """)

    @OptionGroup var target: RunArguments
    @Option(help: "Test images to score.") var count = 100
    @Option(help: "Panels to draw.") var panels = 4
    @Option(help: "Seed (SmoothGrad noise, randomisation).") var seed: UInt64 = 0
    @OptionGroup var threading: ThreadOptions

    func validate() throws { guard count > 0, panels >= 0 else { throw ValidationError("--count > 0, --panels ≥ 0") } }

    func run() throws {
        threading.apply()
        let start = Date()
        let table = try target.open().compare(count: count, seed: seed, panels: panels, meter: ConsoleProgress.meter(indent: "  ")) { print($0) }
        print(table, terminator: "")
        let sanity = BoundedFile.optionalText(target.file("compare/sanity.csv")) ?? ""
        print("\nsanity check (cascading randomisation):\n" + sanity, terminator: "")
        print(String(format: "total %.1f s; wrote %@/compare/", Date().timeIntervalSince(start), target.runDirectory))
    }
}
