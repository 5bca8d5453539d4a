/// Reads a `torch.save` ZIP archive (docs/model.md §8.2–8.3) into validated tensor descriptions:
/// finds `<prefix>/data.pkl` under any prefix, checks `byteorder`, runs the pickle on the data-only
/// machine, then maps each storage key to `<prefix>/data/<key>` (each storage resolved once, even
/// when shared) and checks its length against `numel × itemsize` and every view against its storage.
enum TorchZipReader {
    struct Contents {
        var names: [String]
        var tensors: [String: StoredTensor]
    }

    static func read(_ view: ByteView, file: String) throws -> Contents {
        let zip = try ZipArchive(view, file: file)
        let pickles = zip.entries.filter { $0.name.hasSuffix("/data.pkl") || $0.name == "data.pkl" }
        guard let pickleEntry = pickles.first else {
            throw CheckpointError.unsupportedFormat(file: file, reason: "a ZIP archive without data.pkl is not a "
                                                    + "torch.save checkpoint")
        }
        guard pickles.count == 1 else {
            throw CheckpointError.badZip(file: file, offset: pickles[1].recordOffset,
                                         reason: "several data.pkl entries (\(pickles[0].name), \(pickles[1].name))")
        }
        let prefix = String(pickleEntry.name.dropLast("data.pkl".count))

        if let order = zip.entry(prefix + "byteorder") {
            let (o, n) = try zip.payload(order)
            guard n <= 64, let raw = view.slice(o, n) else {
                throw CheckpointError.badZip(file: file, offset: o, reason: "byteorder entry is \(n) bytes")
            }
            let text = trimmed(String(decoding: raw, as: UTF8.self))
            guard text == "little" else {
                throw CheckpointError.unsupportedFormat(file: file, reason: "byteorder is `\(text)`; only "
                                                        + "little-endian checkpoints are read")
            }
        }

        let (pklOffset, pklCount) = try zip.payload(pickleEntry)
        guard let pickle = view.slice(pklOffset, pklCount) else {
            throw CheckpointError.badZip(file: file, offset: pklOffset, reason: "data.pkl lies outside the file")
        }
        let items = try PickleMachine.stateDict(pickle, file: file)

        // Resolve each storage once: key → (file offset, element count, dtype).
        var storages: [String: (offset: Int, count: Int, dtype: DType)] = [:]
        var names: [String] = []
        var tensors: [String: StoredTensor] = [:]
        for item in items {
            let ref = item.tensor.storage
            let storage: (offset: Int, count: Int, dtype: DType)
            if let known = storages[ref.key] {
                guard known.count == ref.count, known.dtype == ref.dtype else {
                    throw CheckpointError.badTensor(
                        file: file, key: item.key, reason: "storage `\(ref.key)` is described as \(ref.count) "
                        + "\(ref.dtype) elements here but \(known.count) \(known.dtype) elsewhere")
                }
                storage = known
            } else {
                guard let entry = zip.entry(prefix + "data/" + ref.key) else {
                    throw CheckpointError.badTensor(file: file, key: item.key,
                                                    reason: "storage entry `\(prefix)data/\(ref.key)` is missing")
                }
                let (o, n) = try zip.payload(entry)
                let need = SafeMath.mul(ref.count, ref.dtype.itemSize)
                guard need == n else {
                    throw CheckpointError.badTensor(
                        file: file, key: item.key, reason: "storage `\(ref.key)` has \(n) bytes but \(ref.count) "
                        + "\(ref.dtype) elements need \(need.map(String.init) ?? "more than 2^63")")
                }
                storage = (o, ref.count, ref.dtype)
                storages[ref.key] = storage
            }
            let t = item.tensor
            let stored = try StoredTensor.make(
                file: file, name: item.key, dtype: storage.dtype, shape: t.size, storageOffset: t.storageOffset,
                strides: t.stride, dataOffset: storage.offset, storageCount: storage.count)
            if tensors.updateValue(stored, forKey: item.key) == nil { names.append(item.key) }
        }
        return Contents(names: names, tensors: tensors)
    }

    private static func trimmed(_ text: String) -> String {
        var s = Substring(text)
        while let c = s.first, c.isWhitespace { s = s.dropFirst() }
        while let c = s.last, c.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
