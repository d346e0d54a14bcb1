"""Shared fixtures: the app (as in Flask's tutorial: app → client) and real MNIST digits."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from app import create_app

ROOT = Path(__file__).resolve().parent.parent
WEIGHTS = ROOT / "weights" / "mnist-784-16-16-10.npz"
CARD = WEIGHTS.with_suffix(".json")


@pytest.fixture
def app():
    return create_app({"TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def mnist():
    from training import mnist as mnist_module
    return mnist_module.load()


@pytest.fixture(scope="session")
def card():
    return json.loads(CARD.read_text())


@pytest.fixture(scope="session")
def network():
    from model.network import Network
    return Network.load(WEIGHTS)


@pytest.fixture(scope="session")
def snapshots(card):
    """The training run's snapshots beside the shipped weights, ``(networks, metadata)``, read
    straight from the files with numpy and json — not through model/checkpoints.py, which the
    server uses, so that tests comparing the two compare two readings. The real files: tests
    using this are marked ``snapshots``."""
    from model import checkpoints
    from model.network import Network
    npz_path, json_path = checkpoints.paths(WEIGHTS)
    meta = json.loads(json_path.read_text())
    assert meta["model_sha256"] == card["sha256"]
    with np.load(npz_path) as npz:
        arrays = dict(npz)
    return [Network.from_arrays({name: a[k] for name, a in arrays.items()}) for k in range(meta["count"])], meta


@pytest.fixture(scope="session")
def clear_test_digits(mnist, network):
    """Indices of MNIST test digits the shipped network gets right with a clear margin."""
    output = network.forward(mnist.test.images)[-1]
    right = np.argmax(output, axis=1) == mnist.test.labels
    clear = np.sort(output, axis=1)[:, -1] > 0.9
    return np.flatnonzero(right & clear)


def broken_weights(directory: Path, kind: str) -> Path:
    """A copy of the shipped weights and card in ``directory``, broken as ``kind`` says:
    missing, truncated, wrong shape, sha256 mismatch (with the card), or a card whose verdict
    names a threshold no rule has, or gives one that is no number."""
    weights = directory / WEIGHTS.name
    card = json.loads(CARD.read_text())
    if kind == "missing":
        pass
    elif kind == "truncated":
        weights.write_bytes(WEIGHTS.read_bytes()[:1000])
        card["sha256"] = hashlib.sha256(weights.read_bytes()).hexdigest()
    elif kind == "wrong shape":
        with np.load(WEIGHTS) as npz:
            arrays = dict(npz)
        arrays["w2"] = arrays["w2"][:, :15]
        with open(weights, "wb") as f:
            np.savez(f, **arrays)
        card["sha256"] = hashlib.sha256(weights.read_bytes()).hexdigest()
    elif kind == "sha256 mismatch":
        shutil.copy(WEIGHTS, weights)
        card["sha256"] = "0" * 64
    elif kind == "verdict not a rule":
        shutil.copy(WEIGHTS, weights)
        card["verdict"]["thresholds"]["bogus"] = 1.0
    elif kind == "threshold not a number":
        shutil.copy(WEIGHTS, weights)
        card["verdict"]["thresholds"]["min_confidence"] = "0.1"  # served, it failed every request
    else:
        raise ValueError(kind)
    weights.with_suffix(".json").write_text(json.dumps(card))
    return weights
