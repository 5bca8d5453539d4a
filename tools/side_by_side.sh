#!/bin/bash
# PyTorch and var-gen on the same official-shape checkpoints, same machine, same thread count, alternating so that
# drift on a shared host reaches both. Every timed step holds /tmp/bench.lock (other benchmarks wait) and runs under
# /usr/bin/time -v, whose peak RSS is printed after the step.
#
#   tools/side_by_side.sh [options] VAE.pth VAR_D16.pth [ROUNDS] [THREADS]
#
# Without --official: the project's own PyTorch reference (tools/bench_pytorch.py) against var-gen: ROUNDS rounds of
# VAR-d16 batch 1, then batch 8 once each, then the sgemm peak.
#
# With --official VAR_CHECKOUT: the OFFICIAL code (tools/bench_official.py imports the checkout) against var-gen,
# ROUNDS rounds over the configurations (default d16b1,d16b8; d30,code8,code6 need --d30 and, for CoDe,
# --official-code); in each round every configuration runs official then var-gen, the order flipping every round.
#   --official DIR        checkout of FoundationVision/VAR
#   --official-code DIR   checkout of czg1225/CoDe (configurations code8, code6: drafter d30, refiner d16)
#   --d30 FILE            official-shape VAR-d30 checkpoint (configurations d30, code8, code6)
#   --configs LIST        comma list of d16b1, d16b8, d30, code8, code6
#   --reference           also run tools/bench_pytorch.py (the project's PyTorch reference) for d16b1
#   --var-gen-first       var-gen runs first in odd rounds (default: the official code first in odd rounds)
#   --q8                  after each var-gen float32 step, the same step with --weights q8 (every model in q8)
#
# Make the checkpoints with tools/make_official_random.py; build var-gen with `swift build -c release` first.
# VARGEN=path times another var-gen build.
set -euo pipefail
usage="usage: tools/side_by_side.sh [--official DIR [--official-code DIR] [--d30 FILE] [--configs LIST] [--reference] [--var-gen-first] [--q8]] VAE.pth VAR_D16.pth [ROUNDS] [THREADS]"
official="" official_code="" d30="" configs="" reference=0 vgfirst=0 q8=0
while [ $# -gt 0 ]; do
    case "$1" in
        --official) official=${2:?$usage}; shift 2 ;;
        --official-code) official_code=${2:?$usage}; shift 2 ;;
        --d30) d30=${2:?$usage}; shift 2 ;;
        --configs) configs=${2:?$usage}; shift 2 ;;
        --reference) reference=1; shift ;;
        --var-gen-first) vgfirst=1; shift ;;
        --q8) q8=1; shift ;;
        --help|-h) echo "$usage"; exit 0 ;;
        --*) echo "unknown option $1; $usage" >&2; exit 2 ;;
        *) break ;;
    esac
done
vae=${1:?$usage}
var=${2:?$usage}
rounds=${3:-2}
threads=${4:-2}
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/tools/openblas-env.sh"
vargen="${VARGEN:-$here/.build/release/var-gen}"   # VARGEN=path to time another build
for f in "$vae" "$var" ${d30:+"$d30"}; do [ -f "$f" ] || { echo "no such checkpoint: $f" >&2; exit 2; }; done
[ -x "$vargen" ] || { echo "no var-gen binary at $vargen (swift build -c release)" >&2; exit 2; }

rss_file=$(mktemp)
trap 'rm -f "$rss_file"' EXIT
# step LABEL CMD…: run under the lock and /usr/bin/time -v; print the process's peak RSS afterwards.
step() {
    local label=$1; shift
    echo "=== $(date -u +%H:%M:%S) $label"
    flock /tmp/bench.lock /usr/bin/time -v -o "$rss_file" "$@"
    echo "--- $label: peak RSS $(awk -F': ' '/Maximum resident set size/ { printf "%.0f MB", $2 / 1024 }' "$rss_file")" \
         "(/usr/bin/time -v), wall $(awk -F'): ' '/Elapsed \(wall clock\)/ { print $2 }' "$rss_file")"
}

