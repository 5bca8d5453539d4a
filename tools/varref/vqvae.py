"""Multi-scale residual VQVAE (docs/model.md §1.2, §2.1, §3, §4).

Module names are chosen so that `state_dict()` has exactly the official keys; every size is a
parameter so the same code builds the official 256px tokenizer and the shipped 32px one.
"""
from __future__ import annotations

import math
from typing import List, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def group_norm(c: int) -> nn.GroupNorm:
    # docs/model.md §3.1: 32 groups, eps 1e-6 (not 1e-5), affine
    return nn.GroupNorm(32, c, eps=1e-6, affine=True)


# ---------------------------------------------------------------------------------------------
# Resizes (docs/model.md §3.2-§3.4, §11). F.interpolate's bicubic/area/bilinear modes are exactly those of docs/model.md.

def bicubic_up(x: torch.Tensor, size: int) -> torch.Tensor:
    """pn×pn → size×size, A = −0.75, align_corners False, unclamped source coordinate (docs/model.md §3.3)."""
    return F.interpolate(x, size=(size, size), mode="bicubic", align_corners=False)


def area_down(x: torch.Tensor, pn: int) -> torch.Tensor:
    """Adaptive average pooling with overlapping windows (docs/model.md §3.4)."""
    return F.interpolate(x, size=(pn, pn), mode="area")


def edit_masks(mask_HW: torch.Tensor, patch_sizes: Sequence[int]) -> List[torch.Tensor]:
    """Per-scale keep masks from a last-scale mask (1 = keep), docs/model.md §11 step 3.

    Bilinear (align_corners False, source clamped at 0) then `> 0.5`; scales with pn² ≤ 3 keep
    everything. Returns bool tensors [pn, pn]."""
    m = mask_HW.to(torch.float32)[None, None]
    out = []
    for pn in patch_sizes:
        if pn * pn <= 3:
            out.append(torch.ones(pn, pn, dtype=torch.bool))
        elif pn == m.shape[-1]:
            out.append(m[0, 0] > 0.5)
        else:
            r = F.interpolate(m, size=(pn, pn), mode="bilinear", align_corners=False)
            out.append(r[0, 0] > 0.5)
    return out


def phi_index_table(num_scales: int, phi_count: int) -> List[int]:
    """Which φ each scale uses (docs/model.md §4.6), computed in float64 with NumPy like the official code."""
    K = phi_count
    if K == 0:
        K = num_scales
    if K == 1:
        return [0] * num_scales
    if K == 4:
        ticks = np.linspace(1 / 3 / K, 1 - 1 / 3 / K, K)
    else:
        ticks = np.linspace(1 / 2 / K, 1 - 1 / 2 / K, K)
    S = num_scales
    return [int(np.argmin(np.abs(ticks - si / (S - 1)))) for si in range(S)]


# ---------------------------------------------------------------------------------------------
# Building blocks (docs/model.md §4.1, §4.2)

class Upsample2x(nn.Module):
    """Nearest 2× then 3×3 conv (key `P.conv`)."""

    def __init__(self, c: int):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, 1, 1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


class Downsample2x(nn.Module):
    """Zero-pad right/bottom by one, then 3×3 stride-2 conv without padding (docs/model.md §4.3, pitfall 12)."""

    def __init__(self, c: int):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, 2, 0)

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1), mode="constant", value=0.0))


class ResnetBlock(nn.Module):
    def __init__(self, ci: int, co: int):
        super().__init__()
        self.norm1 = group_norm(ci)
        self.conv1 = nn.Conv2d(ci, co, 3, 1, 1)
        self.norm2 = group_norm(co)
        self.conv2 = nn.Conv2d(co, co, 3, 1, 1)
        self.nin_shortcut = nn.Conv2d(ci, co, 1, 1, 0) if ci != co else None

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        s = self.nin_shortcut(x) if self.nin_shortcut is not None else x
        return s + h


