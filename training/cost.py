"""The student's training cost: its targets, its output pre-activations z3, C and ∂C/∂z3.

A minibatch is k digits followed by u non-digits. The digits' targets are one-hot labels
(:func:`onehot`, optionally smoothed, blended by :func:`mixup` or mixed with a teacher's
:func:`softmax`); the non-digits have none — every output should say "no".
:func:`cost_and_delta` turns the z3 of the whole minibatch (:func:`student_logits`) into
the cost and the gradient that backpropagation starts from.
"""
from __future__ import annotations

import numpy as np

from model.network import forward, log_softmax, sigmoid
from training.recipe import Recipe


def softmax(z: np.ndarray) -> np.ndarray:
    return np.exp(log_softmax(z))


def onehot(labels: np.ndarray, smoothing: float = 0.0, k: int = 10) -> np.ndarray:
    y = np.full((labels.shape[0], k), smoothing / k, dtype=np.float32)
    y[np.arange(labels.shape[0]), labels] += 1.0 - smoothing
    return y


def mixup(x: np.ndarray, y: np.ndarray, probability: float, rng: np.random.Generator):
    """Blend a random share of the images (and their targets) with another random image."""
    if probability <= 0:
        return x, y
    n = x.shape[0]
    rows = np.flatnonzero(rng.random(n) < probability)
    partners = rng.integers(0, n, rows.size)
    lam = rng.uniform(0.0, 1.0, rows.size).astype(np.float32)[:, None]
    x, y = x.copy(), y.copy()
    x[rows] = lam * x[rows] + (1 - lam) * x[partners]
    y[rows] = lam * y[rows] + (1 - lam) * y[partners]
    return x, y


def student_logits(params: list[np.ndarray], x: np.ndarray) -> np.ndarray:
    """z3 for a batch, with params [w1, b1, w2, b2, w3, b3] (float32)."""
    acts = forward(params[0::2], params[1::2], x)
    return acts[-2] @ params[4].T + params[5]


def cost_and_delta(z: np.ndarray, y: np.ndarray, recipe: Recipe, alpha: float = 0.0,
                   soft: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """The training cost of one minibatch and its gradient ∂C/∂z3.

    ``z`` (k + u, 10): the output pre-activations of k digits followed by u non-digits;
    ``y`` (k, 10) the digits' targets (one-hot); ``soft`` the teacher's (k, 10), if any.
    Over the digits: softmax_weight · [(1 − α)·CE(softmax z, y) + α·T²·CE(softmax z/T, teacher)]
    + sigmoid_weight · BCE(σ(z), y) on the label's output (``sigmoid_on="label"``) or on all
    ten; over the non-digits: nondigit_weight · Σⱼ BCE(σ(zⱼ), 0), ten outputs saying "no"; and
    the optional energy hinges. Summed over the batch and divided by k (per digit, so the
    non-digits add to the digits' cost).
    """
    k = y.shape[0]
    m = np.float32(k)
    loss = 0.0
    delta = np.zeros_like(z)
    w_softmax = np.float32(recipe.softmax_weight)
    if w_softmax:
        log_p = log_softmax(z[:k])
        if alpha < 1:
            loss += float(w_softmax) * (1 - alpha) * float(-(y * log_p).sum() / m)
            delta[:k] += w_softmax * np.float32(1 - alpha) * (np.exp(log_p) - y)
        if alpha:
            temp = np.float32(recipe.temperature)
            log_q = log_softmax(z[:k] / temp)
            loss += float(w_softmax) * alpha * float(-(soft * log_q).sum() / m) * float(temp) ** 2
            delta[:k] += w_softmax * np.float32(alpha) * temp * (np.exp(log_q) - soft)
    if recipe.sigmoid_weight or (recipe.nondigit_weight and z.shape[0] > k):
        # ten yes/no questions: one-hot for a digit, all "no" for a non-digit
        target = np.zeros_like(z)
        target[:k] = y
        weight = np.empty_like(z)
        weight[:k] = np.float32(recipe.sigmoid_weight) * (y if recipe.sigmoid_on == "label" else 1)
        weight[k:] = np.float32(recipe.nondigit_weight)
        loss += float((weight * (np.logaddexp(0, z) - target * z)).sum() / m)
        delta += weight * (sigmoid(z) - target)
    w_energy = np.float32(recipe.energy_weight)
    if w_energy:
        # squared hinges on the log-sum-exp of z3: digits above m_in, non-digits below m_out
        m_in, m_out = recipe.energy_margins
        lse = np.logaddexp.reduce(z, axis=1, keepdims=True)
        p = np.exp(z - lse)
        gap = np.where(np.arange(z.shape[0])[:, None] < k, np.maximum(m_in - lse, 0), -np.maximum(lse - m_out, 0))
        loss += float(w_energy) * float((gap ** 2).sum() / m)
        delta += w_energy * np.float32(-2.0) * gap.astype(z.dtype) * p
    return loss, delta / m