echo "# CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "# flags: $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "# OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset (OpenBLAS detects the core; var-gen bench prints it)}; threads $threads; rounds $rounds"
echo "# var-gen: $vargen ($(git -C "$here" describe --always --dirty 2>/dev/null || echo unknown))"
python3 -c 'import torch; print("# torch", torch.__version__, "CPU capability", torch.backends.cpu.get_cpu_capability())'

if [ -z "$official" ]; then
    sampling=(--cfg 4 --top-k 900 --top-p 0.95)
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
    exit 0
fi

configs=${configs:-d16b1,d16b8${d30:+,d30}${d30:+${official_code:+,code8,code6}}}
var_sampling=(--cfg 4 --top-k 900 --top-p 0.95)
code_sampling=(--cfg 4 --top-k 600 --top-p 0.95 --temp 1.1/1.1/1.1/1.1/1.1/1.1/1.1/1.0/1.0/1.0)   # the CoDe script's (bench: `/` joins one value per scale; a comma would sweep)
official_py=(python3 "$here/tools/bench_official.py" --threads "$threads" --vae "$vae")
vg=("$vargen" bench --vae "$vae" --threads "$threads" --warmup 1)
# run_config NAME WHO: one configuration, official or var-gen.
run_config() {
    local name=$1 who=$2
    if [ "$who" = var-gen-q8 ]; then
        local saved=("${vg[@]}")
        vg+=(--weights q8)
        run_config "$name" var-gen q8
        vg=("${saved[@]}")
        return 0
    fi
    local tag=${3:+ $3}
    case "$name" in
        d16b1) [ "$who" = official ] && step "$name official" "${official_py[@]}" --src "$official" --var "$var" --batch 1 --repeats 3
               [ "$who" = var-gen ] && step "$name var-gen$tag" "${vg[@]}" --model "$var" --batch 1 -r 3 "${var_sampling[@]}" ;;
        d16b8) [ "$who" = official ] && step "$name official" "${official_py[@]}" --src "$official" --var "$var" --batch 8 --repeats 2
               [ "$who" = var-gen ] && step "$name var-gen$tag" "${vg[@]}" --model "$var" --batch 8 -r 2 "${var_sampling[@]}" ;;
        d30)   [ -n "$d30" ] || { echo "d30 needs --d30" >&2; exit 2; }
               [ "$who" = official ] && step "$name official" "${official_py[@]}" --src "$official" --var "$d30" --batch 1 --repeats 2
               [ "$who" = var-gen ] && step "$name var-gen$tag" "${vg[@]}" --model "$d30" --batch 1 -r 2 "${var_sampling[@]}" ;;
        code8|code6)
               [ -n "$d30" ] && [ -n "$official_code" ] || { echo "$name needs --d30 and --official-code" >&2; exit 2; }
               local n=${name#code}
               [ "$who" = official ] && step "$name official" "${official_py[@]}" --src "$official_code" --var "$d30" \
                   --refiner "$var" --draft-steps "$n" --batch 1 --repeats 2
               [ "$who" = var-gen ] && step "$name var-gen$tag" "${vg[@]}" --drafter "$d30" --refiner "$var" --draft-steps "$n" \
                   --batch 1 -r 2 "${code_sampling[@]}" ;;
        *) echo "unknown configuration '$name' (d16b1, d16b8, d30, code8, code6)" >&2; exit 2 ;;
    esac
    return 0
}
IFS=, read -r -a list <<< "$configs"
for r in $(seq 1 "$rounds"); do
    if [ $(((r % 2) ^ vgfirst)) -eq 1 ]; then order=(official var-gen); else order=(var-gen official); fi
    [ "$q8" = 1 ] && order+=(var-gen-q8)
    for c in "${list[@]}"; do
        echo "### round $r: $c"
        for who in "${order[@]}"; do run_config "$c" "$who"; done
        if [ "$reference" = 1 ] && [ "$c" = d16b1 ]; then
            step "d16b1 reference (tools/bench_pytorch.py)" python3 "$here/tools/bench_pytorch.py" --vae "$vae" --var "$var" \
                --batch 1 --repeats 3 --threads "$threads"
        fi
    done
done
step "sgemm peak" "$vargen" bench --sgemm -r 5 --threads "$threads"
echo "=== $(date -u +%H:%M:%S) done"
