import Foundation

/// The process's resident memory as the kernel reports it in `/proc/self/status` (Linux only).
public struct ProcessMemory: Sendable, Equatable {
    /// `VmRSS`: resident set size now, bytes.
    public var residentBytes: Int
    /// `VmHWM`: the peak resident set size since the process started, bytes.
    public var peakResidentBytes: Int

    /// The current values, or nil where `/proc/self/status` is unavailable.
    public static func current() -> ProcessMemory? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        return parse(status: text)
    }

    /// Parses the `VmRSS:` and `VmHWM:` lines (values in kB).
    public static func parse(status text: String) -> ProcessMemory? {
        var rss: Int?, hwm: Int?
        for line in text.split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard parts.count >= 2, let kb = Int(parts[1]) else { continue }
            if parts[0] == "VmRSS:" { rss = kb * 1024 }
            if parts[0] == "VmHWM:" { hwm = kb * 1024 }
        }
        guard let rss, let hwm else { return nil }
        return ProcessMemory(residentBytes: rss, peakResidentBytes: hwm)
    }
}
