"""The JSON API: ``/api/predict``, ``/api/model`` and ``/api/examples``.

``/api/predict`` (and ``/api/explain``) answer with the served network, or with one
snapshot of the training run that made it when the body names one: ``"checkpoint": k``
(one for a whole batch, beside ``"inputs"``).
"""
from __future__ import annotations

from typing import Any

import numpy as np
from flask import Blueprint, Response, current_app, jsonify, request

from model import preprocess
from model.answer import answer
from model.network import Network
from model.preprocess import PreprocessError, Preprocessed
from server import metrics
from server.bodies import BodyError, parse_json, read_body
from server.errors import Problem, from_preprocess
from server.state import State, current_state

bp = Blueprint("api", __name__)

INPUT_KINDS = ("image", "strokes", "pixels")
ALLOWED_WITH = {"image": set(), "pixels": set(), "strokes": {"width", "height"}}
MAX_EXAMPLES = 20


def ready_state() -> State:
    s = current_state()
    if not s.ready:
        raise Problem("not-ready", f"The model is not loaded: {s.reason}")
    return s


def shown(value: Any) -> str:
    """A short description of a bad value for a message: never echo megabytes back."""
    if isinstance(value, (list, dict)):
        return "a list" if isinstance(value, list) else "an object"
    text = "null" if value is None else str(value).lower() if isinstance(value, bool) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def checkpoint_of(body: dict) -> int | None:
    """``body["checkpoint"]``: the id of a snapshot of the training run (None: not asked).

    A whole number (3.0 counts, as for explain's options; true does not) from 0 to the last
    snapshot's id, else 422 ``invalid-checkpoint``; 503 ``training-unavailable`` when this
    server has no snapshots to answer with.
    """
    if "checkpoint" not in body:
        return None
    run = current_state().run
    if run is None:
        raise Problem("training-unavailable", "This server cannot answer with a snapshot of the "
                      f"training run: {current_state().run_reason}. Leave \"checkpoint\" out "
                      "for the served network.")
    value = body["checkpoint"]
    whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if isinstance(value, bool) or not whole or not 0 <= value < run.count:
        raise Problem("invalid-checkpoint", f"\"checkpoint\" must be a whole number from 0 to "
                      f"{run.count - 1}, the id of a snapshot in GET /api/training (got {shown(value)}); "
                      "leave it out for the served network.")
    return int(value)


def network_for(s: State, checkpoint: int | None) -> Network:
    """The served network, or snapshot ``checkpoint`` of the run that made it."""
    if checkpoint is None:
        assert s.network is not None
        return s.network
    assert s.run is not None
    return s.run.network(checkpoint)


def _names(names: list[str], most: int = 5) -> str:
    """Field names for a message, each cut to 40 characters: never echo megabytes back."""
    shown = [n if len(n) <= 40 else n[:37] + "..." for n in names[:most]]
    return ", ".join(shown) + (f" and {len(names) - most} more" if len(names) > most else "")


def json_body() -> Any:
    """The request's JSON, strictly: right media type, valid UTF-8 JSON, no NaN/Infinity."""
    if request.mimetype != "application/json":
        got = request.mimetype or "no Content-Type"
        raise Problem("unsupported-media-type",
                      f"Send the body as application/json (got {got}).")
    try:
        raw = read_body()
    except BodyError as exc:
        raise Problem("invalid-request", str(exc)) from None
    try:
        return parse_json(raw)
    except BodyError as exc:
        raise Problem("malformed-json", str(exc)) from None


def preprocess_input(item: Any, where: str = "") -> Preprocessed:
    """One input object (``image``, ``strokes`` or ``pixels``) → the network's 784 inputs."""
    if not isinstance(item, dict):
        raise Problem("invalid-request", f"{where}expected a JSON object with one of "
                      "\"image\", \"strokes\" or \"pixels\".")
    if where and "checkpoint" in item:
        raise Problem("invalid-request", f"{where}\"checkpoint\" goes once, beside \"inputs\": "
                      "a batch is answered by one snapshot.")
    kinds = [k for k in INPUT_KINDS if k in item]
    if len(kinds) != 1:
        found = ", ".join(f'"{k}"' for k in kinds) or "none of them"
        raise Problem("invalid-request", f"{where}send exactly one of \"image\", \"strokes\" "
                      f"or \"pixels\" (found {found}).")
    kind = kinds[0]
    extra = sorted(set(item) - {kind} - ALLOWED_WITH[kind])
    if extra:
        raise Problem("invalid-request", f"{where}unexpected field(s) {_names(extra)} "
                      f"with \"{kind}\".")
    try:
        if kind == "image":
            if not isinstance(item["image"], str):
                raise Problem("invalid-request", f"{where}\"image\" must be a string: "
                              "a data:image/png;base64,... URL.")
            return preprocess.from_png(item["image"])
        if kind == "strokes":
            return preprocess.from_strokes(item["strokes"], item.get("width"), item.get("height"))
        return preprocess.from_pixels(item["pixels"])
    except PreprocessError as exc:
        raise from_preprocess(exc, where) from None


