import Experiments
import Foundation
import ImageIO
import Serve
import TensorCore
import TestSupport
import Testing

/// The `untangle` binary beside this test runner, and a small lesion run with classifiers.
enum ServeFixture {
    static var binary: URL { Products.url() }

    @discardableResult
    static func untangle(_ arguments: [String]) throws -> String {
        let (status, output) = try Products.run(binary, arguments)
        precondition(status == 0, "untangle \(arguments.joined(separator: " ")) failed: \(output)")
        return output
    }

    /// A tiny MLP on the lesions with a report and classifiers (trained once per test process).
    static let run: String = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("untangle-serve-\(UUID())").path
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try! """
        [experiment]
        name = "serve"
        [data]
        dataset = "lesions"
        [model]
        architecture = "mlp"
        hidden = [16]
        latents = 3
        beta = 0.5
        [training]
        steps = 60
        batch_size = 8
        learning_rate = 1e-3
        threads = 1
        [evaluation]
        held_out = 16
        """.write(toFile: dir + "/serve.toml", atomically: true, encoding: .utf8)
        try! untangle(["train", "--config", dir + "/serve.toml", "--results", dir])
        let run = dir + "/serve/" + (try! FileManager.default.contentsOfDirectory(atPath: dir + "/serve"))[0]
        try! untangle(["classify", run, "--train", "200", "--test", "40", "--cnn-steps", "5", "--threads", "1"])
        try! untangle(["report", run, "--threads", "1"])
        return run
    }()

    /// Every file under `directory` with its size and modification time.
    static func snapshot(_ directory: String) -> [String: String] {
        var out: [String: String] = [:]
        let walker = FileManager.default.enumerator(atPath: directory)
        while let name = walker?.nextObject() as? String {
            let attributes = try? FileManager.default.attributesOfItem(atPath: directory + "/" + name)
            out[name] = "\(attributes?[.size] ?? "-") \(attributes?[.modificationDate] ?? "-")"
        }
        return out
    }
}

