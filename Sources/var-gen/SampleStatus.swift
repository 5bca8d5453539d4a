import Foundation
import VARKit

/// `var-gen sample --status DIR`: how far a (sharded) `sample` run is, without generating anything.
///
/// Every expected file `{c}_{k}.png` counts as done when it decodes completely (the check `sample` uses to skip
/// it) and its `var-gen` record matches this command line's settings (the sample manifest's fields); a valid file with another
/// text was made with other settings. PNGs in the directory that the command line does not expect are listed
/// too, because `pack` would include them. Exit 0 when everything is done and nothing else is there, 3 otherwise.
struct SampleStatus {
    /// One shard's expected, done, missing (absent or unreadable) and other-settings pairs.
    struct Shard {
        var index: Int
        var expected = 0
        var missing: [(classID: Int, index: Int)] = []
        var otherSettings: [(classID: Int, index: Int)] = []
        var done: Int { expected - missing.count - otherSettings.count }
    }

    var shards: [Shard]
    var unexpected: [String]
    var expected: Int { shards.reduce(0) { $0 + $1.expected } }
    var done: Int { shards.reduce(0) { $0 + $1.done } }
    var complete: Bool { done == expected && unexpected.isEmpty }

    /// The shard count for `--status`: the n of `i/n` or `auto/n`, or of the scheduler's environment for `auto`.
    static func shardCount(_ request: ShardAssignment.Request, environment: [String: String]) throws -> Int {
        switch request {
        case .fixed(_, let n), .fromEnvironment(let n?): return n
        case .fromEnvironment(nil):
            do { return try ShardAssignment.resolve(request, environment: environment).count } catch {
                throw UsageError("--status with --shard auto: \(error)\nHINT: give the shard count: --shard auto/N")
            }
        }
    }

    /// Scans `directory` for the pairs of `shardCount` shards; `matches(c, k, chunks, path)` tells whether the text
    /// chunks of file (c, k) record this run's settings.
    static func scan(directory: String, classes: [Int], perClass: Int, shardCount: Int,
                     matches: (Int, Int, [PNGTextChunk], String) -> Bool) throws -> SampleStatus {
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: directory))
        var expectedNames = Set<String>()
        var shards: [Shard] = []
        for s in 0..<shardCount {
            var shard = Shard(index: s)
            for pair in SampleCommand.pairs(classes: classes, perClass: perClass, shard: s, of: shardCount) {
                let name = SampleCommand.fileName(classID: pair.classID, index: pair.index)
                expectedNames.insert(name)
                shard.expected += 1
                guard names.contains(name), let png = try? PNG.read(directory + "/" + name) else {
                    shard.missing.append(pair)
                    continue
                }
                if !matches(pair.classID, pair.index, png.text, directory + "/" + name) {
                    shard.otherSettings.append(pair)
                }
            }
            shards.append(shard)
        }
        let unexpected = names.filter { $0.hasSuffix(".png") && !$0.hasPrefix(".") && !expectedNames.contains($0) }
        return SampleStatus(shards: shards, unexpected: unexpected.sorted())
    }

    /// The report: one row per shard (when there are several), the totals, and compact lists of what is not done.
    func render(directory: String) -> String {
        var lines: [String] = []
        if shards.count > 1 {
            lines.append("shard  done/expected  not done")
            for s in shards {
                let notDone = s.missing.count + s.otherSettings.count
                let cell = "\(s.done)/\(s.expected)"
                lines.append(String(s.index).padding(toLength: 7, withPad: " ", startingAt: 0)
                             + cell.padding(toLength: 15, withPad: " ", startingAt: 0)
                             + (notDone == 0 ? "-" : Self.compact(s.missing + s.otherSettings)))
            }
        }
        let percent = expected == 0 ? 100 : 100 * Double(done) / Double(expected)
        let missing = shards.flatMap(\.missing), other = shards.flatMap(\.otherSettings)
        lines.append(String(format: "%@: %d/%d images done (%.1f %%), %d missing, %d made with other settings, %d unexpected PNG files",
                            directory, done, expected, percent, missing.count, other.count, unexpected.count))
        // With several shards the rows above list what is missing; the interleaved total would be long.
        if !missing.isEmpty && shards.count == 1 { lines.append("missing: " + Self.compact(missing)) }
        if !other.isEmpty { lines.append("other settings (regenerate: delete them and run sample again): " + Self.compact(other)) }
        if !unexpected.isEmpty {
            lines.append("unexpected (pack would include them): " + unexpected.prefix(8).joined(separator: ", ")
                         + (unexpected.count > 8 ? ", … \(unexpected.count - 8) more" : ""))
        }
        lines.append(complete ? "complete" : "incomplete")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Pairs as `class c: k-ranges`, classes in order, at most `maxClasses` of them (then "… N more classes").
    static func compact(_ pairs: [(classID: Int, index: Int)], maxClasses: Int = 6) -> String {
        var byClass: [Int: [Int]] = [:]
        for p in pairs { byClass[p.classID, default: []].append(p.index) }
        let ids = byClass.keys.sorted()
        var parts = ids.prefix(maxClasses).map { "class \($0): " + ranges(byClass[$0]!.sorted()) }
        if ids.count > maxClasses { parts.append("… \(ids.count - maxClasses) more classes") }
        return parts.joined(separator: "; ")
    }

    /// Sorted integers in Slurm's array notation: runs of three or more with one step become `a-b` (step 1)
    /// or `a-b:s`, e.g. [1, 5, 9, 13, 14, 20] → "1-13:4, 14, 20"; after `maxParts` items, "… N more".
    static func ranges(_ values: [Int], maxParts: Int = 8) -> String {
        var parts: [String] = []
        var i = 0
        while i < values.count {
            var j = i
            if i + 2 < values.count {
                let step = values[i + 1] - values[i]
                if step > 0 && values[i + 2] - values[i + 1] == step {
                    j = i + 2
                    while j + 1 < values.count && values[j + 1] - values[j] == step { j += 1 }
                    parts.append("\(values[i])-\(values[j])" + (step == 1 ? "" : ":\(step)"))
                    i = j + 1
                    continue
                }
            }
            parts.append(String(values[i]))
            i += 1
        }
        guard parts.count > maxParts else { return parts.joined(separator: ", ") }
        return parts.prefix(maxParts).joined(separator: ", ") + ", … \(parts.count - maxParts) more"
    }

    /// Scans and prints for `command` (stdout); throws `IncompleteRun` (exit 3) when not complete.
    static func run(_ command: SampleCommand, console: Console) throws {
        let status = try scan(directory: command.output, classes: command.classes, perClass: command.perClass,
                              shardCount: command.shardCount) { c, k, chunks, path in
            command.recordMatches(chunks, path: path, classID: c, index: k)
        }
        console.out(status.render(directory: command.output))
        if !status.complete { throw IncompleteRun(directory: command.output) }
    }
}

/// `sample --status`: the run is not complete (exit code 3; the report says what is missing).
struct IncompleteRun: Error, CustomStringConvertible {
    var directory: String
    var description: String { "'\(directory)' is not complete" }
}
