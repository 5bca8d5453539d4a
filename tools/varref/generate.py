"""Generation: plain VAR (docs/model.md §6.1), CoDe drafter/refiner (§7), zero-shot editing (§11 step 3).

All functions take `labels` as a list/1-D tensor of class ids (negative → unconditional = num_classes)
and a `seed`; image i uses `torch.Generator().manual_seed(seed + i)`. They return a dict with
`tokens` ([(B, pn²)] int64 per scale), `f_hat` (B, Cvae, side, side), `image` (B, 3, H, W) in [0, 1]
and `margins` ([(B, pn²)] best/second-best p/E ratio of every draw).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Union

import torch

from .sampling import exponentials, filter_top_k_top_p, per_scale, sample_from_probs
from .var import VAR
from .vqvae import VQVAE


@dataclass
class Sampling:
    """cfg: guidance at the last scale (ramped t = cfg·s/(S−1)); top_k/temperature may be per-scale lists."""
    cfg: float = 1.5
    top_k: Union[int, Sequence[int]] = 0
    top_p: float = 0.0
    temperature: Union[float, Sequence[float]] = 1.0
    more_smooth: bool = False


@dataclass
class Edit:
    """Token teacher-forcing (docs/model.md §11): per-scale keep masks (bool [pn, pn]) and the original tokens."""
    keep: List[torch.Tensor]          # [(pn, pn)] bool, 1 = keep original
    tokens: List[torch.Tensor]        # [(B, pn²)] or [(1, pn²)] int64


def make_generators(seed: int, B: int) -> List[torch.Generator]:
    return [torch.Generator().manual_seed(seed + i) for i in range(B)]


def _labels2(var: VAR, labels) -> torch.Tensor:
    y = torch.as_tensor(labels, dtype=torch.int64).view(-1).clone()
    y[y < 0] = var.num_classes
    return torch.cat((y, torch.full_like(y, var.num_classes)))   # conditional rows first (pitfall 22)


def _skip_draws(gens, vae: VQVAE, scales: range, st: Sampling):
    """Advance every image's generator past the draws of `scales` (CoDe replay, docs/model.md §7.3 step 6)."""
    V = vae.quantize.vocab_size
    for si in scales:
        pn = vae.quantize.patch_sizes[si]
        for g in gens:
            exponentials(g, pn * pn, V)
            if st.more_smooth:
                exponentials(g, pn * pn, V)


def _scale_step(vae: VQVAE, si: int, logits_2BlV, f_hat, gens, st: Sampling, edit: Optional[Edit], out):
    """Guidance, filtering, sampling, embedding and f̂ update of one scale (docs/model.md §6.1 steps 2-5)."""
    q = vae.quantize
    S = len(q.patch_sizes)
    pn = q.patch_sizes[si]
    B = logits_2BlV.shape[0] // 2
    t = st.cfg * si / (S - 1)
    lg = (1 + t) * logits_2BlV[:B] - t * logits_2BlV[B:]                 # (B, pn², V)
    lg = filter_top_k_top_p(lg, per_scale(st.top_k, si), st.top_p)
    p = (lg / per_scale(st.temperature, si)).softmax(dim=-1)
    idx, marg = [], []
    for b, g in enumerate(gens):
        i, m = sample_from_probs(p[b], exponentials(g, pn * pn, q.vocab_size))
        idx.append(i)
        marg.append(m)
    idx_Bl = torch.stack(idx)
    if st.more_smooth:                                                   # docs/model.md §6.4
        ratio = si / (S - 1)
        tau = max(0.27 * (1 - 0.95 * ratio), 0.005)
        ws = []
        for b, g in enumerate(gens):
            gum = -exponentials(g, pn * pn, q.vocab_size).log()
            ws.append(((lg[b] * (1 + ratio) + gum) / tau).softmax(dim=-1))
        h = (torch.stack(ws) @ q.embedding.weight).transpose(1, 2).reshape(B, q.z_channels, pn, pn)
    else:
        h = q.embed(idx_Bl, pn)
    if edit is not None:                                                 # docs/model.md §11 step 3
        keep = edit.keep[si].reshape(1, 1, pn, pn)
        orig = edit.tokens[si].expand(B, -1)
        h = torch.where(keep, q.embed(orig, pn), h)
        idx_Bl = torch.where(keep.reshape(1, -1), orig, idx_Bl)
    out["tokens"].append(idx_Bl)
    out["margins"].append(torch.stack(marg))
    return q.next_input(si, f_hat, h)


