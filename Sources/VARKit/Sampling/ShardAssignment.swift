/// Which shard of a sharded `sample` run this process does: index `i` of `count` shards, taken either from the
/// command line (`--shard i/n`) or from the environment a batch scheduler gives each task (`--shard auto`,
/// `--shard auto/n`).
///
/// Rules for the environment (`ShardAssignment.resolve(_:environment:)`, a pure function of the variables):
/// * **Slurm job array** (`SLURM_ARRAY_TASK_ID` set). With `auto`, the index is the task's position in the array,
///   `(ID − SLURM_ARRAY_TASK_MIN) / SLURM_ARRAY_TASK_STEP`, and the count is `SLURM_ARRAY_TASK_COUNT` (or, if that
///   is absent, `(MAX − MIN) / STEP + 1`), so `--array=1-16` and `--array=0-30:2` both give shards 0…15 of 16.
///   The array must be an evenly spaced range: a list such as `--array=1,5,7` is refused (use `auto/n`). A `%k`
///   throttle only limits how many tasks run at once and changes nothing here.
///   With `auto/n`, the array task ID *is* the shard index (0 ≤ ID < n) and `n` is the count, whatever the current
///   submission holds — so single shards can be resubmitted (`sbatch --array=5,9 …`) without changing the split.
/// * **srun tasks** (`SLURM_PROCID` with `SLURM_NTASKS` above 1, in an srun step — `SLURM_STEP_ID` set, and
///   `SLURM_STEP_NUM_TASKS`, if present, equal to `SLURM_NTASKS`): index `PROCID`, count `NTASKS`. A batch script
///   started with several tasks also has `SLURM_PROCID=0` but no step: refused (start var-gen through srun). Inside an array task, the two combine: index `arrayIndex · tasks + PROCID`, count
///   `arrayCount · tasks`.
/// * **Kubernetes indexed Job** (`JOB_COMPLETION_INDEX`): the index; the count (the Job's `completions`) is not in
///   the environment, so it must be given as `auto/n`.
/// Anything missing, malformed, contradictory (the array's COUNT against MIN/MAX/STEP, the ID outside the array,
/// Slurm and Kubernetes variables at once, an index ≥ n) is an error naming the variables.
public struct ShardAssignment: Equatable, Sendable, CustomStringConvertible {
    /// This process's shard, 0 ≤ index < count.
    public var index: Int
    /// The number of shards.
    public var count: Int
    /// Where the values came from, e.g. `SLURM_ARRAY_TASK_ID=5 (array 0-15)`; `command line` for `i/n`.
    public var origin: String

    public init(index: Int, count: Int, origin: String) {
        self.index = index; self.count = count; self.origin = origin
    }

    /// `index/count (origin)`.
    public var description: String { "\(index)/\(count) (\(origin))" }

    /// What the user asked for on the command line.
    public enum Request: Equatable, Sendable {
        /// `i/n`.
        case fixed(index: Int, count: Int)
        /// `auto` (count nil) or `auto/n`.
        case fromEnvironment(count: Int?)

        /// Parses `i/n`, `auto` or `auto/n`; nil for anything else (including n < 1 or i outside 0..<n).
        public init?(parsing text: String) {
            let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 1 || parts.count == 2 else { return nil }
            var count: Int?
            if parts.count == 2 {
                guard let n = Int(parts[1]), n >= 1 else { return nil }
                count = n
            }
            if parts[0] == "auto" {
                self = .fromEnvironment(count: count)
            } else if let i = Int(parts[0]), let n = count, (0..<n).contains(i) {
                self = .fixed(index: i, count: n)
            } else {
                return nil
            }
        }
    }

    /// The variables `auto` looks at, in the order of the rules above.
    public static let variables = [
        "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_MAX",
        "SLURM_ARRAY_TASK_STEP", "SLURM_PROCID", "SLURM_NTASKS", "SLURM_STEP_NUM_TASKS", "SLURM_STEP_ID",
        "JOB_COMPLETION_INDEX",
    ]

    /// The shard for `request` in `environment` (see the type's documentation for the rules).
    public static func resolve(_ request: Request, environment: [String: String]) throws(ShardAssignmentError) -> ShardAssignment {
        switch request {
        case .fixed(let i, let n):
            return ShardAssignment(index: i, count: n, origin: "command line")
        case .fromEnvironment(let explicitCount):
            return try fromEnvironment(environment, count: explicitCount)
        }
    }

