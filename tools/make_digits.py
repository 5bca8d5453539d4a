#!/usr/bin/env python3
"""Real MNIST digits as 32×32 RGB PNGs (inputs for `var-gen edit`), from the held-out split.

    python3 tools/make_digits.py --out DIR [--per-class 1] [--classes 0-9]

Writes DIR/real_{class}_{j}.png: the j-th held-out digit of that class (held-out order of tools/varref/data.py),
padded 28→32 like the training data, grey replicated to RGB (white digit on black). Prints the paths.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from varref import data, png  # noqa: E402


def held_out(per_class, classes):
    """[(class, j, (32, 32) uint8)] in class order."""
    _, (x, y) = data.split()
    out = []
    for c in classes:
        idx = np.nonzero(y == c)[0][:per_class]
        out += [(c, j, x[i]) for j, i in enumerate(idx)]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--per-class", type=int, default=1)
    ap.add_argument("--classes", default="0-9", help="a-b or a comma list")
    a = ap.parse_args()
    cls = (list(range(int(a.classes.split("-")[0]), int(a.classes.split("-")[1]) + 1)) if "-" in a.classes
           else [int(c) for c in a.classes.split(",")])
    os.makedirs(a.out, exist_ok=True)
    for c, j, img in held_out(a.per_class, cls):
        path = os.path.join(a.out, f"real_{c}_{j}.png")
        png.write(path, np.repeat(img[:, :, None], 3, axis=2), {"var-gen": f"held-out MNIST digit class={c} index={j}"})
        print(path)


if __name__ == "__main__":
    main()