class AttnBlock(nn.Module):
    """Single-head spatial self-attention, scale c^(-1/2) (docs/model.md §4.2)."""

    def __init__(self, c: int):
        super().__init__()
        self.c = c
        self.norm = group_norm(c)
        self.qkv = nn.Conv2d(c, 3 * c, 1, 1, 0)
        self.proj_out = nn.Conv2d(c, c, 1, 1, 0)

    def forward(self, x):
        B, C, H, W = x.shape
        qkv = self.qkv(self.norm(x)).reshape(B, 3, C, H * W)
        q, k, v = qkv.unbind(1)                                   # (B, C, n)
        w = torch.bmm(q.transpose(1, 2), k) * (C ** -0.5)         # (B, n, n)
        w = w.softmax(dim=-1)
        o = torch.bmm(v, w.transpose(1, 2)).reshape(B, C, H, W)   # o[c, i] = Σ_j w[i, j] v[c, j]
        return x + self.proj_out(o)


class Encoder(nn.Module):
    def __init__(self, ch: int, ch_mult: Sequence[int], num_res_blocks: int, z_channels: int,
                 in_channels: int = 3):
        super().__init__()
        nl = len(ch_mult)
        self.conv_in = nn.Conv2d(in_channels, ch, 3, 1, 1)
        in_mult = (1,) + tuple(ch_mult)
        self.down = nn.ModuleList()
        ci = ch
        for lvl in range(nl):
            level = nn.Module()
            level.block = nn.ModuleList()
            level.attn = nn.ModuleList()
            ci = ch * in_mult[lvl]
            co = ch * ch_mult[lvl]
            for _ in range(num_res_blocks):
                level.block.append(ResnetBlock(ci, co))
                ci = co
                if lvl == nl - 1:
                    level.attn.append(AttnBlock(ci))
            if lvl != nl - 1:
                level.downsample = Downsample2x(ci)
            self.down.append(level)
        self.mid = nn.Module()
        self.mid.block_1 = ResnetBlock(ci, ci)
        self.mid.attn_1 = AttnBlock(ci)
        self.mid.block_2 = ResnetBlock(ci, ci)
        self.norm_out = group_norm(ci)
        self.conv_out = nn.Conv2d(ci, z_channels, 3, 1, 1)

    def forward(self, x):
        h = self.conv_in(x)
        for level in self.down:
            for i, blk in enumerate(level.block):
                h = blk(h)
                if len(level.attn) > 0:
                    h = level.attn[i](h)
            if hasattr(level, "downsample"):
                h = level.downsample(h)
        h = self.mid.block_2(self.mid.attn_1(self.mid.block_1(h)))
        return self.conv_out(F.silu(self.norm_out(h)))


class Decoder(nn.Module):
    def __init__(self, ch: int, ch_mult: Sequence[int], num_res_blocks: int, z_channels: int,
                 out_channels: int = 3):
        super().__init__()
        nl = len(ch_mult)
        ci = ch * ch_mult[-1]
        self.conv_in = nn.Conv2d(z_channels, ci, 3, 1, 1)
        self.mid = nn.Module()
        self.mid.block_1 = ResnetBlock(ci, ci)
        self.mid.attn_1 = AttnBlock(ci)
        self.mid.block_2 = ResnetBlock(ci, ci)
        levels = [None] * nl
        for lvl in reversed(range(nl)):        # processing order: last level first
            level = nn.Module()
            level.block = nn.ModuleList()
            level.attn = nn.ModuleList()
            co = ch * ch_mult[lvl]
            for _ in range(num_res_blocks + 1):
                level.block.append(ResnetBlock(ci, co))
                ci = co
                if lvl == nl - 1:
                    level.attn.append(AttnBlock(ci))
            if lvl != 0:
                level.upsample = Upsample2x(ci)
            levels[lvl] = level
        self.up = nn.ModuleList(levels)        # list index = resolution level (docs/model.md §2.1)
        self.norm_out = group_norm(ci)
        self.conv_out = nn.Conv2d(ci, out_channels, 3, 1, 1)

    def forward(self, z):
        h = self.mid.block_2(self.mid.attn_1(self.mid.block_1(self.conv_in(z))))
        for lvl in reversed(range(len(self.up))):
            level = self.up[lvl]
            for i, blk in enumerate(level.block):
                h = blk(h)
                if len(level.attn) > 0:
                    h = level.attn[i](h)
            if hasattr(level, "upsample"):
                h = level.upsample(h)
        return self.conv_out(F.silu(self.norm_out(h)))


