#!/usr/bin/env python3
"""Class-conditional editing of the shipped model, scored with the MNIST classifier of evaluate.py.

    python3 tools/eval_edit.py [--var-gen .build/release/var-gen] [--inputs-per-class 1] [--box 0.5,0,1,1]
                               [--count 2] [--work /tmp/eval_edit] [-- extra var-gen flags, e.g. --draft-steps 4]

Inputs: held-out real digits (tools/make_digits.py), `--inputs-per-class` of each class. For every input and
every target class c, runs `var-gen edit --input IN --box BOX --class c --count K --seed 0` (default box:
keep the top half, regenerate the bottom half) and classifies the K edited digits. Prints the fraction
classified as the requested class (overall, for target ≠ source, and per target class) and, for scale, the
classifier's verdict on the unedited inputs.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from evaluate import load_classifier, to_input  # noqa: E402
from make_digits import held_out  # noqa: E402
from varref import png  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--var-gen", default=os.path.join(os.path.dirname(HERE), ".build", "release", "var-gen"))
    ap.add_argument("--inputs-per-class", type=int, default=1)
    ap.add_argument("--box", default="0.5,0,1,1")
    ap.add_argument("--count", type=int, default=2)
    ap.add_argument("--work", default="/tmp/eval_edit")
    ap.add_argument("extra", nargs="*", help="more var-gen edit flags (after --)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(a.work, exist_ok=True)
    net = load_classifier()
    inputs = held_out(a.inputs_per_class, range(10))
    src_imgs, preds, rows = [], [], []
    t0 = time.time()
    for c_src, j, img in inputs:
        inp = os.path.join(a.work, f"in_{c_src}_{j}.png")
        png.write(inp, np.repeat(img[:, :, None], 3, axis=2))
        src_imgs.append(png.read(inp)[0])
        for c in range(10):
            out = os.path.join(a.work, f"edit_{c_src}_{j}_to_{c}.png")
            cmd = [a.var_gen, "edit", "--input", inp, "--box", a.box, "--class", str(c), "--count", str(a.count),
                   "--seed", "0", "--output", out] + a.extra
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                sys.exit(f"var-gen failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr}")
            paths = r.stdout.split()
            edited = np.stack([png.read(p)[0] for p in paths if p.endswith(".png")])
            with torch.no_grad():
                p = net(to_input(edited)).argmax(1).numpy()
            for k in range(len(p)):
                rows.append((c_src, c, int(p[k])))
    dt = time.time() - t0
    rows = np.array(rows)
    with torch.no_grad():
        src_pred = net(to_input(np.stack(src_imgs))).argmax(1).numpy()
    src_lab = np.array([c for c, _, _ in inputs])
    hit = rows[:, 2] == rows[:, 1]
    changed = rows[:, 0] != rows[:, 1]
    print(f"{len(inputs)} inputs × 10 target classes × {a.count} seeds = {len(rows)} edits, box {a.box}, "
          f"flags {' '.join(a.extra) or '(defaults)'}, {dt:.0f} s")
    print(f"unedited inputs classified as their own class: {(src_pred == src_lab).mean() * 100:.1f} %")
    print(f"edits classified as the requested class: {hit.mean() * 100:.1f} % ({hit.sum()}/{len(rows)}); "
          f"target ≠ source: {hit[changed].mean() * 100:.1f} %; target = source: {hit[~changed].mean() * 100:.1f} %")
    print(f"edits still classified as the source class when target ≠ source: "
          f"{(rows[changed, 2] == rows[changed, 0]).mean() * 100:.1f} %")
    print("| target class | " + " | ".join(str(c) for c in range(10)) + " |")
    print("|---|" + "---|" * 10)
    print("| classified as target | " + " | ".join(
        f"{hit[rows[:, 1] == c].mean() * 100:.0f} %" for c in range(10)) + " |")


if __name__ == "__main__":
    main()