/// `untangle serve`'s logic (``RunExplorer``) and its HTTP routes, without a browser.
@Suite(.serialized) struct ExplorerTests {
    @Test func decodingUploadsAndFilesBehaveAndNothingIsWritten() throws {
        // A copy of the shared run, so that the escaping link below never shows in another test.
        let run = FileManager.default.temporaryDirectory.appendingPathComponent("untangle-explorer-\(UUID())/run").path
        try FileManager.default.createDirectory(atPath: (run as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: ServeFixture.run, toPath: run)
        defer { try? FileManager.default.removeItem(atPath: (run as NSString).deletingLastPathComponent) }
        let outside = (run as NSString).deletingLastPathComponent + "/../serve.toml"
        try FileManager.default.createSymbolicLink(atPath: run + "/figures/escape.txt", withDestinationPath: outside)
        defer { try? FileManager.default.removeItem(atPath: run + "/figures/escape.txt") }
        let before = ServeFixture.snapshot(run)
        let explorer = try RunExplorer(path: run, sampleCount: 6)
        #expect(explorer.latents.count == 3 && explorer.samples.count == 6 && explorer.hasClassifiers)
        #expect(explorer.latents.allSatisfy { $0.low < $0.high })

        // The decoder's image for a code is the library's.
        let code = explorer.code(of: try explorer.image(explorer.samples[0]))
        let library = explorer.trained.decode(Tensor(shape: [1, 3], scalars: code)).reshaped([1, 64, 64])
        #expect(try explorer.decoded(code) == library)
        #expect(throws: ExplorerError.self) { try explorer.decoded([1, 2]) }
        #expect(throws: ExplorerError.self) { try explorer.decoded([1, .nan, 2]) }
        #expect(throws: ExplorerError.self) { try explorer.image(-1) }

        // Uploads: a right-sized PNG round-trips; everything else is a message naming the problem.
        let good = try PNGFile.encode(RasterImage(tensor: try explorer.image(explorer.samples[1]).reshaped([1, 64, 64])))
        #expect(try explorer.upload(good) == RasterImage(tensor: try explorer.image(explorer.samples[1]).reshaped([1, 64, 64])).tensor().reshaped([1, 1, 64, 64]))
        func message(_ data: Data) -> String {
            do { _ = try explorer.upload(data, name: "x.png"); return "accepted" } catch { return "\(error)" }
        }
        #expect(message(Data()).contains("empty"))
        #expect(message(Data("not a png at all".utf8)).contains("not a readable PNG"))
        #expect(message(good.prefix(60)).contains("not a readable PNG"))
        let small = try PNGFile.encode(RasterImage(width: 10, height: 12, channels: 1, pixels: [UInt8](repeating: 7, count: 120)))
        #expect(message(small).contains("10×12") && message(small).contains("64×64"))

        // Files only from inside the run, never a dot-file, never through a link that leaves it.
        #expect(explorer.runFile("config.toml") != nil)
        #expect(explorer.runFile("../serve.toml") == nil && explorer.runFile(".lock") == nil && explorer.runFile("checkpoints") == nil)
        #expect(explorer.runFile("figures/escape.txt") == nil)

        // The explanation has the decisions, the rule path, and every saliency map.
        let payload = try JSONSerialization.jsonObject(with: try explorer.explanation(of: try explorer.image(explorer.samples[0]), index: explorer.samples[0])) as! [String: Any]
        #expect((payload["decisions"] as! [Any]).count == 3 && !(payload["ruleSteps"] as! [Any]).isEmpty)
        #expect((payload["maps"] as! [[String: Any]]).contains { $0["model"] as? String == "cnn" && $0["method"] as? String == "occlusion" })
        #expect(payload["mask"] is String)
        _ = try explorer.overview()

        #expect(ServeFixture.snapshot(run) == before, "the explorer wrote into the run directory")
    }

    /// The server over HTTP: start `untangle serve --port 0`, read the address it prints.
    static func startServer(_ run: String) throws -> (Process, String) {
        let process = Process()
        process.executableURL = ServeFixture.binary
        process.arguments = ["serve", run, "--port", "0", "--threads", "1", "--samples", "6"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        var seen = ""
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
            if let range = seen.range(of: "http://127.0.0.1:"), let end = seen[range.upperBound...].firstIndex(of: "/") {
                return (process, String(seen[range.lowerBound...end]))
            }
        }
        process.terminate()
        throw ExplorerError("the server did not print its address: \(seen)")
    }

    /// A blocking HTTP/1.1 request over a plain loopback socket (`Connection: close`, read to
    /// the end): status and body. Not URLSession: on Linux it fails on chromedriver's replies
    /// ("Failed writing header").
    static func fetch(_ url: String, method: String = "GET", body: Data? = nil) throws -> (Int, Data) {
        guard let components = URLComponents(string: url), let host = components.host, let port = components.port else {
            throw ExplorerError("bad URL \(url)")
        }
        let target = components.percentEncodedPath + (components.percentEncodedQuery.map { "?" + $0 } ?? "")
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ExplorerError("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 120, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr(host == "localhost" ? "127.0.0.1" : host)
        let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard connected == 0 else { return (0, Data()) }
        var request = "\(method) \(target.isEmpty ? "/" : target) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n"
        if let body { request += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" }
        var bytes = Data((request + "\r\n").utf8) + (body ?? Data())
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw ExplorerError("send to \(url) failed") }
            bytes = bytes.dropFirst(n)
        }
        // Read to the end of the reply: its Content-Length when it gives one (chromedriver may
        // keep the connection open), else to the end of the stream.
        var reply = Data(), chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            if let split = reply.range(of: Data("\r\n\r\n".utf8)) {
                let head = String(decoding: reply[..<split.lowerBound], as: UTF8.self).lowercased()
                if let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
                   let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)),
                   reply.count - split.upperBound >= length { break }
            }
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { break }
            reply.append(contentsOf: chunk[0..<n])
        }
        guard let split = reply.range(of: Data("\r\n\r\n".utf8)) else { return (0, reply) }
        let head = String(decoding: reply[..<split.lowerBound], as: UTF8.self)
        var payload = Data(reply[split.upperBound...])
        let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        if head.lowercased().contains("transfer-encoding: chunked") {
            var decoded = Data(), rest = payload
            while let line = rest.range(of: Data("\r\n".utf8)), let size = Int(String(decoding: rest[..<line.lowerBound], as: UTF8.self), radix: 16), size > 0 {
                let start = line.upperBound
                decoded.append(rest[start..<(start + size)])
                rest = Data(rest[(start + size + 2)...])
            }
            payload = decoded
        }
        return (status, payload)
    }

    @Test func httpRoutesAnswerAndBadRequestsGetMessages() throws {
        let run = ServeFixture.run
        let (server, address) = try Self.startServer(run)
        defer { server.terminate(); server.waitUntilExit() }
        let (status, page) = try Self.fetch(address)
        #expect(status == 200 && String(decoding: page, as: UTF8.self).contains("Untangle explorer"))
        #expect(!String(decoding: page, as: UTF8.self).contains("http://") && !String(decoding: page, as: UTF8.self).contains("https://"), "the page must work offline")
        let (_, overview) = try Self.fetch(address + "api/run")
        let info = try JSONSerialization.jsonObject(with: overview) as! [String: Any]
        #expect((info["latents"] as! [Any]).count == 3)
        let (decodeStatus, png) = try Self.fetch(address + "api/decode?z=0.5,-1,0")
        #expect(decodeStatus == 200 && png.prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]))
        let (badCode, badCodeBody) = try Self.fetch(address + "api/decode?z=1,two,3")
        #expect(badCode == 400 && String(decoding: badCodeBody, as: UTF8.self).contains("comma-separated numbers"))
        let (badUpload, message) = try Self.fetch(address + "api/upload", method: "POST", body: Data("GIF89a".utf8))
        #expect(badUpload == 400 && String(decoding: message, as: UTF8.self).contains("not a readable PNG"))
        let (escape, _) = try Self.fetch(address + "run/..%2F..%2Fserve.toml")
        #expect(escape == 404)
        let (config, _) = try Self.fetch(address + "run/config.toml")
        #expect(config == 200)
    }
}
