"""What a process loads once at start-up: the network, its model card, the examples, and
the snapshots of the training run that made the network.

Nothing here is loaded at import or per request. A missing or corrupt weights file, or
one whose sha256 disagrees with the model card, leaves the service up but not ready
(``reason`` says why, and one clear line is logged) — it never serves predictions
from bad weights. Snapshots that are missing or belong to other weights leave the service
ready (predictions need only the network); ``run_reason`` says why they are not served,
in one logged line, and /api/training answers 503 with it.
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from flask import current_app

from model import snapshots
from model.answer import Rule
from model.network import Network, WeightsError
from model.snapshots import Run
from server.json_provider import dumps_bytes

MODEL_VERSION = "1"


@dataclass
class Examples:
    images: np.ndarray  # (K, 784) uint8, as stored (a quarter of float32's memory in every worker)
    labels: np.ndarray  # (K,) int
    indices: np.ndarray  # (K,) index into the MNIST test split

    def pixels(self, i: int) -> np.ndarray:
        """Example ``i`` as the network takes it: (784,) float32 in [0, 1]."""
        return self.images[i].astype(np.float32) / 255.0


@dataclass
class State:
    network: Network | None = None
    name: str = "mnist-784-16-16-10"
    sha256: str = ""
    card: dict[str, Any] = field(default_factory=dict)
    reason: str = ""  # why not ready; empty when ready
    examples: Examples | None = None
    model_json: bytes = b""  # the /api/model body, encoded once
    model_etag: str = ""
    rule: Rule = field(default_factory=Rule)  # digit / unsure / not a digit: the card's, or the settings'
    run: Run | None = None  # the training run's snapshots, checked against the network
    run_reason: str = ""  # why there are none; empty when there are
    training_json: bytes = b""  # the /api/training body, encoded once
    training_etag: str = ""
    snapshot_json: dict[int, bytes] = field(default_factory=dict)  # /api/training/<id>, on first use

    @property
    def ready(self) -> bool:
        return self.network is not None


def _load_network(weights_path: Path, card_path: Path) -> tuple[Network, dict[str, Any], str]:
    try:
        raw = weights_path.read_bytes()
    except FileNotFoundError:
        raise WeightsError(f"weights file {weights_path} does not exist") from None
    except OSError as exc:
        raise WeightsError(f"weights file {weights_path} cannot be read ({exc.strerror})") from None
    try:
        # Parse the very bytes we hash, so the file cannot change in between.
        network = Network.load(io.BytesIO(raw))
    except WeightsError as exc:
        raise WeightsError(f"weights file {weights_path}: {exc}") from None
    sha256 = hashlib.sha256(raw).hexdigest()
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WeightsError(f"model card {card_path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WeightsError(f"model card {card_path} is not readable JSON ({exc})") from None
    expected = card.get("sha256") if isinstance(card, dict) else None
    if expected != sha256:
        raise WeightsError(f"weights file {weights_path} has sha256 {sha256}, "
                           f"but the model card {card_path.name} says {expected}")
    return network, card, sha256


def _load_examples(path: Path, logger: logging.Logger) -> Examples | None:
    try:
        with np.load(path, allow_pickle=False) as npz:
            images = npz["images"]
            labels, indices = npz["labels"].astype(int), npz["indices"].astype(int)
    except Exception as exc:  # any unreadable file: examples are optional, predictions are not
        logger.warning("examples unavailable: %s is not readable (%s)", path, exc)
        return None
    if images.dtype != np.uint8 or images.ndim != 2 or images.shape[1] != 784 \
            or not len(images) == len(labels) == len(indices):
        logger.warning("examples unavailable: %s does not hold uint8 images of 784 pixels with labels", path)
        return None
    return Examples(images, labels, indices)


def _model_document(state: State) -> dict[str, Any]:
    network = state.network
    assert network is not None
    return {
        "name": state.name,
        "version": MODEL_VERSION,
        "sha256": state.sha256,
        "architecture": {
            "sizes": list(network.sizes),
            "activation": "sigmoid",
            "parameters": network.num_parameters,
            "convention": "a' = σ(W a + b); W has one row per neuron of the next layer",
            "input": "784 values, row-major 28×28, in [0, 1], ink = 1",
        },
        "layers": [{"weights": np.round(w, 6).tolist(), "biases": np.round(b, 6).tolist()}
                   for w, b in zip(network.weights, network.biases)],
        "card": state.card,
    }


def _training_document(run: Run) -> dict[str, Any]:
    return {"checkpoints": list(run.checkpoints), "curve": list(run.curve)}


def snapshot_document(run: Run, k: int) -> dict[str, Any]:
    """The /api/training/<k> body: snapshot k's layers, as /api/model gives them."""
    network = run.network(k)
    return {"id": k, "examples_seen": run.checkpoints[k]["examples_seen"],
            "layers": [{"weights": np.round(w, 6).tolist(), "biases": np.round(b, 6).tolist()}
                       for w, b in zip(network.weights, network.biases)]}


