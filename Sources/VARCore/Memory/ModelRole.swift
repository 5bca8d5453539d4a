/// What a transformer does in a run. Names the model's weights in the memory accountant
/// (`MemoryAccountant.Category.weights(_:)`) and in the memory prediction (`MemoryPrediction.Model.role`).
public enum ModelRole: String, Sendable, CaseIterable, CustomStringConvertible {
    /// The one model of plain VAR generation (docs/model.md §6.1).
    case model
    /// CoDe's drafter: makes scales 0…N−1 (docs/model.md §7).
    case drafter
    /// CoDe's refiner: makes scales N…S−1.
    case refiner
    /// CoDe with one file as drafter and refiner: loaded once, both roles.
    case drafterAndRefiner = "drafter+refiner"

    /// "model", "drafter", "refiner" or "drafter+refiner".
    public var description: String { rawValue }
}
