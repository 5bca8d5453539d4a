/// Placeholder: `.pth` support lands in the next commit.
enum TorchZipReader {
    struct Contents { var names: [String]; var tensors: [String: StoredTensor] }
    static func read(_ view: ByteView, file: String) throws -> Contents {
        throw CheckpointError.unsupportedFormat(file: file, reason: ".pth reading is not implemented yet")
    }
}
