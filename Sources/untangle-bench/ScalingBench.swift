import ArgumentParser
import Foundation
import TensorCore
#if canImport(Glibc)
import Glibc
#endif

/// The process's peak resident memory so far, MiB (`getrusage` `ru_maxrss`, KiB on Linux).
func peakResidentMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

/// The scaling table: the training step of the dlib conv VAE at batch 16, 64 and 256 on 1 and 2
/// threads, Swift and PyTorch, each configuration in its own fresh process (so each peak
/// resident memory is that configuration's alone), Swift and PyTorch alternating.
struct Scaling: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Training images/s and peak resident memory, Swift vs PyTorch, batch 16/64/256 × threads 1/2.",
        discussion: """
        Each cell runs `untangle-bench train-step --no-torch` and Benchmarks/torch_vae_scaling.py (the model, loss, \
        optimiser and inputs of ../shared/reference/torch_vae_bench.py with a batch argument) as separate processes, \
        for about --images images each after a warm-up, and prints a Markdown table: images/s of both, their ratio, \
        and the peak resident memory (MiB) of both processes.
        """)

    @Option(help: "Batch sizes.") var batches = "16,64,256"
    @Option(help: "Thread counts.") var threads = "1,2"
    @Option(help: "Timed images per measurement (steps = images ÷ batch, at least 5).") var images = 4096
    @Option(help: "Python interpreter with torch installed.") var python = "python3"
    @Option(help: "The PyTorch side.") var reference = "Benchmarks/torch_vae_scaling.py"

    func run() throws {
        let batchList = batches.split(separator: ",").compactMap { Int($0) }, threadList = threads.split(separator: ",").compactMap { Int($0) }
        guard !batchList.isEmpty, !threadList.isEmpty, batchList.allSatisfy({ $0 > 0 }), threadList.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--batches and --threads are comma-separated positive integers")
        }
        guard FileManager.default.fileExists(atPath: reference) else { throw ValidationError("reference script not found at \(reference)") }
        let me = CommandLine.arguments[0]
        func number(_ key: String, in text: String) throws -> Double {
            guard let v = text.components(separatedBy: key + "=").dropFirst().first.flatMap({ Double($0.prefix { $0.isNumber || $0 == "." }) }) else {
                throw ValidationError("no \(key)= in:\n\(text)")
            }
            return v
        }
        print("| threads | batch | Swift img/s | PyTorch img/s | ratio | Swift peak RSS (MiB) | PyTorch peak RSS (MiB) |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for t in threadList {
            for b in batchList {
                let steps = max(5, images / b)
                let swift = try ChildProcess.run([me, "train-step", "--threads", String(t), "--batch", String(b), "--steps", String(steps),
                                                  "--warmup", "5", "--no-torch"])
                guard swift.status == 0 else { throw ValidationError("train-step failed:\n\(swift.combined)") }
                let torch = try ChildProcess.run([python, reference, String(t), String(steps), String(b)])
                guard torch.status == 0 else { throw ValidationError("the PyTorch side failed (\(python) \(reference)):\n\(torch.combined)") }
                let (sr, tr) = (try number("images/s", in: swift.output), try number("images/s", in: torch.output))
                let (sm, tm) = (try number("peak_rss_mib", in: swift.output), try number("peak_rss_mib", in: torch.output))
                print(String(format: "| %d | %d | %.0f | %.0f | %.2f | %.0f | %.0f |", t, b, sr, tr, sr / tr, sm, tm))
            }
        }
    }
}