def _next_x(var: VAR, si_next: int, v_BCpp):
    b, e = var.begin_end[si_next]
    x = var.word_embed(v_BCpp.flatten(2).transpose(1, 2)) + var.lvl_pos()[:, b:e]
    return x.repeat(2, 1, 1)                                             # both halves get the same input


@torch.no_grad()
def _run(var: VAR, vae: VQVAE, labels, seed: int, st: Sampling, stop: int, edit=None):
    S = len(var.patch_sizes)
    labels2 = _labels2(var, labels)
    B = labels2.shape[0] // 2
    gens = make_generators(seed, B)
    cond = var.class_emb(labels2)
    x = var.sos(cond)
    side = vae.quantize.side
    f_hat = torch.zeros(B, vae.quantize.z_channels, side, side)
    out = {"tokens": [], "margins": [], "hub": []}
    var.kv_caching(True)
    try:
        for si in range(stop):
            logits = var.logits(var.run_blocks(x, cond), cond)
            f_hat, v = _scale_step(vae, si, logits, f_hat, gens, st, edit, out)
            if v is not None:
                out["hub"].append(v.flatten(2).transpose(1, 2))
                x = _next_x(var, si + 1, v)
    finally:
        var.kv_caching(False)
    out["f_hat"] = f_hat
    return out


@torch.no_grad()
def generate(var: VAR, vae: VQVAE, labels, seed: int, st: Sampling, edit: Optional[Edit] = None):
    """Plain VAR (docs/model.md §6.1)."""
    out = _run(var, vae, labels, seed, st, len(var.patch_sizes), edit)
    out["image"] = (vae.fhat_to_img(out["f_hat"]) + 1) * 0.5
    del out["hub"]
    return out


@torch.no_grad()
def draft(var: VAR, vae: VQVAE, labels, seed: int, st: Sampling, N: int, edit: Optional[Edit] = None):
    """CoDe drafter (docs/model.md §7.2): scales 0 … N−1; hub (B, end_N − 1, Cvae) holds inputs of scales 1 … N."""
    out = _run(var, vae, labels, seed, st, N, edit)
    out["hub"] = torch.cat(out["hub"], dim=1)
    return out


@torch.no_grad()
def refine(var: VAR, vae: VQVAE, labels, seed: int, st: Sampling, N: int, f_hat, hub,
           edit: Optional[Edit] = None):
    """CoDe refiner (docs/model.md §7.3): block-causal prefill over end_N positions, replay, scales N … S−1."""
    S = len(var.patch_sizes)
    labels2 = _labels2(var, labels)
    B = labels2.shape[0] // 2
    gens = make_generators(seed, B)
    _skip_draws(gens, vae, range(N), st)
    cond = var.class_emb(labels2)
    bN, P = var.begin_end[N]
    lvl_pos = var.lvl_pos()
    x = torch.cat((var.sos(cond), (var.word_embed(hub) + lvl_pos[:, 1:P]).repeat(2, 1, 1)), dim=1)
    out = {"tokens": [], "margins": []}
    var.kv_caching(True)
    try:
        h = var.run_blocks(x, cond, var.attn_bias_for_masking[:, :, :P, :P])
        logits = var.logits(h[:, bN:P], cond)
        for si in range(N, S):
            if si > N:
                logits = var.logits(var.run_blocks(x, cond), cond)
            f_hat, v = _scale_step(vae, si, logits, f_hat, gens, st, edit, out)
            if v is not None:
                x = _next_x(var, si + 1, v)
    finally:
        var.kv_caching(False)
    out["f_hat"] = f_hat
    out["image"] = (vae.fhat_to_img(f_hat) + 1) * 0.5
    return out


@torch.no_grad()
def code_generate(drafter: VAR, refiner: VAR, vae: VQVAE, labels, seed: int, st: Sampling, N: int,
                  edit: Optional[Edit] = None):
    """Drafter → hub → refiner. Returns the refiner's dict with all tokens and the drafter's hub/f̂."""
    d = draft(drafter, vae, labels, seed, st, N, edit)
    r = refine(refiner, vae, labels, seed, st, N, d["f_hat"], d["hub"], edit)
    r["tokens"] = d["tokens"] + r["tokens"]
    r["margins"] = d["margins"] + r["margins"]
    r["hub"] = d["hub"]
    r["draft_f_hat"] = d["f_hat"]
    return r


def min_margin(out) -> float:
    return float(min(m.min() for m in out["margins"]))
