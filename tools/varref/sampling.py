"""Filtering and PyTorch-compatible sampling (docs/model.md §6.2-§6.5), plus a pure-NumPy MT19937.

Random streams (docs/design.md): image i of a run with seed s owns `torch.Generator().manual_seed(s+i)`.
Per scale it draws `E = empty(pn², V).exponential_(generator=g)` and picks `argmax(p / E)` (float32
division, first maximum) — exactly what `torch.multinomial(p, 1, generator=g)` does on CPU
(checked by tools/check_sampling.py). `more_smooth` then draws another (pn², V) exponentials.
"""
from __future__ import annotations

from typing import List, Sequence, Union

import numpy as np
import torch

IntOrList = Union[int, Sequence[int]]
FloatOrList = Union[float, Sequence[float]]


def per_scale(v, si: int):
    return v[si] if isinstance(v, (list, tuple)) else v


def filter_top_k_top_p(logits_BlV: torch.Tensor, top_k: int, top_p: float) -> torch.Tensor:
    """Spec §6.2. Returns a new tensor with removed entries set to −∞."""
    x = logits_BlV.clone()
    V = x.shape[-1]
    if top_k > 0:
        kth = x.topk(min(top_k, V), dim=-1, largest=True, sorted=False)[0].amin(dim=-1, keepdim=True)
        x.masked_fill_(x < kth, -torch.inf)                    # ties with the k-th value survive
    if top_p > 0:
        sorted_x, sorted_i = x.sort(dim=-1, descending=False)
        remove_sorted = sorted_x.softmax(dim=-1).cumsum(dim=-1) <= (1 - top_p)
        remove_sorted[..., -1:] = False                          # the maximum always survives
        remove = torch.zeros_like(remove_sorted).scatter(-1, sorted_i, remove_sorted)
        x.masked_fill_(remove, -torch.inf)
    return x


def exponentials(g: torch.Generator, rows: int, V: int) -> torch.Tensor:
    """(rows, V) float32 Exp(1) variates, row-major, from one image's generator."""
    return torch.empty(rows, V, dtype=torch.float32).exponential_(generator=g)


def sample_from_probs(p_RV: torch.Tensor, E_RV: torch.Tensor):
    """argmax(p / E) and the margin best/second-best of p/E for every row."""
    q = p_RV / E_RV
    idx = q.argmax(dim=-1)
    top2 = q.topk(2, dim=-1).values if q.shape[-1] > 1 else torch.cat((q, torch.zeros_like(q)), -1)
    margin = top2[:, 0] / top2[:, 1]                           # inf when only one candidate survives
    return idx, margin


# ---------------------------------------------------------------------------------------------
# Pure-NumPy MT19937 as PyTorch's CPU generator uses it (docs/model.md §6.5)

class MT19937:
    N, M = 624, 397

    def __init__(self, seed: int):
        mt = [0] * self.N
        mt[0] = seed & 0xFFFFFFFF
        for i in range(1, self.N):                              # init_genrand
            mt[i] = (1812433253 * (mt[i - 1] ^ (mt[i - 1] >> 30)) + i) & 0xFFFFFFFF
        self.mt = np.array(mt, dtype=np.uint64)
        self.pos = self.N

    def _twist(self):
        mt = [int(v) for v in self.mt]
        N, M = self.N, self.M
        for i in range(N):
            y = (mt[i] & 0x80000000) | (mt[(i + 1) % N] & 0x7FFFFFFF)
            v = mt[(i + M) % N] ^ (y >> 1)
            if y & 1:
                v ^= 0x9908B0DF
            mt[i] = v
        self.mt = np.array(mt, dtype=np.uint64)
        self.pos = 0

    def next_u32(self) -> int:
        if self.pos >= self.N:
            self._twist()
        y = int(self.mt[self.pos])
        self.pos += 1
        y ^= y >> 11                                            # tempering
        y ^= (y << 7) & 0x9D2C5680
        y ^= (y << 15) & 0xEFC60000
        y ^= y >> 18
        return y & 0xFFFFFFFF

    def u32s(self, n: int) -> np.ndarray:
        return np.array([self.next_u32() for _ in range(n)], dtype=np.uint64)

    def uniform53(self) -> float:
        a = self.next_u32()
        b = self.next_u32()
        return float(((a << 32) | b) & ((1 << 53) - 1)) * (2.0 ** -53)

    def exponentials(self, n: int) -> np.ndarray:
        """float32(−log1p(−u)) with u from two consecutive outputs (docs/model.md §6.5)."""
        u = np.array([self.uniform53() for _ in range(n)], dtype=np.float64)
        return (-np.log1p(-u)).astype(np.float32)