def _rounded(a: np.ndarray, decimals: int) -> list[float]:
    return np.round(a.astype(np.float64), decimals).tolist()


def predictions(s: State, inputs: list[Preprocessed], checkpoint: int | None = None,
                network: Network | None = None) -> list[dict[str, Any]]:
    """Run the network (or snapshot ``checkpoint`` of its training run) on a batch and
    describe each answer.

    Each answer is the object documented in openapi.json (``digit``, ``confidence``,
    ``verdict``, ``uncertain``, ``runner_up``, ``output``, ``activations``, ``preprocessing``, ``model``):
    the 784 inputs rounded to 4 decimals, every other activation to 6. A snapshot's answer
    names it: ``model.checkpoint`` = ``{"id", "examples_seen"}``. ``network``: that network, when the
    caller has built it already (/api/explain uses it again).
    """
    network = network or network_for(s, checkpoint)
    _, hidden1, hidden2, output = network.forward(np.stack([p.pixels for p in inputs]))
    served_by: dict[str, Any] = {"name": s.name, "sha256": s.sha256}
    if checkpoint is not None:
        assert s.run is not None
        served_by["checkpoint"] = {"id": checkpoint,
                                   "examples_seen": s.run.checkpoints[checkpoint]["examples_seen"]}
    results = []
    for i, pre in enumerate(inputs):
        said = answer(output[i], s.rule)
        metrics.count_predictions(pre.info["source"], [said])
        out = _rounded(output[i], 6)
        results.append({
            "digit": said.digit, "confidence": round(said.confidence, 6), "verdict": said.verdict,
            "uncertain": said.uncertain,
            "runner_up": said.runner_up, "output": out,
            "activations": {"input": _rounded(pre.pixels, 4), "hidden1": _rounded(hidden1[i], 6),
                            "hidden2": _rounded(hidden2[i], 6), "output": out},
            "preprocessing": pre.info, "model": served_by})
    return results


@bp.post("/api/predict")
def predict():
    s = ready_state()
    body = json_body()
    checkpoint = checkpoint_of(body) if isinstance(body, dict) else None
    if isinstance(body, dict) and "inputs" in body:
        items = body["inputs"]
        if set(body) - {"checkpoint"} != {"inputs"}:
            raise Problem("invalid-request", "A batch is {\"inputs\": [...]} (and optionally "
                          "\"checkpoint\") and nothing else.")
        if not isinstance(items, list) or not items:
            raise Problem("invalid-request", "\"inputs\" must be a non-empty list of input objects.")
        limit = int(current_app.config["MAX_BATCH"])
        if len(items) > limit:
            raise Problem("batch-too-large", f"A batch holds at most {limit} inputs "
                          f"(got {len(items)}); split it.")
        inputs = [preprocess_input(item, f"inputs[{i}]: ") for i, item in enumerate(items)]
        response = jsonify({"predictions": predictions(s, inputs, checkpoint)})
    else:
        if isinstance(body, dict):
            body = {k: v for k, v in body.items() if k != "checkpoint"}
        response = jsonify(predictions(s, [preprocess_input(body)], checkpoint)[0])
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/api/model")
def model():
    s = ready_state()
    etag = f'"{s.model_etag}"'
    headers = {"ETag": etag, "Cache-Control": "public, max-age=300, must-revalidate"}
    if request.if_none_match.contains(s.model_etag):
        return Response(status=304, headers=headers)
    return Response(s.model_json, mimetype="application/json", headers=headers)


def _int_query(name: str, low: int, high: int, default: int | None) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high or not raw.strip().lstrip("+-").isdigit():
        raise Problem("invalid-query", f"{name} must be a whole number from {low} to {high} "
                      f"(got {raw[:40]!r}).")
    return value


@bp.get("/api/examples")
def examples():
    digit = _int_query("digit", 0, 9, None)
    n = _int_query("n", 1, MAX_EXAMPLES, 1)
    ex = current_state().examples
    if ex is None:
        raise Problem("examples-unavailable", "The example digits could not be loaded.")
    pool = np.flatnonzero(ex.labels == digit) if digit is not None else np.arange(len(ex.labels))
    chosen = np.random.default_rng().choice(pool, size=min(n, len(pool)), replace=False)
    return jsonify({"examples": [
        {"label": int(ex.labels[i]), "index": int(ex.indices[i]),
         "pixels": _rounded(ex.pixels(i), 4)} for i in chosen]})
