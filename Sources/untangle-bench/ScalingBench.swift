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
            guard let v = reported(key, in: text) else { throw ValidationError("no \(key)= in:\n\(text)") }
            return v
        }
        print("| threads | batch | Swift img/s | PyTorch img/s | ratio | Swift peak RSS (MiB) | PyTorch peak RSS (MiB) |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for t in threadList {
            for b in batchList {
                let steps = max(5, images / b)
                let swift = try ChildProcess.run([me, "train-step", "--threads", String(t), "--batch", String(b), "--steps", String(steps),
                                                  "--warmup", "5", "--no-torch", "--no-sgemm"])
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

/// Floating-point work of the benchmark's training step, per image: the dlib conv VAE
/// (64×64×1, Z 10) layer by layer, 2 FLOPs per multiply-add. A conv layer with output
/// `O × H′ × W′` and a `C × k × k` window does `O·H′·W′·C·k²` multiply-adds forward (a transposed
/// one the same with input and output swapped); the backward pass does that twice more (∂W and
/// ∂x), except the first layer, whose input needs no gradient. Elementwise work (activations,
/// loss, Adam) is left out: ≈ 82 MFLOP per image.
enum StepWork {
    /// Multiply-adds per image of each weight layer, forward, in order (encoder, then decoder).
    static let layerMACs: [Int] = [
        32 * 32 * 32 * (1 * 16),        // conv 1→32, 4×4 s2: 64² → 32²
        16 * 16 * 32 * (32 * 16),       // conv 32→32, 4×4 s2: 32² → 16²
        8 * 8 * 64 * (32 * 4),          // conv 32→64, 2×2 s2: 16² → 8²
        4 * 4 * 64 * (64 * 4),          // conv 64→64, 2×2 s2: 8² → 4²
        1024 * 256, 256 * 20,           // dense 1024→256→2·10
        10 * 256, 256 * 1024,           // dense 10→256→1024
        4 * 4 * 64 * (64 * 16),         // transposed 64→64, 4×4 s2: 4² → 8²
        8 * 8 * 64 * (32 * 16),         // transposed 64→32: 8² → 16²
        16 * 16 * 32 * (32 * 16),       // transposed 32→32: 16² → 32²
        32 * 32 * 32 * (1 * 16),        // transposed 32→1: 32² → 64²
    ]

    /// FLOPs per image of forward + backward.
    static var flopsPerImage: Double {
        let forward = layerMACs.reduce(0, +)
        return 2 * Double(3 * forward - layerMACs[0])
    }

    /// GFLOP/s of `size`³ sgemms on the current thread count, the way Untangle uses the cores
    /// (OpenBLAS single-threaded, one independent product per thread, as the convolutions' batch
    /// pieces): the total rate, best of `repeats`.
    static func sgemmRate(size: Int = 1024, repeats: Int = 5) -> Double {
        let threads = Parallel.threadCount
        let a = [Float](repeating: 0.5, count: size * size), b = a
        let outputs = (0..<threads).map { _ in ScratchBuffer(count: size * size) }
        var best = Double.infinity
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in
                nonisolated(unsafe) let (x, y) = (pa.baseAddress!, pb.baseAddress!)
                Parallel.forEach(threads) { t in
                    BLAS.gemm(transposeA: false, transposeB: false, m: size, n: size, k: size, a: x, lda: size,
                              b: y, ldb: size, c: outputs[t].pointer, ldc: size)
                }
            } }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return 2 * pow(Double(size), 3) * Double(threads) / best / 1e9
    }
}