class Phi(nn.Conv2d):
    """φ(h) = (1 − r)·h + r·conv3×3(h) with r = quant_resi (docs/model.md §4.5)."""

    def __init__(self, c: int, resi_ratio: float):
        super().__init__(c, c, 3, 1, 1)
        self.resi_ratio = resi_ratio

    def forward(self, h):
        return h * (1 - self.resi_ratio) + super().forward(h) * self.resi_ratio


class PhiList(nn.Module):
    def __init__(self, c: int, count: int, resi_ratio: float):
        super().__init__()
        self.qresi_ls = nn.ModuleList([Phi(c, resi_ratio) for _ in range(count)])


class MultiScaleQuantizer(nn.Module):
    """Residual quantizer over the scale schedule (docs/model.md §4.7-§4.10). Keys under `quantize.`."""

    def __init__(self, vocab_size: int, z_channels: int, patch_sizes: Sequence[int],
                 phi_index: Sequence[int], phi_count: int, quant_resi: float = 0.5, beta: float = 0.25):
        super().__init__()
        self.vocab_size = vocab_size
        self.z_channels = z_channels
        self.patch_sizes = tuple(patch_sizes)
        self.phi_index = tuple(phi_index)
        self.beta = beta
        self.register_buffer("ema_vocab_hit_SV", torch.zeros(len(patch_sizes), vocab_size))
        self.quant_resi = PhiList(z_channels, phi_count, quant_resi)
        self.embedding = nn.Embedding(vocab_size, z_channels)

    @property
    def side(self) -> int:
        return self.patch_sizes[-1]

    def phi(self, si: int, h):
        return self.quant_resi.qresi_ls[self.phi_index[si]](h)

    def up_phi(self, si: int, h_BCpp):
        """φ(U_s(h)): bicubic to the last grid for s < S−1 (docs/model.md §4.8, pitfall 15/16)."""
        if si != len(self.patch_sizes) - 1:
            h_BCpp = bicubic_up(h_BCpp, self.side)
        return self.phi(si, h_BCpp)

    def nearest(self, z_NC):
        """Plain squared-L2 nearest code, ties → lowest index (docs/model.md §4.7 step 2.2)."""
        E = self.embedding.weight
        d = (z_NC * z_NC).sum(1, keepdim=True) + (E * E).sum(1)[None] - 2.0 * (z_NC @ E.T)
        return d.argmin(dim=1)

    def embed(self, idx_Bl, pn: int):
        """Indices (B, pn²) → codewords (B, C, pn, pn) (docs/model.md §6.1 step 4, pitfall 21)."""
        B = idx_Bl.shape[0]
        return self.embedding(idx_Bl).transpose(1, 2).reshape(B, self.z_channels, pn, pn)

    def f_to_idx(self, f_BChw) -> List[torch.Tensor]:
        """Image latent f → token pyramid [(B, pn²)] (docs/model.md §4.7)."""
        B, C = f_BChw.shape[:2]
        S = len(self.patch_sizes)
        r = f_BChw.float().clone()
        f_hat = torch.zeros_like(r)
        out = []
        for si, pn in enumerate(self.patch_sizes):
            z = area_down(r, pn) if si != S - 1 else r
            idx = self.nearest(z.permute(0, 2, 3, 1).reshape(-1, C)).reshape(B, pn * pn)
            h = self.up_phi(si, self.embed(idx, pn))
            f_hat = f_hat + h
            r = r - h
            out.append(idx)
        return out

    def idx_to_fhat(self, idx_list) -> torch.Tensor:
        """Token pyramid → f̂ (docs/model.md §4.8)."""
        B = idx_list[0].shape[0]
        f_hat = torch.zeros(B, self.z_channels, self.side, self.side)
        for si, (pn, idx) in enumerate(zip(self.patch_sizes, idx_list)):
            f_hat = f_hat + self.up_phi(si, self.embed(idx, pn))
        return f_hat

    def next_input(self, si: int, f_hat, h_BCpp):
        """Spec §4.9: add φ(U(h)) to f̂; return (f̂, area(f̂, pn_{s+1}) or None at the last scale)."""
        f_hat = f_hat + self.up_phi(si, h_BCpp)
        if si == len(self.patch_sizes) - 1:
            return f_hat, None
        return f_hat, area_down(f_hat, self.patch_sizes[si + 1])

    def teacher_inputs(self, idx_list) -> torch.Tensor:
        """Spec §4.10: (B, L − 1, C) transformer inputs for positions 1 … L−1."""
        B = idx_list[0].shape[0]
        f_hat = torch.zeros(B, self.z_channels, self.side, self.side)
        xs = []
        for si in range(len(self.patch_sizes) - 1):
            f_hat, nxt = self.next_input(si, f_hat, self.embed(idx_list[si], self.patch_sizes[si]))
            xs.append(nxt.flatten(2).transpose(1, 2))
        return torch.cat(xs, dim=1)

    def quantize_train(self, f_BChw):
        """Training: straight-through f̂, VQ + commitment loss, and the tokens (for usage stats)."""
        B, C = f_BChw.shape[:2]
        S = len(self.patch_sizes)
        f_ng = f_BChw.detach()
        r = f_ng.clone()
        f_hat = torch.zeros_like(f_ng)
        loss = f_BChw.new_zeros(())
        idxs, zs = [], []
        for si, pn in enumerate(self.patch_sizes):
            z = area_down(r, pn) if si != S - 1 else r
            with torch.no_grad():
                z_NC = z.permute(0, 2, 3, 1).reshape(-1, C)
                zs.append(z_NC)
                idx = self.nearest(z_NC).reshape(B, pn * pn)
            h = self.up_phi(si, self.embed(idx, pn))
            f_hat = f_hat + h
            r = r - h.detach()
            loss = loss + F.mse_loss(f_hat, f_ng) + self.beta * F.mse_loss(f_hat.detach(), f_BChw)
            idxs.append(idx)
        loss = loss / S
        f_st = f_hat.detach() - f_ng + f_BChw      # straight-through to the encoder
        # let gradients of the reconstruction also reach the codebook/φ through f_hat
        f_st = f_st + (f_hat - f_hat.detach())
        return f_st, loss, idxs, torch.cat(zs)


