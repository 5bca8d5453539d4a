import Testing
import VARKit

/// `ShardAssignment.resolve` over scheduler environments: Slurm arrays (offset, stepped, lists, throttled),
/// srun tasks, arrays of multi-task jobs, Kubernetes indexed Jobs, and the environments that must be refused.
/// The Slurm variables are those Slurm 22.05 sets (recorded from a live single-node cluster; docs/sampling.md).
@Suite("Shard assignment from the scheduler's environment")
struct ShardAssignmentTests {
    typealias Env = [String: String]

    func resolve(_ request: String, _ env: Env) throws -> ShardAssignment {
        let r = try #require(ShardAssignment.Request(parsing: request))
        return try ShardAssignment.resolve(r, environment: env)
    }

    func shard(_ request: String, _ env: Env) -> [Int]? {
        guard let a = try? resolve(request, env) else { return nil }
        return [a.index, a.count]
    }

    /// The error's text, or nil when the environment is accepted.
    func refusal(_ request: String, _ env: Env) -> String? {
        do { _ = try resolve(request, env); return nil } catch { return "\(error)" }
    }

    /// An array task as sbatch sets it in the batch script (`SLURM_PROCID=0`, no task count without --ntasks).
    func array(id: Int, min: Int, max: Int, step: Int = 1, count: Int? = nil) -> Env {
        var e = ["SLURM_ARRAY_JOB_ID": "41", "SLURM_JOB_ID": "57", "SLURM_PROCID": "0",
                 "SLURM_ARRAY_TASK_ID": "\(id)", "SLURM_ARRAY_TASK_MIN": "\(min)", "SLURM_ARRAY_TASK_MAX": "\(max)",
                 "SLURM_ARRAY_TASK_STEP": "\(step)"]
        e["SLURM_ARRAY_TASK_COUNT"] = String(count ?? (max - min) / step + 1)
        return e
    }

    /// An srun task (`SLURM_STEP_ID` set, task counts of the step).
    func srun(rank: Int, of n: Int) -> Env {
        ["SLURM_JOB_ID": "9", "SLURM_PROCID": "\(rank)", "SLURM_NTASKS": "\(n)", "SLURM_STEP_NUM_TASKS": "\(n)", "SLURM_STEP_ID": "0"]
    }

