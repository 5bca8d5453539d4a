/// A growable scratch buffer that is allocated once and reused (page faults are expensive, docs/performance.md §3).
final class ScratchBuffer {
    private(set) var pointer: UnsafeMutablePointer<Float>
    private(set) var capacity: Int

    init(_ capacity: Int = 0) {
        self.capacity = max(capacity, 1)
        pointer = .allocate(capacity: self.capacity)
    }

    /// Charges this buffer's bytes to an accountant, from now on and whenever it grows.
    var meter: MemoryMeter? {
        didSet { oldValue?.close(); meter?.update(bytes: bytes) }
    }

    /// Bytes held.
    var bytes: Int { capacity * MemoryLayout<Float>.stride }

    /// Makes room for `count` floats (contents are not preserved when it grows) and returns the pointer.
    @discardableResult
    func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            pointer.deallocate()
            capacity = count
            meter?.update(bytes: bytes)
            pointer = .allocate(capacity: count)
        }
        return pointer
    }

    deinit { pointer.deallocate(); meter?.close() }
}
