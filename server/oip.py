"""Open Inference Protocol v2 (the REST protocol of KServe, Triton and Seldon).

Routes: server metadata, health, model metadata and readiness, and ``infer`` taking
an FP32 input of shape ``[N, 784]`` (MNIST form) and returning the ``[N, 10]`` output
activations (``output``, FP32) and the ``[N]`` winning digits (``label``, INT64).
Tensors travel as JSON, or with Triton's binary tensor data extension (what
``tritonclient`` uses by default): an ``Inference-Header-Content-Length`` header
gives the length of the JSON part and raw little-endian tensors follow it.
Errors are ``{"error": "..."}``.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from flask import Blueprint, Response, current_app, jsonify, request

from model.answer import answers
from server import metrics
from server.bodies import BodyError, parse_json, read_body
from server.errors import oip_error
from server.json_provider import dumps_bytes
from server.state import MODEL_VERSION, State, current_state

bp = Blueprint("oip", __name__, url_prefix="/v2")

SERVER_NAME = "draw-a-digit"
SERVER_VERSION = "1.0.0"
HEADER_LENGTH = "Inference-Header-Content-Length"
INPUT_NAME = "input"
OUTPUTS = {"output": "FP32", "label": "INT64", "verdict": "BYTES"}
NUMPY_TYPES = {"FP32": "<f4", "INT64": "<i8"}


class OipError(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@bp.errorhandler(OipError)
def handle_oip_error(exc: OipError):
    return oip_error(str(exc), exc.status)


def _short(value: Any, limit: int = 60) -> str:
    """``repr(value)`` for an error message, cut short: never echo megabytes back."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _model(name: str, version: str | None = None) -> State:
    s = current_state()
    if name != s.name or (version is not None and version != MODEL_VERSION):
        which = f"{name!r}" + (f" version {version!r}" if version is not None else "")
        raise OipError(f"unknown model {which}; this server has {s.name!r} version "
                       f"{MODEL_VERSION!r}", 404)
    return s


@bp.get("")
def server_metadata():
    return jsonify({"name": SERVER_NAME, "version": SERVER_VERSION, "extensions": ["binary_tensor_data"]})


@bp.get("/health/live")
def live():
    return jsonify({"live": True})


@bp.get("/health/ready")
def ready():
    s = current_state()
    if s.ready:
        return jsonify({"ready": True})
    return jsonify({"ready": False, "reason": s.reason}), 503


@bp.get("/models/<name>")
@bp.get("/models/<name>/versions/<version>")
def model_metadata(name: str, version: str | None = None):
    s = _model(name, version)
    return jsonify({
        "name": s.name, "versions": [MODEL_VERSION], "platform": "numpy",
        "inputs": [{"name": INPUT_NAME, "datatype": "FP32", "shape": [-1, 784]}],
        "outputs": [{"name": "output", "datatype": "FP32", "shape": [-1, 10]},
                    {"name": "label", "datatype": "INT64", "shape": [-1]},
                    {"name": "verdict", "datatype": "BYTES", "shape": [-1]}],
    })


@bp.get("/models/<name>/ready")
@bp.get("/models/<name>/versions/<version>/ready")
def model_ready(name: str, version: str | None = None):
    s = _model(name, version)
    if s.ready:
        return jsonify({"name": s.name, "ready": True})
    return jsonify({"name": s.name, "ready": False, "reason": s.reason}), 503


def _split_body() -> tuple[Any, bytes]:
    """The JSON inference header and the binary tensor data after it (maybe empty)."""
    mimetype = request.mimetype
    if mimetype not in ("", "application/json", "application/octet-stream"):
        raise OipError(f"send application/json (or the binary tensor extension as "
                       f"application/octet-stream), not {mimetype}", 415)
    try:
        raw = read_body()
    except BodyError as exc:
        raise OipError(str(exc)) from None
    header_length = request.headers.get(HEADER_LENGTH)
    if header_length is None:
        head, binary = raw, b""
    else:
        if not header_length.isdigit() or int(header_length) > len(raw):
            raise OipError(f"{HEADER_LENGTH} must be a byte count within the body")
        head, binary = raw[:int(header_length)], raw[int(header_length):]
    try:
        return parse_json(head), binary
    except BodyError as exc:
        raise OipError(f"the inference request is not valid JSON: {exc}") from None


