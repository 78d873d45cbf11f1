import TensorCore

/// Every seeded random stream of the stages, in one list so that no two uses share a stream by
/// accident: each is `RandomGenerator(seed: seed).fork(salt)` with its own salt. The values are
/// fixed forever (changing one changes every result that uses it).
public enum RandomStream: UInt64, CaseIterable, Sendable {
    /// The training batches and noise (forked from the run's seed).
    case training = 1
    /// The held-out images of `metrics.json`, reconstructions, traversal bases, KL per latent.
    /// "Held-out" throughout Untangle means drawn from this stream, apart from training's draws —
    /// not excluded from training: like disentanglement_lib, the images have no train/test split
    /// (the classifiers' split below is a real one).
    case heldOut = 0xE7A1
    /// The classifiers' train/test split.
    case classificationSplit = 0xC1A5
    /// SmoothGrad noise and the randomisation check of `compare`.
    case saliency = 0x5A17
    /// The points `probe` draws from an annotated image folder.
    case annotationProbe = 0xA770
    /// The shuffle of an annotated folder's images into metric training and evaluation points.
    case annotationMetrics = 0xA771
    /// The images `encode` samples from a data set too large to export whole.
    case export = 0xE4C0
    /// The folds of the classifiers' cross-validation on small data sets.
    case crossValidation = 0xC1A6

    /// The stream of this kind for `seed`.
    public func generator(seed: UInt64) -> RandomGenerator { RandomGenerator(seed: seed).fork(rawValue) }
}
