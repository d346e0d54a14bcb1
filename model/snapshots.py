"""The training run's snapshots as the server serves them ("watch it learn").

:mod:`model.checkpoints` (the training side's format and loader, kept unchanged) reads the
files beside a weights file and checks them against the weights' sha256. This module adds
what serving needs on top:

- the files may live anywhere (``CHECKPOINTS_PATH`` names the ``.checkpoints.npz``; its
  ``.checkpoints.json`` is beside it);
- the last snapshot must be the served network itself, weight for weight;
- every record the API passes on is checked for the types and ranges the API promises
  (``id`` 0, 1, … in order, ``examples_seen`` a whole number that never goes down,
  ``epoch`` and ``cost`` finite and ≥ 0, ``test_accuracy`` a fraction in [0, 1]);
- the ``curve`` is read as records ``[{"examples_seen", "cost"}, …]`` or as columns
  ``{"examples_seen": [...], "cost": [...]}`` (the training run writes columns) and always
  handed on as records.

Anything wrong is a :class:`model.network.WeightsError` saying what. No Flask here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from model import checkpoints
from model.network import Network, WeightsError

SUFFIX = ".checkpoints.npz"


@dataclass(frozen=True)
class Run:
    """The snapshots of one training run, checked.

    ``network(i)`` is snapshot ``i`` (made when asked for, from the file's float32 arrays,
    which is all a worker keeps); ``checkpoints[i]`` its record as the API gives it (``id``,
    ``examples_seen``, ``epoch``, ``cost``, ``test_accuracy``); ``curve`` the finer cost curve
    as records (``examples_seen``, ``cost``); ``sha256`` that of the ``.npz``.
    """

    arrays: dict[str, np.ndarray]
    checkpoints: tuple[dict[str, Any], ...]
    curve: tuple[dict[str, Any], ...]
    sha256: str

    @property
    def count(self) -> int:
        return len(self.checkpoints)

    def network(self, i: int) -> Network:
        return checkpoints.network_at(self.arrays, i)


def default_path(weights: str | Path) -> Path:
    """The ``.checkpoints.npz`` beside a weights file."""
    return checkpoints.paths(weights)[0]


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _records(meta: dict, name: str) -> list[dict[str, Any]]:
    snapshots = meta.get("snapshots")
    if not isinstance(snapshots, list):
        raise WeightsError(f"{name}: \"snapshots\" is not a list")
    records, seen = [], -1
    for i, r in enumerate(snapshots):
        where = f"{name}: snapshots[{i}]"
        if not isinstance(r, dict):
            raise WeightsError(f"{where} is not an object")
        if r.get("id") != i or not _whole(r.get("id")):
            raise WeightsError(f"{where} has id {r.get('id')!r}; the ids must be 0, 1, … in order")
        examples = r.get("examples_seen")
        if not _whole(examples) or examples < max(seen, 0):
            raise WeightsError(f"{where}.examples_seen is {examples!r}: not a whole number at least "
                               f"the previous snapshot's {max(seen, 0)}")
        for field in ("epoch", "cost"):
            if not _number(r.get(field)) or r[field] < 0:
                raise WeightsError(f"{where}.{field} is {r.get(field)!r}, not a finite number ≥ 0")
        accuracy = r.get("test_accuracy")
        if not _number(accuracy) or not 0 <= accuracy <= 1:
            raise WeightsError(f"{where}.test_accuracy is {accuracy!r}, not a fraction in [0, 1]")
        seen = examples
        records.append({"id": i, "examples_seen": int(examples), "epoch": float(r["epoch"]),
                        "cost": float(r["cost"]), "test_accuracy": float(accuracy)})
    return records


def _curve(meta: dict, name: str) -> list[dict[str, Any]]:
    curve = meta.get("curve", [])
    if isinstance(curve, dict):  # columns: {"examples_seen": [...], "cost": [...], ...}
        xs, ys = curve.get("examples_seen"), curve.get("cost")
        if not isinstance(xs, list) or not isinstance(ys, list) or len(xs) != len(ys):
            raise WeightsError(f"{name}: the curve's \"examples_seen\" and \"cost\" are not two lists "
                               "of the same length")
        points = list(zip(xs, ys))
    elif isinstance(curve, list):
        if not all(isinstance(p, dict) for p in curve):
            raise WeightsError(f"{name}: the curve is not a list of objects")
        points = [(p.get("examples_seen"), p.get("cost")) for p in curve]
    else:
        raise WeightsError(f"{name}: \"curve\" is neither records nor columns")
    out = []
    for k, (x, y) in enumerate(points):
        if not _whole(x) or x < 0 or not _number(y) or y < 0:
            raise WeightsError(f"{name}: curve point {k} is ({x!r}, {y!r}), not (a whole number ≥ 0, "
                               "a finite number ≥ 0)")
        out.append({"examples_seen": int(x), "cost": float(y)})
    return out


def load(path: str | Path, served: Network, served_sha256: str) -> Run:
    """The snapshots in ``path`` (a ``….checkpoints.npz``; its ``.json`` beside it), checked
    against the served network and its weights file's sha256."""
    path = Path(path)
    if not path.name.endswith(SUFFIX) or path.name == SUFFIX:
        raise WeightsError(f"snapshot file {path} is not named <name>{SUFFIX}")
    # model.checkpoints finds its files beside a weights file: <name>.npz ↔ <name>.checkpoints.*
    beside = path.with_name(path.name[:-len(SUFFIX)] + ".npz")
    name = checkpoints.paths(beside)[1].name
    try:
        arrays, meta = checkpoints.load_arrays(beside, served_sha256)
        count = meta["count"]
        last = checkpoints.network_at(arrays, count - 1) if count else None
    except (AttributeError, TypeError, KeyError) as exc:  # metadata of the wrong shape (not an object, …)
        raise WeightsError(f"{name} does not have the layout of model/checkpoints.py ({exc})") from None
    if last is None:
        raise WeightsError(f"{name} holds no snapshots")
    records = _records(meta, name)
    same = all(np.array_equal(a, b) for a, b in zip(last.weights + last.biases, served.weights + served.biases))
    if last.sizes != served.sizes or not same:
        raise WeightsError(f"the last snapshot in {path.name} is not the served network")
    return Run(arrays, tuple(records), tuple(_curve(meta, name)), str(meta.get("sha256")))
