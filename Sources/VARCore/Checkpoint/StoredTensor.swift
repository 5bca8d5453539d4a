/// Where a tensor's elements live in the mapped file, after validation.
///
/// Both formats end up here: safetensors tensors are always contiguous with offset 0; `.pth` tensors
/// are views `(storage_offset, size, stride)` into a storage entry (docs/model.md §8.3, pitfall 37).
struct StoredTensor {
    var entry: TensorEntry
    /// Absolute file offset of storage element 0.
    var dataOffset: Int
    /// Elements in the underlying storage.
    var storageCount: Int
    /// First element of the view, in elements.
    var storageOffset: Int
    /// Strides in elements, one per dimension.
    var strides: [Int]

    /// True when the view is the row-major run `[storageOffset, storageOffset + count)`.
    var isContiguous: Bool {
        var expected = 1
        for (size, stride) in zip(entry.shape, strides).reversed() {
            if size != 1 && stride != expected { return false }
            expected *= size
        }
        return true
    }

    /// Absolute file offset of the view's first element (meaningful when contiguous).
    var firstByte: Int { dataOffset + storageOffset * entry.dtype.itemSize }

    /// Validate a view against its storage: non-negative sizes/strides/offset, no overflow, and
    /// `storage_offset + Σ (size_k − 1)·stride_k < numel` whenever the view is non-empty.
    static func make(file: String, name: String, dtype: DType, shape: [Int], storageOffset: Int,
                     strides: [Int], dataOffset: Int, storageCount: Int) throws -> StoredTensor {
        func bad(_ reason: String) -> CheckpointError { .badTensor(file: file, key: name, reason: reason) }
        guard shape.count == strides.count else {
            throw bad("size has \(shape.count) dimensions but stride has \(strides.count)")
        }
        guard shape.count <= 64 else { throw bad("\(shape.count) dimensions (at most 64 are accepted)") }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw bad("negative size in \(CheckpointError.shapeText(shape))") }
        guard strides.allSatisfy({ $0 >= 0 }) else {
            throw bad("negative stride in \(CheckpointError.shapeText(strides))")
        }
        guard storageOffset >= 0 else { throw bad("negative storage offset \(storageOffset)") }
        guard let count = SafeMath.product(shape), SafeMath.mul(count, dtype.itemSize) != nil else {
            throw bad("shape \(CheckpointError.shapeText(shape)) has too many elements (overflow)")
        }
        if count > 0 {
            // Stride-0 (expanded) views could otherwise describe more elements than the file holds;
            // state dicts never need them, and refusing keeps every allocation bounded by the file.
            guard count <= storageCount else {
                throw bad("view has \(count) elements but its storage only \(storageCount) (overlapping strides)")
            }
            var last = storageOffset
            for (size, stride) in zip(shape, strides) {
                guard let step = SafeMath.mul(size - 1, stride), let next = SafeMath.add(last, step) else {
                    throw bad("strides \(CheckpointError.shapeText(strides)) overflow")
                }
                last = next
            }
            guard last < storageCount else {
                throw bad("view (offset \(storageOffset), size \(CheckpointError.shapeText(shape)), stride "
                          + "\(CheckpointError.shapeText(strides))) reaches element \(last) of a storage with "
                          + "\(storageCount) elements")
            }
        }
        return StoredTensor(entry: TensorEntry(name: name, dtype: dtype, shape: shape), dataOffset: dataOffset,
                            storageCount: storageCount, storageOffset: storageOffset, strides: strides)
    }

    /// Row-major contiguous strides for `shape`.
    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var s = 1
        for k in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[k] = s
            s &*= shape[k]
        }
        return strides
    }

    /// Calls `body` with the storage index of every element, in row-major order of the view.
    func forEachIndex(_ body: (Int) -> Void) {
        let count = entry.count
        if count == 0 { return }
        if isContiguous {
            for i in storageOffset..<(storageOffset + count) { body(i) }
            return
        }
        let shape = entry.shape
        let rank = shape.count
        var index = [Int](repeating: 0, count: rank)
        var position = storageOffset
        for _ in 0..<count {
            body(position)
            var k = rank - 1
            while k >= 0 {
                index[k] += 1
                position &+= strides[k]
                if index[k] < shape[k] { break }
                position &-= strides[k] &* shape[k]
                index[k] = 0
                k -= 1
            }
        }
    }
}
