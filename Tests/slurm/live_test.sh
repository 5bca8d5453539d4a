#!/usr/bin/env bash
# Live test of the Slurm recipe (tools/slurm) and the GNU parallel recipe of docs/sampling.md.
#
# Starts a private one-node Slurm cluster on this machine (munged, slurmctld, slurmd; everything in a temporary
# directory, ports chosen at random), submits the docs' Slurm recipe (tools/slurm/submit.sh: a 4-task array of
# `var-gen sample --shard auto` and the dependent verify-and-pack job) with the shipped models, requeues one
# task while it is running (Slurm kills it and starts it again; it must skip what it already wrote), waits for
# the packing job and compares the .npz byte for byte with a single-process `sample` + `pack`. Then runs the
# docs' GNU parallel recipe and compares its .npz too. Stops every daemon it started (by PID) and removes its
# directory on exit; prints the daemons' logs when something fails. Last line: `slurm: 1 passed, 0 failed`.
#
#   bash Tests/slurm/live_test.sh          (as root; installs slurm-wlm, munge and parallel if missing)
# VARGEN overrides the executable (default: .build/release/var-gen, which `swift test -c release` leaves).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VARGEN=${VARGEN:-$ROOT/.build/release/var-gen}
SHARDS=4
PER_TASK=100
FLAGS="--per-class 40 --classes 0-9 --seed 7 --draft-steps 4 --batch 8"   # 400 images, 100 per task
STARTED=$(date +%s)
T=""
PIDS=()
FAILED=""

log() { echo "[$(($(date +%s) - STARTED))s] $*"; }
fail() { FAILED="$*"; log "FAIL: $*"; exit 1; }

