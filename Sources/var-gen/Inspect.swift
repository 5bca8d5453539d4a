import Foundation
import VARKit

/// `var-gen inspect`: what a checkpoint holds and which model it describes.
struct InspectCommand: Command {
    static let name = "inspect"
    static let summary = "List a checkpoint's tensors (name, dtype, shape), its configuration and parameter count."
    static let usage = "FILE [--json]"
    static let options: [OptionSpec] = [
        .value("input", "FILE", "The checkpoint (or give it as the argument).", aliases: ["file"]),
        .flag("json", "Machine-readable output."),
        .flag("summary", "Omit the tensor list."),
        .flag("hash", "Also print the file's SHA-256 (the content hash PNG records use) and how long it took."),
    ]

    var path: String
    /// How the user named the file (`--input` or the argument), for messages.
    var label: String
    var json: Bool
    var summaryOnly: Bool
    var hash: Bool

    init(_ p: ParsedOptions, context: CLIContext) throws {
        guard let i = try p.input(placeholder: "FILE") else { throw UsageError("expected one checkpoint file (see --help)") }
        (path, label) = i
        json = p.flag("json")
        summaryOnly = p.flag("summary")
        hash = p.flag("hash")
    }

    mutating func validate(_ context: CLIContext) throws { try requireReadableFile(path, named: label) }

    func run(_ context: CLIContext) throws {
        if hash {
            let start = Date()
            let digest = try SHA256.hashFile(path)
            let seconds = Date().timeIntervalSince(start)
            let bytes = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.doubleValue ?? 0
            context.console.out("sha256 \(digest)\n")
            context.console.err(String(format: "hashed %.1f MB in %.3f s (%.2f s/GiB, kernel %@)\n", bytes / 1e6, seconds,
                                       seconds / max(bytes, 1) * 1_073_741_824, SHA256.Kernel.best.rawValue))
        }
        let ck = try Checkpoint(path: path)
        let entries = ck.entries
        let parameters = entries.reduce(0) { $0 + $1.count }
        var kind = "unknown"
        var configJSON: Any = NSNull()
        var configText = "not a VAR or VQVAE checkpoint var-gen recognises"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        if let c = try? VARConfig.forCheckpoint(at: path, checkpoint: ck) {
            kind = "var"
            configText = "VAR depth \(c.depth), width \(c.width), heads \(c.heads), \(c.numClasses) classes, vocabulary \(c.vocabSize), "
                + "scales \(c.patchSizes)"
            configJSON = (try? JSONSerialization.jsonObject(with: encoder.encode(c))) ?? NSNull()
        } else if let c = try? VQVAEConfig.forCheckpoint(at: path, ck) {
            kind = "vqvae"
            configText = "VQVAE vocabulary \(c.vocabSize), z \(c.zChannels), ch \(c.ch)×\(c.chMult), \(c.imageSize)px, scales \(c.patchSizes)"
            configJSON = (try? JSONSerialization.jsonObject(with: encoder.encode(c))) ?? NSNull()
        }
        if json {
            let object: [String: Any] = [
                "file": path, "format": ck.format.rawValue, "kind": kind, "parameters": parameters,
                "config": configJSON, "metadata": ck.metadata,
                "tensors": summaryOnly ? [] : entries.map { ["name": $0.name, "dtype": "\($0.dtype)", "shape": $0.shape] as [String: Any] },
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            context.console.out(String(decoding: data, as: UTF8.self) + "\n")
            return
        }
        var s = "\(path): \(ck.format.rawValue), \(entries.count) tensors, \(formatCount(parameters)) parameters\n"
        s += "configuration: \(configText)\n"
        if !summaryOnly {
            // Names come from the file: printed escaped (docs/security.md), never raw.
            let names = entries.map { DisplayText.escaped($0.name) }
            let width = min(60, names.map(\.count).max() ?? 0)
            for (e, name) in zip(entries, names) {
                s += "  " + name.padding(toLength: max(width, name.count), withPad: " ", startingAt: 0)
                    + "  " + "\(e.dtype)".padding(toLength: 8, withPad: " ", startingAt: 0) + " \(e.shape)\n"
            }
        }
        context.console.out(s)
    }
}

/// "1.23M", "310.3M", "2.01B".
func formatCount(_ n: Int) -> String {
    if n >= 1_000_000_000 { return String(format: "%.2fB", Double(n) / 1e9) }
    if n >= 1_000_000 { return String(format: "%.2fM", Double(n) / 1e6) }
    if n >= 10_000 { return String(format: "%.1fK", Double(n) / 1e3) }
    return "\(n)"
}
