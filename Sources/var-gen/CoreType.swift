import Foundation
import VARKit

/// The OpenBLAS kernel-family fix (docs/performance.md §1): Debian's OpenBLAS 0.3.21
/// falls back to its "Prescott" (SSE3) kernels on some CPUs, ~9x slower. OpenBLAS reads
/// `OPENBLAS_CORETYPE` only when it is loaded, so the program sets it and re-executes itself.
enum OpenBLASCoreFix {
    static let guardVariable = "VARGEN_CORETYPE_REEXEC"

    /// The core to force, or nil to leave OpenBLAS alone: only when detection fell back to Prescott, the user
    /// has not chosen a core, and we have not re-executed already; chosen from the CPU's actual features
    /// (SkylakeX kernels crash with SIGILL without AVX-512).
    static func coreToForce(detected: String, environment: [String: String], cpuFlags: Set<String>) -> String? {
        guard detected == "Prescott", environment["OPENBLAS_CORETYPE"] == nil, environment[guardVariable] == nil else {
            return nil
        }
        if cpuFlags.contains("avx512f") { return "SkylakeX" }
        if cpuFlags.contains("avx2") { return "Haswell" }
        return nil
    }

    /// The `flags` of the first processor in `/proc/cpuinfo`.
    static func cpuFlags(cpuinfo: String) -> Set<String> {
        for line in cpuinfo.split(separator: "\n") where line.hasPrefix("flags") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
        }
        return []
    }

    /// Re-executes the program with the right core if needed; returns only when no re-exec happened.
    static func reexecIfNeeded() {
        let env = ProcessInfo.processInfo.environment
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        guard let core = coreToForce(detected: BLAS.coreName, environment: env, cpuFlags: cpuFlags(cpuinfo: cpuinfo)) else {
            return
        }
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv(guardVariable, "1", 1)
        var argv: [UnsafeMutablePointer<CChar>?] = CommandLine.arguments.map { strdup($0) }
        argv.append(nil)
        execv("/proc/self/exe", argv)
        // execv returned: carry on with the slow kernels rather than fail.
        unsetenv("OPENBLAS_CORETYPE")
    }
}