class VQVAE(nn.Module):
    def __init__(self, vocab_size=4096, z_channels=32, ch=160, ch_mult=(1, 1, 2, 2, 4), num_res_blocks=2,
                 patch_sizes=(1, 2, 3, 4, 5, 6, 8, 10, 13, 16), phi_count=4,
                 phi_index: Optional[Sequence[int]] = None, quant_resi=0.5, image_size=256):
        super().__init__()
        if phi_index is None:
            phi_index = phi_index_table(len(patch_sizes), phi_count)
        self.image_size = image_size
        self.encoder = Encoder(ch, ch_mult, num_res_blocks, z_channels)
        self.decoder = Decoder(ch, ch_mult, num_res_blocks, z_channels)
        self.quantize = MultiScaleQuantizer(vocab_size, z_channels, patch_sizes, phi_index,
                                            phi_count if phi_count > 0 else len(patch_sizes), quant_resi)
        self.quant_conv = nn.Conv2d(z_channels, z_channels, 3, 1, 1)
        self.post_quant_conv = nn.Conv2d(z_channels, z_channels, 3, 1, 1)

    def encode_f(self, img):
        """Image in [−1, 1] → continuous latent f (docs/model.md §4.3)."""
        return self.quant_conv(self.encoder(img))

    def img_to_idx(self, img):
        return self.quantize.f_to_idx(self.encode_f(img))

    def fhat_to_img(self, f_hat):
        """f̂ → image clamped to [−1, 1] (docs/model.md §4.4)."""
        return self.decoder(self.post_quant_conv(f_hat)).clamp(-1, 1)

    def idx_to_img(self, idx_list):
        return self.fhat_to_img(self.quantize.idx_to_fhat(idx_list))
