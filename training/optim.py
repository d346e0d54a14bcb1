"""The optimiser's side of training: Adam on one flat buffer, the learning-rate schedule.

Every network here (student and teacher) is a list of arrays — weight matrices and bias
vectors. :func:`flat_views` puts them in one contiguous float32 buffer so that Adam and the
weight averages update one array per step; :func:`lr_at` is the warm-up-then-cosine
learning rate.
"""
from __future__ import annotations

import numpy as np


def lr_at(step: int, total: int, warmup: int, peak: float, final_fraction: float) -> float:
    """Linear warm-up to ``peak``, then a cosine down to ``peak × final_fraction``."""
    if warmup and step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    floor = peak * final_fraction
    return floor + (peak - floor) * 0.5 * (1.0 + np.cos(np.pi * min(1.0, progress)))


def flat_views(arrays: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """One contiguous float32 buffer holding ``arrays``, and views of it shaped like them.

    The optimizer and the moving average then touch one array per step instead of six,
    which matters for the small minibatches the student trains with.
    """
    flat = np.concatenate([np.asarray(a, dtype=np.float32).ravel() for a in arrays])
    return flat, split_like(flat, arrays)


def split_like(flat: np.ndarray, arrays: list[np.ndarray]) -> list[np.ndarray]:
    """Views of the 1-D ``flat`` shaped like ``arrays`` (the inverse of :func:`flat_views`)."""
    views, offset = [], 0
    for a in arrays:
        views.append(flat[offset:offset + a.size].reshape(a.shape))
        offset += a.size
    return views


class Adam:
    """Adam (Kingma & Ba) with decoupled weight decay, in place on one flat float32 array.

    ``decay`` (same shape, 1 where weight decay applies, 0 elsewhere) keeps it off biases.
    """

    def __init__(self, params: np.ndarray, betas=(0.9, 0.999), eps=1e-8,
                 weight_decay: float = 0.0, decay: np.ndarray | None = None):
        self.params = params
        self.m = np.zeros_like(params)
        self.v = np.zeros_like(params)
        self.beta1, self.beta2 = betas
        self.eps = np.float32(eps)
        self.weight_decay = weight_decay
        self.decay = decay
        self.t = 0

    def step(self, grad: np.ndarray, lr: float) -> None:
        self.t += 1
        c1 = 1.0 - self.beta1 ** self.t
        c2 = 1.0 - self.beta2 ** self.t
        step = np.float32(lr * np.sqrt(c2) / c1)
        self.m *= np.float32(self.beta1)
        self.m += np.float32(1 - self.beta1) * grad
        self.v *= np.float32(self.beta2)
        self.v += np.float32(1 - self.beta2) * (grad * grad)
        if self.weight_decay:
            self.params -= np.float32(lr * self.weight_decay) * self.decay * self.params
        self.params -= step * self.m / (np.sqrt(self.v) + self.eps)


def weight_mask(arrays: list[np.ndarray]) -> np.ndarray:
    """Flat 1/0 mask: 1 on weight matrices (2-D), 0 on bias vectors."""
    return np.concatenate([np.full(a.size, float(a.ndim == 2), dtype=np.float32) for a in arrays])
