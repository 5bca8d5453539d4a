#!/bin/bash
# Submits a sharded `var-gen sample` run: tools/slurm/sample.sbatch as an array of SHARDS tasks, then
# tools/slurm/finish.sbatch (verify and pack) as a job that starts only when every task succeeded.
#
#   tools/slurm/submit.sh SHARDS OUTPUT_DIR OUT.npz [var-gen sample flags …]
#
# Extra sbatch options for the array (partition, time limit, CPUs per task) go in SAMPLE_SBATCH_OPTIONS,
# e.g. SAMPLE_SBATCH_OPTIONS="--cpus-per-task=8 --time=12:00:00"; for the finishing job in FINISH_SBATCH_OPTIONS.
# VARGEN (the var-gen executable) is passed on to the jobs. Prints the two job IDs.
set -euo pipefail
if [ $# -lt 3 ] || ! [[ $1 =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: tools/slurm/submit.sh SHARDS OUTPUT_DIR OUT.npz [var-gen sample flags …]" >&2
    exit 2
fi
shards=$1 out=$2 npz=$3; shift 3
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
# Check the flags before anything is queued: --status fails fast on a typo or a missing model (exit 2);
# 3 (incomplete) is what a new or partly done directory gives.
rc=0
check=$("${VARGEN:-var-gen}" sample --status "$out" --shard "0/$shards" "$@" 2>&1 >/dev/null) || rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then echo "$check" >&2; exit $rc; fi
# shellcheck disable=SC2086
array=$(sbatch --parsable --array="0-$((shards - 1))" ${SAMPLE_SBATCH_OPTIONS:-} "$here/sample.sbatch" "$out" "$@")
array=${array%%;*}
# shellcheck disable=SC2086
finish=$(SHARDS=$shards sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes \
    ${FINISH_SBATCH_OPTIONS:-} "$here/finish.sbatch" "$out" "$npz" "$@")
finish=${finish%%;*}
echo "sample array $array ($shards tasks), finish job $finish (afterok:$array)"
