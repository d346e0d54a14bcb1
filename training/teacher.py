"""The optional distillation teacher: a wide ReLU network, only used to produce soft targets.

Off in the shipped recipe (``teacher.hidden=()``). With ``distill_weight`` > 0 and hidden
layers, :func:`train_teacher` trains it on the same digits with softmax cross-entropy and
Adam, and the student learns from ``softmax(teacher_logits / T)`` as well as from the label
(:func:`training.cost.cost_and_delta`).
"""
from __future__ import annotations

import time

import numpy as np

from model.network import log_softmax
from training import mnist
from training.augment import augment
from training.cost import onehot
from training.optim import Adam, flat_views, lr_at, weight_mask
from training.progress import log
from training.recipe import TeacherRecipe


def teacher_init(sizes: tuple[int, ...], rng: np.random.Generator) -> list[np.ndarray]:
    """He-normal weights ``(n_in, n_out)`` and zero biases, interleaved [W1, b1, W2, b2, ...]."""
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        params.append((rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)).astype(np.float32))
        params.append(np.zeros(n_out, dtype=np.float32))
    return params


def teacher_logits(params: list[np.ndarray], x: np.ndarray, chunk: int = 5000) -> np.ndarray:
    out = []
    for start in range(0, x.shape[0], chunk):
        a = x[start:start + chunk]
        for i in range(0, len(params) - 2, 2):
            a = np.maximum(a @ params[i] + params[i + 1], 0)
        out.append(a @ params[-2] + params[-1])
    return np.concatenate(out)


def teacher_gradients(params: list[np.ndarray], x: np.ndarray, target: np.ndarray):
    """Mean softmax cross-entropy against ``target`` (N, 10) and its gradients."""
    acts = [x]
    a = x
    for i in range(0, len(params) - 2, 2):
        a = np.maximum(a @ params[i] + params[i + 1], 0)
        acts.append(a)
    z = a @ params[-2] + params[-1]
    log_p = log_softmax(z)
    n = x.shape[0]
    loss = float(-(target * log_p).sum() / n)
    delta = (np.exp(log_p) - target) / np.float32(n)
    grads = [None] * len(params)
    for layer in range(len(params) // 2 - 1, -1, -1):
        grads[2 * layer] = acts[layer].T @ delta
        grads[2 * layer + 1] = delta.sum(axis=0)
        if layer:
            delta = (delta @ params[2 * layer].T) * (acts[layer] > 0)
    return loss, grads


def train_teacher(recipe: TeacherRecipe, x: np.ndarray, y: np.ndarray, val: mnist.Split,
                  rngs: dict, quiet: bool) -> list[np.ndarray]:
    flat, params = flat_views(teacher_init((x.shape[1],) + recipe.hidden + (10,), rngs["teacher_init"]))
    opt = Adam(flat, weight_decay=recipe.weight_decay, decay=weight_mask(params))
    n = x.shape[0]
    steps_per_epoch = -(-n // recipe.batch_size)
    total = recipe.epochs * steps_per_epoch
    step = 0
    start = time.perf_counter()
    for epoch in range(1, recipe.epochs + 1):
        order = rngs["teacher_shuffle"].permutation(n)
        xe = augment(x[order], rngs["teacher_augment"], recipe.augmentation)
        ye = onehot(y[order], recipe.label_smoothing)
        losses = []
        for b in range(0, n, recipe.batch_size):
            lr = lr_at(step, total, steps_per_epoch, recipe.learning_rate, 0.0)
            loss, grads = teacher_gradients(params, xe[b:b + recipe.batch_size],
                                            ye[b:b + recipe.batch_size])
            opt.step(np.concatenate([g.ravel() for g in grads]), lr)
            losses.append(loss)
            step += 1
        acc = float((teacher_logits(params, val.images).argmax(1) == val.labels).mean())
        log(quiet, f"teacher epoch {epoch:3d}/{recipe.epochs}  loss {np.mean(losses):.4f}  "
                   f"validation {acc:.2%}  {time.perf_counter() - start:6.1f}s")
    return params
