#!/usr/bin/env python3
"""Compare a var-gen run with a reference run: tokens per scale (exact) and the image (pixel difference).

    python3 tools/reference_generate.py --vae V.pth --var M.pth --class 3 --seed 1 --out /tmp/ref.safetensors
    var-gen generate --vae V.pth --model M.pth --class 3 --seed 1 --output /tmp/a.png --save-tokens /tmp/a.safetensors
    python3 tools/compare_run.py /tmp/ref.safetensors /tmp/a.safetensors /tmp/a.png

The reference image is (decode + 1) / 2 in [0, 1]; it is turned into uint8 with the official conversion
(docs/model.md §6.6: ⌊255·x⌋ after clamping to [0, 1]) before the difference is taken. With several images in the
run, PNGs are given in batch order. Exit status 1 when any token differs.
"""
from __future__ import annotations

import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from varref import st  # noqa: E402


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    ref, ours, pngs = st.read(sys.argv[1]), st.read(sys.argv[2]), sys.argv[3:]
    S = len([k for k in ref if k.startswith("run.tokens.s")])
    differing = 0
    for si in range(S):
        a = ref[f"run.tokens.s{si}"].numpy().reshape(-1)
        b = ours[f"scale_{si}"].numpy().reshape(-1)
        if a.shape != b.shape:
            sys.exit(f"scale {si}: reference has {a.size} tokens, var-gen {b.size}")
        n = int((a != b).sum())
        differing += n
        print(f"scale {si}: {a.size} tokens, {n} differ")
    img = ref["run.image"].numpy()                                  # (B, 3, H, W) in [0, 1]
    want = np.floor(np.clip(img, 0, 1) * 255).astype(np.uint8).transpose(0, 2, 3, 1)
    for i, p in enumerate(pngs):
        got = np.asarray(Image.open(p).convert("RGB"))
        d = np.abs(got.astype(np.int32) - want[i].astype(np.int32))
        print(f"image {i} ({p}): max |Δ| {d.max()} of 255, mean |Δ| {d.mean():.4f}, "
              f"pixels off by >1: {(d > 1).any(axis=2).sum()} of {d.shape[0] * d.shape[1]}")
    print(f"tokens differing in all: {differing}")
    sys.exit(1 if differing else 0)


if __name__ == "__main__":
    main()