finish() {
    local rc=$?
    [ -z "$FAILED" ] && [ $rc -ne 0 ] && FAILED="exit status $rc"
    if [ -n "$T" ] && [ -n "${SLURM_CONF:-}" ] && [ -f "$T/slurmctld.pid" ]; then
        timeout 10 scancel --full --quiet --user=root 2>/dev/null
        for _ in $(seq 1 20); do [ -z "$(timeout 5 squeue -h 2>/dev/null)" ] && break; sleep 0.5; done
    fi
    if [ -n "$FAILED" ] && [ -n "$T" ]; then
        for f in "$T"/slurmctld.log "$T"/slurmd.log "$T"/munge/munged.log "$T"/work/*.log; do
            [ -f "$f" ] && { echo "----- ${f#"$T"/} (last 40 lines)"; tail -n 40 "$f"; }
        done
    fi
    # Daemons in reverse order of start; SIGTERM, then SIGKILL after 10 s.
    local i pid
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        pid=${PIDS[i]}
        kill "$pid" 2>/dev/null || continue
        for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
        kill -0 "$pid" 2>/dev/null && { log "daemon $pid did not stop; killing it"; kill -9 "$pid" 2>/dev/null; }
    done
    [ -n "$T" ] && rm -rf "$T"
    if [ -z "$FAILED" ]; then
        echo "slurm: 1 passed, 0 failed"
    else
        echo "slurm: 0 passed, 1 failed ($FAILED)"
        exit 1
    fi
}
trap finish EXIT
trap 'fail "interrupted"' INT TERM

# The PID a daemon wrote to its pidfile (waits up to 10 s); records it for finish().
pid_from() {
    local f=$1 name=$2
    for _ in $(seq 1 40); do [ -s "$f" ] && break; sleep 0.25; done
    [ -s "$f" ] || fail "$name wrote no pidfile $f"
    PIDS+=("$(cat "$f")")
}

[ "$(id -u)" = 0 ] || fail "must run as root (it installs packages and starts slurmd)"
[ -x "$VARGEN" ] || fail "no var-gen executable at $VARGEN (run swift test -c release -Xswiftc -enable-testing first)"
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null \
    || ! command -v parallel >/dev/null; then
    log "installing slurm-wlm, munge, parallel"
    export DEBIAN_FRONTEND=noninteractive
    timeout 300 apt-get update -qq && timeout 300 apt-get install -y -qq slurm-wlm munge parallel >/dev/null \
        || fail "apt-get install slurm-wlm munge parallel failed"
fi

T=$(mktemp -d -t vargen-slurm.XXXXXX) || fail "mktemp"
chmod 700 "$T"
mkdir -p "$T/state" "$T/spool" "$T/munge" "$T/work" "$T/bin"
ln -s "$VARGEN" "$T/bin/var-gen"
export PATH="$T/bin:$PATH" VARGEN_WEIGHTS="$ROOT/weights" PARALLEL_HOME="$T/parallel"

# munge: a key of our own and a private socket (the system's munged, if any, is left alone).
dd if=/dev/urandom of="$T/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$T/munge/munge.key"
munged --force --socket="$T/munge/socket" --key-file="$T/munge/munge.key" --pid-file="$T/munge/munged.pid" \
    --log-file="$T/munge/munged.log" --seed-file="$T/munge/seed" || fail "munged did not start"
pid_from "$T/munge/munged.pid" munged

HOST=$(hostname -s)
CPUS=$(nproc)
MEM_MB=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024))
PORT=$((20000 + RANDOM % 20000))
export SLURM_CONF="$T/slurm.conf"
cat > "$SLURM_CONF" <<EOF
ClusterName=vargentest
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire also delays the restart of a requeued job (default 120 s).
AuthInfo=socket=$T/munge/socket,cred_expire=5
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2,bf_interval=2
JobRequeue=1
ReturnToService=2
MinJobAge=600
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=live Nodes=$HOST Default=YES MaxTime=30 State=UP
EOF
slurmctld -f "$SLURM_CONF" -i || fail "slurmctld did not start"
pid_from "$T/slurmctld.pid" slurmctld
slurmd -f "$SLURM_CONF" || fail "slurmd did not start"
pid_from "$T/slurmd.pid" slurmd
for _ in $(seq 1 60); do [ "$(timeout 5 sinfo -h -o %T 2>/dev/null)" = idle ] && break; sleep 0.5; done
[ "$(timeout 5 sinfo -h -o %T)" = idle ] || fail "the node did not become idle: $(timeout 5 sinfo -h 2>&1)"
log "cluster up: $HOST, $CPUS CPUs, ${MEM_MB} MB, slurm $(slurmctld -V | awk '{print $2}'), ports $PORT-$((PORT + 1))"

# A fenced block of docs/sampling.md, the one after the line <!-- live-test: NAME -->.
recipe() {
    awk -v tag="<!-- live-test: $1 -->" '$0 == tag {on = 1; next} on && /^```/ {if (started) exit; started = 1; next} on && started' \
        "$ROOT/docs/sampling.md"
}
SLURM_RECIPE=$(recipe slurm)
PARALLEL_RECIPE=$(recipe parallel)
[ -n "$SLURM_RECIPE" ] && [ -n "$PARALLEL_RECIPE" ] || fail "docs/sampling.md lacks the live-test recipes"

# --- Slurm: the docs' recipe (N, OUT, FLAGS as set here) ---
# Run from a work directory (job logs land there) in which tools/ is the repository's.
cd "$T/work" || fail "cd"
ln -s "$ROOT/tools" "$T/work/tools"
N=$SHARDS OUT="$T/work/slurm-out" FLAGS="$FLAGS" timeout 60 bash -euo pipefail -c "$SLURM_RECIPE" > submit.txt 2>&1 \
    || { cat submit.txt; fail "the Slurm recipe did not submit"; }
cat submit.txt
read -r ARRAY FINISH < <(sed -n 's/^sample array \([0-9]*\) .*finish job \([0-9]*\) .*/\1 \2/p' submit.txt)
[ -n "${ARRAY:-}" ] && [ -n "${FINISH:-}" ] || fail "submit.sh printed no job IDs"

# Requeue task 1 once it has written its first batch (8 images) but not all (its pairs are those with k % 4 == 1).
shard1() { find "$T/work/slurm-out" -maxdepth 1 -name '*.png' 2>/dev/null | awk -F'[_.]' '$(NF-1) % 4 == 1' | wc -l; }
TRACE="$T/trace.txt"
last=""
snapshot() {
    local now
    now=$(timeout 5 squeue -h -o '%i %t %r' 2>/dev/null | sort | tr '\n' ';')
    [ "$now" != "$last" ] && { echo "[$(($(date +%s) - STARTED))s] squeue: ${now:-(empty)}" | tee -a "$TRACE"; last=$now; }
}
# `scontrol show job`, one line per job with the fields that tell the story.
show_job() {
    timeout 10 scontrol -o show job "$1" 2>&1 | awk '{ line = "   ";
        for (i = 1; i <= NF; i++) if ($i ~ /^(JobId|ArrayTaskId|JobName|JobState|Reason|Dependency|Restarts|ExitCode|SubmitTime|StartTime|EndTime)=/) line = line " " $i;
        print line }' | tee -a "$TRACE"
}
requeued=""
deadline=$(($(date +%s) + 150))
while :; do
    snapshot
    [ "$(date +%s)" -gt "$deadline" ] && fail "task 1 never got to the middle of its shard"
    n=$(shard1)
    if [ "$n" -ge 8 ] && [ "$n" -lt "$PER_TASK" ]; then
        timeout 10 scontrol requeue "${ARRAY}_1" || fail "scontrol requeue ${ARRAY}_1 failed"
        requeued=$n
        log "requeued task ${ARRAY}_1 while running, with $n of its $PER_TASK images written" | tee -a "$TRACE"
        break
    fi
    [ "$n" -ge "$PER_TASK" ] && fail "task 1 finished before it could be requeued (make the shard larger)"
    sleep 0.2