    @Test func requestsParse() {
        #expect(ShardAssignment.Request(parsing: "2/4") == .fixed(index: 2, count: 4))
        #expect(ShardAssignment.Request(parsing: "auto") == .fromEnvironment(count: nil))
        #expect(ShardAssignment.Request(parsing: "auto/8") == .fromEnvironment(count: 8))
        for bad in ["4/4", "-1/4", "1/0", "auto/0", "auto/", "auto/x", "2", "1/2/3", "", "/4", "AUTO"] {
            #expect(ShardAssignment.Request(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test func fixedShardIgnoresTheEnvironment() throws {
        #expect(shard("1/3", array(id: 5, min: 0, max: 7)) == [1, 3])
        #expect(try resolve("1/3", [:]).origin == "command line")
    }

    @Test func arrayFromZeroOneAndOffsets() throws {
        for id in 0...15 { #expect(shard("auto", array(id: id, min: 0, max: 15)) == [id, 16]) }
        for id in 1...16 { #expect(shard("auto", array(id: id, min: 1, max: 16)) == [id - 1, 16]) }
        #expect(shard("auto", array(id: 107, min: 100, max: 107)) == [7, 8])
        // A one-task array is one shard.
        #expect(shard("auto", array(id: 3, min: 3, max: 3)) == [0, 1])
        let a = try resolve("auto", array(id: 2, min: 1, max: 4))
        #expect(a.origin == "SLURM_ARRAY_TASK_ID=2 (array 1-4)")
    }

    /// `--array=0-30:2` → 16 tasks with IDs 0, 2, …, 30: shards 0…15 (recorded: STEP=3 for --array=0-6:3).
    @Test func steppedArray() {
        for id in stride(from: 0, through: 30, by: 2) { #expect(shard("auto", array(id: id, min: 0, max: 30, step: 2)) == [id / 2, 16]) }
        #expect(shard("auto", array(id: 6, min: 0, max: 6, step: 3)) == [2, 3])
        #expect(shard("auto", array(id: 9, min: 1, max: 13, step: 4)) == [2, 4])
    }

    /// A `%k` throttle sets no variable: `--array=0-7%2` looks like `--array=0-7`.
    @Test func throttleChangesNothing() {
        #expect(shard("auto", array(id: 5, min: 0, max: 7)) == [5, 8])
    }

    @Test func countFromMinMaxWhenCountIsAbsent() {
        var e = array(id: 4, min: 2, max: 10, step: 2)
        e["SLURM_ARRAY_TASK_COUNT"] = nil
        #expect(shard("auto", e) == [1, 5])
    }

    /// `--array=1,5,7` (recorded: COUNT=3 MIN=1 MAX=7 STEP=1) is not a range: refused for `auto`, fine for `auto/n`.
    @Test func indexListNeedsAnExplicitCount() throws {
        let e = array(id: 5, min: 1, max: 7, count: 3)
        let m = try #require(refusal("auto", e))
        #expect(m.contains("SLURM_ARRAY_TASK_COUNT") && m.contains("evenly spaced") && m.contains("auto/N"), "\(m)")
        #expect(shard("auto/8", e) == [5, 8])
        #expect(shard("auto/10", e) == [5, 10])
    }

    /// With `auto/n` the task ID is the shard index: resubmitting shards 5 and 9 of 16 as `--array=5,9`.
    @Test func explicitCountUsesTaskIDs() throws {
        #expect(shard("auto/16", array(id: 9, min: 5, max: 9, step: 4)) == [9, 16])
        #expect(shard("auto/16", array(id: 5, min: 5, max: 5)) == [5, 16])
        #expect(shard("auto/4", array(id: 0, min: 0, max: 3)) == [0, 4])
        // IDs from 1 do not fit 0…n-1: refused with a hint.
        let m = try #require(refusal("auto/16", array(id: 3, min: 1, max: 16)))
        #expect(m.contains("SLURM_ARRAY_TASK_MAX") && m.contains("--array=0-15"), "\(m)")
        #expect(refusal("auto/4", array(id: 2, min: 0, max: 7)) != nil)
    }

    @Test func srunTasks() throws {
        for r in 0..<4 { #expect(shard("auto", srun(rank: r, of: 4)) == [r, 4]) }
        #expect(shard("auto/4", srun(rank: 3, of: 4)) == [3, 4])
        let m = try #require(refusal("auto/8", srun(rank: 3, of: 4)))
        #expect(m.contains("SLURM_NTASKS=4") && m.contains("auto/8"), "\(m)")
        #expect(try resolve("auto", srun(rank: 1, of: 2)).origin == "SLURM_PROCID=1 of 2 tasks")
    }

    /// The batch script of a job with --ntasks=2 (recorded: SLURM_NTASKS=2 SLURM_PROCID=0, no SLURM_STEP_ID):
    /// running var-gen there directly would do shard 0 only, so it is refused.
    @Test func batchScriptWithSeveralTasksIsRefused() throws {
        let m = try #require(refusal("auto", ["SLURM_JOB_ID": "3", "SLURM_NTASKS": "2", "SLURM_NPROCS": "2", "SLURM_PROCID": "0"]))
        #expect(m.contains("SLURM_STEP_ID") && m.contains("srun"), "\(m)")
    }

    /// A plain batch job (one task) or an srun step of one task is no shard source.
    @Test func singleTaskIsNotAShardSource() throws {
        let m = try #require(refusal("auto", ["SLURM_JOB_ID": "3", "SLURM_PROCID": "0"]))
        #expect(m.contains("SLURM_ARRAY_TASK_ID") && m.contains("JOB_COMPLETION_INDEX") && m.contains("--shard i/n"), "\(m)")
        #expect(refusal("auto", srun(rank: 0, of: 1)) != nil)
        #expect(refusal("auto", [:]) != nil)
        #expect(refusal("auto/4", ["HOME": "/home/me", "USER": "me"]) != nil)
    }

    /// An array of 2-task jobs: array position × tasks + rank.
    @Test func arrayOfMultiTaskJobs() {
        var e = array(id: 2, min: 0, max: 3)
        e.merge(srun(rank: 1, of: 2)) { _, new in new }
        e["SLURM_ARRAY_TASK_ID"] = "2"
        #expect(shard("auto", e) == [5, 8])
        #expect(shard("auto/8", e) == [5, 8])
        #expect(refusal("auto/6", e) != nil)
        // srun inside a one-task array job: SLURM_NTASKS=1 changes nothing (recorded).
        var one = array(id: 1, min: 1, max: 7, count: 3)
        one.merge(srun(rank: 0, of: 1)) { _, new in new }
        #expect(shard("auto/8", one) == [1, 8])
    }

    @Test func kubernetesIndexedJob() throws {
        #expect(shard("auto/8", ["JOB_COMPLETION_INDEX": "0"]) == [0, 8])
        #expect(shard("auto/8", ["JOB_COMPLETION_INDEX": "7", "HOSTNAME": "sample-7-x2"]) == [7, 8])
        let noCount = try #require(refusal("auto", ["JOB_COMPLETION_INDEX": "3"]))
        #expect(noCount.contains("JOB_COMPLETION_INDEX") && noCount.contains("auto/N"), "\(noCount)")
        let high = try #require(refusal("auto/8", ["JOB_COMPLETION_INDEX": "8"]))
        #expect(high.contains("JOB_COMPLETION_INDEX") && high.contains("0-7"), "\(high)")
        let both = try #require(refusal("auto/8", ["JOB_COMPLETION_INDEX": "3", "SLURM_ARRAY_TASK_ID": "3"]))
        #expect(both.contains("JOB_COMPLETION_INDEX") && both.contains("SLURM_ARRAY_TASK_ID"), "\(both)")
    }

    @Test func malformedAndInconsistentValuesAreNamed() throws {
        let cases: [(Env, [String])] = [
            (array(id: 3, min: 0, max: 7).merging(["SLURM_ARRAY_TASK_ID": "three"]) { $1 }, ["SLURM_ARRAY_TASK_ID", "three"]),
            (array(id: 3, min: 0, max: 7).merging(["SLURM_ARRAY_TASK_MIN": "-1"]) { $1 }, ["SLURM_ARRAY_TASK_MIN", "-1"]),
            (array(id: 3, min: 0, max: 7).merging(["SLURM_ARRAY_TASK_STEP": "0"]) { $1 }, ["SLURM_ARRAY_TASK_STEP"]),
            (array(id: 3, min: 0, max: 7).merging(["SLURM_ARRAY_TASK_COUNT": "0"]) { $1 }, ["SLURM_ARRAY_TASK_COUNT"]),
            (array(id: 3, min: 0, max: 7, count: 4), ["SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MAX"]),
            (array(id: 9, min: 0, max: 7), ["SLURM_ARRAY_TASK_ID", "0-7"]),
            (array(id: 3, min: 0, max: 8, step: 2), ["SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_STEP"]),
            (["SLURM_ARRAY_TASK_ID": "3"], ["SLURM_ARRAY_TASK_MIN"]),
            (["SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MIN": "0"], ["SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MAX"]),
            (["SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "0"], ["SLURM_ARRAY_TASK_ID"]),
            (srun(rank: 4, of: 4), ["SLURM_PROCID"]),
            (srun(rank: 1, of: 4).merging(["SLURM_STEP_NUM_TASKS": "2"]) { $1 }, ["SLURM_NTASKS", "SLURM_STEP_NUM_TASKS"]),
            (["SLURM_PROCID": "x", "SLURM_NTASKS": "2"], ["SLURM_PROCID", "'x'"]),
            (["JOB_COMPLETION_INDEX": ""], ["JOB_COMPLETION_INDEX"]),
        ]
        for (env, names) in cases {
            let m = try #require(refusal("auto", env), "\(env)")
            #expect(m.hasPrefix("--shard auto"), "\(m)")
            for n in names { #expect(m.contains(n), "\(env): \(m) should name \(n)") }
        }
    }

    /// Hostile values at the edges of Int (they overflowed the shard arithmetic and trapped) are refused by name;
    /// the largest accepted value, 2^31 − 1, still resolves.
    @Test func extremeValuesAreRefusedWithoutOverflow() throws {
        let big = "9223372036854775807"
        let hostile: [Env] = [
            ["SLURM_ARRAY_TASK_ID": big, "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": big, "SLURM_ARRAY_TASK_STEP": "1"],
            array(id: 1, min: 0, max: 3).merging(["SLURM_ARRAY_TASK_MAX": big, "SLURM_ARRAY_TASK_COUNT": big]) { $1 },
            array(id: 1, min: 0, max: 3).merging(["SLURM_NTASKS": big, "SLURM_PROCID": "2"]) { $1 },
            ["SLURM_PROCID": "2147483648", "SLURM_NTASKS": "4"],
        ]
        for env in hostile {
            for request in ["auto", "auto/4", "auto/9223372036854775807"] {
                guard let m = refusal(request, env) else { continue }
                #expect(m.hasPrefix("--shard auto"), "\(m)")
            }
        }
        let m = try #require(refusal("auto", hostile[0]))
        #expect(m.contains("SLURM_ARRAY_TASK_ID") && m.contains("2147483647"), "\(m)")
        let edge = array(id: 2_147_483_646, min: 2_147_483_646, max: 2_147_483_647)
        #expect(shard("auto", edge) == [0, 2])
        #expect(shard("auto/9223372036854775807", array(id: 5, min: 0, max: 7)) == [5, 9223372036854775807])
    }

    /// Every task of a range array gets a distinct shard and together they cover 0..<count.
    @Test func arrayTasksCoverAllShards() {
        for (min, max, step) in [(0, 9, 1), (1, 10, 1), (3, 27, 4), (5, 5, 1), (0, 99, 3)] {
            let ids = Array(stride(from: min, through: max, by: step))
            let got = ids.compactMap { shard("auto", array(id: $0, min: min, max: max, step: step)) }
            #expect(got.map { $0[0] } == Array(0..<ids.count), "\(min)-\(max):\(step)")
            #expect(got.allSatisfy { $0[1] == ids.count })
        }
    }
}
