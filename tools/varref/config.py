"""Model configurations: official presets, the shipped tiny models, JSON read/write (docs/design.md)."""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional

import torch

from .var import VAR
from .vqvae import VQVAE, phi_index_table

OFFICIAL_PATCHES = [1, 2, 3, 4, 5, 6, 8, 10, 13, 16]
OFFICIAL_PHI = [0, 0, 1, 1, 1, 2, 2, 3, 3, 3]   # docs/model.md §4.6, hard-coded


@dataclass
class VQVAEConfig:
    vocab_size: int = 4096
    z_channels: int = 32
    ch: int = 160
    ch_mult: List[int] = field(default_factory=lambda: [1, 1, 2, 2, 4])
    num_res_blocks: int = 2
    patch_sizes: List[int] = field(default_factory=lambda: list(OFFICIAL_PATCHES))
    phi_count: int = 4
    phi_index: List[int] = field(default_factory=lambda: list(OFFICIAL_PHI))
    quant_resi: float = 0.5
    image_size: int = 256

    def build(self, device=None) -> VQVAE:
        with torch.device(device or "cpu"):
            return VQVAE(self.vocab_size, self.z_channels, self.ch, tuple(self.ch_mult), self.num_res_blocks,
                         tuple(self.patch_sizes), self.phi_count, self.phi_index, self.quant_resi,
                         self.image_size)

    def to_json(self) -> Dict:
        d = {"kind": "vqvae"}
        d.update(asdict(self))
        return d


@dataclass
class Defaults:
    cfg: float = 2.0
    top_k: int = 0
    top_p: float = 0.0
    temperature: float = 1.0
    more_smooth: bool = False
    draft_steps: int = 3


@dataclass
class VARConfig:
    depth: int = 16
    width: int = 1024
    heads: int = 16
    num_classes: int = 1000
    vocab_size: int = 4096
    z_channels: int = 32
    patch_sizes: List[int] = field(default_factory=lambda: list(OFFICIAL_PATCHES))
    mlp_ratio: float = 4.0
    class_names: Optional[List[str]] = None
    vqvae: Optional[str] = None
    sampling: Optional[Defaults] = None

    def build(self, device=None) -> VAR:
        with torch.device(device or "cpu"):
            return VAR(self.depth, self.width, self.heads, self.num_classes, self.vocab_size, self.z_channels,
                       tuple(self.patch_sizes), self.mlp_ratio)

    def to_json(self) -> Dict:
        d = {"kind": "var", "depth": self.depth, "width": self.width, "heads": self.heads,
             "num_classes": self.num_classes, "vocab_size": self.vocab_size, "z_channels": self.z_channels,
             "patch_sizes": list(self.patch_sizes), "mlp_ratio": float(self.mlp_ratio)}
        if self.class_names is not None:
            d["class_names"] = list(self.class_names)
        if self.vqvae is not None:
            d["vqvae"] = self.vqvae
        if self.sampling is not None:
            d["sampling"] = asdict(self.sampling)
        return d


def official_vqvae() -> VQVAEConfig:
    return VQVAEConfig()


def official_var(depth: int) -> VARConfig:
    """VAR-d16/d20/d24/d30: width 64·d, heads d (docs/model.md §1.3)."""
    return VARConfig(depth=depth, width=64 * depth, heads=depth)


# The shipped MNIST models (weights/). Patch schedule (1,2,3,4,6,8) → 8×8 latent of a 32×32 image.
SHIPPED_PATCHES = [1, 2, 3, 4, 6, 8]


def shipped_vqvae() -> VQVAEConfig:
    return VQVAEConfig(vocab_size=512, z_channels=32, ch=32, ch_mult=[1, 2, 2], num_res_blocks=1,
                       patch_sizes=list(SHIPPED_PATCHES), phi_count=4,
                       phi_index=phi_index_table(len(SHIPPED_PATCHES), 4), quant_resi=0.5, image_size=32)


# Default sampling of the shipped models, chosen with tools/eval_reference.py (weights/README.md).
SHIPPED_SAMPLING = Defaults(cfg=1.0, top_k=0, top_p=0.0, temperature=1.0, more_smooth=False, draft_steps=4)


