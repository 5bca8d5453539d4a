import Foundation
import VARKit

// Before anything else: OpenBLAS must be re-loaded with the right kernels if it fell back to Prescott.
OpenBLASCoreFix.reexecIfNeeded()
// OpenBLAS's idle workers spin ~0.1 s after every threaded call and steal the cores from the engine's own
// loops (see BLAS.swift): make them sleep almost at once unless the user chose a timeout. Process-wide
// environment, so the program sets it, never the library.
if ProcessInfo.processInfo.environment["OPENBLAS_THREAD_TIMEOUT"] == nil {
    setenv("OPENBLAS_THREAD_TIMEOUT", "4", 0)
    BLAS.reloadEnvironment()
}
InterruptHandling.install()
exit(CLI.run(Array(CommandLine.arguments.dropFirst()), context: .process()))
