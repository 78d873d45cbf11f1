import Foundation
import Testing

/// The notebooks in `--quick` mode: the whole narrated story runs and writes its figures.
@Suite struct NotebookTests {
    /// Runs notebook `name` with `--quick` from the repository root (it reads Experiments/*.toml).
    static func run(_ name: String, results: String) throws -> (status: Int32, output: String) {
        try CLI.run(["--quick", "--results", results, "--threads", "1"], executable: name, in: LocalSlurm.repository)
    }

    @Test func allFourNotebooksRunAndWriteTheirFigures() throws {
        let results = try temporaryFolder("notebooks")
        defer { try? FileManager.default.removeItem(atPath: results) }
        let expected: [(String, [String], [String])] = [
            ("nb01-train-and-traverse", ["data-samples.png", "training-curves.png", "reconstructions.png", "traversals.png", "traversals.gif"],
             ["1. The data", "5. Traversals", "latents are active"]),
            ("nb02-probe-and-name", ["mi-matrix.png", "named-traversals.png"],
             ["is reused", "mig ", "best factor", "largest change along the traversal"]),
            ("nb03-interpretable-classifier", ["lesion-samples.png", "lesion-masks.png"],
             ["Decision tree (α =", "Sparse logistic regression", "The rule's factors:", "Counterfactual (tree)"]),
            ("nb04-saliency-vs-factors", [],
             ["is reused", "Using the classifiers notebook 03 trained", "relevance_mass", "best relevance mass"]),
        ]
        for (name, figures, phrases) in expected {
            let (status, output) = try Self.run(name, results: results)
            #expect(status == 0, "\(name): \(output)")
            for phrase in phrases { #expect(output.contains(phrase), "\(name) lacks '\(phrase)'") }
            for figure in figures {
                #expect(FileManager.default.fileExists(atPath: "\(results)/notebooks/\(name)/\(figure)"), "\(name) did not write \(figure)")
            }
        }
        let panels = try FileManager.default.contentsOfDirectory(atPath: "\(results)/notebooks/nb04-saliency-vs-factors")
        #expect(panels.contains { $0.hasPrefix("panel-") && $0.hasSuffix(".png") })
        let (bad, message) = try Self.run("nb01-train-and-traverse", results: "/dev/null/x")
        #expect(bad != 0 && message.contains("cannot create /dev/null/x/notebooks"), "\(message)")
    }
}
