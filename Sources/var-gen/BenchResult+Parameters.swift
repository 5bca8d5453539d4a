import Foundation
import VARKit

/// One setting of a bench configuration, as its own field in every output format.
struct BenchParameter {
    /// The Markdown column title ("top-k").
    var title: String
    /// The Markdown cell ("900/900/600" for a per-scale setting).
    var text: String
}

extension BenchResult {
    /// The configuration's settings, each its own field (the values used, defaults resolved).
    var parameters: [BenchParameter] {
        let s = pipeline.sampling
        let w = weights
        return [
            BenchParameter(title: "models", text: pipeline.modelDescription),
            BenchParameter(title: "draft steps", text: pipeline.draftSteps.map(String.init) ?? "-"),
            BenchParameter(title: "weights", text: w.refiner.map { $0 == w.drafter ? w.drafter.flagValue : "\(w.drafter.flagValue)/\($0.flagValue)" }
                ?? w.drafter.flagValue),
            BenchParameter(title: "threads", text: String(threads)),
            BenchParameter(title: "cfg", text: benchNumber(s.cfg)),
            BenchParameter(title: "top-k", text: perScaleText(s.topK) { String($0) }),
            BenchParameter(title: "top-p", text: benchNumber(s.topP)),
            BenchParameter(title: "temp", text: perScaleText(s.temperature, benchNumber)),
            BenchParameter(title: "smooth", text: s.moreSmooth ? "on" : "off"),
            BenchParameter(title: "seed", text: String(s.seed)),
        ]
    }

    /// "#2 drafter.pth+refiner.pth N=3" when the report has several configurations, else the models.
    func name(numbered: Bool) -> String { (numbered ? "#\(configuration + 1) " : "") + label }
}

/// A number without a needless fraction ("4", "0.95").
func benchNumber(_ d: Double) -> String { d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d) }

/// A per-scale setting: one value, or the values joined by `/` (the way `bench` takes them).
func perScaleText<T>(_ p: PerScale<T>, _ render: (T) -> String) -> String {
    switch p {
    case let .uniform(v): return render(v)
    case let .perScale(list): return list.map(render).joined(separator: "/")
    }
}
