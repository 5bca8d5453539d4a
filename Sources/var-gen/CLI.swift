import Foundation
import VARKit

/// Exit codes: 0 success, 1 a failure while working, 2 a usage or validation error (nothing was done),
/// 3 `sample --status` found the run incomplete.
enum ExitCode: Int32 {
    case success = 0, failure = 1, usage = 2, incomplete = 3
}

/// Where the CLI writes: results to `out` (stdout), progress and messages to `err` (stderr).
/// Tests capture both.
final class Console: Sendable {
    let out: @Sendable (String) -> Void
    let err: @Sendable (String) -> Void
    /// Whether stderr is a terminal (progress then redraws one line).
    let interactive: Bool

    init(out: @escaping @Sendable (String) -> Void, err: @escaping @Sendable (String) -> Void, interactive: Bool = false) {
        self.out = out; self.err = err; self.interactive = interactive
    }

    /// The process's stdout and stderr (immutable, so one shared instance is safe from any thread).
    static let standard = Console(
        out: { s in FileHandle.standardOutput.write(Data(s.utf8)) },
        err: { s in FileHandle.standardError.write(Data(s.utf8)) },
        interactive: isatty(2) == 1)

    /// A console that records everything (tests).
    static func capturing() -> (Console, () -> (out: String, err: String)) {
        /// The recorded text; every access holds the lock.
        final class Box: @unchecked Sendable {
            private let lock = NSLock()
            private var out = "", err = ""
            func append(out s: String) { lock.withLock { out += s } }
            func append(err s: String) { lock.withLock { err += s } }
            var both: (out: String, err: String) { lock.withLock { (out, err) } }
        }
        let box = Box()
        return (Console(out: { box.append(out: $0) }, err: { box.append(err: $0) }), { box.both })
    }
}

/// Everything a command needs from its surroundings.
struct CLIContext {
    var console: Console
    /// Environment variables (`VARGEN_WEIGHTS`, …).
    var environment: [String: String]
    /// The current directory and the executable's path, to locate `weights/`.
    var currentDirectory: String
    var executablePath: String

    static func process(console: Console = .standard) -> CLIContext {
        CLIContext(console: console, environment: ProcessInfo.processInfo.environment,
                   currentDirectory: FileManager.default.currentDirectoryPath,
                   executablePath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
                       ?? CommandLine.arguments.first ?? "")
    }
}

/// A subcommand: parse options into a value, `validate()` everything that can be checked before work
/// (files, ranges, model configurations), then `run()`.
/// `SendableMetatype`: the command types are listed in `CLI.commands`, a constant shared by every thread.
protocol Command: SendableMetatype {
    static var name: String { get }
    /// One line for the command list.
    static var summary: String { get }
    /// The argument synopsis after the command name.
    static var usage: String { get }
    static var options: [OptionSpec] { get }
    /// Builds the command from parsed options; throws `UsageError` for malformed values.
    init(_ parsed: ParsedOptions, context: CLIContext) throws
    /// Checks that need files (configurations, paths); throws `UsageError`. No heavy work.
    mutating func validate(_ context: CLIContext) throws
    /// Does the work; errors exit with the code `ExitStatus` gives them (1 unless an input proves unusable).
    func run(_ context: CLIContext) throws
}

extension Command {
    /// Commands that resolve their files in `init` (so that no state is left unset) need no second step.
    mutating func validate(_ context: CLIContext) throws {}
}

enum CLI {
    static let version = "0.1"

    static let commands: [Command.Type] = [
        GenerateCommand.self, SampleCommand.self, DecodeCommand.self, ReconstructCommand.self,
        EditCommand.self, InspectCommand.self, PackCommand.self, BenchCommand.self,
    ]

    static var overview: String {
        var s = "var-gen \(version) — VAR image generation (next-scale prediction) and CoDe on the CPU\n\n"
        s += "USAGE: var-gen <command> [options]   (var-gen help <command> or var-gen <command> --help for its options)\n\nCOMMANDS:\n"
        for c in commands { s += "  " + c.name.padding(toLength: 13, withPad: " ", startingAt: 0) + c.summary + "\n" }
        return s
    }

    /// Runs one command line (without the program name) and returns the exit code.
    static func run(_ arguments: [String], context: CLIContext) -> Int32 {
        let console = context.console
        guard let first = arguments.first else {
            console.err(overview)
            return ExitCode.usage.rawValue
        }
        if first == "help", arguments.count > 1 {
            guard let type = commands.first(where: { $0.name == arguments[1] }) else { return run([arguments[1]], context: context) }
            console.out(OptionParser.help(command: type.name, usage: type.usage, summary: type.summary, specs: type.options))
            return ExitCode.success.rawValue
        }
        if first == "--help" || first == "-h" || first == "help" {
            console.out(overview)
            return ExitCode.success.rawValue
        }
        if first == "--version" || first == "-V" { console.out("var-gen \(version)\n"); return ExitCode.success.rawValue }
        guard let type = commands.first(where: { $0.name == first }) else {
            var m = "var-gen: unknown command '\(first)'"
            if let s = OptionParser.suggestion(for: first, among: commands.map { $0.name }) { m += "; did you mean '\(s)'?" }
            console.err(m + "\n\n" + overview)
            return ExitCode.usage.rawValue
        }
        return run(type, Array(arguments.dropFirst()), context: context)
    }

    static func run(_ type: Command.Type, _ arguments: [String], context: CLIContext) -> Int32 {
        let console = context.console
        var command: Command
        do {
            if type == GenerateCommand.self && Replay.requested(arguments) && !arguments.contains("--help") {
                command = try Replay.command(arguments, context: context)      // validated
            } else {
                let parsed = try OptionParser.parse(arguments, specs: type.options)
                if parsed.helpRequested {
                    console.out(OptionParser.help(command: type.name, usage: type.usage, summary: type.summary, specs: type.options))
                    return ExitCode.success.rawValue
                }
                if parsed.versionRequested { console.out("var-gen \(version)\n"); return ExitCode.success.rawValue }
                command = try type.init(parsed, context: context)
                try command.validate(context)
            }
        } catch {
            return report(error, command: type.name, phase: .validation, console: console)
        }
        do {
            try command.run(context)
            return ExitCode.success.rawValue
        } catch {
            return report(error, command: type.name, phase: .work, console: console)
        }
    }

    /// Prints the error and returns its exit code (`ExitStatus`: one rule for every command).
    static func report(_ error: Error, command: String, phase: ExitStatus.Phase, console: Console) -> Int32 {
        let code = ExitStatus.code(for: error, phase: phase)
        if code == .incomplete {
            console.err("var-gen \(command): \(terminalSafe("\(error)"))\n")
        } else {
            console.err("var-gen \(command): error: \(terminalSafe(userFacing(error)))\n")
        }
        return code.rawValue
    }
}

/// Runtime failures raised by the CLI itself (exit code 1).
struct CLIFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
