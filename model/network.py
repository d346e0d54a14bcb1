"""The lesson's network: 784 inputs → 16 sigmoid → 16 sigmoid → 10 sigmoid outputs.

Convention (3Blue1Brown, Nielsen): each layer computes ``a' = σ(W a + b)`` where ``W``
has one row per neuron of the next layer, so ``w1`` is (16, 784), ``w2`` (16, 16),
``w3`` (10, 16). Batches are stored as rows, so in code a layer is
``z = a @ W.T + b`` with ``a`` of shape (N, n_in) and ``z`` of shape (N, n_out).

Input convention: 784 values, a row-major 28×28 image in [0, 1], ink = 1 (MNIST as in
Nielsen's ``mnist.pkl.gz``).

Pure numpy. A :class:`Network` is immutable: its arrays are read-only copies, and
``forward`` returns every layer's activations without changing anything.
"""
from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Sequence

import numpy as np

SIZES = (784, 16, 16, 10)
ARRAY_NAMES = ("w1", "b1", "w2", "b2", "w3", "b3")


class WeightsError(ValueError):
    """A weights file is missing, unreadable, or holds the wrong arrays."""


def sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) = 1 / (1 + e^-z), written through tanh so large |z| cannot overflow."""
    s = np.tanh(0.5 * z)
    s += 1.0  # in place: the same operations as 0.5 * (1 + tanh(z / 2)), two arrays fewer
    s *= 0.5
    return s


def expected_shapes(sizes: Sequence[int] = SIZES) -> dict[str, tuple[int, ...]]:
    shapes = {}
    for layer, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        shapes[f"w{layer}"] = (n_out, n_in)
        shapes[f"b{layer}"] = (n_out,)
    return shapes


def forward(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray],
            x: np.ndarray) -> list[np.ndarray]:
    """Activations of every layer for a batch ``x`` of shape (N, 784).

    Returns ``[x, a1, a2, a3]`` with shapes (N, 784), (N, 16), (N, 16), (N, 10).
    """
    activations = [x]
    a = x
    for w, b in zip(weights, biases):
        z = a @ w.T
        z += b
        a = sigmoid(z)
        activations.append(a)
    return activations


def deltas(weights: Sequence[np.ndarray], activations: Sequence[np.ndarray],
           delta: np.ndarray) -> list[np.ndarray]:
    """``∂C/∂z`` of every layer, first to last, given ``delta = ∂C/∂z`` of the last layer.

    ``activations`` is what :func:`forward` returned, so ``deltas[l]`` has the shape of
    ``activations[l + 1]``: (N, 16), (N, 16), (N, 10). Every hidden layer is sigmoid,
    so σ'(z) = a (1 − a). ``deltas[l] @ weights[l]`` is ``∂C/∂a`` of the layer feeding
    layer ``l`` — of the input itself for ``l = 0``.
    """
    out = [delta]
    for layer in range(len(weights) - 1, 0, -1):
        a = activations[layer]
        delta = (delta @ weights[layer]) * a * (1.0 - a)
        out.insert(0, delta)
    return out


def backprop(weights: Sequence[np.ndarray], activations: Sequence[np.ndarray],
             delta: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Gradients of a cost C summed over the batch, given ``delta = ∂C/∂z`` of the last layer.

    ``activations`` is what :func:`forward` returned. Returns ``(grad_weights,
    grad_biases)`` with the shapes of the parameters: ``∂C/∂W = δᵀ a_in``, ``∂C/∂b = Σ δ``.
    """
    every = deltas(weights, activations, delta)
    grad_w = [d.T @ a_in for d, a_in in zip(every, activations)]
    grad_b = [d.sum(axis=0) for d in every]
    return grad_w, grad_b


def log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


