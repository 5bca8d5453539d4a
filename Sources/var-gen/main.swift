import Foundation
import VARKit

// Before anything else: OpenBLAS must be re-loaded with the right kernels if it fell back to Prescott.
OpenBLASCoreFix.reexecIfNeeded()
InterruptHandling.install()
exit(CLI.run(Array(CommandLine.arguments.dropFirst()), context: .process()))
