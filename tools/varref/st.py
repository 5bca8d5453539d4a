"""A small safetensors writer/reader (docs/model.md §8.6): 8-byte LE header length, JSON header padded with
spaces to 8-byte alignment, C-contiguous little-endian data, no gaps, tensors in insertion order."""
from __future__ import annotations

import json
import struct
from typing import Dict

import numpy as np
import torch

_DT = {torch.float32: ("F32", np.float32), torch.float16: ("F16", np.float16), torch.int64: ("I64", np.int64)}
_RD = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def write(path: str, tensors: Dict[str, torch.Tensor], metadata: Dict[str, str] = None):
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    for name, t in tensors.items():
        t = torch.as_tensor(t).detach().cpu()
        if t.dtype == torch.bool or t.dtype in (torch.int32, torch.int16, torch.uint8):
            t = t.to(torch.int64)
        if t.dtype == torch.float64:
            t = t.to(torch.float32)
        tag, npdt = _DT[t.dtype]
        b = np.ascontiguousarray(t.numpy().astype(npdt).astype(np.dtype(npdt).newbyteorder("<"))).tobytes()
        header[name] = {"dtype": tag, "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read(path: str) -> Dict[str, torch.Tensor]:
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, en = e["data_offsets"]
        a = np.frombuffer(raw[base + b:base + en], dtype=np.dtype(_RD[e["dtype"]]).newbyteorder("<"))
        out[name] = torch.from_numpy(a.astype(_RD[e["dtype"]]).reshape(e["shape"]))
    return out
