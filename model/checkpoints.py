"""Snapshots of the training run that produced the shipped weights ("watch it learn").

``python -m training.train`` keeps the network at about twenty moments of its run, from
the initial random weights (0 examples seen) to the final network, spaced geometrically in
examples seen so the early, fast learning is visible. Two files beside the weights:

``<name>.checkpoints.npz``   float32 arrays ``w1 (K, 16, 784)``, ``b1 (K, 16)``,
                             ``w2 (K, 16, 16)``, ``b2 (K, 16)``, ``w3 (K, 10, 16)``,
                             ``b3 (K, 10)``: snapshot i is ``w1[i], b1[i], ...``.
``<name>.checkpoints.json``  ``model_sha256`` (the weights file they belong to), ``sha256``
                             (of the .npz), ``count``, ``convention``, one record per
                             snapshot (``id``, ``step``, ``examples_seen``, ``epoch``,
                             ``cost``, ``test_accuracy``, ``calibration``) and the finer
                             ``curve`` (``examples_seen``, ``cost``).

Every snapshot is an ordinary 784-16-16-10 sigmoid network in the served convention
(a' = σ(W a + b), three times); the last is bit for bit the shipped weights.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from model.network import ARRAY_NAMES, Network, WeightsError, file_sha256


def paths(weights: str | Path) -> tuple[Path, Path]:
    """The (.npz, .json) snapshot files that belong beside a weights file."""
    weights = Path(weights)
    stem = weights.with_suffix("")
    return (stem.with_name(stem.name + ".checkpoints.npz"),
            stem.with_name(stem.name + ".checkpoints.json"))


def load(weights: str | Path, expected_model_sha256: str | None = None) -> tuple[list[Network], dict]:
    """The snapshots beside ``weights`` as networks, and their metadata (see :func:`load_arrays`)."""
    arrays, meta = load_arrays(weights, expected_model_sha256)
    return [network_at(arrays, i) for i in range(meta["count"])], meta


def network_at(arrays: dict[str, np.ndarray], i: int) -> Network:
    """Snapshot ``i`` of the stacked arrays :func:`load_arrays` returns."""
    return Network.from_arrays({name: a[i] for name, a in arrays.items()})


def load_arrays(weights: str | Path, expected_model_sha256: str | None = None) -> tuple[dict[str, np.ndarray], dict]:
    """The snapshots beside ``weights`` as the stacked float32 arrays of the file (half the
    memory of twenty float64 networks), and their metadata.

    :class:`WeightsError` if a file is missing or unreadable, the arrays do not match the
    metadata, or the snapshots belong to other weights than ``expected_model_sha256``
    (when given: the sha256 of the weights being served).
    """
    npz_path, json_path = paths(weights)
    try:
        meta = json.loads(json_path.read_text())
    except FileNotFoundError:
        raise WeightsError(f"snapshot metadata {json_path} does not exist") from None
    except (OSError, ValueError) as exc:
        raise WeightsError(f"snapshot metadata {json_path} is not readable JSON ({exc})") from None
    if expected_model_sha256 is not None and meta.get("model_sha256") != expected_model_sha256:
        raise WeightsError(f"the snapshots in {json_path.name} belong to weights with sha256 "
                           f"{meta.get('model_sha256')}, not {expected_model_sha256}")
    try:
        if file_sha256(npz_path) != meta.get("sha256"):
            raise WeightsError(f"{npz_path.name} does not match the sha256 in {json_path.name}")
        with np.load(npz_path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in ARRAY_NAMES}
    except FileNotFoundError:
        raise WeightsError(f"snapshot file {npz_path} does not exist") from None
    except (OSError, ValueError, KeyError) as exc:
        raise WeightsError(f"snapshot file {npz_path} is not readable ({exc})") from None
    count = meta.get("count")
    if any(a.shape[0] != count for a in arrays.values()) or len(meta.get("snapshots", ())) != count:
        raise WeightsError(f"{npz_path.name} and {json_path.name} disagree on the number of snapshots")
    if not all(np.isfinite(a).all() for a in arrays.values()):  # what Network checks, for every snapshot at once
        raise WeightsError(f"{npz_path.name} holds weights or biases that are not finite numbers")
    return arrays, meta
