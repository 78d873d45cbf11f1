import ArgumentParser
import Datasets
import Foundation
import TensorCore

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Look at data sets.",
        subcommands: [Show.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a PNG grid of samples (and one PNG per sample, factor values in its name) and print the factor table.",
            discussion: """
            DATASET is one of:
              dsprites                      built-in dSprites (737,280 images, 5 factors)
              dsprites:PATH.npz             the official dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz
              lesions[?noise=P&seed=S]      synthetic lesions with ground-truth factors, labels and masks
              images:DIR[?labels=F.csv&label=COLUMN&resize=1]   a folder of PNGs
            """)

        @Argument(help: "The data set (see below).") var dataset: String
        @Option(help: "Number of samples.") var count = 32
        @Option(help: "Grid columns.") var columns = 8
        @Option(help: "Sampling seed.") var seed: UInt64 = 0
        @Option(help: "Output directory.") var output = "Results/data"
        @OptionGroup var threading: ThreadOptions

        func validate() throws {
            do { _ = try DatasetSpec(parsing: dataset) } catch let error as DataError {
                throw ValidationError(error.description)
            }
            guard count > 0 else { throw ValidationError("--count must be positive, got \(count)") }
            guard columns > 0 else { throw ValidationError("--columns must be positive, got \(columns)") }
        }

        func run() throws {
            threading.apply()
            let data = try DatasetSpec(parsing: dataset).open()
            let out = try DataShow.run(data, count: count, seed: seed, columns: columns, outputDirectory: output)
            print(out.report, terminator: "")
            print("\nwrote \(out.gridPath)")
            if let masks = out.maskGridPath { print("wrote \(masks) (ground-truth lesion masks, same layout)") }
            print("wrote \(out.samplesDirectory)/ (one PNG per sample, factor values in the file name)")
            if let csv = out.labelsCSV {
                print("wrote \(csv) (file, factors, label\(out.masksDirectory == nil ? "" : ", mask")) — the samples as a folder: "
                      + "images:\(out.samplesDirectory)?labels=\(csv)\((data as? any LabeledDataset)?.labelNames.isEmpty == false ? "&label=label" : "")")
            }
        }
    }
}
