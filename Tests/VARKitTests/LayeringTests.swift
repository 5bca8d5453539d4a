import Foundation
import Testing

/// The layering rules of docs/architecture.md "Layering" that a reader can check by name: a folder of VARCore
/// never names (outside comments and string literals) a type declared in a folder above it.
@Suite struct LayeringTests {
    static let core = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/VARCore")

    /// The Swift sources of one folder, without comments and string literals (good enough for this code base:
    /// no block comments, no `//` inside strings that matter).
    static func code(_ folder: String) throws -> [(file: String, text: String)] {
        let dir = core.appendingPathComponent(folder)
        return try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".swift") }.sorted()
            .map { name in
                let text = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
                let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
                    var s = String(line)
                    if let r = s.range(of: "//") { s = String(s[..<r.lowerBound]) }
                    return s.replacingOccurrences(of: #""([^"\\]|\\.)*""#, with: "\"\"", options: .regularExpression)
                }
                return (folder + "/" + name, lines.joined(separator: "\n"))
            }
    }

    /// Names of the types (class, struct, enum, protocol, typealias) declared in a folder.
    static func declaredTypes(_ folder: String) throws -> Set<String> {
        let pattern = try NSRegularExpression(pattern: #"\b(?:class|struct|enum|protocol|typealias)\s+([A-Z][A-Za-z0-9]*)"#)
        var names = Set<String>()
        for (_, text) in try code(folder) {
            for m in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                if let r = Range(m.range(at: 1), in: text) { names.insert(String(text[r])) }
            }
        }
        return names
    }

    /// `file: Type` for every type of `forbidden` folders that a file of `folder` names.
    static func violations(_ folder: String, mayNotUse forbidden: [String]) throws -> [String] {
        let own = try declaredTypes(folder)
        var names = Set<String>()
        for f in forbidden { names.formUnion(try declaredTypes(f)) }
        names.subtract(own)
        var out: [String] = []
        for (file, text) in try code(folder) {
            for name in names.sorted() where text.range(of: "\\b\(name)\\b", options: .regularExpression) != nil {
                out.append("\(file): \(name)")
            }
        }
        return out
    }

    static let folders = ["Memory", "Tensor", "Validation", "Checkpoint", "Tokenizer", "Transformer", "Generation", "Runtime"]

    @Test func foldersExist() throws {
        for f in Self.folders { #expect(try !Self.code(f).isEmpty, "\(f)") }
        #expect(try Self.declaredTypes("Transformer").contains("KVCache"))
        #expect(try Self.declaredTypes("Memory").contains("MemoryAccountant"))
    }

    @Test func memoryIsTheBottomLayer() throws {
        #expect(try Self.violations("Memory", mayNotUse: Self.folders.filter { $0 != "Memory" }) == [])
    }

    @Test func tensorUsesOnlyMemory() throws {
        #expect(try Self.violations("Tensor", mayNotUse: Self.folders.filter { $0 != "Tensor" && $0 != "Memory" }) == [])
    }

    @Test func runtimeDoesNotUseTheModels() throws {
        #expect(try Self.violations("Runtime", mayNotUse: ["Tokenizer", "Transformer", "Generation"]) == [])
    }
}