    static func fromEnvironment(_ env: [String: String], count explicitCount: Int?) throws(ShardAssignmentError) -> ShardAssignment {
        let array = try SlurmArray(env)
        let tasks = try SlurmTasks(env)
        let k8sIndex = try integer(env, "JOB_COMPLETION_INDEX")

        if let k8sIndex {
            let slurm = variables.filter { $0.hasPrefix("SLURM_") && env[$0] != nil }
            if !slurm.isEmpty {
                throw .conflict(variables: ["JOB_COMPLETION_INDEX"] + slurm,
                                reason: "a Kubernetes index and Slurm task variables are both set; unset one side or use --shard i/n")
            }
            guard let n = explicitCount else { throw .countRequired(variable: "JOB_COMPLETION_INDEX") }
            guard k8sIndex < n else {
                throw .outOfRange(variable: "JOB_COMPLETION_INDEX", value: k8sIndex, count: n)
            }
            return ShardAssignment(index: k8sIndex, count: n, origin: "JOB_COMPLETION_INDEX=\(k8sIndex)")
        }

        let perTask = tasks?.count ?? 1, procid = tasks?.index ?? 0
        let taskOrigin = tasks.flatMap { $0.count > 1 ? " SLURM_PROCID=\($0.index) of \($0.count) tasks" : nil } ?? ""
        if let array {
            let position: Int, positions: Int
            if let n = explicitCount {
                // The array task ID is the shard index (times the tasks per array task).
                position = array.id
                positions = n > 0 ? (n - 1) / perTask + 1 : 0
                let highest = array.max ?? array.id
                guard highest * perTask + perTask - 1 < n else {
                    throw .outOfRange(variable: array.max == nil ? "SLURM_ARRAY_TASK_ID" : "SLURM_ARRAY_TASK_MAX",
                                      value: highest * perTask + perTask - 1, count: n)
                }
            } else {
                guard let min = array.min else {
                    throw .missing(variables: ["SLURM_ARRAY_TASK_MIN"],
                                   reason: "needed to number the array tasks from 0 (or give the count: --shard auto/N, where the task ID is the shard index)")
                }
                guard let c = array.count ?? array.max.map({ ($0 - min) / array.step + 1 }) else {
                    throw .missing(variables: ["SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MAX"],
                                   reason: "one of them gives the number of array tasks (or give the count: --shard auto/N)")
                }
                if let count = array.count, let max = array.max, count != (max - min) / array.step + 1 {
                    throw .conflict(variables: ["SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_MAX", "SLURM_ARRAY_TASK_STEP"],
                                    reason: "\(count) tasks are not the evenly spaced range \(min)-\(max):\(array.step) (an index list such as "
                                        + "--array=1,5,7?); use --shard auto/N, where each task ID is its shard index")
                }
                position = (array.id - min) / array.step
                positions = c
            }
            let index = position * perTask + procid
            let count = explicitCount ?? positions * perTask
            guard index < count else { throw .outOfRange(variable: "SLURM_PROCID", value: index, count: count) }
            return ShardAssignment(index: index, count: count, origin: "SLURM_ARRAY_TASK_ID=\(array.id) (\(array.range))" + taskOrigin)
        }

        if let tasks, tasks.count > 1 || explicitCount != nil {
            if let n = explicitCount, n != tasks.count {
                throw .conflict(variables: ["SLURM_PROCID", "SLURM_NTASKS"],
                                reason: "SLURM_NTASKS=\(tasks.count) tasks but --shard auto/\(n) asks for \(n) shards")
            }
            return ShardAssignment(index: tasks.index, count: tasks.count, origin: String(taskOrigin.dropFirst()))
        }
        throw .noScheduler(lookedFor: ["SLURM_ARRAY_TASK_ID", "SLURM_PROCID with SLURM_NTASKS > 1", "JOB_COMPLETION_INDEX"])
    }

    /// An integer variable ≥ 0, nil when absent.
    /// The largest value accepted in a scheduler variable.
    static let largestVariable = Int(Int32.max)

    static func integer(_ env: [String: String], _ name: String) throws(ShardAssignmentError) -> Int? {
        guard let text = env[name] else { return nil }
        // Slurm's task IDs and counts are 32-bit (MaxArraySize ≤ 4,000,001); bounding them keeps every product below
        // (ID × tasks per ID + rank) far from Int overflow.
        guard let v = Int(text.trimmingSpaces), v >= 0, v <= Self.largestVariable else {
            throw .malformed(variable: name, value: DisplayText.escaped(text), expected: "an integer from 0 to \(Self.largestVariable)")
        }
        return v
    }

    /// The Slurm job-array variables of one array task, checked against each other.
    struct SlurmArray {
        var id: Int, min: Int?, max: Int?, count: Int?, step: Int

