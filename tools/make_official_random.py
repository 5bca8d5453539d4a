#!/usr/bin/env python3
"""Official-architecture checkpoints with random but sane weights (for testing/benchmarking the Swift
engine without the real files; never committed).

    python3 tools/make_official_random.py --vae /tmp/vae_random.pth --depth 16 /tmp/var_d16_random.pth
    python3 tools/make_official_random.py --depth 30 /tmp/var_d30_random.pth --dtype f16

No JSON is written: like the official files, their configuration is inferred from the tensors
(256px schedule, φ table [0,0,1,1,1,2,2,3,3,3]). Weights: linear std √(1/3C) with small AdaLN gates,
`scale_mul` ln 4 plus noise; VQVAE PyTorch default init with GroupNorm affine ≈ (1, 0) and a codebook of
std 0.5. Keys, shapes and buffers are exactly the official ones.
"""
from __future__ import annotations

import argparse
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from varref import config as C  # noqa: E402


@torch.no_grad()
def random_var(depth, seed):
    torch.manual_seed(seed)
    var = C.official_var(depth).build()
    var.init_weights(seed)
    g = torch.Generator().manual_seed(seed + 1)
    for b in var.blocks:                      # gates large enough that every block matters
        w = b.ada_lin[1].weight
        w[: 2 * var.C].copy_(torch.randn(w[: 2 * var.C].shape, generator=g) * 0.02)
        b.attn.scale_mul_1H11.add_(0.3 * torch.randn(b.attn.scale_mul_1H11.shape, generator=g))
    var.head.weight.mul_(20.0)                # logits with some structure (not all ≈ 0)
    return var


@torch.no_grad()
def random_vqvae(seed):
    torch.manual_seed(seed)
    vae = C.official_vqvae().build()
    vae.quantize.embedding.weight.normal_(0, 0.5)
    return vae


def save(model, path, dtype):
    C.save_state_dict(model, path, half=(dtype == "f16"))
    print(f"wrote {path} ({os.path.getsize(path) / 1e6:.1f} MB, {dtype})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out", nargs="?", help="VAR checkpoint path (default /tmp/var_d{depth}_random.pth)")
    ap.add_argument("--vae", help="also write a random official VQVAE here")
    ap.add_argument("--depth", type=int, default=16, choices=[16, 20, 24, 30])
    ap.add_argument("--dtype", choices=["f32", "f16"], default="f32")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-var", action="store_true")
    a = ap.parse_args()
    if a.vae:
        save(random_vqvae(a.seed), a.vae, a.dtype)
    if not a.no_var:
        save(random_var(a.depth, a.seed + a.depth), a.out or f"/tmp/var_d{a.depth}_random.pth", a.dtype)


if __name__ == "__main__":
    main()
