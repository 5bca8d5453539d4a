#!/bin/bash
# PyTorch and var-gen on the same official-shape checkpoints, same machine, same thread count, alternating so that
# drift on a shared host reaches both: ROUNDS rounds of batch 1 (PyTorch, then var-gen), then batch 8 once each,
# then the sgemm peak. Every timed step holds /tmp/bench.lock (other benchmarks wait).
#
#   tools/side_by_side.sh VAE.pth VAR.pth [ROUNDS] [THREADS]
#
# Make the checkpoints with tools/make_official_random.py; build var-gen with `swift build -c release` first.
set -euo pipefail
vae=${1:?usage: tools/side_by_side.sh VAE.pth VAR.pth [ROUNDS] [THREADS]}
var=${2:?usage: tools/side_by_side.sh VAE.pth VAR.pth [ROUNDS] [THREADS]}
rounds=${3:-2}
threads=${4:-2}
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/tools/openblas-env.sh"
vargen="${VARGEN:-$here/.build/release/var-gen}"   # VARGEN=path to time another build
sampling=(--cfg 4 --top-k 900 --top-p 0.95)
step() { echo "=== $(date -u +%H:%M:%S) $1"; shift; flock /tmp/bench.lock "$@"; }
for r in $(seq 1 "$rounds"); do
    step "round $r: PyTorch B1" python3 "$here/tools/bench_pytorch.py" --vae "$vae" --var "$var" --batch 1 --repeats 3 \
        --threads "$threads"
    step "round $r: var-gen B1" "$vargen" bench --vae "$vae" --model "$var" --batch 1 -r 3 --warmup 1 \
        --threads "$threads" "${sampling[@]}"
done
step "PyTorch B8" python3 "$here/tools/bench_pytorch.py" --vae "$vae" --var "$var" --batch 8 --repeats 2 --threads "$threads"
step "var-gen B8" "$vargen" bench --vae "$vae" --model "$var" --batch 8 -r 2 --warmup 1 --threads "$threads" "${sampling[@]}"
step "sgemm peak" "$vargen" bench --sgemm -r 5 --threads "$threads"
echo "=== $(date -u +%H:%M:%S) done"
