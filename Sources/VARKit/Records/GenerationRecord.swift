/// The complete settings of one PNG that var-gen wrote: enough to make the same bytes again
/// (`var-gen generate --from FILE.png`). Stored as JSON in the PNG's `tEXt` chunk `var-gen`
/// (`PNGTextChunk`, see `GenerationRecord+Text.swift`), next to a Stable-Diffusion-style `parameters` chunk
/// for PNG-info viewers. Files are identified by name and SHA-256 of their content, so a renamed
/// checkpoint is still recognised. Every value is spelled the way the command line accepts it.
public struct GenerationRecord: Codable, Sendable, Equatable {
    /// The current layout; `format` of a record read back must equal it.
    public static let currentFormat = 1
    /// The most images a grid record may hold (a record with more is refused before any arithmetic on it).
    public static let maxGridImages = 100_000

    /// The command that wrote the PNG.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// One image of `generate`.
        case generate
        /// `generate --grid`: `classes` has one entry per cell, image i uses `seed + i`.
        case grid
        /// One image `{class}_{k}.png` of `sample` (`sample` holds the base seed and k).
        case sample
        /// `edit`: `edit` holds the input, mask or box.
        case edit
        /// `decode`: `tokens` names the token file and the image in it.
        case decode
        /// `reconstruct`: `input` is the image that went through the VQVAE.
        case reconstruct
    }

    /// A file by name (no directory) and lower-case hex SHA-256 of its content.
    public struct FileIdentity: Codable, Sendable, Equatable, Hashable {
        public var name: String
        public var sha256: String
        public init(name: String, sha256: String) { self.name = name; self.sha256 = sha256 }
        /// The first 10 hex digits, as Stable Diffusion tools show a model hash.
        public var shortHash: String { String(sha256.prefix(10)) }
    }

    /// A class as `--class` accepts it: an id, or `uncond` (the model's unconditional class).
    public enum ClassChoice: Codable, Sendable, Equatable, Hashable, CustomStringConvertible {
        case id(Int)
        case unconditional

        /// `id`, or `.unconditional` when it is the model's unconditional class id.
        public init(label: Int, unconditionalClass: Int) {
            self = label == unconditionalClass ? .unconditional : .id(label)
        }

        /// The class id for a model with this unconditional id.
        public func label(unconditionalClass: Int) -> Int {
            switch self {
            case let .id(i): return i
            case .unconditional: return unconditionalClass
            }
        }

        public var description: String {
            switch self {
            case let .id(i): return String(i)
            case .unconditional: return "uncond"
            }
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let i = try? c.decode(Int.self) { self = .id(i); return }
            let s = try c.decode(String.self)
            guard s == "uncond" else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected a class id or \"uncond\", got \"\(s)\"")
            }
            self = .unconditional
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case let .id(i): try c.encode(i)
            case .unconditional: try c.encode("uncond")
            }
        }
    }

    /// The transformers: one plain model, or a CoDe drafter and refiner with the split.
    public struct Models: Codable, Sendable, Equatable {
        /// Plain VAR.
        public var model: FileIdentity?
        /// CoDe: scales 0…draftSteps−1 by the drafter, the rest by the refiner.
        public var drafter: FileIdentity?
        public var refiner: FileIdentity?
        public var draftSteps: Int?
        /// Linear-weight precision as `--weights` takes it: `f32`, `f16`, or `DRAFTER,REFINER`.
        public var weights: String

        public init(model: FileIdentity, weights: String) {
            self.model = model; self.weights = weights
        }

        public init(drafter: FileIdentity, refiner: FileIdentity, draftSteps: Int, weights: String) {
            self.drafter = drafter; self.refiner = refiner; self.draftSteps = draftSteps; self.weights = weights
        }
    }

    /// Every sampling value except the seed (docs/model.md §6).
    public struct Sampling: Codable, Sendable, Equatable {
        public var cfg: Double
        public var topK: PerScale<Int>
        public var topP: Double
        public var temperature: PerScale<Double>
        public var smooth: Bool

        public init(_ s: SamplingConfig) {
            cfg = s.cfg; topK = s.topK; topP = s.topP; temperature = s.temperature; smooth = s.moreSmooth
        }

        /// The settings with base seed `seed`.
        public func config(seed: UInt64) -> SamplingConfig {
            SamplingConfig(cfg: cfg, topK: topK, topP: topP, temperature: temperature, moreSmooth: smooth, seed: seed)
        }
    }

    /// Several images laid out as one grid (`--grid`).
    public struct Grid: Codable, Sendable, Equatable {
        public var count: Int
        /// `--columns` when given (else ⌈√count⌉).
        public var columns: Int?
        public init(count: Int, columns: Int?) { self.count = count; self.columns = columns }
    }

    /// Where a `sample` image sits in its directory: image `index` of its class, from base seed `baseSeed`.
    public struct SampleIndex: Codable, Sendable, Equatable {
        public var baseSeed: UInt64
        public var index: Int
        public init(baseSeed: UInt64, index: Int) { self.baseSeed = baseSeed; self.index = index }
    }

    /// The inputs of an edit (docs/model.md §11).
    public struct Edit: Codable, Sendable, Equatable {
        public var input: FileIdentity
        /// `--mask` (white = generate), or
        public var mask: FileIdentity?
        /// `--box y0,x0,y1,x1` in fractions, regenerated, or kept with `outpaint`.
        public var box: [Double]?
        public var outpaint: Bool
        public init(input: FileIdentity, mask: FileIdentity?, box: [Double]?, outpaint: Bool) {
            self.input = input; self.mask = mask; self.box = box; self.outpaint = outpaint
        }
    }

    /// The token file a `decode` image came from, and the image's index in it (nil: all images, as a grid).
    public struct Tokens: Codable, Sendable, Equatable {
        public var file: FileIdentity
        public var index: Int?
        public init(file: FileIdentity, index: Int?) { self.file = file; self.index = index }
    }

    public var format: Int = GenerationRecord.currentFormat
    /// The var-gen version that wrote the PNG.
    public var version: String
    public var command: Kind
    public var vqvae: FileIdentity
    /// The transformers (absent for decode and reconstruct).
    public var models: Models?
    public var sampling: Sampling?
    /// The class of each image in the PNG (one, or one per grid cell).
    public var classes: [ClassChoice]?
    /// The seed of this image; in a grid, of the first cell (cell i uses `seed + i`).
    public var seed: UInt64?
    public var grid: Grid?
    public var sample: SampleIndex?
    public var edit: Edit?
    public var tokens: Tokens?
    /// `reconstruct`'s input image.
    public var input: FileIdentity?
    /// True when this PNG is the coarse-to-fine strip (`--scales`, `ScaleStrip`) of the image the rest of the
    /// record describes, not the image itself; absent otherwise.
    public var strip: Bool?

    /// A record with the fields every kind has; set the others as the kind needs.
    public init(command: Kind, version: String, vqvae: FileIdentity) {
        self.command = command; self.version = version; self.vqvae = vqvae
    }
}
