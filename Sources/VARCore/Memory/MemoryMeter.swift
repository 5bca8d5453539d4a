/// A handle that charges one growing buffer to an accountant: `update(bytes:)` records its new size
/// (release of the old size, then charge of the new one), `close()` releases it.
final class MemoryMeter: @unchecked Sendable {
    let accountant: MemoryAccountant
    let category: MemoryAccountant.Category
    private(set) var bytes = 0

    init(_ accountant: MemoryAccountant, _ category: MemoryAccountant.Category) {
        self.accountant = accountant; self.category = category
    }

    func update(bytes new: Int) {
        guard new != bytes else { return }
        accountant.resize(from: bytes, to: new, in: category)
        bytes = new
    }

    func close() { update(bytes: 0) }
}