done
show_job "${ARRAY}_1"
echo "var-gen sample --status while the array runs (exit 3 = incomplete):"
# shellcheck disable=SC2086
timeout 60 var-gen sample --status "$T/work/slurm-out" --shard "auto/$SHARDS" $FLAGS > status.txt 2>&1
status_rc=$?
sed 's/^/    /' status.txt
[ $status_rc = 3 ] && grep -q "^incomplete$" status.txt || fail "--status during the run: exit $status_rc, expected 3"

deadline=$(($(date +%s) + 240))
# An squeue that fails or times out (a busy slurmctld) says nothing about the queue: only a successful, empty
# answer ends the wait.
while :; do
    if queue=$(timeout 5 squeue -h 2>/dev/null) && [ -z "$queue" ]; then break; fi
    snapshot
    [ "$(date +%s)" -gt "$deadline" ] && fail "jobs still queued after 240 s: $(timeout 5 squeue 2>&1)"
    sleep 0.5
done
snapshot
echo "scontrol show job (array $ARRAY and finish job $FINISH, after the run):" | tee -a "$TRACE"
for j in "$ARRAY" "$FINISH"; do show_job "$j"; done
for j in "$ARRAY" "$FINISH"; do
    # Retried: right after the queue empties, slurmctld may still be busy answering.
    completed=0
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        if timeout 10 scontrol show job "$j" 2>/dev/null | grep -q 'JobState=COMPLETED'; then completed=1; break; fi
        sleep 1
    done
    [ $completed = 1 ] || fail "job $j did not complete"
done
[ "$(timeout 10 scontrol show job "${ARRAY}_1" | sed -n 's/.*Restarts=\([0-9]*\).*/\1/p')" = 1 ] || fail "task 1 was not restarted once"
task1log=$(ls "$T"/work/var-gen-sample_"${ARRAY}"_1.log 2>/dev/null) || fail "no log of task 1"
echo "log of the requeued task 1:"; sed 's/^/    /' "$task1log"
grep -q "restart 1" "$task1log" || fail "task 1's log is not from its restart"
present=$(sed -n "s/.*$PER_TASK images in this shard, \\([0-9]*\\) already present.*/\\1/p" "$task1log")
[ -n "$present" ] && [ "$present" -ge "$requeued" ] && [ "$present" -lt "$PER_TASK" ] \
    || fail "the requeued task did not resume (already present: '${present}', written before: $requeued)"
log "requeued task resumed: $present of $PER_TASK already present"
echo "log of the finish job:"; sed 's/^/    /' "$T/work/var-gen-finish_$FINISH.log"
[ -f "$T/work/slurm-out.npz" ] || fail "the finish job wrote no .npz"

# --- Reference: one process, same settings ---
# shellcheck disable=SC2086
timeout 120 var-gen sample --output "$T/work/single" $FLAGS --threads 1 > "$T/work/single.log" 2>&1 || fail "single-process sample"
timeout 60 var-gen pack "$T/work/single" --output "$T/work/single.npz" >> "$T/work/single.log" 2>&1 || fail "single-process pack"
cmp "$T/work/single.npz" "$T/work/slurm-out.npz" || fail "the Slurm .npz differs from the single-process .npz"
log "Slurm .npz byte-identical to the single-process one ($(stat -c %s "$T/work/single.npz") bytes, $(sha256sum < "$T/work/single.npz" | cut -c1-16))"

# --- GNU parallel: the docs' recipe ---
N=$SHARDS OUT="$T/work/parallel-out" FLAGS="$FLAGS" timeout 180 bash -euo pipefail -c "$PARALLEL_RECIPE" > "$T/work/parallel.log" 2>&1 \
    || { tail -n 20 "$T/work/parallel.log"; fail "the GNU parallel recipe failed"; }
cmp "$T/work/single.npz" "$T/work/parallel-out.npz" || fail "the GNU parallel .npz differs from the single-process .npz"
log "GNU parallel .npz byte-identical to the single-process one"
log "wall time $(($(date +%s) - STARTED)) s"