def _input_tensor(request_json: dict[str, Any], binary: bytes) -> np.ndarray:
    inputs = request_json.get("inputs")
    if not isinstance(inputs, list) or len(inputs) != 1 or not isinstance(inputs[0], dict):
        raise OipError(f"expected \"inputs\" with exactly one tensor, {INPUT_NAME!r}")
    tensor = inputs[0]
    if tensor.get("name") != INPUT_NAME:
        raise OipError(f"unknown input {_short(tensor.get('name'))}; the input is {INPUT_NAME!r}")
    if tensor.get("datatype") != "FP32":
        raise OipError(f"input datatype must be FP32, got {_short(tensor.get('datatype'))}")
    shape = tensor.get("shape")
    if (not isinstance(shape, list) or len(shape) != 2
            or not all(type(d) is int for d in shape) or shape[1] != 784 or shape[0] < 1):
        raise OipError(f"input shape must be [N, 784] with N ≥ 1, got {_short(shape)}")
    limit = int(current_app.config["MAX_BATCH"])
    if shape[0] > limit:
        raise OipError(f"at most {limit} inputs per request, got N = {shape[0]}", 413)
    count = shape[0] * 784
    parameters = tensor.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise OipError("input parameters must be an object")
    if "binary_data_size" in parameters:
        size = parameters["binary_data_size"]
        if type(size) is not int or size != count * 4 or size != len(binary):
            raise OipError(f"binary_data_size must be {count * 4} bytes (N × 784 FP32) "
                           f"and match the {len(binary)} bytes sent")
        values = np.frombuffer(binary, dtype="<f4").astype(np.float64)
    else:
        if binary:
            raise OipError("binary data sent, but the input has no binary_data_size")
        values = _numbers(tensor.get("data"), count)
    if not np.isfinite(values).all():
        raise OipError("input data must be finite numbers")
    if values.min() < 0.0 or values.max() > 1.0:
        raise OipError("input data must lie in [0, 1] (MNIST form: ink = 1, background = 0)")
    return values.reshape(shape)


def _numbers(data: Any, count: int) -> np.ndarray:
    if not isinstance(data, list):
        raise OipError("input \"data\" must be a list of numbers")
    flat = data
    if flat and isinstance(flat[0], list):  # row-major nested form
        flat = [v for row in data for v in (row if isinstance(row, list) else [row])]
    if len(flat) != count:
        raise OipError(f"input \"data\" must hold {count} numbers for its shape, got {len(flat)}")
    if not all(type(v) in (int, float) for v in flat):
        raise OipError("input \"data\" must hold only numbers")
    return np.asarray(flat, dtype=np.float64)


def _requested_outputs(request_json: dict[str, Any]) -> list[tuple[str, bool]]:
    parameters = request_json.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise OipError("request parameters must be an object")
    binary_default = parameters.get("binary_data_output") is True
    requested = request_json.get("outputs")
    if requested is None:
        return [(name, binary_default) for name in OUTPUTS]
    if not isinstance(requested, list) or not all(isinstance(o, dict) for o in requested):
        raise OipError("\"outputs\" must be a list of objects with a \"name\"")
    chosen = []
    for output in requested:
        name = output.get("name")
        if not isinstance(name, str) or name not in OUTPUTS:
            raise OipError(f"unknown output {_short(name)}; outputs are {', '.join(OUTPUTS)}")
        params = output.get("parameters") or {}
        binary = params.get("binary_data", binary_default) if isinstance(params, dict) else False
        chosen.append((name, binary is True))
    return chosen


def _bytes_tensor(strings: np.ndarray) -> bytes:
    """A BYTES tensor in the binary extension's layout: each element as a 4-byte
    little-endian length, then its bytes."""
    return b"".join(len(b).to_bytes(4, "little") + b for b in (v.encode() for v in strings))


@bp.post("/models/<name>/infer")
@bp.post("/models/<name>/versions/<version>/infer")
def infer(name: str, version: str | None = None):
    s = _model(name, version)
    if not s.ready or s.network is None:
        raise OipError(f"model not ready: {s.reason}", 503)
    request_json, binary = _split_body()
    if not isinstance(request_json, dict):
        raise OipError("the inference request must be a JSON object")
    request_id = request_json.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise OipError("\"id\" must be a string")
    x = _input_tensor(request_json, binary)
    wanted = _requested_outputs(request_json)
    output = s.network.forward(x)[-1]
    said = answers(output, s.rule)
    metrics.count_predictions("tensor", said)
    tensors = {"output": output.astype(np.float32), "label": np.array([a.digit for a in said], dtype=np.int64),
               "verdict": np.array([a.verdict for a in said], dtype=object)}

    outputs, chunks = [], []
    for out_name, as_binary in wanted:
        t = tensors[out_name]
        entry: dict[str, Any] = {"name": out_name, "datatype": OUTPUTS[out_name],
                                 "shape": list(t.shape)}
        if as_binary:
            chunk = (_bytes_tensor(t) if OUTPUTS[out_name] == "BYTES"
                     else t.astype(NUMPY_TYPES[OUTPUTS[out_name]]).tobytes())
            entry["parameters"] = {"binary_data_size": len(chunk)}
            chunks.append(chunk)
        else:
            entry["data"] = t.ravel().tolist()
        outputs.append(entry)
    body: dict[str, Any] = {"model_name": s.name, "model_version": MODEL_VERSION}
    if request_id is not None:
        body["id"] = request_id
    body["outputs"] = outputs
    if not chunks:
        return jsonify(body)
    head = dumps_bytes(body)
    return Response(head + b"".join(chunks), mimetype="application/octet-stream",
                    headers={HEADER_LENGTH: str(len(head))})
