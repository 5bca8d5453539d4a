#!/usr/bin/env python3
"""Evaluate generated MNIST digits: class accuracy and FID on a small classifier's penultimate features.

    python3 tools/evaluate.py samples.npz [--labels labels.npy]
    python3 tools/evaluate.py --train-classifier      # (re)train tools/mnist_classifier.pt

The `.npz` holds `arr_0` (N, H, W, 3) uint8 (H = W = 32) and the labels in `arr_1` (or `--labels`).
The classifier (a small CNN, trained on the training split of tools/varref/data.py) is cached in
tools/mnist_classifier.pt; its held-out accuracy is printed. FID is computed between the features of the
samples and of the 500 held-out real digits (64-d features, so values are not comparable with
Inception FIDs; a real-vs-real baseline is printed for scale).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from scipy import linalg

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from varref import data  # noqa: E402

CLASSIFIER = os.path.join(HERE, "mnist_classifier.pt")


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 16, 3, padding=1)
        self.c2 = nn.Conv2d(16, 32, 3, padding=1)
        self.c3 = nn.Conv2d(32, 32, 3, padding=1)
        self.fc = nn.Linear(32 * 4 * 4, 64)
        self.out = nn.Linear(64, 10)

    def features(self, x):                       # x: (N, 1, 32, 32) in [0, 1]
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        x = F.max_pool2d(F.relu(self.c3(x)), 2)
        return F.relu(self.fc(x.flatten(1)))

    def forward(self, x):
        return self.out(self.features(x))


def to_input(u8) -> torch.Tensor:
    """(N, H, W) or (N, H, W, 3) uint8 → (N, 1, 32, 32) float in [0, 1] (channel mean)."""
    a = np.asarray(u8).astype(np.float32) / 255.0
    if a.ndim == 4:
        a = a.mean(-1)
    return torch.from_numpy(a).unsqueeze(1)


def train_classifier(epochs=12, seed=0):
    torch.manual_seed(seed)
    (xtr, ytr), (xte, yte) = data.split()
    net = Classifier()
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=epochs * ((len(xtr) + 63) // 64))
    X, Y = to_input(xtr), torch.from_numpy(ytr)
    rng = np.random.RandomState(seed)
    t0 = time.time()
    for ep in range(epochs):
        perm = rng.permutation(len(X))
        for i in range(0, len(X), 64):
            b = perm[i:i + 64]
            x = X[b]
            # light augmentation: ±2 pixel shifts, so the classifier tolerates generated digits' placement
            dy, dx = rng.randint(-2, 3, 2)
            x = torch.roll(x, (int(dy), int(dx)), (2, 3))
            loss = F.cross_entropy(net(x), Y[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    net.eval()
    acc = accuracy(net, to_input(xte), yte)
    torch.save({k: v.half() for k, v in net.state_dict().items()}, CLASSIFIER)
    print(f"classifier: {epochs} epochs in {time.time() - t0:.0f}s, held-out accuracy {acc * 100:.2f}%")
    return net


def load_classifier():
    if not os.path.exists(CLASSIFIER):
        return train_classifier()
    net = Classifier()
    net.load_state_dict({k: v.float() for k, v in torch.load(CLASSIFIER, weights_only=True).items()})
    return net.eval()


@torch.no_grad()
def accuracy(net, x, y):
    return float((net(x).argmax(1).numpy() == np.asarray(y)).mean())


@torch.no_grad()
def feats(net, x):
    return torch.cat([net.features(x[i:i + 500]) for i in range(0, len(x), 500)]).double().numpy()


def fid(f1, f2):
    m1, m2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    covmean, _ = linalg.sqrtm(s1 @ s2, disp=False)
    covmean = covmean.real
    return float(((m1 - m2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


class Evaluator:
    def __init__(self):
        self.net = load_classifier()
        (xtr, ytr), (xte, yte) = data.split()
        self.real = feats(self.net, to_input(xte))
        self.test_acc = accuracy(self.net, to_input(xte), yte)
        self.train_u8 = xtr

    def __call__(self, images_u8, labels):
        x = to_input(images_u8)
        return accuracy(self.net, x, labels), fid(feats(self.net, x), self.real)

    def baseline_fid(self, n):
        """FID of n real training digits vs the held-out digits (the floor for n samples)."""
        idx = np.random.RandomState(1).choice(len(self.train_u8), n, replace=False)
        return fid(feats(self.net, to_input(self.train_u8[idx])), self.real)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("npz", nargs="?")
    ap.add_argument("--labels")
    ap.add_argument("--train-classifier", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(1)
    if a.train_classifier:
        train_classifier()
    if not a.npz:
        return
    z = np.load(a.npz)
    imgs = z["arr_0"]
    labels = np.load(a.labels) if a.labels else z["arr_1"]
    ev = Evaluator()
    acc, f = ev(imgs, labels)
    print(f"classifier held-out accuracy {ev.test_acc * 100:.2f}%")
    print(f"samples: {len(imgs)}  class accuracy {acc * 100:.2f}%  FID(features) {f:.3f}  "
          f"(real-vs-real baseline at n={len(imgs)}: {ev.baseline_fid(len(imgs)):.3f})")


if __name__ == "__main__":
    main()
