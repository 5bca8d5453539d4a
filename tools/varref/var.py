"""VAR transformer (docs/model.md §1.3, §2.2, §5): AdaLN blocks, cosine attention, KV cache, head.

`state_dict()` yields exactly the official keys, buffers included (`lvl_1L` int64,
`attn_bias_for_masking` with −∞, `blocks.N.attn.zero_k_bias`).
"""
from __future__ import annotations

import math
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

LN100 = math.log(100.0)


def layer_norm(x):
    # parameter-free LayerNorm, eps 1e-6 (docs/model.md §3.1)
    return F.layer_norm(x, x.shape[-1:], eps=1e-6)


class SelfAttention(nn.Module):
    """Cosine attention with a learned per-head log-temperature (docs/model.md §5.3)."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        assert width % heads == 0
        self.C, self.H, self.hd = width, heads, width // heads
        self.scale_mul_1H11 = nn.Parameter(torch.full((1, heads, 1, 1), math.log(4.0)))
        self.q_bias = nn.Parameter(torch.zeros(width))
        self.v_bias = nn.Parameter(torch.zeros(width))
        self.register_buffer("zero_k_bias", torch.zeros(width))
        self.mat_qkv = nn.Linear(width, 3 * width, bias=False)
        self.proj = nn.Linear(width, width)
        self.caching = False
        self.cached_k = None      # (B, H, L, hd), L2-normalised keys (docs/model.md §5.7)
        self.cached_v = None

    def kv_caching(self, on: bool):
        self.caching = on
        self.cached_k = self.cached_v = None

    def forward(self, y, mask=None):
        B, L, C = y.shape
        bias = torch.cat((self.q_bias, self.zero_k_bias, self.v_bias))
        qkv = F.linear(y, self.mat_qkv.weight, bias).view(B, L, 3, self.H, self.hd)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)            # each (B, H, L, hd)
        q = F.normalize(q, dim=-1) * self.scale_mul_1H11.clamp(max=LN100).exp()
        k = F.normalize(k, dim=-1)
        if self.caching:
            if self.cached_k is None:
                self.cached_k, self.cached_v = k, v
            else:
                self.cached_k = torch.cat((self.cached_k, k), dim=2)
                self.cached_v = torch.cat((self.cached_v, v), dim=2)
            k, v = self.cached_k, self.cached_v
        s = q @ k.transpose(-2, -1)                                # softmax scale 1 (pitfall 5)
        if mask is not None:
            s = s + mask
        o = s.softmax(dim=-1) @ v                                  # (B, H, L, hd)
        return self.proj(o.transpose(1, 2).reshape(B, L, C))


class FFN(nn.Module):
    def __init__(self, width: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(width, hidden)
        self.fc2 = nn.Linear(hidden, width)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x), approximate="tanh"))


class AdaLNBlock(nn.Module):
    """Spec §5.2. `ada_lin.1` chunks: γ₁, γ₂, scale₁, scale₂, shift₁, shift₂ (pitfall 1)."""

    def __init__(self, width: int, heads: int, mlp_ratio: float):
        super().__init__()
        self.C = width
        self.attn = SelfAttention(width, heads)
        self.ffn = FFN(width, round(width * mlp_ratio))
        self.ada_lin = nn.Sequential(nn.SiLU(inplace=False), nn.Linear(width, 6 * width))

    def forward(self, x, cond_BD, mask=None):
        g1, g2, s1, s2, b1, b2 = self.ada_lin(cond_BD).view(-1, 1, 6, self.C).unbind(2)
        x = x + self.attn(layer_norm(x) * (1 + s1) + b1, mask) * g1
        x = x + self.ffn(layer_norm(x) * (1 + s2) + b2) * g2
        return x


class AdaLNBeforeHead(nn.Module):
    """Spec §5.5: chunks scale, shift."""

    def __init__(self, width: int):
        super().__init__()
        self.C = width
        self.ada_lin = nn.Sequential(nn.SiLU(inplace=False), nn.Linear(width, 2 * width))

    def forward(self, x, cond_BD):
        scale, shift = self.ada_lin(cond_BD).view(-1, 1, 2, self.C).unbind(2)
        return layer_norm(x) * (1 + scale) + shift


def scale_layout(patch_sizes: Sequence[int]):
    """(begin, end) of every scale and the per-position scale index."""
    ends, lvl, b = [], [], 0
    for si, pn in enumerate(patch_sizes):
        ends.append((b, b + pn * pn))
        lvl += [si] * (pn * pn)
        b += pn * pn
    return ends, lvl


class VAR(nn.Module):
    def __init__(self, depth=16, width=1024, heads=16, num_classes=1000, vocab_size=4096, z_channels=32,
                 patch_sizes=(1, 2, 3, 4, 5, 6, 8, 10, 13, 16), mlp_ratio=4.0):
        super().__init__()
        self.depth, self.C, self.H = depth, width, heads
        self.num_classes, self.V, self.Cvae = num_classes, vocab_size, z_channels
        self.patch_sizes = tuple(patch_sizes)
        self.begin_end, lvl = scale_layout(self.patch_sizes)
        self.L = sum(pn * pn for pn in self.patch_sizes)
        L, C = self.L, width

        self.pos_start = nn.Parameter(torch.zeros(1, 1, C))
        self.pos_1LC = nn.Parameter(torch.zeros(1, L, C))
        lvl_1L = torch.tensor(lvl, dtype=torch.int64).view(1, L)
        self.register_buffer("lvl_1L", lvl_1L)
        mask = torch.where(lvl_1L.view(L, 1) >= lvl_1L.view(1, L), 0.0, -torch.inf)
        self.register_buffer("attn_bias_for_masking", mask.view(1, 1, L, L).float().contiguous())
        self.word_embed = nn.Linear(z_channels, C)
        self.class_emb = nn.Embedding(num_classes + 1, C)
        self.lvl_embed = nn.Embedding(len(self.patch_sizes), C)
        self.blocks = nn.ModuleList([AdaLNBlock(C, heads, mlp_ratio) for _ in range(depth)])
        self.head_nm = AdaLNBeforeHead(C)
        self.head = nn.Linear(C, vocab_size)

    # -- initialisation for training (not part of the spec; any sane init works) ---------------
    def init_weights(self, seed: int):
        g = torch.Generator().manual_seed(seed)
        C = self.C
        std = math.sqrt(1 / C / 3)

        def tn(t, s):
            with torch.no_grad():
                t.copy_(torch.randn(t.shape, generator=g).clamp_(-2, 2) * s)

        for m in self.modules():
            if isinstance(m, nn.Linear):
                tn(m.weight, std)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Embedding):
                tn(m.weight, std)
        tn(self.pos_start, std)
        tn(self.pos_1LC, std)
        with torch.no_grad():
            self.head.weight.mul_(0.02)
            self.head_nm.ada_lin[1].weight.mul_(0.5)
            for b in self.blocks:
                b.attn.proj.weight.div_(math.sqrt(2 * self.depth))
                b.ffn.fc2.weight.div_(math.sqrt(2 * self.depth))
                w = b.ada_lin[1].weight
                w.mul_(0.5)
                w[: 2 * C].mul_(1e-5)   # small initial gates

    # -- embeddings ------------------------------------------------------------------------------
    def lvl_pos(self):
        """(1, L, C): lvl_embed[scale(p)] + pos_1LC[p] (docs/model.md §5.1)."""
        return self.lvl_embed(self.lvl_1L) + self.pos_1LC

    def sos(self, cond_BD):
        """First-position input: c + pos_start + lvl_pos[0] (docs/model.md §5.1, pitfall 8)."""
        return cond_BD.unsqueeze(1) + self.pos_start + self.lvl_pos()[:, :1]

    def kv_caching(self, on: bool):
        for b in self.blocks:
            b.attn.kv_caching(on)

    def run_blocks(self, x, cond_BD, mask=None):
        for b in self.blocks:
            x = b(x, cond_BD, mask)
        return x

    def logits(self, x, cond_BD):
        return self.head(self.head_nm(x.float(), cond_BD.float())).float()

    def forward(self, label_B, x_BLCv_wo_first):
        """Teacher-forced forward (docs/model.md §5.6): (B,) labels and (B, L−1, Cvae) inputs → (B, L, V)."""
        B = label_B.shape[0]
        cond = self.class_emb(label_B)
        L = x_BLCv_wo_first.shape[1] + 1
        x = torch.cat((cond.unsqueeze(1) + self.pos_start, self.word_embed(x_BLCv_wo_first)), dim=1)
        x = x + self.lvl_pos()[:, :L]
        mask = self.attn_bias_for_masking[:, :, :L, :L]
        return self.logits(self.run_blocks(x, cond, mask), cond)
