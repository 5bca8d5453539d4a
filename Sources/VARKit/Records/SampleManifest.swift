import Foundation

/// The settings of a `sample` directory, written as `var-gen-sample.json` by its first run: every value that
/// decides the pixels (models and VQVAE by name and content hash, precision, CoDe split, sampling, base seed,
/// var-gen version). Later runs and shards must have the same settings, and an existing image is kept only
/// when its own record agrees, so a directory can never hold images made two ways. Which classes and how
/// many per class are not part of it: runs over other classes or more images extend the same set.
public struct SampleManifest: Codable, Sendable, Equatable {
    /// The manifest's file name inside the sample directory.
    public static let fileName = "var-gen-sample.json"

    /// A field whose value differs between two settings, by dotted name (`sampling.cfg`, `models.drafter.sha256`).
    public struct Difference: Sendable, Equatable, CustomStringConvertible {
        public var field: String
        /// The value in the manifest (or expected), nil when absent.
        public var expected: String?
        /// The value in the run or image, nil when absent.
        public var actual: String?
        public var description: String { "\(field): \(expected ?? "(absent)") vs \(actual ?? "(absent)")" }
    }

    public var format: Int = GenerationRecord.currentFormat
    public var version: String
    public var vqvae: GenerationRecord.FileIdentity
    public var models: GenerationRecord.Models
    public var sampling: GenerationRecord.Sampling
    /// Image k of class c uses seed `(baseSeed + c·1_000_003 + k) mod 2³²`.
    public var baseSeed: UInt64

    public init(version: String, vqvae: GenerationRecord.FileIdentity, models: GenerationRecord.Models,
                sampling: GenerationRecord.Sampling, baseSeed: UInt64) {
        self.version = version; self.vqvae = vqvae; self.models = models; self.sampling = sampling; self.baseSeed = baseSeed
    }

    /// The record a `sample` image of class `label` (k = `index`, seed `seed`) carries under these settings.
    public func record(classID: GenerationRecord.ClassChoice, index: Int, seed: UInt64) -> GenerationRecord {
        var r = GenerationRecord(command: .sample, version: version, vqvae: vqvae)
        r.models = models
        r.sampling = sampling
        r.classes = [classID]
        r.seed = seed
        r.sample = .init(baseSeed: baseSeed, index: index)
        return r
    }

    /// Every field in which `other` (a new run's settings) differs from this manifest.
    public func differences(from other: SampleManifest) -> [Difference] {
        Self.differences(Self.flatten(self), Self.flatten(other))
    }

    /// Every field in which an image's record differs from the record this manifest expects for it
    /// (an empty list means the image belongs to the set).
    public func differences(image record: GenerationRecord, classID: GenerationRecord.ClassChoice, index: Int,
                            seed: UInt64) -> [Difference] {
        Self.differences(Self.flatten(self.record(classID: classID, index: index, seed: seed)), Self.flatten(record))
    }

    // MARK: JSON file

    /// Pretty JSON with sorted keys.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }

    /// Parses a manifest; `path` names the file in errors.
    public static func parse(json text: String, path: String) throws -> SampleManifest {
        let m: SampleManifest
        do { m = try JSONDecoder().decode(SampleManifest.self, from: Data(text.utf8)) } catch {
            throw RecordError.from(error, path: path)
        }
        guard m.format == GenerationRecord.currentFormat else { throw RecordError.unsupportedFormat(path: path, format: m.format) }
        // The same structural checks as an image record of these settings.
        try m.record(classID: .id(0), index: 0, seed: 0).check(path: path)
        return m
    }

    /// Reads `dir/var-gen-sample.json`, nil when the directory has none.
    public static func read(directory dir: String) throws -> SampleManifest? {
        let path = dir + "/" + fileName
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let bytes = try FileIO.readAll(path)
        return try parse(json: String(decoding: bytes, as: UTF8.self), path: path)
    }

    /// Writes `dir/var-gen-sample.json` atomically.
    public func write(directory dir: String) throws {
        try AtomicFile.write(Array(try json().utf8), to: dir + "/" + Self.fileName)
    }

    // MARK: Comparison

    /// The JSON of a value as dotted paths → rendered scalars (lists rendered whole: `[1.1,1.1,1]`).
    static func flatten<T: Encodable>(_ value: T) -> [String: String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value), let object = try? JSONSerialization.jsonObject(with: data) else { return [:] }
        var out: [String: String] = [:]
        func walk(_ v: Any, _ prefix: String) {
            if let d = v as? [String: Any] {
                for (k, x) in d { walk(x, prefix.isEmpty ? k : prefix + "." + k) }
            } else if let list = v as? [Any],
                      let data = try? JSONSerialization.data(withJSONObject: list, options: [.sortedKeys, .withoutEscapingSlashes]) {
                out[prefix] = String(decoding: data, as: UTF8.self)
            } else {
                out[prefix] = "\(v)"
            }
        }
        walk(object, "")
        return out
    }

    static func differences(_ a: [String: String], _ b: [String: String]) -> [Difference] {
        Set(a.keys).union(b.keys).sorted().compactMap { k in
            a[k] == b[k] ? nil : Difference(field: k, expected: a[k], actual: b[k])
        }
    }
}
