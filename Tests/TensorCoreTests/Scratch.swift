import Foundation

/// A fresh, empty directory under the system's temporary directory for one test (`prefix-UUID`);
/// the test removes it.
func scratchDirectory(_ prefix: String) throws -> String {
    let path = NSTemporaryDirectory() + "\(prefix)-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