def shipped_var(kind: str) -> VARConfig:
    names = [str(i) for i in range(10)]
    if kind == "drafter":
        # width 128 rather than 256: a 256-wide drafter costs ~250 GFLOP per batch-64 step, far beyond
        # the ~30-minute training budget on a shared 2-core machine (see weights/README.md)
        return VARConfig(depth=4, width=128, heads=2, num_classes=10, vocab_size=512, z_channels=32,
                         patch_sizes=list(SHIPPED_PATCHES), class_names=names, vqvae="vqvae.pth",
                         sampling=SHIPPED_SAMPLING)
    return VARConfig(depth=2, width=64, heads=1, num_classes=10, vocab_size=512, z_channels=32,
                     patch_sizes=list(SHIPPED_PATCHES), class_names=names, vqvae="vqvae.pth",
                         sampling=SHIPPED_SAMPLING)


# Tiny random models for fixtures (Tests/Fixtures/tiny_*).
TINY_PATCHES = [1, 2, 3, 4]


def tiny_vqvae() -> VQVAEConfig:
    return VQVAEConfig(vocab_size=64, z_channels=8, ch=32, ch_mult=[1, 1], num_res_blocks=1,
                       patch_sizes=list(TINY_PATCHES), phi_count=4,
                       phi_index=phi_index_table(len(TINY_PATCHES), 4), quant_resi=0.5, image_size=8)


def tiny_var(depth=2, width=64, heads=2) -> VARConfig:
    return VARConfig(depth=depth, width=width, heads=heads, num_classes=5, vocab_size=64, z_channels=8,
                     patch_sizes=list(TINY_PATCHES), class_names=[f"c{i}" for i in range(5)],
                     vqvae="tiny_vqvae.pth")


# ---------------------------------------------------------------------------------------------
# JSON

def write_json(cfg, path: str):
    with open(path, "w") as f:
        json.dump(cfg.to_json(), f, indent=1)
        f.write("\n")


def read_json(path: str):
    with open(path) as f:
        d = json.load(f)
    kind = d.pop("kind")
    if kind == "vqvae":
        return VQVAEConfig(**d)
    if kind == "var":
        s = d.pop("sampling", None)
        return VARConfig(**d, sampling=Defaults(**s) if s is not None else None)
    raise ValueError(f"unknown kind {kind!r} in {path}")


def infer_official(sd: Dict[str, torch.Tensor]):
    """Configuration of an official checkpoint (no JSON beside it) from its tensors."""
    if "quantize.embedding.weight" in sd:
        V, Cz = sd["quantize.embedding.weight"].shape
        ch = sd["encoder.conv_in.weight"].shape[0]
        return VQVAEConfig(vocab_size=V, z_channels=Cz, ch=ch)
    depth = 1 + max(int(k.split(".")[1]) for k in sd if k.startswith("blocks."))
    width = sd["pos_start"].shape[-1]
    heads = sd["blocks.0.attn.scale_mul_1H11"].shape[1]
    V = sd["head.weight"].shape[0]
    return VARConfig(depth=depth, width=width, heads=heads, num_classes=sd["class_emb.weight"].shape[0] - 1,
                     vocab_size=V, z_channels=sd["word_embed.weight"].shape[1])


# ---------------------------------------------------------------------------------------------
# Saving / loading state dicts

def save_state_dict(model: torch.nn.Module, path: str, half: bool = True):
    """torch.save(state_dict) in the official layout; floats as float16 except attn_bias_for_masking."""
    sd = {}
    for k, v in model.state_dict().items():
        v = v.detach().cpu().contiguous()
        if half and v.is_floating_point() and k != "attn_bias_for_masking":
            v = v.half()
        sd[k] = v.clone()
    torch.save(sd, path)


def load_model(pth: str, json_path: Optional[str] = None):
    """Load a checkpoint (+JSON beside it if present, else official inference) as float32 modules."""
    sd = torch.load(pth, map_location="cpu", weights_only=True)
    if json_path is None:
        cand = os.path.splitext(pth)[0] + ".json"
        json_path = cand if os.path.exists(cand) else None
    cfg = read_json(json_path) if json_path else infer_official(sd)
    model = cfg.build()
    sd = {k: (v.float() if v.is_floating_point() else v) for k, v in sd.items()}
    if isinstance(cfg, VQVAEConfig):
        # docs/model.md §2.3: ema_vocab_hit_SV may have any first dimension; it is never used
        sd["quantize.ema_vocab_hit_SV"] = model.quantize.ema_vocab_hit_SV.clone()
    model.load_state_dict(sd, strict=True)
    return model.eval(), cfg
