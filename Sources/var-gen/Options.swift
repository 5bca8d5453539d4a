/// A tiny option parser shared by all subcommands: `--flag value`, `--flag=value`, boolean flags, positionals,
/// `--` to end options, and `--help` generated from each command's option table.

/// One entry of a command's option table.
struct OptionSpec {
    enum Kind { case value(placeholder: String), flag }
    /// Long name without dashes, e.g. "top-k".
    var name: String
    var kind: Kind
    var help: String
    /// Shown as "(default: …)" in the help; nil for none.
    var defaultDescription: String? = nil
    /// A one-letter alias spelled `-x` (e.g. "r" for `-r` = `--repeats`); nil for the standard one, if any.
    var short: Character? = nil
    /// Other long names accepted for this option (e.g. "classes" for `--class`); values are stored under `name`.
    var aliases: [String] = []

    /// The short forms users of sd.cpp and llama.cpp type by habit, the same in every command that has the option.
    static let standardShorts: [String: Character] = [
        "output": "o", "seed": "s", "count": "n", "batch": "b", "threads": "t", "verbose": "v", "quiet": "q",
    ]

    /// `short`, else the standard short form of `name`.
    var shortForm: Character? { short ?? Self.standardShorts[name] }

    static func value(_ name: String, _ placeholder: String, _ help: String, default d: String? = nil,
                      short: Character? = nil, aliases: [String] = []) -> OptionSpec {
        OptionSpec(name: name, kind: .value(placeholder: placeholder), help: help, defaultDescription: d, short: short,
                   aliases: aliases)
    }

    static func flag(_ name: String, _ help: String, short: Character? = nil) -> OptionSpec {
        OptionSpec(name: name, kind: .flag, help: help, short: short)
    }
}

/// Command-line mistakes: exit code 2, message naming the flag and what is accepted.
struct UsageError: Error, CustomStringConvertible, Equatable {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }

    /// "--flag: got 'x'; expected …"
    static func invalid(_ flag: String, _ value: String, expected: String) -> UsageError {
        UsageError("--\(flag): got '\(value)'; expected \(expected)")
    }
}

/// The result of parsing: values by option name (last occurrence wins), set flags, positionals in order.
struct ParsedOptions {
    var values: [String: String] = [:]
    var flags: Set<String> = []
    var positionals: [String] = []
    var helpRequested = false
    var versionRequested = false
    /// How each given option was spelled (`--tokens` for the alias of `--input`, `-o`, …), for messages.
    var spelled: [String: String] = [:]

    func has(_ name: String) -> Bool { values[name] != nil || flags.contains(name) }
    func flag(_ name: String) -> Bool { flags.contains(name) }
    func string(_ name: String) -> String? { values[name] }

    func int(_ name: String) throws -> Int? {
        guard let v = values[name] else { return nil }
        guard let i = Int(v.trimmed) else { throw UsageError.invalid(name, v, expected: "an integer") }
        return i
    }

    func double(_ name: String) throws -> Double? {
        guard let v = values[name] else { return nil }
        guard let d = Double(v.trimmed), d.isFinite else { throw UsageError.invalid(name, v, expected: "a number") }
        return d
    }

    /// A comma-separated list of numbers ("1.1,1.1,1.0").
    func doubles(_ name: String) throws -> [Double]? {
        guard let v = values[name] else { return nil }
        let items = v.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmed) }
        guard !items.isEmpty, items.allSatisfy({ $0 != nil && $0!.isFinite }) else {
            throw UsageError.invalid(name, v, expected: "a number or a comma-separated list of numbers")
        }
        return items.map { $0! }
    }

    func ints(_ name: String) throws -> [Int]? {
        guard let v = values[name] else { return nil }
        let items = v.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmed) }
        guard !items.isEmpty, items.allSatisfy({ $0 != nil }) else {
            throw UsageError.invalid(name, v, expected: "an integer or a comma-separated list of integers")
        }
        return items.map { $0! }
    }
}

extension ParsedOptions {
    /// The command's one input, given either as its positional argument or as `--flag` (both spellings work
    /// in every command), with the label errors use: `--flag` when typed, else `placeholder` (e.g. "TOKENS").
    func input(flag: String = "input", placeholder: String) throws -> (path: String, label: String)? {
        if let v = values[flag] {
            guard positionals.isEmpty else {
                throw UsageError("--\(flag) '\(v)' and the argument '\(positionals[0])' both name the \(placeholder); give one")
            }
            return (v, spelled[flag] ?? "--\(flag)")
        }
        guard positionals.count <= 1 else {
            throw UsageError("unexpected argument '\(positionals[1])': expected one \(placeholder) (see --help)")
        }
        return positionals.first.map { ($0, placeholder) }
    }
}

