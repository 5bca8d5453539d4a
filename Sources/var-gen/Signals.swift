import Dispatch
import Foundation
import VARKit

/// SIGINT/SIGTERM: delete the temporary files of atomic writes in progress (so an interrupted run leaves no
/// partial output), then exit with 128 + signal. The handler runs on a dispatch queue, not in signal
/// context, so it may take locks and call `unlink`.
enum InterruptHandling {
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    static func install() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                TemporaryFiles.shared.removeAll(closing: true)   // no new temporaries until exit
                FileHandle.standardError.write("\nvar-gen: interrupted\n".data(using: .utf8)!)
                _exit(128 + sig)
            }
            source.resume()
            sources.append(source)
        }
    }
}
