import Foundation
import VARKit

/// The one rule that turns an error into the process's exit code (docs/cli.md "Exit codes"):
///
/// - 2 (`usage`): the command line or an input file is unusable — a bad flag, or a file given by the user or
///   named by another file that is missing, not a regular file, of the wrong kind, malformed, out of the
///   accepted ranges or inconsistent with the other inputs. Decided by the error's type, wherever it is thrown
///   (a checkpoint refused while the models load is still an unusable input).
/// - 1 (`failure`): a failure while working on valid inputs — non-finite logits or images, a full disk, an
///   output that cannot be written, an interrupted generation.
/// - 3 (`incomplete`): `sample --status` found missing images.
/// - 130/143: SIGINT/SIGTERM (128 + signal, `InterruptHandling`).
///
/// An error of a type this table does not know is 2 when it is raised while the command is being checked
/// (before any work) and 1 when raised during the work.
enum ExitStatus {
    /// When the error was raised.
    enum Phase { case validation, work }

    static func code(for error: Error, phase: Phase) -> ExitCode {
        if error is IncompleteRun { return .incomplete }
        if let unusable = inputUnusable(error) { return unusable ? .usage : .failure }
        return phase == .validation ? .usage : .failure
    }

    /// true: the error says an input (flag or file) is unusable; false: a failure while working;
    /// nil: not a type this table classifies.
    static func inputUnusable(_ error: Error) -> Bool? {
        switch error {
        case is UsageError, is DecodingError, is CheckpointError, is InputFile.Failure, is TokenizerError,
             is VARConfigError, is LimitViolation, is RecordError, is ShardAssignmentError:
            return true
        case is CLIFailure:
            return nil     // the CLI's own checks: by phase
        case let e as PipelineError:
            if case .seedCount = e { return false }
            return true
        case let e as GenerationError:
            switch e {
            case .nonFiniteLogits, .logitsOverflow, .cancelled, .emptyBatch, .seedCount, .labelOutOfRange: return false
            case .incompatibleTokenizer, .editingScaleCount, .editingEntryCount, .editingToken, .incompatiblePair,
                 .invalidDraftSteps, .invalidSampling: return true
            }
        case let e as RuntimeError:
            switch e {
            case .pngDecode, .invalidArrayFile, .imageTooLarge: return true
            case let .io(_, operation, _): return operation == "read"
            case .pngEncode, .invalidTextChunk, .imageTensorShape, .emptyLayout, .unequalImageSizes, .stripScaleCount,
                 .stripTokenCount, .stripMakerCount, .nonFiniteImage, .nonFiniteLatent: return false
            }
        default:
            let ns = error as NSError
            guard ns.domain == NSCocoaErrorDomain else { return nil }
            // Foundation's read errors (a JSON or text input) are inputs; its write errors are failures.
            let reads = CocoaError.Code.fileReadUnknown.rawValue..<CocoaError.Code.fileWriteUnknown.rawValue
            return reads.contains(ns.code) || ns.code == CocoaError.Code.fileNoSuchFile.rawValue
                || ns.code == CocoaError.Code.propertyListReadCorrupt.rawValue
        }
    }
}
