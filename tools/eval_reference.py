#!/usr/bin/env python3
"""Quality table of the shipped models with the reference: drafter-only, refiner-only, CoDe N = 1…5.

    python3 tools/eval_reference.py --per-class 20             # settings from weights/drafter.json
    python3 tools/eval_reference.py --per-class 10 --sweep     # drafter-only, a small cfg/top-k grid

Class c uses seed 1000·c (image i of the class: seed 1000·c + i). Prints a Markdown table.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from evaluate import Evaluator  # noqa: E402
from varref import config as C  # noqa: E402
from varref.generate import Sampling, code_generate, generate  # noqa: E402

W = os.path.join(os.path.dirname(HERE), "weights")


def to_u8(img):
    """(B, 3, H, W) in [0, 1] → (B, H, W, 3) uint8 with ⌊255·x⌋ (docs/model.md §6.6)."""
    return (img.clamp(0, 1) * 255).floor().to(torch.uint8).permute(0, 2, 3, 1).numpy()


def run_mode(vae, drafter, refiner, mode, N, st, per_class):
    imgs, labels = [], []
    t0 = time.time()
    for c in range(10):
        lab = [c] * per_class
        if mode == "drafter":
            out = generate(drafter, vae, lab, 1000 * c, st)
        elif mode == "refiner":
            out = generate(refiner, vae, lab, 1000 * c, st)
        else:
            out = code_generate(drafter, refiner, vae, lab, 1000 * c, st, N)
        imgs.append(to_u8(out["image"]))
        labels += lab
    return np.concatenate(imgs), np.array(labels), time.time() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-class", type=int, default=20)
    ap.add_argument("--sweep", action="store_true")
    ap.add_argument("--cfg", type=float)
    ap.add_argument("--top-k", type=int)
    ap.add_argument("--top-p", type=float)
    ap.add_argument("--temperature", type=float)
    ap.add_argument("--modes", default="drafter,refiner,code1,code2,code3,code4,code5")
    ap.add_argument("--save-npz", help="directory for one .npz per mode")
    a = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("THREADS", "1")))
    vae = C.load_model(os.path.join(W, "vqvae.pth"))[0]
    drafter, dcfg = C.load_model(os.path.join(W, "drafter.pth"))
    rp = os.path.join(W, "refiner.pth")
    refiner = C.load_model(rp)[0] if os.path.exists(rp) else None
    d = dcfg.sampling or C.Defaults()
    st = Sampling(cfg=d.cfg if a.cfg is None else a.cfg, top_k=d.top_k if a.top_k is None else a.top_k,
                  top_p=d.top_p if a.top_p is None else a.top_p,
                  temperature=d.temperature if a.temperature is None else a.temperature)
    ev = Evaluator()
    n = 10 * a.per_class
    print(f"classifier held-out accuracy {ev.test_acc * 100:.2f}%; real-vs-real FID at n={n}: {ev.baseline_fid(n):.3f}")
    if a.sweep:
        print("| cfg | top-k | top-p | drafter accuracy | FID |\n|---|---|---|---|---|")
        for cfg in (0.5, 1.0, 1.5, 2.0, 3.0):
            for tk, tp in ((0, 0.0),):
                s = Sampling(cfg=cfg, top_k=tk, top_p=tp)
                x, y, _ = run_mode(vae, drafter, refiner, "drafter", 0, s, a.per_class)
                acc, f = ev(x, y)
                print(f"| {cfg} | {tk} | {tp} | {acc * 100:.1f}% | {f:.2f} |", flush=True)
        return
    print(f"settings: {st}, {a.per_class} per class, seeds 1000·class + i")
    print("| mode | class accuracy | FID (classifier features) | seconds |\n|---|---|---|---|")
    from varref import data
    (xtr, ytr), (xte, yte) = data.split()
    with torch.no_grad():
        rec = (vae.idx_to_img(vae.img_to_idx(data.to_model(xtr[:n]))) + 1) * 0.5
    acc, f = ev(to_u8(rec), ytr[:n])
    print(f"| VQVAE reconstruction of {n} training digits | {acc * 100:.1f}% | {f:.2f} | |", flush=True)
    for m in a.modes.split(","):
        mode, N = ("code", int(m[4:])) if m.startswith("code") else (m, 0)
        x, y, sec = run_mode(vae, drafter, refiner, mode, N, st, a.per_class)
        acc, f = ev(x, y)
        name = {"drafter": "drafter only", "refiner": "refiner only"}.get(mode, f"CoDe N={N}")
        print(f"| {name} | {acc * 100:.1f}% | {f:.2f} | {sec:.1f} |", flush=True)
        if a.save_npz:
            os.makedirs(a.save_npz, exist_ok=True)
            np.savez(os.path.join(a.save_npz, f"{m}.npz"), x, y)


if __name__ == "__main__":
    main()
