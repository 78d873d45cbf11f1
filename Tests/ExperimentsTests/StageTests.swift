import Experiments
import Foundation
import Testing

/// The stage registry: each stage parses its own keys, and together they write the same
/// `stages.json` fingerprint as every earlier version did, so finished runs stay finished.
@Suite struct StageTests {
    let dir = temporaryDirectory()

    func plan(_ sections: String) throws -> ExperimentPlan {
        try ExperimentPlan.load(path: writeConfig("[experiment]\nname = \"s\"\n" + sections, in: dir, name: "stages-\(UUID().uuidString).toml"))
    }

    @Test func fingerprintsAreTheBytesEarlierVersionsWrote() throws {
        // The `stages` strings of stages.json files written by 0.4 (a budget-study and a lesion-study run).
        let metrics = "[evaluation]\nmetrics = [\"mig\", \"sap\", \"dci\", \"modularity\", \"active-units\"]\nprobe = true\n"
        #expect(try plan(metrics).stages.fingerprint
                == #"{ eval_points = 5000, metrics = ["mig", "sap", "dci", "modularity", "active-units"], probe = true, train_points = 10000 }"#)
        let lesions = metrics + "[explanation]\nclassify = true\ntrain = 4000\ntest = 1000\ncnn_steps = 1500\ncompare = true\ncompare_count = 100\n"
        #expect(try plan(lesions).stages.fingerprint
                == #"{ classify = [4000, 1000, 1500], compare_count = 100, eval_points = 5000, metrics = ["mig", "sap", "dci", "modularity", "active-units"], probe = true, train_points = 10000 }"#)
        #expect(try plan("").stages.fingerprint == "{ probe = false }")
    }

    @Test func eachStageOwnsItsKeys() throws {
        let p = try plan("[evaluation]\nmetrics = [\"mig\"]\ntrain_points = 300\n[explanation]\nclassify = true\ncnn_steps = 7\n")
        #expect(p.stages[EvaluateStage()].metrics.map(\.name) == ["mig"] && p.stages[EvaluateStage()].trainPoints == 300)
        #expect(p.stages[ClassifyStage()].cnnSteps == 7 && p.stages[ClassifyStage()].train == 4000)
        #expect(p.stages.isEnabled(TrainStage()) && p.stages.isEnabled(EvaluateStage()) && !p.stages.isEnabled(ProbeStage()))
        #expect(!p.stages.isEnabled(CompareStage()))
        #expect(RunStages.all.map(\.name) == ["train", "curve", "evaluate", "probe", "classify", "compare"])
        #expect(RunStages.all.map(\.output) == ["metrics.json", "curve.csv", "evaluation.json", "factors.json", "classifiers.json", "compare/scores.csv"])
        // Keys no stage (and no run setting) reads are refused, and each stage validates its own.
        #expect { try plan("[evaluation]\nprob = true\n") } throws: { "\($0)".contains("unknown key evaluation.prob") && "\($0)".contains("probe") }
        #expect { try plan("[explanation]\ncompare = true\n") } throws: { "\($0)".contains("explanation.compare needs explanation.classify = true") }
        #expect { try plan("[evaluation]\nmetrics = [\"migg\"]\n") } throws: { "\($0)".contains("evaluation.metrics") && "\($0)".contains("migg") }
        #expect { try plan("[explanation]\ntrain = 3\n") } throws: { "\($0)".contains("explanation.train: must be ≥ 50") }
    }
}
