import Foundation
import TestSupport
import Testing

/// Runs the built `untangle` binary as a user would and checks its output.
enum CLI {
    static var binary: URL { Products.url() }

    /// Runs `untangle` (or another product built beside it, `executable`) with `arguments`,
    /// optionally in `directory`; returns the exit status and stdout+stderr.
    static func run(_ arguments: [String], executable: String = "untangle",
                    in directory: String? = nil) throws -> (status: Int32, output: String) {
        try Products.run(Products.url(executable), arguments, in: directory)
    }
}

extension CLI {
    /// Trains a tiny MLP run (Z = `latents`, batch 8, one thread) through `untangle train` in a fresh
    /// temporary directory; `data` adds a [data] section. Returns the directory and the run path.
    static func tinyRun(_ name: String, steps: Int, latents: Int = 2, hidden: Int = 8, data: String = "",
                        extra: String = "") throws -> (dir: String, run: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("untangle-\(name)-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let config = dir + "/\(name).toml"
        try """
        [experiment]
        name = "\(name)"
        \(data.isEmpty ? "" : "[data]\ndataset = \"\(data)\"")
        [model]
        architecture = "mlp"
        hidden = [\(hidden)]
        latents = \(latents)
        \(extra)
        [training]
        batch_size = 8
        learning_rate = 1e-3
        threads = 1
        [evaluation]
        held_out = 8
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let (status, output) = try run(["train", "--config", config, "--steps", String(steps), "--results", dir])
        precondition(status == 0, "tiny run failed: \(output)")
        let runs = try FileManager.default.contentsOfDirectory(atPath: dir + "/" + name)
        return (dir, dir + "/" + name + "/" + runs[0])
    }
}

@Suite struct CLITests {
    @Test func trainTakesTheRunLockThatRunAndSweepTake() throws {
        let (dir, run) = try CLI.tinyRun("locked", steps: 4)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Another process holds RUN/.lock (as a training `untangle run` would): train --overwrite must not
        // delete the directory under it, nor --resume write into it.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        holder.arguments = [run + "/.lock", "sleep", "30"]
        try holder.run()
        defer { holder.terminate() }
        while !FileManager.default.fileExists(atPath: run + "/.lock") { usleep(10_000) }
        usleep(200_000)
        let config = dir + "/locked.toml"
        for flag in ["--overwrite", "--resume"] {
            let (status, output) = try CLI.run(["train", "--config", config, "--steps", "4", "--results", dir, flag])
            #expect(status == 75, "\(flag): \(output)")
            #expect(output.contains("is being worked on by another process"), "\(output)")
        }
        #expect(FileManager.default.fileExists(atPath: run + "/model.safetensors"), "the finished run is kept")
        holder.terminate()
        holder.waitUntilExit()
        let (status, output) = try CLI.run(["train", "--config", config, "--steps", "4", "--results", dir, "--overwrite"])
        #expect(status == 0, "\(output)")
    }

    @Test func helpListsTheStages() throws {
        let (status, output) = try CLI.run(["--help"])
        #expect(status == 0)
        #expect(output.contains("version") && output.contains("demo"))
    }

    @Test func versionPrintsVersionAndBLAS() throws {
        let (status, output) = try CLI.run(["version"])
        #expect(status == 0)
        #expect(output.contains("untangle 0.") && output.contains("OpenBLAS"))
    }

    @Test func demoTrainsNamesAndReports() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("untangle-demo-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (status, output) = try CLI.run(["demo", "--steps", "60", "--architecture", "mlp", "--threads", "1", "--results", dir])
        #expect(status == 0, "\(output)")
        let losses = output.split(separator: "\n").compactMap { line -> Double? in
            let fields = line.split(separator: " ")
            guard fields.count == 4, Int(fields[0]) != nil else { return nil }
            return Double(fields[1])
        }
        #expect(losses.count >= 3, "\(output)")
        #expect(losses.last! < losses.first!, "\(losses)")
        #expect(output.contains("KL (nats)") && output.contains("index.html"))
        // The first impression: the report path, then how to explore the run live.
        #expect(output.contains("untangle serve " + dir), "\(output)")
        // The report's interactive traversal: a slider per latent over frames that exist.
        let line = try #require(output.split(separator: "\n").first { $0.contains("untangle serve ") })
        let run = String(line.components(separatedBy: "untangle serve ")[1].split(separator: " ")[0])
        let html = try String(contentsOfFile: run + "/index.html", encoding: .utf8)
        #expect(html.contains("Interactive traversal") && html.contains("type=\"range\"") && html.contains("function traverse"))
        let frames = try JSONDecoder().decode(FramesIndex.self, from: try Data(contentsOf: URL(fileURLWithPath: run + "/figures/traversal/frames.json")))
        #expect(!frames.latents.isEmpty)
        for latent in frames.latents {
            #expect(latent.values.count == frames.steps)
            for step in 0..<frames.steps {
                let file = run + String(format: "/figures/traversal/z%d-%02d.png", latent.latent, step)
                #expect(FileManager.default.fileExists(atPath: file), "missing \(file)")
            }
            #expect(html.contains(String(format: "figures/traversal/z%d-%02d.png", latent.latent, frames.steps / 2)))
        }
    }

    /// The shape of `figures/traversal/frames.json`, as a reader outside the library sees it.
    struct FramesIndex: Decodable {
        struct Latent: Decodable { var latent: Int, name: String, values: [Double] }
        var steps: Int, latents: [Latent]
    }

    @Test func badOptionsFailWithAMessage() throws {
        let (status, output) = try CLI.run(["demo", "--steps", "0"])
        #expect(status != 0)
        #expect(output.contains("--steps must be at least 10"))
    }
}

@Suite struct DataShowCLITests {
    @Test func writesGridSamplesAndPrintsTheFactorTable() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("untangle-cli-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (status, output) = try CLI.run(["data", "show", "lesions", "--count", "6", "--columns", "3", "--output", dir])
        #expect(status == 0, "\(output)")
        #expect(output.contains("blur") && output.contains("malignant ⇔ size ≥ 8.5 px and blur ≥ 3 px"))
        #expect(FileManager.default.fileExists(atPath: dir + "/lesions-grid.png"))
        #expect(FileManager.default.fileExists(atPath: dir + "/lesions-masks.png"))
        let samples = try FileManager.default.contentsOfDirectory(atPath: dir + "/lesions-samples")
        #expect(samples.count == 6 && samples.allSatisfy { $0.contains("size=") && $0.contains("label=") })
    }

    /// A count whose images exceed the memory budget is refused at once (it used to allocate until
    /// the machine swapped).
    @Test func aCountBeyondTheMemoryBudgetIsRefused() throws {
        let (status, output) = try CLI.run(["data", "show", "lesions", "--count", "1000000000000"])
        #expect(status != 0 && output.contains("--count 1000000000000: holding them needs") && output.contains("memory budget"), "\(output)")
    }

    @Test func unknownDatasetFailsWithAMessage() throws {
        let (status, output) = try CLI.run(["data", "show", "mnist"])
        #expect(status != 0)
        #expect(output.contains("unknown data set 'mnist'"))
    }
}

@Suite struct TrainCLITests {
    @Test func trainThenReconstruct() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("untangle-train-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = dir + "/tiny.toml"
        try """
        [experiment]
        name = "cli"
        [model]
        architecture = "mlp"
        hidden = [16]
        latents = 2
        [training]
        batch_size = 8
        checkpoint_every = 5
        threads = 1
        [evaluation]
        held_out = 16
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let (status, output) = try CLI.run(["train", "--config", config, "--steps", "12", "--set", "model.beta=2", "--results", dir])
        #expect(status == 0, "\(output)")
        #expect(output.contains("fresh draw of 16 images") && output.contains("step 12/12"))
        let runs = try FileManager.default.contentsOfDirectory(atPath: dir + "/cli")
        #expect(runs.count == 1)
        let run = dir + "/cli/" + runs[0]
        #expect(try String(contentsOfFile: run + "/config.toml", encoding: .utf8).contains("beta = 2.0"))
        let (again, message) = try CLI.run(["train", "--config", config, "--steps", "12", "--set", "model.beta=2", "--results", dir])
        #expect(again != 0 && message.contains("finished run"), "\(message)")
        let (rs, ro) = try CLI.run(["reconstruct", run, "--count", "3"])
        #expect(rs == 0 && FileManager.default.fileExists(atPath: run + "/reconstructions.png"), "\(ro)")
    }

    @Test func badConfigKeyFailsNamingIt() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("untangle-\(UUID()).toml").path
        try "[experiment]\nname = \"x\"\n[model]\nbta = 1\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (status, output) = try CLI.run(["train", "--config", path])
        #expect(status != 0 && output.contains("unknown key model.bta"), "\(output)")
    }
}

