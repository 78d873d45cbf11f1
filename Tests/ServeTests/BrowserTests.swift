import Experiments
import Foundation
import ImageIO
import TensorCore
import Testing

/// A minimal W3C WebDriver client for chromedriver (JSON over HTTP).
struct WebDriver {
    let base: String
    var session = ""

    /// POST/GET/DELETE `path` under the session; returns the reply's `value`.
    @discardableResult
    func call(_ method: String, _ path: String, _ body: [String: Any]? = nil) throws -> Any? {
        let data = try body.map { try JSONSerialization.data(withJSONObject: $0) }
        let (status, reply) = try ExplorerTests.fetch(base + path, method: method, body: data ?? (method == "POST" ? Data("{}".utf8) : nil))
        let object = try? JSONSerialization.jsonObject(with: reply) as? [String: Any]
        guard status == 200 else { throw ExplorerError("webdriver \(method) \(path): \(status) \(String(decoding: reply, as: UTF8.self).prefix(400))") }
        return object?["value"]
    }

    func script(_ source: String) throws -> Any? {
        try call("POST", "/session/\(session)/execute/sync", ["script": source, "args": []])
    }

    func element(_ css: String) throws -> String {
        let value = try call("POST", "/session/\(session)/element", ["using": "css selector", "value": css])
        guard let reference = value as? [String: Any], let id = reference["element-6066-11e4-a52e-4f735466cecf"] as? String else {
            throw ExplorerError("no element \(css): \(String(describing: value))")
        }
        return id
    }

    /// Polls `condition` (a script returning true) for up to `seconds`.
    func wait(_ condition: String, seconds: Double = 60) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if (try? script("return Boolean(\(condition));")) as? Bool == true { return }
            usleep(100_000)
        }
        throw ExplorerError("timed out waiting for \(condition)")
    }
}

/// The explorer as a person uses it: headless Chromium (Debian's `chromium` + `chromium-driver`,
/// installed by `Scripts/bootstrap --browser`) moves a slider, sees the decoded image change and
/// match the library's decoder for that code, uploads a bad file and reads the message, and
/// keeps a screenshot under the test's temporary folder.
@Suite(.serialized) struct BrowserTests {
    static let driverPath = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// A free loopback port (bound, read, released).
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var size = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, size) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &size) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test(.enabled(if: BrowserTests.driverPath != nil, "needs chromium-driver (Scripts/bootstrap --browser)"))
    func aSliderDecodesOnTheServerAndABadUploadIsExplained() throws {
        let run = ServeFixture.run
        let before = ServeFixture.snapshot(run)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("untangle-browser-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let (server, address) = try ExplorerTests.startServer(run)
        defer { server.terminate(); server.waitUntilExit() }
        let port = Self.freePort()
        let chromedriver = Process()
        chromedriver.executableURL = URL(fileURLWithPath: Self.driverPath!)
        chromedriver.arguments = ["--port=\(port)"]
        chromedriver.standardOutput = FileHandle.nullDevice
        chromedriver.standardError = FileHandle.nullDevice
        try chromedriver.run()
        defer { kill(chromedriver.processIdentifier, SIGKILL); chromedriver.waitUntilExit() }
        var driver = WebDriver(base: "http://127.0.0.1:\(port)")
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, (try? driver.call("GET", "/status")) == nil { usleep(100_000) }
        let created = try driver.call("POST", "/session", ["capabilities": ["alwaysMatch": [
            "browserName": "chrome",
            "goog:chromeOptions": ["args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1400",
                                            "--user-data-dir=\(folder)/profile"]],
        ]]]) as? [String: Any]
        driver.session = try #require(created?["sessionId"] as? String)
        defer { _ = try? driver.call("DELETE", "/session/\(driver.session)") }

        try driver.call("POST", "/session/\(driver.session)/url", ["url": address])
        try driver.wait("document.body.dataset.ready === 'yes' && document.getElementById('decoded').complete && document.querySelector('img.map')")
        let sliders = try driver.script("return document.querySelectorAll('.slider').length;") as? Int ?? 0
        #expect(sliders >= 1, "no slider for an active latent")
        let first = try #require(try driver.script("return document.getElementById('decoded').src;") as? String)
        // The factor explanation and the pixel explanations, side by side on the page.
        let explained = try driver.script("return document.getElementById('explanation').innerText;") as? String ?? ""
        #expect(explained.contains("rule path") && explained.contains("occlusion") && explained.contains("Counterfactuals"), "\(explained.prefix(300))")

        // Move a slider with the keyboard, as a person would; the decoded image changes.
        let slider = try driver.element(".slider")
        try driver.call("POST", "/session/\(driver.session)/element/\(slider)/click")
        try driver.call("POST", "/session/\(driver.session)/element/\(slider)/value", ["text": String(repeating: "\u{E014}", count: 40)])
        try driver.wait("document.getElementById('decoded').src !== \(String(reflecting: first)) && document.getElementById('decoded').complete")
        try driver.wait("!document.querySelector('#decoded').naturalWidth == false")
        let moved = try #require(try driver.script("return document.getElementById('decoded').src;") as? String)
        #expect(moved != first)

        // The image the page shows is the library's decoder output for the code in its URL.
        let z = try #require(URLComponents(string: moved)?.queryItems?.first { $0.name == "z" }?.value)
            .split(separator: ",").map { Float($0)! }
        let (_, shown) = try ExplorerTests.fetch(moved)
        let explorer = try RunExplorer(path: run, sampleCount: 1)
        let expected = RasterImage(tensor: explorer.trained.decode(Tensor(shape: [1, z.count], scalars: z)).reshaped([1, 64, 64]))
        let served = try PNGFile.decode(shown, source: "served", channels: 1)
        #expect(served == expected, "the page's image differs from the library's decoder output")
        let (_, original) = try ExplorerTests.fetch(first)
        #expect(try PNGFile.decode(original, source: "first", channels: 1) != served, "moving the slider did not change the image")

        // A bad upload: the page says why, and nothing breaks.
        try Data("this is not an image".utf8).write(to: URL(fileURLWithPath: folder + "/notes.png"))
        let upload = try driver.element("#upload")
        try driver.call("POST", "/session/\(driver.session)/element/\(upload)/value", ["text": folder + "/notes.png"])
        try driver.wait("document.getElementById('message').textContent.length > 0")
        let message = try driver.script("return document.getElementById('message').textContent;") as? String ?? ""
        #expect(message.contains("not a readable PNG") && message.contains("64×64"), "\(message)")

        // Screenshots kept for a person to look at: the explorer, then the curves and metrics tab.
        let explore = try #require(try driver.call("GET", "/session/\(driver.session)/screenshot") as? String)
        try #require(Data(base64Encoded: explore)).write(to: URL(fileURLWithPath: folder + "/explore.png"))
        try driver.call("POST", "/session/\(driver.session)/element/\(try driver.element("#tab-curves"))/click")
        try driver.wait("!document.getElementById('curves').hidden && document.querySelector('#figures img')")
        let shot = try #require(try driver.call("GET", "/session/\(driver.session)/screenshot") as? String)
        let png = try #require(Data(base64Encoded: shot))
        try png.write(to: URL(fileURLWithPath: folder + "/explorer.png"))
        #expect(png.prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]))
        print("screenshots: \(folder)/explore.png, \(folder)/explorer.png")
        #expect(ServeFixture.snapshot(run) == before, "the server wrote into the run directory")
    }
}
