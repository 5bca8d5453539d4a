import Foundation
import VARKit
#if canImport(Glibc)
import Glibc
#endif

/// Runs the built `var-gen` as a child process and reports how it ended and its peak RSS as the kernel measures
/// it: the largest `VmHWM` (high-water mark of the resident set) read from `/proc/PID/status` while the child runs,
/// and, when the child printed `--memory-stats`, the `VmHWM` it read itself at the end of its run (the later of
/// the two catches a peak in the last milliseconds). `wait4`'s `ru_maxrss` is not used: Linux carries the
/// spawning process's own high-water mark into it across `exec` (posix_spawn shares the parent's memory until
/// then), so it reports the test process's RSS, not var-gen's.
enum ChildProcess {
    struct Outcome {
        /// Exit status, or nil when killed by a signal.
        var status: Int32?
        /// The terminating signal, or nil.
        var signal: Int32?
        /// Peak resident set size, bytes (see the type's documentation).
        var peakRSS: Int
        /// What the child wrote to stderr (and stdout, when captured).
        var stderr: String
        var stdout: String
    }

    /// The built executable next to the test bundle (nil when absent, e.g. under another runner).
    static var executable: String? {
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("var-gen").path
        return FileManager.default.isExecutableFile(atPath: exe) ? exe : nil
    }

    /// The repository's shipped `weights/` directory (found from this file's path).
    static var shippedWeights: String? {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<5 {
            url.deleteLastPathComponent()
            let w = url.appendingPathComponent("weights")
            if FileManager.default.fileExists(atPath: w.appendingPathComponent("vqvae.pth").path) { return w.path }
        }
        return nil
    }

    /// Runs `arguments` (absolute paths: the child inherits the test's current directory) with `environment`;
    /// its stdout and stderr go to files in `directory`. With `interrupt`, the child gets that
    /// signal once `ready()` is true or `after` seconds have passed (whichever comes first); a child still
    /// running after `timeout` seconds is killed (SIGKILL).
    static func run(_ arguments: [String], environment: [String: String], directory: String,
                    interrupt: (signal: Int32, after: Double)? = nil, ready: () -> Bool = { false },
                    timeout: Double = 120) throws -> Outcome {
        guard let exe = executable else { throw CocoaError(.fileNoSuchFile) }
        let errPath = directory + "/.child-stderr-\(UInt32.random(in: 0...UInt32.max))"
        let outPath = errPath + "-out"
        defer { unlink(errPath); unlink(outPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv = ([exe] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, exe, &actions, nil, argv, envp)
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EIO) }
        let start = Date()
        var status: Int32 = 0
        var usage = rusage()
        var signalled = false
        var polled = 0
        while true {
            polled = max(polled, highWaterMark(pid))
            let r = wait4(pid, &status, WNOHANG, &usage)
            if r == pid { break }
            let elapsed = Date().timeIntervalSince(start)
            if let interrupt, !signalled, elapsed >= interrupt.after || ready() {
                kill(pid, interrupt.signal); signalled = true
            }
            if elapsed > timeout { kill(pid, SIGKILL) }
            usleep(5_000)
        }
        let read = { (p: String) in (try? String(contentsOfFile: p, encoding: .utf8)) ?? "" }
        let exited = (status & 0x7F) == 0
        let stderr = read(errPath)
        return Outcome(status: exited ? (status >> 8) & 0xFF : nil, signal: exited ? nil : status & 0x7F,
                       peakRSS: max(polled, reportedPeak(stderr) ?? 0), stderr: stderr, stdout: read(outPath))
    }

    /// `VmHWM` of a live process, bytes (0 once it has exited).
    static func highWaterMark(_ pid: pid_t) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kib = Int(line.dropFirst(6).trimmingCharacters(in: .whitespaces).split(separator: " ")[0]) else { return 0 }
        return kib * 1024
    }

    /// The peak column of `--memory-stats`' "process RSS" row (the child's own `VmHWM` at the end), bytes.
    static func reportedPeak(_ stderr: String) -> Int? {
        guard let line = stderr.split(separator: "\n").last(where: { $0.hasPrefix("  process RSS") }) else { return nil }
        let cells = line.dropFirst("  process RSS".count).split(separator: " ").map(String.init)
        guard cells.count >= 4 else { return nil }       // current value unit, peak value unit, …
        return ByteSize.parse(cells[2] + cells[3])
    }
}