@Suite struct EvaluateCLITests {
    @Test func evaluateAndProbeFromTheCommandLine() throws {
        let (dir, run) = try CLI.tinyRun("e", steps: 4)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (status, output) = try CLI.run(["evaluate", run, "--metrics", "mig,sap,dci-forest", "--train", "100", "--eval", "50"])
        #expect(status == 0 && output.contains("mig") && output.contains("sap"), "\(output)")
        // The table's longest name (32 characters) keeps a gap before its value.
        #expect(output.split(separator: "\n").contains { $0.hasPrefix("dci_forest.informativeness_train  ") && $0.last?.isNumber == true }, "\(output)")
        #expect(FileManager.default.fileExists(atPath: run + "/evaluation.json"))
        let (again, message) = try CLI.run(["evaluate", run, "--metrics", "mig"])
        #expect(again != 0 && message.contains("--overwrite"))
        let (bad, badMessage) = try CLI.run(["evaluate", run, "--metrics", "mig,nope"])
        #expect(bad != 0 && badMessage.contains("unknown metric 'nope'"))
        let (ps, po) = try CLI.run(["probe", run, "--points", "200", "--rename", "z0=first"])
        #expect(ps == 0 && po.contains("first") && po.contains("KL (nats)"), "\(po)")
    }
}

