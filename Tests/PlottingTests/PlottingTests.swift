import Foundation
import ImageIO
import Plotting
import TensorCore
import Testing

@Suite struct PlottingTests {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("untangle-plot-\(UUID())").path

    @Test func generatedScriptsRunAndWritePNGsOfTheExpectedSize() throws {
        let heat = dir + "/heat.png"
        let script = try Figures.heatMap([[0.1, 0.9], [0.5, 0.2], [0, 0.3]], rowLabels: ["z0 posX", "z1", "z2"],
                                         columnLabels: ["shape", "scale"], title: "MI", output: heat)
        #expect(FileManager.default.fileExists(atPath: script) && script.hasSuffix("heat.gp"))
        let png = try PNGFile.read(heat)
        #expect(png.width == 140 + 90 * 2 && png.height == 120 + 36 * 3)
        // Deterministic: the same data gives the same bytes.
        let first = FileManager.default.contents(atPath: heat)
        try Figures.heatMap([[0.1, 0.9], [0.5, 0.2], [0, 0.3]], rowLabels: ["z0 posX", "z1", "z2"],
                            columnLabels: ["shape", "scale"], title: "MI", output: heat)
        #expect(FileManager.default.contents(atPath: heat) == first)

        let bars = dir + "/bars.png"
        try Figures.bars([1, 2.5, 0.01], labels: ["z0", "z1", "z2"], title: "KL", ylabel: "nats", output: bars)
        #expect(try PNGFile.read(bars).height == 420)
        let lines = dir + "/lines.png"
        try Figures.errorBarLines([("beta-vae", [(1, 0.2, 0.05), (4, 0.3, 0.02)]), ("tc", [(1, 0.25, 0.01), (4, 0.35, 0.03)])],
                                  xlabel: "β", ylabel: "MIG", title: "MIG vs β", logX: true, output: lines)
        #expect(try PNGFile.read(lines).width == 800)
        #expect(try String(contentsOfFile: dir + "/lines.gp", encoding: .utf8).contains("set yrange [0:*]"))
        let elbo = dir + "/elbo.png"
        try Figures.errorBarLines([("beta-vae", [(1, -80, 2), (4, -70, 1)])], xlabel: "β", ylabel: "ELBO", title: "ELBO", output: elbo)
        #expect(try !String(contentsOfFile: dir + "/elbo.gp", encoding: .utf8).contains("yrange"))
        let grid = dir + "/grid.png"
        try Figures.imageGrid(Tensor.ones([6, 1, 8, 8]) * 0.5, rows: 2, columns: 3, rowLabels: ["a", "b"], columnLabels: ["-1", "0", "1"],
                              title: "grid", output: grid)
        #expect(FileManager.default.fileExists(atPath: grid))
        let gif = dir + "/anim.gif"
        try Figures.animatedGIF([Tensor.zeros([1, 8, 8]), Tensor.ones([1, 8, 8])], title: "t", output: gif)
        let bytes = try #require(FileManager.default.contents(atPath: gif))
        #expect(bytes.prefix(6) == Data("GIF89a".utf8))
    }

    /// An overlay of 12 series draws them in 12 distinct styles: tab10's ten colours (each present
    /// in the PNG), the 11th and 12th dashed (gnuplot's own cycle repeated its 8 colours).
    @Test func overlaysOfManySeriesKeepTheirColoursApart() throws {
        let output = dir + "/many.png"
        let series = (0..<12).map { k in ("series \(k)", [(x: 1.0, mean: Double(k), std: 0.0), (x: 8.0, mean: Double(k), std: 0.0)]) }
        try Figures.errorBarLines(series, xlabel: "x", ylabel: "y", title: "twelve", output: output)
        let png = try PNGFile.read(output)
        var colours = Set<Int>()
        for i in stride(from: 0, to: png.pixels.count, by: png.channels) where png.channels == 3 {
            colours.insert(Int(png.pixels[i]) << 16 | Int(png.pixels[i + 1]) << 8 | Int(png.pixels[i + 2]))
        }
        for hex in ["1f77b4", "ff7f0e", "2ca02c", "d62728", "9467bd", "8c564b", "e377c2", "7f7f7f", "bcbd22", "17becf"] {
            #expect(colours.contains(Int(hex, radix: 16)!), "no pixel of #\(hex) in \(output)")
        }
        let script = try String(contentsOfFile: dir + "/many.gp", encoding: .utf8)
        #expect(script.contains("set linetype 11 lc rgb '#1f77b4' dt 2") && script.contains("set linetype cycle 30"))
    }

    @Test func trainingCurvesFromALog() throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let log = dir + "/log.csv"
        try "step,loss,reconstruction,kl,kl_0,kl_1,images_per_second,elapsed_seconds\n1,10,9,1,0.5,0.5,100,0.1\n2,8,7,1,0.6,0.4,100,0.2\n"
            .write(toFile: log, atomically: true, encoding: .utf8)
        try Figures.trainingCurves(logCSV: log, output: dir + "/curves.png", latentLabels: ["posX", "posY"])
        #expect(try PNGFile.read(dir + "/curves.png").width == 900)
    }

    @Test func gnuplotErrorsNameTheScriptAndMissingGnuplotSaysHowToInstall() throws {
        do {
            try Gnuplot.render(script: "set terminal pngcairo\nset output 'x.png'\nplot nonsense_function(x)\n", data: [:], output: dir + "/x.png")
            Issue.record("expected a gnuplot error")
        } catch let error as PlotError {
            #expect(error.description.contains(dir + "/x.gp") && error.description.contains("gnuplot failed"))
        }
        #expect(throws: PlotError.gnuplotMissing) {
            try Gnuplot.render(script: "", data: [:], output: dir + "/y.png", gnuplot: "/nonexistent/gnuplot")
        }
        #expect(PlotError.gnuplotMissing.description.contains("apt-get install gnuplot-nox"))
    }
}
