"""The sigmoid calibration: σ(a·z3 + b) fitted on held-out data and folded into layer 3.

Softmax cross-entropy only cares about differences between the z3, but the page shows the
ten *sigmoid* outputs. :func:`fit_calibration` finds the scale a and offset b that make
σ(a·z3 + b) fit the held-out targets (:func:`calibration_data`: validation digits against
their one-hot labels, the choose split's non-digits against all zeros), and :func:`served`
folds them into the last layer (w3 ← a·w3, b3 ← a·b3 + b) — the argmax is unchanged (a > 0).
"""
from __future__ import annotations

import numpy as np

from model.network import Network
from training import mnist, nondigits
from training.cost import onehot, student_logits
from training.recipe import Recipe


def fit_calibration(z: np.ndarray, targets: np.ndarray, iterations: int = 50) -> tuple[float, float]:
    """Scale a and offset b minimising the mean binary cross-entropy of σ(a·z + b) vs ``targets``.

    ``z`` (N, 10) pre-activations, ``targets`` (N, 10) in [0, 1] (the one-hot labels).
    The cost is convex in (a, b), so Newton's method with a backtracking line search
    converges in a handful of steps.
    """
    z = np.asarray(z, dtype=np.float64).ravel()
    t = np.asarray(targets, dtype=np.float64).ravel()

    def cost(a, b):
        u = a * z + b
        return float(np.mean(np.logaddexp(0, u) - t * u))

    a, b = 1.0, 0.0
    for _ in range(iterations):
        u = a * z + b
        p = 0.5 * (1 + np.tanh(0.5 * u))
        r = p - t
        g = np.array([np.mean(r * z), np.mean(r)])
        s = p * (1 - p)
        h = np.array([[np.mean(s * z * z), np.mean(s * z)], [np.mean(s * z), np.mean(s)]])
        d = np.linalg.solve(h + 1e-12 * np.eye(2), g)
        step, c0 = 1.0, cost(a, b)
        while cost(a - step * d[0], b - step * d[1]) > c0 and step > 1e-6:
            step /= 2
        a, b = a - step * d[0], b - step * d[1]
        if np.abs(step * d).max() < 1e-10:
            break
    return float(a), float(b)


def calibration_data(recipe: Recipe, data: mnist.Mnist) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, targets) the sigmoid calibration is fitted on, per ``calibrate_on``: digits
    with one-hot targets, and with ``validation+nondigits`` the choose split's non-digits
    with all-zero targets. Empty for ``none``. The inputs are float64, as :func:`served`
    computes (converted once here, not in each of a run's calibrations)."""
    if recipe.calibrate_on == "none":
        return np.zeros((0, 784)), np.zeros((0, 10), np.float32)
    calib = data.train if recipe.calibrate_on == "train" else data.validation
    images, targets = calib.images, onehot(calib.labels)
    if recipe.calibrate_on == "validation+nondigits":
        chosen, _ = choose_nondigits(recipe)
        images = np.concatenate([images, chosen])
        targets = np.concatenate([targets, np.zeros((len(chosen), 10), np.float32)])
    return images.astype(np.float64), targets


def served(params: list[np.ndarray], cal_x: np.ndarray, cal_t: np.ndarray) -> tuple[Network, tuple[float, float]]:
    """The served network for trained ``params`` [w1, b1, w2, b2, w3, b3]: σ(a·z3 + b) fitted
    to ``cal_t`` on ``cal_x`` and folded into layer 3 (w3 ← a·w3, b3 ← a·b3 + b); a = 1,
    b = 0 without calibration data. Returns the network and (a, b)."""
    w = [np.asarray(p, dtype=np.float64) for p in params]
    a, b = (1.0, 0.0) if not len(cal_x) else fit_calibration(student_logits(w, np.asarray(cal_x, dtype=np.float64)), cal_t)
    w[4], w[5] = a * w[4], a * w[5] + b
    return Network(tuple(w[0::2]), tuple(w[1::2])), (a, b)


def choose_nondigits(recipe: Recipe) -> tuple[np.ndarray, np.ndarray]:
    """The choose split of the non-digits (inputs, kind indices), made once per process."""
    key = ("choose", recipe.choose_per_kind, recipe.nondigit_seed)
    if key not in _NONDIGIT_CACHE:
        _NONDIGIT_CACHE[key] = nondigits.dataset("choose", recipe.choose_per_kind, recipe.nondigit_seed)
    return _NONDIGIT_CACHE[key]


_NONDIGIT_CACHE: dict = {}
