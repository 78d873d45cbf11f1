import ArgumentParser
import Experiments
import Foundation
import Serve

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A live explorer of one run in the browser: sliders per named latent, decisions, rule path, counterfactuals, saliency.",
        discussion: """
        Serves http://HOST:PORT/ (loopback by default; no CDN, works offline) until Ctrl-C. Pick a held-out image or \
        upload a PNG of the run's size; move a slider per active latent (the probe's name and range) and the server \
        decodes the code; with classifiers, the decisions, the tree's rule path in factor names, the counterfactual \
        strips and every saliency method as an overlay beside the ground-truth mask; a second tab shows the run's \
        figures and metrics. Never writes into the run directory (opened without its lock); serves files only from it. \
        --port 0 picks a free port; the address is printed once the server listens.
        """)

    @OptionGroup var target: RunArguments
    @Option(help: "Address to listen on (127.0.0.1: this machine only).") var host = "127.0.0.1"
    @Option(help: "Port (0: any free port).") var port = 8080
    @Option(help: "Images offered in the picker.") var samples = 24
    @OptionGroup var threading: ThreadOptions

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0…65535, got \(port)") }
        guard samples >= 1 else { throw ValidationError("--samples must be positive, got \(samples)") }
    }

    func run() throws {
        threading.apply()
        let explorer = try RunExplorer(path: target.runDirectory, sampleCount: samples, allowUnfinished: target.allowUnfinished)
        let (host, port) = (self.host, self.port)
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var failure: Error?
        Task {
            do {
                try await ExplorerServer.run(explorer, host: host, port: port) { address in
                    print("serving \(explorer.trained.run.path) at \(address)  (Ctrl-C stops)")
                    fflush(nil)
                }
            } catch { failure = error }
            done.signal()
        }
        done.wait()
        if let failure { throw CommandFailure("could not serve on \(host):\(port): \(failure)") }
    }
}
