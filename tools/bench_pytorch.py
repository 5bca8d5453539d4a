#!/usr/bin/env python3
"""Time the PyTorch reference (CPU, float32): seconds per image, transformer+sampling vs VQVAE decode,
peak RSS. Warm-up, then the median (and min/max) of repeats.

    python3 tools/bench_pytorch.py --vae /tmp/vae_random.pth --var /tmp/var_d16_random.pth --batch 1 4
    python3 tools/bench_pytorch.py --vae /tmp/vae_random.pth --var /tmp/var_d30_random.pth \
        --refiner /tmp/var_d16_random.pth --draft-steps 8 --batch 1

Default sampling: cfg 4, top-k 900, top-p 0.95 (CoDe: top-k 600, temperature 1.1×7 then 1.0).
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from varref import config as C  # noqa: E402
from varref.generate import Sampling, _run, draft, refine  # noqa: E402


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vae", required=True)
    ap.add_argument("--var", required=True)
    ap.add_argument("--refiner")
    ap.add_argument("--draft-steps", type=int, default=8)
    ap.add_argument("--batch", type=int, nargs="+", default=[1])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    vae = C.load_model(a.vae)[0]
    var, cfg = C.load_model(a.var)
    refiner = C.load_model(a.refiner)[0] if a.refiner else None
    S = len(var.patch_sizes)
    if refiner is not None:
        st = Sampling(cfg=4.0, top_k=600, top_p=0.95, temperature=[1.1] * 7 + [1.0] * (S - 7))
    else:
        st = Sampling(cfg=4.0, top_k=900, top_p=0.95)
    print(f"# torch {torch.__version__}, threads {a.threads}, {platform.processor() or platform.machine()}, "
          f"model d{var.depth}" + (f" + refiner d{refiner.depth}, N={a.draft_steps}" if refiner else ""))
    print("| batch | s/image transformer+sampling (median [min, max]) | s/image VQVAE decode | peak RSS MB |")
    print("|---|---|---|---|")
    for B in a.batch:
        labels = list(range(B))
        tt, td = [], []
        for r in range(a.repeats + 1):                                    # first run = warm-up
            t0 = time.perf_counter()
            with torch.no_grad():
                if refiner is None:
                    f_hat = _run(var, vae, labels, r, st, S)["f_hat"]
                else:
                    d = draft(var, vae, labels, r, st, a.draft_steps)
                    f_hat = _refine_no_decode(refiner, vae, labels, r, st, a.draft_steps, d)
                t1 = time.perf_counter()
                img = vae.fhat_to_img(f_hat)
                t2 = time.perf_counter()
            if r > 0:
                tt.append((t1 - t0) / B)
                td.append((t2 - t1) / B)
        print(f"| {B} | {statistics.median(tt):.3f} [{min(tt):.3f}, {max(tt):.3f}] | "
              f"{statistics.median(td):.3f} | {peak_rss_mb():.0f} |", flush=True)
        del img


def _refine_no_decode(refiner, vae, labels, seed, st, N, d):
    # refine() decodes at the end; time the decode separately by swapping in an identity decode
    orig = vae.fhat_to_img
    vae.fhat_to_img = lambda f: f
    try:
        return refine(refiner, vae, labels, seed, st, N, d["f_hat"], d["hub"])["f_hat"]
    finally:
        vae.fhat_to_img = orig


if __name__ == "__main__":
    main()
