"""Why the network answered as it did, and what this one drawing would teach it.

The maths of the lesson's later chapters, on a single example ``x`` (784 inputs) and
the network ``a' = σ(W a + b)`` of :mod:`model.network`:

- the cost of one example, ``C = Σⱼ (aⱼ − yⱼ)²`` with ``y`` the one-hot of the target
  digit (no ½, as in the lesson);
- the *nudges*: ``−∂C/∂a`` for every layer's activations — how much, and which way,
  each neuron "wants" to move to lower the cost;
- ``∂C/∂W`` and ``∂C/∂b`` by backpropagation, and the weights that matter most;
- an *attribution* of the answer to the input pixels, ``xᵢ · ∂(a_f − a_g)/∂xᵢ``
  ("how much this pixel's ink argued for digit f over digit g");
- plain gradient descent on this one example, ``W ← W − η ∂C/∂W``, on copies: the
  network passed in never changes.

Everything is float64 numpy on one example, kept as a batch of one row (shapes
(1, 784), (1, 16), (1, 16), (1, 10)) so :func:`model.network.forward` and
:func:`model.network.deltas` serve as they are. No Flask here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from model.network import Network, deltas, forward, sigmoid

#: The default step size η of :func:`descend`. One example's step on layer 1 is scaled by
#: its ink, x·x ≈ 90 for an MNIST digit, so η is small: at 0.02, 10 steps make the target
#: the strongest output for 70% of the MNIST test digits the network gets wrong, step by
#: visible step (the target's median activation 0.08, 0.16, 0.40, 0.69, … 0.90).
DEFAULT_LEARNING_RATE = 0.02
#: Limits of what /api/explain accepts (a request stays a few milliseconds).
MAX_STEPS = 50
MAX_LEARNING_RATE = 10.0


@dataclass(frozen=True)
class Lesson:
    """The cost of one example and everything backpropagation says about it.

    ``activations``: ``[x, a1, a2, a3]``, shapes (784,), (16,), (16,), (10,).
    ``nudges``: ``−∂C/∂a`` for hidden1 (16,), hidden2 (16,) and the output (10,).
    ``grad_weights``: ``∂C/∂W`` per layer, (16, 784), (16, 16), (10, 16) — the shapes of
    ``W``: row = receiving neuron, column = sending one. ``grad_biases``: (16,), (16,), (10,).
    """

    cost: float
    activations: list[np.ndarray]
    nudges: list[np.ndarray]
    grad_weights: list[np.ndarray]
    grad_biases: list[np.ndarray]


@dataclass(frozen=True)
class Descent:
    """After each of ``k`` steps of gradient descent: ``costs`` (k,), the ten ``outputs``
    (k, 10) and the winning ``digits`` (k,)."""

    costs: np.ndarray
    outputs: np.ndarray
    digits: np.ndarray


def one_hot(target: int, n: int = 10) -> np.ndarray:
    """``y``: 1 for the target digit, 0 for the others, shape (n,)."""
    y = np.zeros(n)
    y[target] = 1.0
    return y


def cost(output: np.ndarray, target: int) -> np.ndarray | float:
    """``C = Σⱼ (aⱼ − yⱼ)²`` for ten outputs (10,) — or for each row of (k, 10), giving (k,)."""
    output = np.asarray(output, np.float64)
    c = ((output - one_hot(target, output.shape[-1])) ** 2).sum(axis=-1)
    return float(c) if output.ndim == 1 else c


def _row(x: np.ndarray) -> np.ndarray:
    """One input as a batch of one: (784,) → (1, 784), float64."""
    return np.asarray(x, np.float64).reshape(1, -1)


def _gradients(weights: Sequence[np.ndarray], activations: list[np.ndarray], y: np.ndarray):
    """Backprop of ``C`` for a batch of one: ``(deltas, grad_weights, grad_biases)``.

    ``∂C/∂a3 = 2 (a3 − y)``, so ``δ3 = ∂C/∂z3 = 2 (a3 − y) σ'(z3)``; then, per layer,
    ``∂C/∂W = δ a_inᵀ`` and ``∂C/∂b = δ`` (:func:`model.network.backprop` for one example,
    without computing the deltas twice).
    """
    a3 = activations[-1]
    every = deltas(weights, activations, 2.0 * (a3 - y) * a3 * (1.0 - a3))
    grad_w = [d.T @ a_in for d, a_in in zip(every, activations)]
    grad_b = [d[0] for d in every]
    return every, grad_w, grad_b


def lesson(network: Network, x: np.ndarray, target: int) -> Lesson:
    """The cost of ``x`` (784,) against ``target`` and its gradients (see :class:`Lesson`)."""
    activations = forward(network.weights, network.biases, _row(x))
    y = one_hot(target, network.sizes[-1])
    every, grad_w, grad_b = _gradients(network.weights, activations, y)
    # ∂C/∂a of the layer feeding layer l is δ_l W_l; the output's own is 2 (a3 − y).
    wants = [-(d @ w)[0] for d, w in zip(every[1:], network.weights[1:])]
    wants.append(-2.0 * (activations[-1][0] - y))
    return Lesson(cost=cost(activations[-1][0], target), activations=[a[0] for a in activations],
                  nudges=wants, grad_weights=grad_w, grad_biases=grad_b)


def attribution(network: Network, x: np.ndarray, f: int, g: int) -> np.ndarray:
    """``xᵢ · ∂(a_f − a_g)/∂xᵢ`` for every input pixel, shape (784,).

    Backprop of ``a_f − a_g`` (not of a cost) all the way to the input layer. Positive:
    this pixel's ink pushed the network toward ``f`` over ``g``; blank pixels (xᵢ = 0) say
    nothing.
    """
    x = _row(x)
    activations = forward(network.weights, network.biases, x)
    a3 = activations[-1]
    direction = np.zeros_like(a3)
    direction[0, f] += 1.0
    direction[0, g] -= 1.0
    first = deltas(network.weights, activations, direction * a3 * (1.0 - a3))[0]
    return (x * (first @ network.weights[0]))[0]


def top_weights(network: Network, grad_weights: Sequence[np.ndarray], n: int = 10) -> list[dict]:
    """The ``n`` weights with the largest ``|∂C/∂w|`` over every layer, largest first.

    Each is ``{"layer": 1|2|3, "to": i, "from": j, "weight": w, "gradient": ∂C/∂w}``:
    ``W_layer[i, j]`` joins neuron ``j`` of the layer before to neuron ``i`` of this one.
    Ties keep the order layer 1 → 3, row by row.
    """
    flat = np.concatenate([np.abs(g).ravel() for g in grad_weights])
    n = min(n, flat.size)
    chosen = np.argpartition(-flat, n - 1)[:n]
    chosen = chosen[np.lexsort((chosen, -flat[chosen]))]
    starts = np.cumsum([0] + [g.size for g in grad_weights])
    found = []
    for index in chosen.tolist():
        layer = int(np.searchsorted(starts, index, side="right")) - 1
        to, from_ = np.unravel_index(index - starts[layer], grad_weights[layer].shape)
        found.append({"layer": layer + 1, "to": int(to), "from": int(from_),
                      "weight": float(network.weights[layer][to, from_]),
                      "gradient": float(grad_weights[layer][to, from_])})
    return found


def descend(network: Network, x: np.ndarray, target: int, learning_rate: float,
            steps: int) -> Descent:
    """``steps`` steps of plain gradient descent on ``C`` for this one example.

    Starts from the network's weights; each step is ``W ← W − η ∂C/∂W``,
    ``b ← b − η ∂C/∂b`` with ``x`` (784,) fixed, and each step is measured after it is
    taken. Works on new arrays: ``network`` is untouched.

    Layer 1's weights only ever meet this one ``x``, and a step changes them by
    ``−η ∂C/∂W1 = −η δ1 xᵀ`` (an outer product), so ``W1 x`` changes by ``−η δ1 (x·x)``.
    We follow those 16 numbers instead of updating the 12,544 weights: the same descent
    (to 1e-12, tests/test_explain.py), and 50 steps took 4 ms of CPU instead of 7 when
    measured. Layers 2 and 3 are updated as they are.
    """
    x = _row(x)
    w1x = x @ network.weights[0].T          # (1, 16): all W1 does for this x
    xx = float((x * x).sum())               # x·x
    b1 = network.biases[0]
    weights, biases = list(network.weights[1:]), list(network.biases[1:])   # W2, W3; b2, b3
    y = one_hot(target, network.sizes[-1])

    def run() -> list[np.ndarray]:
        """``[a1, a2, a3]``, each (1, n), for the current parameters."""
        return forward(weights, biases, sigmoid(w1x + b1))

    activations = run()
    outputs = np.empty((steps, len(y)))
    for k in range(steps):
        every, grad_w, grad_b = _gradients(weights, activations, y)   # δ2, δ3; ∂C/∂W2, ∂C/∂W3; …
        a1 = activations[0]
        delta1 = (every[0] @ weights[0]) * a1 * (1.0 - a1)            # δ1 = ∂C/∂z1, (1, 16)
        w1x = w1x - learning_rate * xx * delta1
        b1 = b1 - learning_rate * delta1[0]
        weights = [w - learning_rate * g for w, g in zip(weights, grad_w)]
        biases = [b - learning_rate * g for b, g in zip(biases, grad_b)]
        activations = run()
        outputs[k] = activations[-1][0]
    return Descent(costs=cost(outputs, target), outputs=outputs, digits=np.argmax(outputs, axis=1))
