/// Text taken from files (tensor names, pickle globals, JSON strings, paths) made safe to print: every
/// control character (C0, DEL, C1) and every invisible direction/format control is written in a visible
/// escaped form (`\x1b`, `\u{202e}`), backslashes are doubled, and long text is cut, so a file cannot clear
/// the screen, set the terminal title, move the cursor or fake lines of output through an error message.
public enum DisplayText {
    /// Longest text kept, in characters; longer text ends with "…".
    public static let defaultLimit = 200

    public static func escaped(_ text: String, limit: Int = defaultLimit) -> String {
        var out = ""
        var kept = 0
        for u in text.unicodeScalars {
            if kept >= limit { out += "…"; break }
            kept += 1
            let v = u.value
            if v == 0x5C { out += "\\\\"; continue }
            if v < 0x20 || v == 0x7F || (0x80...0x9F).contains(v) {
                out += "\\x" + (v < 0x10 ? "0" : "") + String(v, radix: 16)
            } else if isInvisibleControl(v) {
                out += "\\u{" + String(v, radix: 16) + "}"
            } else {
                out.unicodeScalars.append(u)
            }
        }
        return out
    }

    /// Direction overrides and isolates, zero-width and other format characters that change how the
    /// surrounding text is shown.
    public static func isInvisibleControl(_ v: UInt32) -> Bool {
        (0x200B...0x200F).contains(v) || (0x202A...0x202E).contains(v) || (0x2060...0x206F).contains(v)
            || v == 0xFEFF || v == 0x061C || (0xFFF9...0xFFFB).contains(v)
    }
}