enum OptionParser {
    /// Parses `arguments` (without the program and command names) against `specs`. `--help`/`-h` is always
    /// accepted. Unknown options are errors that suggest the closest known name.
    static func parse(_ arguments: [String], specs: [OptionSpec]) throws -> ParsedOptions {
        var out = ParsedOptions()
        let byName = Dictionary(specs.flatMap { s in ([s.name] + s.aliases).map { ($0, s) } }, uniquingKeysWith: { a, _ in a })
        var i = 0
        var optionsEnded = false
        while i < arguments.count {
            let arg = arguments[i]
            i += 1
            if optionsEnded || !arg.hasPrefix("-") || arg == "-" || isNegativeNumber(arg) {
                out.positionals.append(arg)
                continue
            }
            if arg == "--" { optionsEnded = true; continue }
            if arg == "--help" || arg == "-h" { out.helpRequested = true; continue }
            if arg == "--version" || arg == "-V" { out.versionRequested = true; continue }
            var name: String
            if arg.hasPrefix("--") {
                name = String(arg.dropFirst(2))
            } else if arg.count == 2, let spec = specs.first(where: { $0.shortForm == arg.last }) {
                name = spec.name
            } else {
                throw UsageError("unknown option '\(arg)'; options are spelled --name (see --help)")
            }
            var inline: String?
            if let eq = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            guard let spec = byName[name] else {
                var message = "unknown option '--\(name)'"
                if let s = specs.first(where: { $0.shortForm == name.first }), name.count == 1 {
                    throw UsageError(message + "; did you mean '-\(name)' (--\(s.name))? (see --help)")
                }
                if let s = suggestion(for: name, among: specs.map(\.name)) { message += "; did you mean '--\(s)'?" }
                throw UsageError(message + " (see --help)")
            }
            out.spelled[spec.name] = arg.hasPrefix("--") ? "--\(name)" : arg
            name = spec.name
            switch spec.kind {
            case .flag:
                if let inline {
                    switch inline.lowercased() {
                    case "true", "1", "yes": out.flags.insert(name)
                    case "false", "0", "no": out.flags.remove(name)
                    default: throw UsageError.invalid(name, inline, expected: "no value (it is a switch), or true/false")
                    }
                } else {
                    out.flags.insert(name)
                }
            case .value(let placeholder):
                if let inline {
                    out.values[name] = inline
                } else {
                    guard i < arguments.count, !(arguments[i].hasPrefix("--") && arguments[i].count > 2) else {
                        throw UsageError("\(arg) needs a value (\(placeholder))")
                    }
                    out.values[name] = arguments[i]
                    i += 1
                }
            }
        }
        return out
    }

    private static func isNegativeNumber(_ s: String) -> Bool {
        s.count > 1 && s.hasPrefix("-") && Double(s) != nil
    }

    /// The closest name by edit distance (≤ 3, or a prefix match), for "did you mean" messages.
    static func suggestion(for name: String, among names: [String]) -> String? {
        if let p = names.first(where: { $0.hasPrefix(name) && !name.isEmpty }) { return p }
        let scored = names.map { ($0, editDistance(name, $0)) }.min { $0.1 < $1.1 }
        guard let (best, d) = scored, d <= max(2, min(3, name.count / 3)) else { return nil }
        return best
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        var row = Array(0...b.count)
        for i in 1...a.count {
            var prev = row[0]
            row[0] = i
            if b.isEmpty { continue }
            for j in 1...b.count {
                let cur = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1))
                prev = cur
            }
        }
        return row[b.count]
    }

    /// The `--help` text of a command from its table.
    static func help(command: String, usage: String, summary: String, specs: [OptionSpec]) -> String {
        var lines = ["\(summary)", "", "USAGE: var-gen \(command) \(usage)", "", "OPTIONS:"]
        let rows = specs.map { s -> (String, String) in
            let left: String
            switch s.kind {
            case .flag: left = (s.shortForm.map { "-\($0), " } ?? "") + "--\(s.name)"
            case .value(let p): left = (s.shortForm.map { "-\($0), " } ?? "") + "--\(s.name) \(p)"
            }
            return (left, s.help + (s.aliases.isEmpty ? "" : " Also --" + s.aliases.joined(separator: ", --") + ".")
                          + (s.defaultDescription.map { " (default: \($0))" } ?? ""))
        }
        let width = min(30, (rows.map { $0.0.count }.max() ?? 0) + 2)
        for (left, right) in rows + [("-h, --help", "Show this help."), ("-V, --version", "Print the version.")] {
            let pad = left.count < width ? String(repeating: " ", count: width - left.count) : "\n  " + String(repeating: " ", count: width)
            lines.append("  " + left + pad + right)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    var trimmed: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
