"""Score a weights file on the MNIST test split: ``python -m training.evaluate [weights.npz]``.

Prints the test accuracy and the 10×10 confusion matrix (rows = true digit, columns =
the network's answer). Any ``.npz`` with the six arrays works; the default is the shipped
file. A missing or broken file, or MNIST that cannot be fetched, is reported in one line
and exits with status 1.

Also home of :func:`write_examples`, which picks the fixed sample of real MNIST test
digits the page offers under "try an example" (``weights/examples.npz``).
"""
from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np

from model.network import Network, WeightsError
from training import mnist

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WEIGHTS = ROOT / "weights" / "mnist-784-16-16-10.npz"
EXAMPLES = DEFAULT_WEIGHTS.parent / "examples.npz"
EXAMPLES_PER_DIGIT = 30
EXAMPLES_SEED = 2024


def pick_examples(labels: np.ndarray, per_digit: int = EXAMPLES_PER_DIGIT,
                  seed: int = EXAMPLES_SEED) -> np.ndarray:
    """Indices into the test split: ``per_digit`` random images of each digit, sorted by
    digit then index, always the same for the same labels, count and seed."""
    rng = np.random.default_rng(seed)
    chosen = []
    for digit in range(10):
        pool = np.flatnonzero(labels == digit)
        chosen.append(np.sort(rng.choice(pool, size=per_digit, replace=False)))
    return np.concatenate(chosen).astype(np.int64)


def write_examples(path: Path, test: mnist.Split, per_digit: int = EXAMPLES_PER_DIGIT,
                   seed: int = EXAMPLES_SEED) -> None:
    """``images (K, 784) uint8`` (round(x·255)), ``labels (K,)``, ``indices (K,)``."""
    indices = pick_examples(test.labels, per_digit, seed)
    images = np.round(test.images[indices] * 255).astype(np.uint8)
    labels = test.labels[indices].astype(np.int64)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, images=images, labels=labels, indices=indices)
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(buffer.getvalue())
    partial.replace(path)


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, k: int = 10) -> np.ndarray:
    """(k, k) counts, rows = true label, columns = predicted."""
    m = np.zeros((k, k), dtype=np.int64)
    np.add.at(m, (labels, predicted), 1)
    return m


def format_confusion(matrix: np.ndarray) -> str:
    """A fixed-width table with a header row of predicted digits and per-row recall."""
    k = matrix.shape[0]
    width = max(5, len(str(matrix.max())) + 1)
    lines = ["true \\ predicted".ljust(8) + "".join(f"{j:>{width}}" for j in range(k)) + "   recall"]
    for i in range(k):
        total = matrix[i].sum()
        recall = matrix[i, i] / total if total else float("nan")
        lines.append(f"{i:>8}" + "".join(f"{v:>{width}}" for v in matrix[i]) + f"   {recall:7.2%}")
    return "\n".join(lines)


def evaluate(network: Network, split: mnist.Split) -> tuple[float, np.ndarray]:
    predicted = network.predict(split.images)
    return float((predicted == split.labels).mean()), confusion_matrix(split.labels, predicted)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.evaluate",
                                     description="Test accuracy and confusion matrix of a weights file.")
    parser.add_argument("weights", nargs="?", type=Path, default=DEFAULT_WEIGHTS,
                        help=f"an .npz with w1 b1 w2 b2 w3 b3 (default: {DEFAULT_WEIGHTS.name})")
    parser.add_argument("--split", choices=("test", "validation"), default="test")
    args = parser.parse_args(argv)
    try:
        network = Network.load(args.weights)
        data = mnist.load()
    except (WeightsError, mnist.MnistUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    split = getattr(data, args.split)
    acc, matrix = evaluate(network, split)
    errors = int(matrix.sum() - np.trace(matrix))
    print(f"{args.weights}")
    print(f"{args.split} accuracy: {acc:.2%} ({matrix.sum() - errors:,} of {matrix.sum():,} correct, "
          f"{errors} errors)")
    print()
    print(format_confusion(matrix))
    return 0


if __name__ == "__main__":
    sys.exit(main())
