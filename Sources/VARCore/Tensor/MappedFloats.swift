/// Float32 values read in place from memory someone else owns, e.g. a checkpoint's memory map
/// (`Checkpoint.mappedFloat32`): no copy, and the pages are the file's (shared with the page cache and with other
/// processes mapping the same file). `owner` keeps the memory alive.
public struct MappedFloats: @unchecked Sendable {
    public let buffer: UnsafeBufferPointer<Float>
    let owner: AnyObject
}
