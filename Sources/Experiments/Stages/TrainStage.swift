import Foundation

/// Training (every `[model]`/`[training]` key, which are part of the run id): the VAE is trained,
/// resuming from the newest checkpoint, until `model.safetensors` and `metrics.json` (held-out
/// ELBO) exist. Always on; a finished run is not trained again.
public struct TrainStage: RunStage {
    public init() {}
    public var name: String { "train" }
    public var output: String { "metrics.json" }
    public func options(_ r: ConfigReader) throws -> AlwaysOn { AlwaysOn() }

    public func run(_ context: StageContext, options: AlwaysOn, log: @escaping (String) -> Void) throws -> String {
        guard !context.run.isComplete else { return "done earlier (metrics.json)" }
        let config = context.config
        let trainer = try Trainer(config: config, resultsRoot: context.resultsRoot, dataset: context.dataset())
        let from = context.run.checkpointSteps().last ?? 0
        log("train: \(config.steps) steps\(from > 0 ? ", resuming at step \(from)" : "")")
        let every = max(10, config.steps / 10)
        try trainer.train(resume: true) { u in
            if u.step % every < 10 || u.step >= u.totalSteps { log("train: " + ConsoleProgress.line(u)) }
        }
        return "done"
    }

    /// `heldout.<term>` from `metrics.json` (the held-out ELBO and its terms; step and size left out).
    public func scalars(_ run: RunDirectory) throws -> [String: Double] {
        var out: [String: Double] = [:]
        for (k, v) in try run.jsonObject(output) ?? [:] where !["step", "held_out"].contains(k) {
            if let x = v as? Double { out["heldout.\(k)"] = x }
        }
        return out
    }
}
