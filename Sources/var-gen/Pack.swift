import Foundation
import VARKit

/// `var-gen pack`: a directory of sample PNGs → one `.npz` (`arr_0` N×H×W×3 uint8, `arr_1` labels int64) for the
/// guided-diffusion FID/IS evaluation suite (docs/model.md §6.6). Images are streamed one at a time.
struct PackCommand: Command {
    static let name = "pack"
    static let summary = "Pack DIR/*.png into an .npz (arr_0 images, arr_1 labels) for FID evaluation."
    static let usage = "[--input] DIR [--output FILE.npz]"
    static let options: [OptionSpec] = [
        .value("input", "DIR", "The directory of PNGs (or give it as the argument)."),
        .value("output", "FILE", "The .npz to write.", default: "DIR.npz"),
        .flag("quiet", "No progress or status lines on stderr (the path written still goes to stdout)."),
    ]

    var directory: String
    /// How the user named the directory (`--input` or the argument), for messages.
    var directoryLabel: String
    var output: String
    var quiet: Bool
    var files: [String] = []

    init(_ p: ParsedOptions, context: CLIContext) throws {
        guard let input = try p.input(placeholder: "DIR") else { throw UsageError("expected one directory: DIR or --input DIR (see --help)") }
        (directory, directoryLabel) = input
        while directory.count > 1 && directory.hasSuffix("/") { directory.removeLast() }
        output = p.string("output") ?? directory + ".npz"
        quiet = p.flag("quiet")
    }

    /// `{class}_{k}.png` → (class, k); other names → nil.
    static func parseName(_ name: String) -> (classID: Int, index: Int)? {
        guard name.lowercased().hasSuffix(".png") else { return nil }
        let parts = name.dropLast(4).split(separator: "_")
        guard parts.count == 2, let c = Int(parts[0]), let k = Int(parts[1]) else { return nil }
        return (c, k)
    }

    /// PNG names sorted by (class, k) for sample files, then by name.
    static func ordered(_ names: [String]) -> [String] {
        names.filter { $0.lowercased().hasSuffix(".png") && !$0.hasPrefix(".") }.sorted { a, b in
            switch (parseName(a), parseName(b)) {
            case let (x?, y?): return (x.classID, x.index) < (y.classID, y.index)
            case (_?, nil): return true
            case (nil, _?): return false
            default: return a < b
            }
        }
    }

    mutating func validate(_ context: CLIContext) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw UsageError("\(directoryLabel): \(missingDirectoryReason(directory))")
        }
        files = Self.ordered((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
        guard !files.isEmpty else { throw UsageError("'\(directory)' holds no .png files") }
        let unlabelled = files.filter { Self.parseName($0) == nil }
        let manifest: SampleManifest?
        do { manifest = try SampleManifest.read(directory: directory) } catch { throw UsageError("\(error)") }
        if !unlabelled.isEmpty && (unlabelled.count < files.count || manifest != nil) {
            throw UsageError("'\(directory)' holds PNGs not named {class}_{k}.png, which cannot be labelled: "
                             + unlabelled.prefix(5).joined(separator: ", ") + (unlabelled.count > 5 ? ", …" : "")
                             + "\nHINT: move them out of the directory (a directory of only unlabelled PNGs is packed without arr_1)")
        }
        if let manifest { try Self.check(files, in: directory, against: manifest) }
        try OutputCheck.requireFile(output, flag: "output")
    }

    /// Every sample image must carry the record its directory's manifest expects (settings, class, k, seed).
    static func check(_ files: [String], in directory: String, against manifest: SampleManifest) throws {
        for f in files {
            guard let (c, k) = parseName(f) else { continue }
            let path = directory + "/" + f
            let record: GenerationRecord
            do { record = try GenerationRecord.read(png: path) } catch {
                throw UsageError("\(f) does not belong to the sample set of \(SampleManifest.fileName): \(error)")
            }
            // The file name holds the id; the unconditional class is recorded as `uncond` (its id is the model's).
            let choice: GenerationRecord.ClassChoice = record.classes?.first == .unconditional ? .unconditional : .id(c)
            let seed = SampleCommand.seed(base: manifest.baseSeed, classID: c, index: k)
            let differences = manifest.differences(image: record, classID: choice, index: k, seed: seed)
            guard differences.isEmpty else {
                throw UsageError("\(f) was made with other settings than \(SampleManifest.fileName) (manifest vs image):\n  "
                                 + differences.map(\.description).joined(separator: "\n  ")
                                 + "\nHINT: run the same `var-gen sample` command again to regenerate it")
            }
        }
    }

    func run(_ context: CLIContext) throws {
        let first = try PNG.read(directory + "/" + files[0]).image
        let labelled = files.allSatisfy { Self.parseName($0) != nil }
        let progress = ProgressPrinter(console: context.console, quiet: quiet)
        let npz = try NPZWriter(path: output)
        do {
            try npz.beginArray("arr_0", descr: "|u1", shape: [files.count, first.height, first.width, 3])
            for (i, f) in files.enumerated() {
                let image: RGBImage
                if i == 0 { image = first } else {
                    // The size is compared from the header, before anything is decoded (a small file may declare
                    // a huge image).
                    let bytes = try FileIO.readAll(directory + "/" + f)
                    let (w, h) = try PNG.dimensions(bytes, path: directory + "/" + f)
                    guard w == first.width, h == first.height else {
                        throw CLIFailure("\(DisplayText.escaped(f)) is \(w)×\(h) but \(DisplayText.escaped(files[0])) is "
                                         + "\(first.width)×\(first.height) (read from its PNG header)")
                    }
                    image = try PNG.decode(bytes, path: directory + "/" + f).image
                }
                try npz.append(image.pixels)
                progress.line("packed \(i + 1)/\(files.count) images, \(progress.elapsed)", final: i + 1 == files.count)
            }
            try npz.endArray()
            if labelled {
                let labels = files.map { Int64(Self.parseName($0)!.classID) }
                var bytes: [UInt8] = []
                for v in labels { for k in 0..<8 { bytes.append(UInt8((UInt64(bitPattern: v) >> (8 * k)) & 0xFF)) } }
                try npz.addArray("arr_1", descr: "<i8", shape: [labels.count], bytes: bytes)
            }
            try npz.finish()
        } catch {
            npz.abort()
            throw error
        }
        progress.message("packed \(files.count) images of \(first.width)×\(first.height)\(labelled ? " with labels" : "")")
        context.console.out(output + "\n")
    }
}