@Suite struct ReportCLITests {
    @Test func traverseAndReport() throws {
        let (dir, run) = try CLI.tinyRun("r", steps: 6)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (ts, to) = try CLI.run(["traverse", run, "--steps", "5", "--all"])
        #expect(ts == 0, "\(to)")
        for file in ["traversals.png", "traversals-plain.png", "traversals.gif"] {
            #expect(FileManager.default.fileExists(atPath: run + "/figures/" + file), "\(file)")
        }
        #expect(try CLI.run(["probe", run, "--points", "200"]).status == 0)
        let (rs, ro) = try CLI.run(["report", run])
        #expect(rs == 0, "\(ro)")
        let html = try String(contentsOfFile: run + "/index.html", encoding: .utf8)
        #expect(html.contains("figures/traversals.png") && html.contains("figures/mi_heatmap.png") && !html.contains("http"))
        for file in ["training_curves.png", "kl_bars.png", "mi_heatmap.png", "reconstructions.png"] {
            #expect(FileManager.default.fileExists(atPath: run + "/figures/" + file), "\(file)")
        }
        let (bad, message) = try CLI.run(["traverse", run, "--range", "wide"])
        #expect(bad != 0 && message.contains("--range must be prior or empirical"))
    }
}

@Suite struct ClassifyCLITests {
    @Test func classifyThenExplainOnLesions() throws {
        let (dir, run) = try CLI.tinyRun("l", steps: 60, latents: 3, hidden: 16, data: "lesions", extra: "beta = 0.5")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try CLI.run(["probe", run]).status == 0)
        let (cs, co) = try CLI.run(["classify", run, "--train", "200", "--test", "40", "--cnn-steps", "5"])
        #expect(cs == 0, "\(co)")
        #expect(co.contains("accuracy  balanced  ROC-AUC") && co.contains("|--- class:") && co.contains("counterfactual validity"), "\(co)")
        #expect(FileManager.default.fileExists(atPath: run + "/classifiers.json"))
        let (es, eo) = try CLI.run(["explain", run, "--image", "123"])
        #expect(es == 0 && eo.contains("image 123: true label") && eo.contains("Decision tree") && eo.contains("— true "), "\(eo)")
        let page = try String(contentsOfFile: run + "/explanations/image-123/index.html", encoding: .utf8)
        #expect(page.contains("ground-truth mask") && page.contains("cnn-grad-cam-signed.png") && page.contains("cnn-grad-cam-absolute.png")
                && page.contains("relevance mass") && page.contains("label rule: malignant"), "\(page.prefix(400))")
        for file in ["input.png", "mask.png", "reconstruction.png", "cnn-integrated-gradients-absolute.png"].filter({ page.contains($0) }) {
            #expect(FileManager.default.fileExists(atPath: run + "/explanations/image-123/" + file), "\(file)")
        }
        let (bad, message) = try CLI.run(["explain", run, "--index", "99999999"])
        #expect(bad != 0 && message.contains("out of range"))
        let (ms, mo) = try CLI.run(["compare", run, "--count", "2", "--panels", "1"])
        #expect(ms == 0 && mo.contains("relevance_mass") && mo.contains("factor-tree") && mo.contains("sanity check"), "\(mo)")
        #expect(mo.contains("tree's first splits") && mo.contains("relevance mass on the finding"), "\(mo)")
        #expect(FileManager.default.fileExists(atPath: run + "/compare/attributions/cnn-grad-cam.npy")
                && FileManager.default.fileExists(atPath: run + "/compare/attributions/indices.npy"))
        #expect(FileManager.default.fileExists(atPath: run + "/explanations/image-123/cnn-gradient.npy"))
        // Codes out for one's own analysis: mean and log-variance, indices, factors, labels, images.
        let (xs, xo) = try CLI.run(["encode", run, "--count", "50", "--images"])
        #expect(xs == 0 && xo.contains("50 images, 3 latents"), "\(xo)")
        let header = { (name: String) in String(decoding: (FileManager.default.contents(atPath: run + "/encode/" + name) ?? Data()).prefix(128), as: UTF8.self) }
        #expect(header("codes.npy").contains("'shape': (50, 2, 3)") && header("codes.npy").contains("<f4"), "\(header("codes.npy"))")
        #expect(header("factors.npy").contains("'shape': (50, 5)") && header("images.npy").contains("'shape': (50, 1, 64, 64)"))
        let labels = try String(contentsOfFile: run + "/encode/labels.csv", encoding: .utf8)
        #expect(labels.hasPrefix("index,label\n") && labels.split(separator: "\n").count == 51)
        #expect(try String(contentsOfFile: run + "/encode/manifest.json", encoding: .utf8).contains("\"blur\""))
        let (badData, badMessage) = try CLI.run(["encode", run, "--data", "dsprites:/nonexistent.npz"])
        #expect(badData != 0 && badMessage.contains("/nonexistent.npz"), "\(badMessage)")
        // The report shows the factor check and links the per-case pages compare wrote.
        #expect(try CLI.run(["report", run]).status == 0)
        let report = try String(contentsOfFile: run + "/index.html", encoding: .utf8)
        #expect(report.contains("Factor level (compare/factors.json)") && report.contains("href=\"explanations/image-"), "\(report.suffix(1500))")
        let check = try String(contentsOfFile: run + "/compare/factors.json", encoding: .utf8)
        #expect(check.contains("\"firstSplitsOnRule\"") && check.contains("\"rule\" : [\n    \"size\",\n    \"blur\""), "\(check)")
        #expect(FileManager.default.fileExists(atPath: run + "/compare/scores.csv") && FileManager.default.fileExists(atPath: run + "/compare/sanity.csv"))
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: run + "/compare")) ?? []).contains { $0.hasPrefix("panel-") && $0.hasSuffix(".png") })
    }

    @Test func classifyNeedsLabels() throws {
        let (dir, run) = try CLI.tinyRun("d", steps: 3)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (status, output) = try CLI.run(["classify", run])
        #expect(status != 0 && output.contains("has no labels"), "\(output)")
    }
}

