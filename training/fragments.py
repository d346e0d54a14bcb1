"""Parts of a digit that are no digit: the ``fragment`` kind of :mod:`training.nondigits`.

A fragment is a contiguous piece of a digit's centre line (:mod:`training.strokes` draws MNIST
digits as such paths). Only pieces no person would read as a digit are kept: cut from the
curved digits only (:data:`FRAGMENT_DIGITS`), never a straight line (a 1) nor a closed loop
(a 0).
"""
from __future__ import annotations

import math

import numpy as np


FRAGMENT_DIGITS = (0, 2, 3, 5, 6, 8, 9)   # curved digits: pieces of 1, 4 and 7 read as a 1 or a 7
FRAGMENT_SHARE = (0.15, 0.35)


def fragment(paths: list[np.ndarray], rng: np.random.Generator, share=FRAGMENT_SHARE) -> list[np.ndarray] | None:
    """A contiguous ``share`` of the total length of ``paths`` (taken in order, from a random
    start), or None if that piece is a straight line (a 1) or a closed loop (a 0)."""
    lengths = np.array([np.hypot(*np.diff(p, axis=0).T).sum() if len(p) > 1 else 0.0 for p in paths])
    total = lengths.sum()
    if total <= 0:
        return None
    want = rng.uniform(*share) * total
    start = rng.uniform(0, total - want)
    pieces, position = [], 0.0
    for p, length in zip(paths, lengths):
        lo, hi = max(start - position, 0.0), min(start + want - position, length)
        position += length
        if hi <= lo or len(p) < 2:
            continue
        s = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(p, axis=0).T))])
        t = np.concatenate([[lo], s[(s > lo) & (s < hi)], [hi]])
        pieces.append(np.stack([np.interp(t, s, p[:, 0]), np.interp(t, s, p[:, 1])], 1))
    points = np.concatenate(pieces)
    extent = float((points.max(0) - points.min(0)).max())
    if extent <= 0:
        return None
    spread = np.linalg.svd(points - points.mean(0), compute_uv=False) / math.sqrt(len(points))
    if spread[1] < 0.2 * spread[0]:
        return None  # a straight stroke: a 1
    ends = np.hypot(*(pieces[0][0] - pieces[-1][-1]))
    if len(pieces) == 1 and ends < 0.35 * extent:
        return None  # a closed loop: a 0
    return pieces