def snapshot_etag(run: Run, k: int) -> str:
    """Snapshot k's body is a function of the snapshot file and k alone."""
    return hashlib.sha256(f"{run.sha256}/{k}".encode()).hexdigest()[:32]


def _load_run(state: State, config: Mapping[str, Any], weights_path: Path,
              logger: logging.Logger) -> None:
    path = Path(config["CHECKPOINTS_PATH"] or snapshots.default_path(weights_path))
    assert state.network is not None
    try:
        state.run = snapshots.load(path, state.network, state.sha256)
    except WeightsError as exc:
        state.run_reason = str(exc)
        logger.warning("training snapshots not served: %s", exc)
        return
    state.training_json = dumps_bytes(_training_document(state.run))
    state.training_etag = hashlib.sha256(state.training_json).hexdigest()[:32]
    logger.info("%d training snapshots loaded", state.run.count)


def load_state(config: Mapping[str, Any], logger: logging.Logger) -> State:
    """Load everything once (the /api/model and /api/training bodies are encoded here, once,
    by the app's one JSON writer)."""
    weights_path = Path(config["WEIGHTS_PATH"])
    card_path = Path(config["MODEL_CARD_PATH"] or weights_path.with_suffix(".json"))
    state = State(examples=_load_examples(Path(config["EXAMPLES_PATH"]), logger))
    try:
        network, card, sha256 = _load_network(weights_path, card_path)
        card_rule = _card_rule(card, card_path)
    except WeightsError as exc:
        state.reason = str(exc)
        logger.error("not ready: %s", exc)
        return state
    state.network, state.card, state.sha256 = network, card, sha256
    state.name = str(state.card.get("name") or state.name)
    state.rule = served_rule(card_rule, config)
    state.model_json = dumps_bytes(_model_document(state))
    state.model_etag = hashlib.sha256(state.model_json).hexdigest()[:32]
    logger.info("model %s loaded (sha256 %s)", state.name, state.sha256[:12])
    _load_run(state, config, weights_path, logger)
    return state


def current_state() -> State:
    """The process's state, for a route."""
    return current_app.extensions["digits"]


def _card_rule(card: Mapping[str, Any], card_path: Path) -> Rule:
    """The answer rule of the weights' model card (the rule from before verdicts existed for a
    card without any); a verdict that is no rule makes the weights unusable, like a bad card."""
    try:
        return Rule.of_card(card)
    except ValueError as exc:
        raise WeightsError(f"model card {card_path.name}: its verdict is not an answer rule ({exc})") from None


def served_rule(card_rule: Rule, config: Mapping[str, Any]) -> Rule:
    """The card's rule with the thresholds that the settings UNCERTAIN_MIN_CONFIDENCE and
    UNCERTAIN_MAX_RATIO name, if set (a setting the rule cannot take is the operator's error)."""
    rule = card_rule
    for key, name in (("UNCERTAIN_MIN_CONFIDENCE", "min_confidence"), ("UNCERTAIN_MAX_RATIO", "max_ratio")):
        if config.get(key) in (None, ""):
            continue
        try:
            rule = replace(rule, **{name: float(config[key])})
        except (TypeError, ValueError):
            raise ValueError(f"setting {key}={config[key]!r} is not a number the answer rule can use") from None
    return rule
