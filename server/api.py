"""The JSON API: ``/api/predict``, ``/api/model``, ``/api/examples`` and ``/openapi.json``."""
from __future__ import annotations

import json
from typing import Any

import numpy as np
import orjson
from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import HTTPException

from model import preprocess
from model.answer import Rule, answer
from model.preprocess import PreprocessError, Preprocessed
from server import openapi
from server.errors import Problem, from_preprocess
from server.state import State

bp = Blueprint("api", __name__)

INPUT_KINDS = ("image", "strokes", "pixels")
ALLOWED_WITH = {"image": set(), "pixels": set(), "strokes": {"width", "height"}}
MAX_EXAMPLES = 20


def state() -> State:
    return current_app.extensions["digits"]


def ready_state() -> State:
    s = state()
    if not s.ready:
        raise Problem("not-ready", f"The model is not loaded: {s.reason}")
    return s


def reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON; send finite numbers")


def read_body() -> bytes:
    """The raw body, never more than MAX_CONTENT_LENGTH (413 beyond, chunked bodies too)."""
    length, limit = request.content_length, request.max_content_length
    try:
        if length is not None and (limit is None or length <= limit):
            # Straight from the server's stream: werkzeug's wrapper reads in 8 KB steps through
            # three layers of Python, which costs a canvas request 10-20 µs.
            raw = request.environ["wsgi.input"].read(length)
            if len(raw) < length:
                raise EOFError
            return raw
        raw = request.get_data(cache=False)  # 413 at once when Content-Length is over the limit
        if length is None and limit is not None and len(raw) >= limit:
            # A chunked body stops silently at the limit; reading on raises the 413.
            request.stream.read(1)
    except HTTPException:
        raise
    except Exception:  # from the server's reader: broken chunked framing, a stalled or reset client
        raise Problem("invalid-request", "The request body could not be read: its chunked "
                      "encoding is broken, or it stopped arriving.") from None
    return raw


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
    raw = read_body()
    try:
        # orjson reads a canvas request in 5 µs, json in 10-20. It accepts only standard JSON,
        # which json reads the same way (bar integers beyond 64 bits, floats to orjson, out of
        # every range we accept either way); anything else, json decides, as it always did.
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(raw, parse_constant=reject_constant)
    except RecursionError:
        raise Problem("malformed-json", "The JSON is nested too deeply.") from None
    except UnicodeDecodeError:
        raise Problem("malformed-json", "The body is not UTF-8 encoded JSON.") from None
    except ValueError as exc:
        raise Problem("malformed-json", f"The body is not valid JSON: {exc}.") from None


def preprocess_input(item: Any, where: str = "") -> Preprocessed:
    """One input object (``image``, ``strokes`` or ``pixels``) → the network's 784 inputs."""
    if not isinstance(item, dict):
        raise Problem("invalid-request", f"{where}expected a JSON object with one of "
                      "\"image\", \"strokes\" or \"pixels\".")
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


def predictions(s: State, inputs: list[Preprocessed]) -> list[bytes]:
    """Run the network on a batch and describe each answer, as JSON.

    Each answer is the object documented in openapi.json (``digit``, ``confidence``,
    ``uncertain``, ``runner_up``, ``output``, ``activations``, ``preprocessing``, ``model``):
    the 784 inputs rounded to 4 decimals, every other activation to 6.
    """
    assert s.network is not None
    # (np.stack costs more than the forward pass for the usual single input.)
    batch = inputs[0].pixels[None] if len(inputs) == 1 else np.stack([p.pixels for p in inputs])
    _, hidden1, hidden2, output = s.network.forward(batch)
    config = current_app.config
    rule = Rule(float(config["UNCERTAIN_MIN_CONFIDENCE"]), float(config["UNCERTAIN_MAX_RATIO"]))
    model = {"name": s.name, "sha256": s.sha256}
    # Every activation rounded in one call: (N, 10 + 16 + 16). (The inputs are rounded one
    # answer at a time: (64, 784) at once would raise each worker thread's heap by 0.8 MB.)
    layers = np.concatenate((output, hidden1, hidden2), axis=1, dtype=np.float64).round(6)
    answers = []
    for i, pre in enumerate(inputs):
        a = answer(output[i], rule)
        rounded = layers[i]
        answers.append(_dumps({
            "digit": a.digit, "confidence": round(a.confidence, 6), "uncertain": a.uncertain,
            "runner_up": a.runner_up, "output": rounded[:10],
            "activations": {"input": pre.pixels.astype(np.float64).round(4), "hidden1": rounded[10:26],
                            "hidden2": rounded[26:], "output": rounded[:10]},
            "preprocessing": pre.info, "model": model}))
    return answers


def _dumps(answer: dict) -> bytes:
    """orjson, not json: it writes numpy arrays as they are, and a whole answer (~840 numbers)
    in 8 µs, where json needs 100 µs for the same numbers as lists (a PNG request costs
    about 1.2 ms of CPU under load; bench/serve_latency.py)."""
    return orjson.dumps(answer, option=orjson.OPT_SERIALIZE_NUMPY)


def json_response(body: Any, status: int = 200, **headers: str) -> Response:
    response = Response(json.dumps(body, separators=(",", ":"), ensure_ascii=False),
                        status=status, mimetype="application/json")
    response.headers.update(headers)
    return response


@bp.post("/api/predict")
def predict():
    s = ready_state()
    body = json_body()
    if isinstance(body, dict) and "inputs" in body:
        items = body["inputs"]
        if set(body) != {"inputs"}:
            raise Problem("invalid-request", "A batch is {\"inputs\": [...]} and nothing else.")
        if not isinstance(items, list) or not items:
            raise Problem("invalid-request", "\"inputs\" must be a non-empty list of input objects.")
        limit = int(current_app.config["MAX_BATCH"])
        if len(items) > limit:
            raise Problem("batch-too-large", f"A batch holds at most {limit} inputs "
                          f"(got {len(items)}); split it.")
        inputs = [preprocess_input(item, f"inputs[{i}]: ") for i, item in enumerate(items)]
        answer = b'{"predictions":[' + b",".join(predictions(s, inputs)) + b"]}"
    else:
        answer = predictions(s, [preprocess_input(body)])[0]
    return Response(answer, mimetype="application/json", headers={"Cache-Control": "no-store"})


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
    ex = state().examples
    if ex is None:
        raise Problem("examples-unavailable", "The example digits could not be loaded.")
    pool = np.flatnonzero(ex.labels == digit) if digit is not None else np.arange(len(ex.labels))
    chosen = np.random.default_rng().choice(pool, size=min(n, len(pool)), replace=False)
    return json_response({"examples": [
        {"label": int(ex.labels[i]), "index": int(ex.indices[i]),
         "pixels": _rounded(ex.images[i], 4)} for i in chosen]})


@bp.get("/openapi.json")
def openapi_document():
    return json_response(openapi.document(current_app.config),
                         **{"Cache-Control": "public, max-age=300"})
