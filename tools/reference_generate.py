#!/usr/bin/env python3
"""Generate with the reference from any checkpoint(s) and write tokens/image to a .safetensors.

    python3 tools/reference_generate.py --vae /tmp/vae.pth --var /tmp/var_d16.pth \
        --class 207 --seed 0 --cfg 4 --top-k 900 --top-p 0.95 --out /tmp/ref_d16.safetensors
    python3 tools/reference_generate.py --vae weights/vqvae.pth --var weights/drafter.pth \
        --refiner weights/refiner.pth --draft-steps 3 --class 3 --class 7 --seed 5 --out /tmp/code.safetensors

A checkpoint with a JSON of the same stem beside it uses that configuration; otherwise the official
configuration is inferred from the tensors. Output tensors: the run group `run.*` of
Tests/Fixtures/README.md (labels, seed, cfg, top_k, top_p, temperature, more_smooth, tokens.s{si},
f_hat, image, min_margin; hub/draft_f_hat with a refiner).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_fixtures import put_run  # noqa: E402
from varref import config as C  # noqa: E402
from varref import st  # noqa: E402
from varref.generate import Sampling, code_generate, generate, min_margin  # noqa: E402


def floats(s):
    v = [float(x) for x in s.split(",")]
    return v[0] if len(v) == 1 else v


def ints(s):
    v = [int(x) for x in s.split(",")]
    return v[0] if len(v) == 1 else v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vae", required=True)
    ap.add_argument("--var", required=True)
    ap.add_argument("--refiner")
    ap.add_argument("--draft-steps", type=int, default=None)
    ap.add_argument("--class", dest="classes", type=int, action="append", help="repeat for a batch")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cfg", type=float, default=None)
    ap.add_argument("--top-k", type=ints, default=None, help="int or comma list per scale")
    ap.add_argument("--top-p", type=float, default=None)
    ap.add_argument("--temperature", type=floats, default=None, help="float or comma list per scale")
    ap.add_argument("--more-smooth", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    vae = C.load_model(a.vae)[0]
    var, cfg = C.load_model(a.var)
    d = cfg.sampling or (C.Defaults(cfg=4.0, top_k=900, top_p=0.95) if cfg.num_classes == 1000 else C.Defaults())
    stg = Sampling(cfg=d.cfg if a.cfg is None else a.cfg, top_k=d.top_k if a.top_k is None else a.top_k,
                   top_p=d.top_p if a.top_p is None else a.top_p,
                   temperature=d.temperature if a.temperature is None else a.temperature,
                   more_smooth=a.more_smooth or d.more_smooth)
    labels = a.classes or [0]
    t0 = time.time()
    if a.refiner:
        refiner = C.load_model(a.refiner)[0]
        N = a.draft_steps if a.draft_steps is not None else d.draft_steps
        out = code_generate(var, refiner, vae, labels, a.seed, stg, N)
    else:
        out = generate(var, vae, labels, a.seed, stg)
    S = len(var.patch_sizes)
    t = {}
    put_run(t, "run", out, labels, a.seed, stg, S)
    st.write(a.out, t, {"command": " ".join(sys.argv)})
    print(f"{a.out}: labels {labels} seed {a.seed} {stg} min margin {min_margin(out):.5f} "
          f"({time.time() - t0:.1f}s)")


if __name__ == "__main__":
    main()
