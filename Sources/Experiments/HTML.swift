/// What the report, the explain pages and the traversal section share to write HTML.
enum HTML {
    /// `s` with `&`, `<` and `>` escaped, for text and attribute values in double quotes that
    /// hold no quotes (names, paths, captions).
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
