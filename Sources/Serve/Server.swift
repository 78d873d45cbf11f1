import Experiments
import Foundation
import Hummingbird
import TensorCore

/// `untangle serve RUN`: a small local web app over one run (Hummingbird, loopback by default,
/// no CDN: the page, its script and its style are served from here). It never writes into the
/// run directory (the run is opened without its lock) and serves files only from inside it.
///
/// Routes (all GET unless said):
/// - `/` — the explorer page (``ExplorerPage/html``);
/// - `/api/run` — ``RunExplorer/overview()`` (latents with names and ranges, samples, metrics, figures);
/// - `/api/image/K.png` — dataset image K; `/api/code/K` — its posterior mean, JSON `[Float]`;
/// - `/api/decode?z=a,b,…` — the decoder's image of that code, PNG (what ``TrainedRun/decode(_:)`` gives);
/// - `POST /api/upload` (body: PNG bytes) — `{"code": […], "image": data URL}` or 400 with the reason;
/// - `/api/explain/K`, `POST /api/explain-upload` — ``RunExplorer/explanation(of:index:)``;
/// - `/run/<path>` — a file inside the run directory (figures, `curve.csv`), nothing else.
public enum ExplorerServer {
    /// A reply: status, content type, body.
    struct Reply {
        var status: HTTPResponse.Status
        var type: String
        var body: Data
        init(status: HTTPResponse.Status = .ok, type: String, body: Data) { self.status = status; self.type = type; self.body = body }
        static func json(_ data: Data) -> Reply { Reply(type: "application/json", body: data) }
        static func png(_ data: Data) -> Reply { Reply(type: "image/png", body: data) }
        static func problem(_ status: HTTPResponse.Status, _ message: String) -> Reply {
            Reply(status: status, type: "application/json", body: (try? JSONEncoder().encode(["error": message])) ?? Data())
        }
        var response: Response {
            Response(status: status, headers: [.contentType: type, .cacheControl: "no-store"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        }
    }

    /// Runs `body` off the server's event loops (decoding and explaining are compute; the loops
    /// keep answering other requests meanwhile), turning every thrown error into a 400 with its
    /// message (a bad upload or index never takes the server down).
    static func answer(_ body: @escaping @Sendable () throws -> Reply) async -> Response {
        await withCheckedContinuation { (continuation: CheckedContinuation<Response, Never>) in
            DispatchQueue.global().async {
                do { continuation.resume(returning: try body().response) } catch {
                    continuation.resume(returning: Reply.problem(.badRequest, "\(error)").response)
                }
            }
        }
    }

    /// The router over `explorer`.
    static func router(_ explorer: RunExplorer) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/") { _, _ in Reply(type: "text/html; charset=utf-8", body: Data(ExplorerPage.html.utf8)).response }
        router.get("/api/run") { _, _ in await answer { .json(try explorer.overview()) } }
        router.get("/api/image/:name") { _, context in
            let name = context.parameters.get("name") ?? ""
            return await answer {
                guard name.hasSuffix(".png"), let index = Int(name.dropLast(4)) else { throw ExplorerError("want /api/image/<index>.png") }
                return .png(try RunExplorer.png(try explorer.image(index)))
            }
        }
        router.get("/api/code/:index") { _, context in
            let index = context.parameters.get("index", as: Int.self)
            return await answer {
                guard let index else { throw ExplorerError("want /api/code/<index>") }
                return .json(try JSONEncoder().encode(explorer.code(of: try explorer.image(index))))
            }
        }
        router.get("/api/decode") { request, _ in
            let text = request.uri.queryParameters["z"].map(String.init) ?? ""
            return await answer {
                let code = text.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
                guard !code.isEmpty, !code.contains(nil) else { throw ExplorerError("z must be comma-separated numbers, got '\(text.prefix(80))'") }
                return .png(try RunExplorer.png(try explorer.decoded(code.map { $0! })))
            }
        }
        router.post("/api/upload") { request, _ in
            let body = (try? await request.body.collect(upTo: 8 << 20 + 1)).map(Data.init(buffer:))
            return await answer {
                guard let body else { throw ExplorerError("the upload could not be read (larger than 8 MB?)") }
                let image = try explorer.upload(body, name: "the uploaded file")
                struct Uploaded: Encodable { var code: [Float], image: String }
                return .json(try JSONEncoder().encode(Uploaded(code: explorer.code(of: image), image: try RunExplorer.dataURL(image))))
            }
        }
        router.get("/api/explain/:index") { _, context in
            let index = context.parameters.get("index", as: Int.self)
            return await answer {
                guard let index else { throw ExplorerError("want /api/explain/<index>") }
                return .json(try explorer.explanation(of: try explorer.image(index), index: index))
            }
        }
        router.post("/api/explain-upload") { request, _ in
            let body = (try? await request.body.collect(upTo: 8 << 20 + 1)).map(Data.init(buffer:))
            return await answer {
                guard let body else { throw ExplorerError("the upload could not be read (larger than 8 MB?)") }
                return .json(try explorer.explanation(of: try explorer.upload(body, name: "the uploaded file"), index: nil))
            }
        }
        router.get("/run/**") { request, _ in
            let relative = String(request.uri.path.dropFirst("/run/".count)).removingPercentEncoding ?? ""
            return await answer {
                guard let data = explorer.runFile(relative) else {
                    return .problem(.notFound, "no such file in the run directory: \(relative)")
                }
                let type = relative.hasSuffix(".png") ? "image/png" : relative.hasSuffix(".json") ? "application/json" : "text/plain; charset=utf-8"
                return Reply(type: type, body: data)
            }
        }
        return router
    }

    /// Serves `explorer` on `host:port` (port 0: any free port) until SIGINT/SIGTERM; calls
    /// `ready` with the address once it listens.
    public static func run(_ explorer: RunExplorer, host: String = "127.0.0.1", port: Int = 8080,
                           ready: @escaping @Sendable (String) -> Void) async throws {
        let app = Application(router: router(explorer), configuration: .init(address: .hostname(host, port: port), serverName: "untangle"),
                              onServerRunning: { channel in
                                  let bound = channel.localAddress?.port ?? port
                                  ready("http://\(host):\(bound)/")
                              })
        try await app.runService()
    }
}

extension Data {
    init(buffer: ByteBuffer) {
        self = buffer.withUnsafeReadableBytes { Data($0) }
    }
}
