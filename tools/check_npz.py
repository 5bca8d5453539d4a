#!/usr/bin/env python3
"""Check a `var-gen pack` archive against the PNGs it was made from.

    python3 tools/check_npz.py samples.npz DIR

Verifies the container (a ZIP whose members are all stored uncompressed; ZIP64 records are accepted), the
NPY 1.0 header of `arr_0.npy` (magic, version 1.0, data offset a multiple of 64, '|u1', C order), that
`arr_0` is (N, H, W, 3) uint8 with N = the number of `*.png` files in DIR, that image i is byte-for-byte
the pixels of the i-th PNG in pack's documented order (`{class}_{k}.png` by class then k, other names
after them by name), and that `arr_1` (int64) holds each file's class. Exit status 0 = all checks pass.
"""
from __future__ import annotations

import argparse
import ast
import os
import re
import struct
import sys
import zipfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from varref import png  # noqa: E402

try:                       # Pillow decodes large PNGs much faster; the NumPy decoder is the fallback
    from PIL import Image

    def read_png(path):
        return np.asarray(Image.open(path).convert("RGB"))
except ImportError:
    def read_png(path):
        return png.read(path)[0]

NAME = re.compile(r"^(\d+)_(\d+)\.png$", re.IGNORECASE)


def pack_order(names):
    pngs = [n for n in names if n.lower().endswith(".png") and not n.startswith(".")]
    labelled = sorted((int(m[1]), int(m[2]), n) for n in pngs if (m := NAME.match(n)))
    others = sorted(n for n in pngs if not NAME.match(n))
    return [n for _, _, n in labelled] + others, len(others) == 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("npz")
    ap.add_argument("directory")
    a = ap.parse_args()
    problems = []

    with zipfile.ZipFile(a.npz) as z:
        infos = z.infolist()
        members = [i.filename for i in infos]
        for i in infos:
            if i.compress_type != zipfile.ZIP_STORED:
                problems.append(f"{i.filename}: compression {i.compress_type}, expected stored (0)")
        with z.open("arr_0.npy") as f:
            head = f.read(10)
            magic, (major, minor), (hlen,) = head[:6], head[6:8], struct.unpack("<H", head[8:10])
            header = f.read(hlen).decode("latin-1")
    if magic != b"\x93NUMPY" or (major, minor) != (1, 0):
        problems.append(f"arr_0.npy: magic {magic!r} version {major}.{minor}, expected \\x93NUMPY 1.0")
    if (10 + hlen) % 64 != 0 or not header.endswith("\n"):
        problems.append(f"arr_0.npy: data offset {10 + hlen} not a multiple of 64 or header not newline-terminated")
    meta = ast.literal_eval(header.strip())
    if meta.get("descr") != "|u1" or meta.get("fortran_order") is not False:
        problems.append(f"arr_0.npy header {meta}")

    data = np.load(a.npz)
    arr = data["arr_0"]
    names, labelled = pack_order(os.listdir(a.directory))
    print(f"{a.npz}: members {members}; arr_0 {arr.shape} {arr.dtype}; "
          + (f"arr_1 {data['arr_1'].shape} {data['arr_1'].dtype}" if "arr_1" in data else "no arr_1"))
    if arr.dtype != np.uint8 or arr.ndim != 4 or arr.shape[3] != 3 or arr.shape[0] != len(names):
        problems.append(f"arr_0 is {arr.shape} {arr.dtype}, expected ({len(names)}, H, W, 3) uint8")
    else:
        for i, n in enumerate(names):
            img = read_png(os.path.join(a.directory, n))
            if img.shape != arr.shape[1:] or not np.array_equal(img, arr[i]):
                problems.append(f"image {i} differs from {n}")
    if labelled:
        want = np.array([int(NAME.match(n)[1]) for n in names], np.int64)
        got = data["arr_1"] if "arr_1" in data else None
        if got is None or got.dtype != np.int64 or not np.array_equal(got, want):
            problems.append(f"arr_1 {None if got is None else (got.dtype, got[:10])} != labels {want[:10]}…")
    for p in problems[:20]:
        print("FAIL", p)
    if problems:
        sys.exit(1)
    counts = np.bincount(data["arr_1"]) if labelled else []
    print(f"OK: {len(names)} images byte-identical to the PNGs, NPY 1.0, stored ZIP; per-class counts {[int(n) for n in counts]}")


if __name__ == "__main__":
    main()
