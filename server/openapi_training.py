"""The "watch it learn" part of the OpenAPI document (server/openapi.py puts it in):
``GET /api/training``, ``GET /api/training/{id}``, and the ``checkpoint`` that
``/api/predict`` and ``/api/explain`` accept.

Tight like the rest: the ids' range is the loaded run's (``count`` snapshots; 0 when this
server has none, and then every route here answers 503), every layer's shape is the
network's.
"""
from __future__ import annotations

from typing import Any

from model.network import SIZES
from server.openapi_parts import json_content, numbers, problem, ref


def _ids(count: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": 0, **({"maximum": count - 1} if count else {})}


def checkpoint_option(count: int) -> dict[str, Any]:
    """The ``checkpoint`` field of a predict or explain request."""
    last = f"0–{count - 1}" if count else "none on this server: asking answers 503"
    return {**_ids(count), "description": "Answer with this snapshot of the training run instead of the "
                                          f"served network: an `id` from GET /api/training ({last}). "
                                          "One for a whole batch, beside `inputs`."}


def model_schema(count: int) -> dict[str, Any]:
    """A prediction's ``model``: the served network, or which snapshot answered."""
    return {"type": "object", "additionalProperties": False, "required": ["name", "sha256"],
            "properties": {
                "name": {"type": "string"}, "sha256": {"type": "string"},
                "checkpoint": {"type": "object", "additionalProperties": False,
                               "required": ["id", "examples_seen"],
                               "description": "Present when the request named a snapshot: which one answered.",
                               "properties": {"id": _ids(count),
                                              "examples_seen": {"type": "integer", "minimum": 0}}}}}


def training_schemas(count: int) -> dict[str, Any]:
    """``TrainingRun`` (the list) and ``Snapshot`` (one snapshot's weights)."""
    layers = []
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:]):
        layers.append({"type": "object", "additionalProperties": False, "required": ["weights", "biases"],
                       "properties": {"weights": {"type": "array", "minItems": n_out, "maxItems": n_out,
                                                  "items": numbers(n_in)},
                                      "biases": numbers(n_out)}})
    length = {"minItems": count, "maxItems": count} if count else {}
    return {
        "TrainingRun": {
            "type": "object", "additionalProperties": False, "required": ["checkpoints", "curve"],
            "properties": {
                "checkpoints": {"type": "array", **length, "description": "The snapshots, in training order.",
                                "items": {"type": "object", "additionalProperties": False,
                                          "required": ["id", "examples_seen", "epoch", "cost", "test_accuracy"],
                                          "properties": {
                                              "id": _ids(count),
                                              "examples_seen": {"type": "integer", "minimum": 0,
                                                                "description": "Training examples presented before this snapshot."},
                                              "epoch": {"type": "number", "minimum": 0,
                                                        "description": "Passes over the training set (fractional)."},
                                              "cost": {"type": "number", "minimum": 0,
                                                       "description": "The training cost at this snapshot."},
                                              "test_accuracy": {"type": "number", "minimum": 0, "maximum": 1,
                                                                "description": "Fraction of the MNIST test digits this "
                                                                               "snapshot gets right."}}}},
                "curve": {"type": "array", "description": "The training cost along the run, finer than the snapshots.",
                          "items": {"type": "object", "additionalProperties": False,
                                    "required": ["examples_seen", "cost"],
                                    "properties": {"examples_seen": {"type": "integer", "minimum": 0},
                                                   "cost": {"type": "number", "minimum": 0}}}},
            },
        },
        "Snapshot": {
            "type": "object", "additionalProperties": False, "required": ["id", "examples_seen", "layers"],
            "properties": {
                "id": _ids(count),
                "examples_seen": {"type": "integer", "minimum": 0},
                "layers": {"type": "array", "minItems": 3, "maxItems": 3, "items": {"oneOf": layers},
                           "description": "Layers 1, 2, 3 in order, as in GET /api/model: one row of "
                                          "weights per neuron (a' = σ(W a + b)), 6 decimals."},
            },
        },
    }


def training_paths(count: int, sha256: str) -> dict[str, Any]:
    unavailable = problem("This server has no snapshots of the training run that made its network "
                          "(missing, or of other weights), or the model is not loaded.")
    etag = {"ETag": {"schema": {"type": "string"}}}
    return {
        "/api/training": {"get": {
            "tags": ["Digits"], "summary": "The training run that made the network: its snapshots",
            "operationId": "training",
            "description": "Snapshots of the run, from the random initial weights to the served network "
                           "(the last one), with the training cost and MNIST test accuracy of each, and "
                           "the finer cost curve. Cacheable: send If-None-Match with the ETag.",
            "responses": {
                "200": json_content(ref("TrainingRun"), "The snapshots and the cost curve.", headers=etag),
                "304": {"description": "Not modified (If-None-Match matched the ETag)."},
                "503": unavailable}}},
        "/api/training/{id}": {"get": {
            "tags": ["Digits"], "summary": "One snapshot's weights and biases",
            "operationId": "trainingSnapshot",
            "description": "The layers of snapshot `id`, as GET /api/model gives the served network's. "
                           "With `model` (the served weights' sha256) the answer is cacheable for a "
                           "year (immutable); without it, it revalidates like /api/model.",
            "parameters": [
                {"name": "id", "in": "path", "required": True, "schema": _ids(count),
                 "description": "A snapshot's id from GET /api/training, written plainly (no sign, no "
                                "leading zeros)."},
                {"name": "model", "in": "query", "required": False,
                 "schema": {"type": "string", "const": sha256} if sha256 else {"type": "string"},
                 "description": "The sha256 of the served weights (GET /api/model): pins the URL to "
                                "this network, so it may be cached for good."}],
            "responses": {
                "200": json_content(ref("Snapshot"), "The snapshot's weights and biases.", headers=etag),
                "304": {"description": "Not modified (If-None-Match matched the ETag)."},
                "404": problem("No snapshot with this id, or `model` is not the served weights' sha256."),
                "503": unavailable}}},
    }
