#!/usr/bin/env python3
"""Train the shipped MNIST models (weights/): `vqvae`, then `var --kind drafter|refiner`.

  python3 tools/train.py vqvae --out weights --minutes 14 --batch 32 --lr 2e-3
  python3 tools/train.py tokens --out weights          # token pyramids of the training split (cache)
  python3 tools/train.py var --kind drafter --out weights --minutes 36 --batch 48 --lr 1e-3
  python3 tools/train.py var --kind refiner --out weights --minutes 26 --batch 48 --lr 1.5e-3

Deterministic for a given thread count (seeded init, data order and label dropout).
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from varref import config as C  # noqa: E402
from varref import data  # noqa: E402


def cosine_lr(step, progress, base, warm=50):
    """Linear warm-up over `warm` steps, then cosine decay to 5 % over `progress` ∈ [0, 1]."""
    if step < warm:
        return base * (step + 1) / warm
    return base * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0))))


class Budget:
    """Training length as a step count or a wall-clock budget (the machine is shared, so a time budget
    keeps the schedule complete; the step count reached is logged and recorded in weights/README.md)."""

    def __init__(self, steps, minutes):
        self.steps, self.seconds, self.t0 = steps, (minutes or 0) * 60, time.time()

    def progress(self, step):
        if self.seconds:
            return (time.time() - self.t0) / self.seconds
        return step / self.steps

    def done(self, step):
        return self.progress(step) >= 1.0 or (not self.seconds and step >= self.steps)


def train_vqvae(a):
    torch.manual_seed(a.seed)
    cfg = C.shipped_vqvae()
    vae = cfg.build()
    with torch.no_grad():
        vae.quantize.embedding.weight.uniform_(-1 / cfg.vocab_size, 1 / cfg.vocab_size)
    (xtr, _), (xte, _) = data.split()
    X = data.to_model(xtr)
    Xte = data.to_model(xte)
    opt = torch.optim.AdamW(vae.parameters(), lr=a.lr, betas=(0.9, 0.95), weight_decay=0.0)
    rng = np.random.RandomState(a.seed)
    usage = torch.zeros(cfg.vocab_size)
    t0 = time.time()
    budget = Budget(a.steps, a.minutes)
    step = 0
    while not budget.done(step):
        for gp in opt.param_groups:
            gp["lr"] = cosine_lr(step, budget.progress(step), a.lr)
        bi = rng.randint(0, len(X), a.batch)
        x = X[bi]
        f = vae.encode_f(x)
        f_st, vq_loss, idxs, zs = vae.quantize.quantize_train(f)
        rec = vae.decoder(vae.post_quant_conv(f_st))
        l2 = F.mse_loss(rec, x)
        l1 = F.l1_loss(rec, x)
        loss = l2 + 0.5 * l1 + vq_loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(vae.parameters(), 2.0)
        opt.step()
        for idx in idxs:
            usage += torch.bincount(idx.flatten(), minlength=cfg.vocab_size).float()
        if (step + 1) % 50 == 0:
            dead = (usage == 0).nonzero().flatten()
            if len(dead) > 0 and budget.progress(step) < 0.8:      # restart unused codes from recent vectors
                pick = torch.from_numpy(rng.randint(0, len(zs), len(dead)))
                with torch.no_grad():
                    vae.quantize.embedding.weight[dead] = zs[pick] + 1e-3 * torch.randn(len(dead), zs.shape[1])
            print(f"step {step+1} loss {loss.item():.4f} l2 {l2.item():.4f} vq {vq_loss.item():.4f} "
                  f"dead {len(dead)} t {time.time()-t0:.0f}s", flush=True)
            usage.zero_()
        step += 1
    print(f"trained {step} steps", flush=True)
    vae.eval()
    with torch.no_grad():
        rec = torch.cat([vae.idx_to_img(vae.img_to_idx(Xte[i:i + 250])) for i in range(0, len(Xte), 250)])
        mse = F.mse_loss(rec, Xte).item()
    print(f"held-out token reconstruction MSE ([-1,1] scale) {mse:.5f}; wall {time.time()-t0:.0f}s", flush=True)
    os.makedirs(a.out, exist_ok=True)
    C.save_state_dict(vae, os.path.join(a.out, "vqvae.pth"))
    C.write_json(cfg, os.path.join(a.out, "vqvae.json"))


def encode_tokens(vae, x_u8, batch=500):
    """Token pyramids of uint8 digits, concatenated over scales: (N, L) int64."""
    out = []
    with torch.no_grad():
        for i in range(0, len(x_u8), batch):
            idx = vae.img_to_idx(data.to_model(x_u8[i:i + batch]))
            out.append(torch.cat(idx, dim=1))
    return torch.cat(out)


def train_var(a):
    torch.manual_seed(a.seed)
    vae, vcfg = C.load_model(os.path.join(a.out, "vqvae.pth"))
    cfg = C.shipped_var(a.kind)
    var = cfg.build()
    var.init_weights(a.seed)
    (xtr, ytr), _ = data.split()
    t0 = time.time()
    shifts = [(0, 0)] + ([(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)]
                         if a.shift_aug else [])
    cache = os.path.join(a.out, ".train_tokens.pt")     # written by `train.py tokens`, shared by both VARs
    if os.path.exists(cache) and not a.shift_aug:
        toks = torch.load(cache)
    else:
        toks = torch.cat([encode_tokens(vae, data.shift(xtr, dy, dx)) for dy, dx in shifts])
    labels = torch.from_numpy(np.tile(ytr, len(shifts)))
    print(f"encoded {len(toks)} token pyramids in {time.time()-t0:.0f}s", flush=True)
    ps = cfg.patch_sizes
    cuts = np.cumsum([0] + [p * p for p in ps])
    opt = torch.optim.AdamW(var.parameters(), lr=a.lr, betas=(0.9, 0.95), weight_decay=0.05)
    rng = np.random.RandomState(a.seed)
    gdrop = torch.Generator().manual_seed(a.seed + 1)
    t0 = time.time()
    q = vae.quantize
    budget = Budget(a.steps, a.minutes)
    step = 0
    while not budget.done(step):
        for gp in opt.param_groups:
            gp["lr"] = cosine_lr(step, budget.progress(step), a.lr)
        bi = torch.from_numpy(rng.randint(0, len(toks), a.batch))
        tk = toks[bi]
        y = labels[bi].clone()
        y[torch.rand(len(y), generator=gdrop) < 0.1] = cfg.num_classes          # label dropout
        idx_list = [tk[:, cuts[i]:cuts[i + 1]] for i in range(len(ps))]
        with torch.no_grad():
            xin = q.teacher_inputs(idx_list)
        logits = var(y, xin)
        loss = F.cross_entropy(logits.reshape(-1, cfg.vocab_size), tk.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(var.parameters(), 2.0)
        opt.step()
        if (step + 1) % 50 == 0:
            print(f"step {step+1} loss {loss.item():.4f} t {time.time()-t0:.0f}s", flush=True)
        if a.snapshot_every and (step + 1) % a.snapshot_every == 0:        # usable intermediate weights
            C.save_state_dict(var, os.path.join(a.out, f"{a.kind}.pth"))
            C.write_json(cfg, os.path.join(a.out, f"{a.kind}.json"))
        step += 1
    print(f"trained {step} steps; wall {time.time()-t0:.0f}s", flush=True)
    var.eval()
    C.save_state_dict(var, os.path.join(a.out, f"{a.kind}.pth"))
    C.write_json(cfg, os.path.join(a.out, f"{a.kind}.json"))


def write_tokens(a):
    vae, _ = C.load_model(os.path.join(a.out, "vqvae.pth"))
    (xtr, _), _ = data.split()
    t0 = time.time()
    torch.save(encode_tokens(vae, xtr), os.path.join(a.out, ".train_tokens.pt"))
    print(f"encoded {len(xtr)} training digits in {time.time()-t0:.0f}s", flush=True)


def write_var_json(a):
    """Rewrite weights/{drafter,refiner}.json from config.py (e.g. after changing SHIPPED_SAMPLING)."""
    for kind in ("drafter", "refiner"):
        C.write_json(C.shipped_var(kind), os.path.join(a.out, f"{kind}.json"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["vqvae", "tokens", "var", "json"])
    ap.add_argument("--kind", choices=["drafter", "refiner"], default="drafter")
    ap.add_argument("--out", default="weights")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--minutes", type=float, default=None, help="wall-clock budget instead of --steps")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--shift-aug", action="store_true")
    ap.add_argument("--snapshot-every", type=int, default=0, help="also save the VAR every n steps")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.lr is None:
        a.lr = 1e-3 if a.what == "vqvae" else 6e-4
    {"vqvae": train_vqvae, "tokens": write_tokens, "var": train_var, "json": write_var_json}[a.what](a)


if __name__ == "__main__":
    main()
