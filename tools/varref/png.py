"""Minimal PNG reading/writing for 8-bit RGB (what var-gen writes) with the standard library and NumPy.

`read` accepts colour types 0 (grey), 2 (RGB) and 6 (RGBA, alpha dropped), bit depth 8, no interlace, all
five row filters; `write` stores RGB with filter 0. Independent of var-gen's Swift encoder on purpose.
"""
from __future__ import annotations

import struct
import zlib

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chunks(blob: bytes):
    assert blob[:8] == SIGNATURE, "not a PNG"
    i = 8
    while i < len(blob):
        (n,) = struct.unpack(">I", blob[i:i + 4])
        kind, body = blob[i + 4:i + 8], blob[i + 8:i + 8 + n]
        (crc,) = struct.unpack(">I", blob[i + 8 + n:i + 12 + n])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        yield kind, body
        i += 12 + n


def read(path: str):
    """(H, W, 3) uint8 and the tEXt chunks as a dict."""
    blob = open(path, "rb").read()
    idat, text, hdr = b"", {}, None
    for kind, body in chunks(blob):
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"tEXt":
            k, v = body.split(b"\0", 1)
            text[k.decode("latin-1")] = v.decode("latin-1")
    w, h, depth, ctype, _, _, interlace = hdr
    assert depth == 8 and interlace == 0 and ctype in (0, 2, 6), f"unsupported PNG {hdr}"
    bpp = {0: 1, 2: 3, 6: 4}[ctype]
    raw = zlib.decompress(idat)
    stride = w * bpp
    out = np.zeros((h, stride), np.uint8)
    prev = np.zeros(stride, np.int32)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = np.frombuffer(raw, np.uint8, stride, y * (stride + 1) + 1).astype(np.int32)
        if f == 0:
            cur = line
        elif f == 1:            # Sub: running sum per channel
            cur = np.cumsum(line.reshape(w, bpp), axis=0).reshape(-1) & 255
        elif f == 2:            # Up
            cur = (line + prev) & 255
        else:                   # Average, Paeth: sequential
            cur = np.zeros(stride, np.int32)
        for x in range(stride if f >= 3 else 0):
            a = cur[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 0:
                p = 0
            elif f == 1:
                p = a
            elif f == 2:
                p = b
            elif f == 3:
                p = (a + b) // 2
            else:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                p = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            cur[x] = (line[x] + p) & 255
        out[y] = cur
        prev = cur
    img = out.reshape(h, w, bpp)
    if ctype == 0:
        img = np.repeat(img, 3, axis=2)
    return img[..., :3].copy(), text


def write(path: str, rgb: np.ndarray, text: dict | None = None):
    """(H, W, 3) uint8 → PNG (filter 0, zlib level 9)."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w, _ = rgb.shape

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    rows = b"".join(b"\0" + rgb[y].tobytes() for y in range(h))
    out = SIGNATURE + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    for k, v in (text or {}).items():
        out += chunk(b"tEXt", k.encode("latin-1") + b"\0" + v.encode("latin-1"))
    out += chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")
    open(path, "wb").write(out)