@dataclass(frozen=True, eq=False)
class Network:
    """Weights and biases of a fully connected sigmoid network (immutable)."""

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]

    def __post_init__(self) -> None:
        if len(self.weights) != len(self.biases) or not self.weights:
            raise WeightsError("need one bias vector per weight matrix")
        weights, biases = [], []
        for layer, (w, b) in enumerate(zip(self.weights, self.biases), start=1):
            w = np.array(w, dtype=np.float64)
            b = np.array(b, dtype=np.float64)
            if w.ndim != 2 or b.shape != (w.shape[0],):
                raise WeightsError(f"layer {layer}: w{layer} {w.shape} and b{layer} {b.shape} do not fit")
            if layer > 1 and w.shape[1] != weights[-1].shape[0]:
                raise WeightsError(f"layer {layer}: w{layer} takes {w.shape[1]} inputs, "
                                   f"layer {layer - 1} has {weights[-1].shape[0]} neurons")
            if not (np.isfinite(w).all() and np.isfinite(b).all()):
                raise WeightsError(f"layer {layer}: weights or biases are not all finite")
            w.setflags(write=False)
            b.setflags(write=False)
            weights.append(w)
            biases.append(b)
        object.__setattr__(self, "weights", tuple(weights))
        object.__setattr__(self, "biases", tuple(biases))

    @classmethod
    def random(cls, rng: np.random.Generator, sizes: Sequence[int] = SIZES) -> "Network":
        """Glorot-uniform weights, zero biases: a sensible start for sigmoid layers."""
        weights, biases = [], []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            limit = 4.0 * np.sqrt(6.0 / (n_in + n_out))  # ×4: Glorot's factor for sigmoid
            weights.append(rng.uniform(-limit, limit, size=(n_out, n_in)))
            biases.append(np.zeros(n_out))
        return cls(tuple(weights), tuple(biases))

    @property
    def sizes(self) -> tuple[int, ...]:
        return (self.weights[0].shape[1],) + tuple(w.shape[0] for w in self.weights)

    @property
    def num_parameters(self) -> int:
        return sum(w.size + b.size for w, b in zip(self.weights, self.biases))

    def forward(self, x: np.ndarray) -> list[np.ndarray]:
        """Every layer's activations for ``x`` of shape (N, 784) or a single (784,) input.

        Returns ``[input, hidden1, hidden2, output]``; a single input gives 1-D arrays.
        """
        x = np.asarray(x, dtype=np.float64)
        single = x.ndim == 1
        batch = x[None, :] if single else x
        n_in = self.weights[0].shape[1]
        if batch.ndim != 2 or batch.shape[1] != n_in:
            raise ValueError(f"expected input of shape (N, {n_in}), got {x.shape}")
        activations = forward(self.weights, self.biases, batch)
        return [a[0] for a in activations] if single else activations

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The winning digit: argmax of the output activations, shape (N,) (or a scalar)."""
        return np.argmax(self.forward(x)[-1], axis=-1)

    def gradients(self, x: np.ndarray, labels: np.ndarray, cost: str = "cross_entropy"):
        """Mean cost over the batch and its gradients ``(cost, grad_weights, grad_biases)``.

        ``cost="cross_entropy"``: softmax cross-entropy on the output pre-activations z3
        (what we train with). ``cost="quadratic"``: ½‖a3 − y‖² (Nielsen's chapter 1).
        """
        activations = self.forward(np.atleast_2d(x))
        labels = np.asarray(labels)
        n = labels.shape[0]
        onehot = np.eye(self.sizes[-1])[labels]
        out = activations[-1]
        if cost == "cross_entropy":
            z = activations[-2] @ self.weights[-1].T + self.biases[-1]
            log_p = log_softmax(z)
            value = -(onehot * log_p).sum() / n
            delta = (np.exp(log_p) - onehot) / n
        elif cost == "quadratic":
            value = 0.5 * ((out - onehot) ** 2).sum() / n
            delta = (out - onehot) * out * (1.0 - out) / n
        else:
            raise ValueError(f"unknown cost {cost!r}")
        grad_w, grad_b = backprop(self.weights, activations, delta)
        return value, grad_w, grad_b

    # --- files ---------------------------------------------------------------------

    def to_arrays(self) -> dict[str, np.ndarray]:
        arrays = {}
        for layer, (w, b) in enumerate(zip(self.weights, self.biases), start=1):
            arrays[f"w{layer}"], arrays[f"b{layer}"] = w, b
        return arrays

    def save(self, path: str | Path) -> None:
        """Write ``w1 b1 w2 b2 w3 b3`` as float32 to an ``.npz`` (atomically)."""
        path = Path(path)
        buffer = io.BytesIO()
        np.savez(buffer, **{k: v.astype(np.float32) for k, v in self.to_arrays().items()})
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(buffer.getvalue())
        partial.replace(path)

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], sizes: Sequence[int] = SIZES) -> "Network":
        shapes = expected_shapes(sizes)
        missing = [k for k in shapes if k not in arrays]
        extra = [k for k in arrays if k not in shapes]
        if missing or extra:
            raise WeightsError(f"expected arrays {', '.join(shapes)}; "
                               f"missing {missing or 'none'}, unexpected {extra or 'none'}")
        for name, shape in shapes.items():
            a = arrays[name]
            if a.shape != shape:
                raise WeightsError(f"{name} has shape {a.shape}, expected {shape}")
            if not np.issubdtype(a.dtype, np.floating):
                raise WeightsError(f"{name} has dtype {a.dtype}, expected float32 or float64")
        n = len(sizes) - 1
        return cls(tuple(arrays[f"w{i}"] for i in range(1, n + 1)),
                   tuple(arrays[f"b{i}"] for i in range(1, n + 1)))

    @classmethod
    def load(cls, path: str | Path | BinaryIO, sizes: Sequence[int] = SIZES) -> "Network":
        """Read an ``.npz`` written by :meth:`save` (a path or an open binary file).

        :class:`WeightsError` says what is wrong with a missing or corrupt file.
        """
        if not hasattr(path, "read"):
            path = Path(path)
        label = f"weights file {path}" if isinstance(path, Path) else "weights data"
        try:
            with np.load(path, allow_pickle=False) as npz:
                arrays = {name: npz[name] for name in npz.files}
        except FileNotFoundError:
            raise WeightsError(f"{label} does not exist") from None
        except IsADirectoryError:
            raise WeightsError(f"{label} is a directory, not an .npz file") from None
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
            raise WeightsError(f"{label} is not a readable .npz file ({exc})") from None
        try:
            return cls.from_arrays(arrays, sizes)
        except WeightsError as exc:
            raise WeightsError(f"{label}: {exc}") from None


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
