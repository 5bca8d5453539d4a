import Foundation

/// Parses and formats byte sizes: "6G", "512M", "1.5GiB", "123456" (binary units: K = 1024).
public enum ByteSize {
    /// Largest size accepted (1 PiB); larger values, which could not be converted to an integer, are refused.
    public static let maxBytes = 1 << 50

    /// The size in bytes, or nil for malformed text, negative values or more than `maxBytes`.
    public static func parse(_ text: String) -> Int? {
        let t = text.trimmingCharacters(in: .whitespaces).uppercased()
        let g = Double(1 << 30), m = Double(1 << 20), k = Double(1 << 10)
        let units: [(String, Double)] = [("GIB", g), ("MIB", m), ("KIB", k), ("GB", g), ("MB", m), ("KB", k),
                                         ("G", g), ("M", m), ("K", k), ("B", 1)]
        for (suffix, factor) in units where t.hasSuffix(suffix) {
            guard let v = Double(t.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), v >= 0, v.isFinite,
                  v * factor <= Double(maxBytes) else { return nil }
            return Int(v * factor)
        }
        guard let v = Int(t), v >= 0, v <= maxBytes else { return nil }
        return v
    }

    /// "1.23 GiB", "456.0 MiB", "12 KiB", "100 B".
    public static func format(_ bytes: Int) -> String {
        let b = Double(bytes)
        if bytes >= 1 << 30 { return String(format: "%.2f GiB", b / Double(1 << 30)) }
        if bytes >= 1 << 20 { return String(format: "%.1f MiB", b / Double(1 << 20)) }
        if bytes >= 1 << 10 { return String(format: "%.0f KiB", b / Double(1 << 10)) }
        return "\(bytes) B"
    }
}
