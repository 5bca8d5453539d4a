/// What a file is, judged by its first bytes ("magic numbers"), for errors that say "is a PNG image, not a
/// checkpoint" instead of interpreting the bytes as the expected format (or printing them).
public enum FileKind {
    /// A description such as "a PNG image", "a JSON document", "a ZIP archive", "an ELF executable" or
    /// "a text file", or nil when the bytes match nothing known.
    public static func describe(_ bytes: UnsafeRawBufferPointer) -> String? {
        func starts(_ p: [UInt8]) -> Bool { bytes.count >= p.count && zip(bytes, p).allSatisfy { $0 == $1 } }
        if bytes.isEmpty { return "an empty file" }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "a PNG image" }
        if starts([0xFF, 0xD8, 0xFF]) { return "a JPEG image" }
        if starts(Array("GIF8".utf8)) { return "a GIF image" }
        if starts(Array("RIFF".utf8)) { return "a RIFF file (WebP/WAV/AVI)" }
        if starts([0x50, 0x4B, 0x03, 0x04]) || starts([0x50, 0x4B, 0x05, 0x06]) { return "a ZIP archive" }
        if starts([0x1F, 0x8B]) { return "a gzip archive" }
        if starts(Array("BZh".utf8)) { return "a bzip2 archive" }
        if starts([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) { return "an xz archive" }
        if starts([0x28, 0xB5, 0x2F, 0xFD]) { return "a zstd archive" }
        if starts([0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C]) { return "a 7-zip archive" }
        if starts([0x7F, 0x45, 0x4C, 0x46]) { return "an ELF executable" }
        if starts(Array("%PDF".utf8)) { return "a PDF document" }
        if starts([0x93]) && starts([0x93] + Array("NUMPY".utf8)) { return "a NumPy .npy array" }
        if starts(Array("#!".utf8)) { return "a script" }
        if bytes.count >= 262, bytes[257..<262].elementsEqual(Array("ustar".utf8)) { return "a tar archive" }
        // Text: the first bytes (up to 512) are printable ASCII/UTF-8 or whitespace.
        let head = bytes.prefix(512)
        let printable = head.allSatisfy { $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || ($0 >= 0x20 && $0 != 0x7F) }
        if printable {
            let first = head.first { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }
            if first == UInt8(ascii: "{") || first == UInt8(ascii: "[") { return "a JSON document" }
            return "a text file"
        }
        return nil
    }

    public static func describe(_ bytes: [UInt8]) -> String? {
        bytes.withUnsafeBytes { describe($0) }
    }
}