@Suite struct FolderLabelsCLITests {
    @Test func classifyWithACSVColumnOfAnImageFolder() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("untangle-folder-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // 60 lesion PNGs; their names carry the label, which becomes a CSV column.
        #expect(try CLI.run(["data", "show", "lesions", "--count", "60", "--output", dir]).status == 0)
        let images = dir + "/lesions-samples"
        let files = try FileManager.default.contentsOfDirectory(atPath: images).filter { $0.hasSuffix(".png") }.sorted()
        let csv = "file,diagnosis,site\n" + files.map { "\($0),\($0.contains("label=malignant") ? "malignant" : "benign"),a" }.joined(separator: "\n") + "\n"
        try csv.write(toFile: dir + "/labels.csv", atomically: true, encoding: .utf8)
        let (_, run) = try CLI.tinyRun("f", steps: 80, latents: 3, hidden: 16, data: "images:\(images)?labels=\(dir)/labels.csv", extra: "beta = 0.5")
        let (status, output) = try CLI.run(["classify", run, "--labels", "diagnosis", "--train", "50", "--test", "10", "--cnn-steps", "3"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("accuracy  balanced  ROC-AUC") && output.contains("5-fold stratified cross-validation"), "\(output)")
        let (es, eo) = try CLI.run(["explain", run, "--index", "3"])
        #expect(es == 0 && eo.contains("true label"), "\(eo)")
        let (bad, message) = try CLI.run(["classify", run, "--labels", "nosuch"])
        #expect(bad != 0 && message.contains("no such column"), "\(message)")
        let (constant, constantMessage) = try CLI.run(["classify", run, "--labels", "site"])
        #expect(constant != 0 && constantMessage.contains("distinct values"), "\(constantMessage)")
        // Without a mask column there is nothing to score saliency against.
        let (noMasks, noMasksMessage) = try CLI.run(["compare", run, "--count", "2"])
        #expect(noMasks != 0 && noMasksMessage.contains("mask column"), "\(noMasksMessage)")
    }

    /// A user's own images with masks and a known rule: `data show` writes the samples as a folder
    /// (labels CSV with factors, label and mask paths), and `compare` and `explain` run on it.
    @Test func compareAndExplainOnAFolderWithMasks() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("untangle-masked-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (shown, shownOutput) = try CLI.run(["data", "show", "lesions", "--count", "80", "--output", dir])
        #expect(shown == 0 && shownOutput.contains("lesions-labels.csv (file, factors, label, mask)"), "\(shownOutput)")
        let spec = "images:\(dir)/lesions-samples?labels=\(dir)/lesions-labels.csv&label=label&rule=size+blur"
        let (_, run) = try CLI.tinyRun("m", steps: 100, latents: 3, hidden: 16, data: spec, extra: "beta = 0.1")
        #expect(try CLI.run(["probe", run]).status == 0)
        let (cs, co) = try CLI.run(["classify", run, "--cnn-steps", "3"])
        #expect(cs == 0, "\(co)")
        let (ms, mo) = try CLI.run(["compare", run, "--count", "3", "--panels", "1"])
        #expect(ms == 0 && mo.contains("relevance_mass") && mo.contains("against {size, blur}"), "\(mo)")
        let (es, eo) = try CLI.run(["explain", run, "--image", "5"])
        #expect(es == 0 && eo.contains("image 5: true label"), "\(eo)")
        let page = try String(contentsOfFile: run + "/explanations/image-5/index.html", encoding: .utf8)
        #expect(page.contains("mask.png") && page.contains("depends on size and blur"), "\(page.prefix(600))")
    }
}