        init?(_ env: [String: String]) throws(ShardAssignmentError) {
            guard let id = try integer(env, "SLURM_ARRAY_TASK_ID") else {
                let stray = ["SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_MAX"].filter { env[$0] != nil }
                if !stray.isEmpty {
                    throw .missing(variables: ["SLURM_ARRAY_TASK_ID"], reason: "\(stray.joined(separator: ", ")) set without it")
                }
                return nil
            }
            self.id = id
            min = try integer(env, "SLURM_ARRAY_TASK_MIN")
            max = try integer(env, "SLURM_ARRAY_TASK_MAX")
            count = try integer(env, "SLURM_ARRAY_TASK_COUNT")
            step = try integer(env, "SLURM_ARRAY_TASK_STEP") ?? 1
            guard step >= 1 else { throw .malformed(variable: "SLURM_ARRAY_TASK_STEP", value: "0", expected: "an integer ≥ 1") }
            if count == 0 { throw .malformed(variable: "SLURM_ARRAY_TASK_COUNT", value: "0", expected: "an integer ≥ 1") }
            if let min, let max {
                guard min <= id, id <= max, (id - min) % step == 0 else {
                    throw .conflict(variables: ["SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_MAX", "SLURM_ARRAY_TASK_STEP"],
                                    reason: "task \(id) is not in the array \(min)-\(max):\(step)")
                }
            } else if let min {
                guard min <= id, (id - min) % step == 0 else {
                    throw .conflict(variables: ["SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_STEP"],
                                    reason: "task \(id) is not in an array starting at \(min) with step \(step)")
                }
            }
        }

        /// `array 0-15` / `array 1-31:2` as far as known.
        var range: String {
            guard let min else { return "array" }
            return "array \(min)-\(max.map(String.init) ?? "?")" + (step == 1 ? "" : ":\(step)")
        }
    }

    /// `srun` task rank and task count.
    struct SlurmTasks {
        var index: Int, count: Int

        init?(_ env: [String: String]) throws(ShardAssignmentError) {
            guard let index = try integer(env, "SLURM_PROCID") else { return nil }
            let jobTasks = try integer(env, "SLURM_NTASKS"), stepTasks = try integer(env, "SLURM_STEP_NUM_TASKS")
            // srun sets SLURM_STEP_ID and the step's task count; a batch script runs as rank 0 of the job's tasks
            // without them, so several tasks there mean var-gen was not started through srun.
            // A batch script submitted without --ntasks has SLURM_PROCID=0 and no task count: one task.
            let count = stepTasks ?? jobTasks ?? 1
            if let stepTasks, let jobTasks, stepTasks != jobTasks {
                throw .conflict(variables: ["SLURM_NTASKS", "SLURM_STEP_NUM_TASKS"], reason: "\(jobTasks) tasks against \(stepTasks)")
            }
            if count > 1 && env["SLURM_STEP_ID"] == nil {
                throw .conflict(variables: ["SLURM_NTASKS", "SLURM_PROCID", "SLURM_STEP_ID"],
                                reason: "SLURM_NTASKS=\(count) but no SLURM_STEP_ID: this is the batch script, not one of its tasks; "
                                    + "start var-gen through srun so that each task gets its own SLURM_PROCID")
            }
            guard index < count else {
                throw .conflict(variables: ["SLURM_PROCID", "SLURM_NTASKS"], reason: "rank \(index) is not below the task count \(count)")
            }
            self.index = index; self.count = count
        }
    }
}

/// Why `--shard auto` found no usable shard in the environment.
public enum ShardAssignmentError: Error, Equatable, CustomStringConvertible {
    /// None of the scheduler variables is set.
    case noScheduler(lookedFor: [String])
    /// A variable is not a number of the expected kind.
    case malformed(variable: String, value: String, expected: String)
    /// Variables that the others need are absent.
    case missing(variables: [String], reason: String)
    /// Variables that contradict each other.
    case conflict(variables: [String], reason: String)
    /// An index that is not below the shard count.
    case outOfRange(variable: String, value: Int, count: Int)
    /// `JOB_COMPLETION_INDEX` without `auto/N`.
    case countRequired(variable: String)

    /// One line for the user: the flag, the variables involved and what to do.
    public var description: String {
        switch self {
        case .noScheduler(let names):
            return "--shard auto: no scheduler task found in the environment (looked for \(names.joined(separator: ", ")))"
                + "; outside a job array or srun step, give --shard i/n"
        case .malformed(let v, let value, let expected):
            return "--shard auto: \(v)='\(value)'; expected \(expected)"
        case .missing(let vs, let reason):
            return "--shard auto: \(vs.joined(separator: " / ")) not set: \(reason)"
        case .conflict(let vs, let reason):
            return "--shard auto: \(vs.joined(separator: ", ")) disagree: \(reason)"
        case .outOfRange(let v, let value, let count):
            return "--shard auto/\(count): \(v) gives shard \(value), but shards are 0-\(count - 1)"
                + (v.hasPrefix("SLURM_ARRAY") ? " (with an explicit count the array task IDs are the shard indices: submit --array=0-\(count - 1), or use --shard auto)" : "")
        case .countRequired(let v):
            return "--shard auto: \(v) is set but the number of shards is not in the environment; give it as --shard auto/N (N = the Job's completions)"
        }
    }
}

private extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
