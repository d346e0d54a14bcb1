"""The OpenAPI 3.1 description of every route, served at ``/openapi.json``.

Written by hand next to the routes it describes, from the same constants and settings
the code uses; ``tests/test_openapi.py`` validates it and schemathesis checks that the
running service answers as it says.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping

from flask import Blueprint, current_app, jsonify

from model.answer import VERDICTS, Rule
from model.preprocess import MAX_COORDINATE, MAX_POINTS, MAX_SIDE, MAX_STROKES
from server.api import MAX_EXAMPLES
from server.errors import PROBLEMS
from server.openapi_explain import explain_path, explain_schemas
from server.openapi_training import checkpoint_option, model_schema, training_paths, training_schemas
from server.openapi_parts import json_content as _json
from server.openapi_parts import numbers as _numbers
from server.openapi_parts import oip_error as _oip_error
from server.openapi_parts import problem as _problem
from server.openapi_parts import ref as _ref
from server.openapi_parts import EXAMPLE_DRAWING, json_request
from server.state import MODEL_VERSION, State, current_state

bp = Blueprint("openapi", __name__)


@dataclass(frozen=True)
class Facts:
    """What the document states that settings or the loaded model decide."""

    max_batch: int
    max_body: int
    rule: Rule
    model_name: str
    model_sha256: str
    checkpoints: int  # snapshots of the training run served (0: none)

PNG_DATA_URL = "^data:image/png;base64,"
EXAMPLE_PIXELS_NOTE = "784 values, row-major 28×28, in [0, 1], ink = 1 (MNIST form)"


def _schemas(facts: Facts) -> dict[str, Any]:
    max_batch = facts.max_batch
    single_inputs = [_ref("ImageInput"), _ref("StrokesInput"), _ref("PixelsInput")]
    checkpoint = checkpoint_option(facts.checkpoints)
    schemas = {
        "Problem": {
            "type": "object",
            "description": "RFC 9457 problem details. `type` links to the explanation in /docs.",
            "required": ["type", "title", "status", "detail"],
            "properties": {
                "type": {"type": "string", "enum": [f"/docs#problem-{c}" for c in PROBLEMS]},
                "title": {"type": "string"},
                "status": {"type": "integer", "minimum": 400, "maximum": 599},
                "detail": {"type": "string", "description": "What to fix."},
            },
        },
        "ImageInput": {
            "type": "object", "additionalProperties": False, "required": ["image"],
            "properties": {"image": {
                "type": "string", "pattern": PNG_DATA_URL,
                "description": f"A canvas PNG as a data URL (at most {MAX_SIDE}×{MAX_SIDE} pixels). Any "
                               "background: transparent, light or dark; the ink is found "
                               "from the image itself."}},
        },
        "StrokesInput": {
            "type": "object", "additionalProperties": False, "required": ["strokes"],
            "properties": {
                "strokes": {"type": "array", "minItems": 1, "maxItems": MAX_STROKES, "description":
                            "Pen strokes, each a polyline of [x, y] points in drawing-surface "
                            "coordinates; the pen width is chosen by the server. At most "
                            f"{MAX_STROKES} strokes and {MAX_POINTS:,} points in all.",
                            "items": {"type": "array", "minItems": 1, "maxItems": MAX_POINTS,
                                      "items": _numbers(2, -MAX_COORDINATE, MAX_COORDINATE)}},
                "width": {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_COORDINATE,
                          "description": "Width of the drawing surface (optional)."},
                "height": {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_COORDINATE,
                           "description": "Height of the drawing surface (optional)."},
            },
        },
        "PixelsInput": {
            "type": "object", "additionalProperties": False, "required": ["pixels"],
            "properties": {"pixels": {
                "description": f"Already in MNIST form and used as given: {EXAMPLE_PIXELS_NOTE}; "
                               "or 28 rows of 28.",
                "oneOf": [_numbers(784, 0, 1),
                          {"type": "array", "minItems": 28, "maxItems": 28,
                           "items": _numbers(28, 0, 1)}]}},
        },
        "BatchRequest": {
            "type": "object", "additionalProperties": False, "required": ["inputs"],
            "properties": {"inputs": {"type": "array", "minItems": 1, "maxItems": max_batch,
                                      "items": {"oneOf": single_inputs}},
                           "checkpoint": checkpoint},
        },
        "Preprocessing": {
            "type": "object",
            "description": "What preprocessing did: where the ink was, how it was scaled and "
                           "shifted to centre its mass (see /docs).",
            "required": ["source"],
            "properties": {
                "source": {"type": "string", "enum": ["image", "strokes", "pixels"]},
                "canvas": {"type": ["array", "null"], "items": {"type": "number"}},
                "bbox": {"type": ["array", "null"], "items": {"type": "number"},
                         "description": "[x0, y0, x1, y1] of the ink in source coordinates."},
                "scale": {"type": ["number", "null"]},
                "fitted_size": {"type": ["array", "null"], "items": {"type": "number"}},
                "shift": {"type": ["array", "null"], "items": {"type": "number"}},
                "center_of_mass": {"type": ["array", "null"], "items": {"type": "number"}},
                "stroke_width": {"type": ["number", "null"]},
                "polarity": {"type": "string"},
            },
        },
        "Prediction": {
            "type": "object",
            "required": ["digit", "confidence", "verdict", "uncertain", "runner_up", "output",
                         "activations", "preprocessing", "model"],
            "properties": {
                "digit": {"type": "integer", "minimum": 0, "maximum": 9},
                "confidence": {"type": "number", "minimum": 0, "maximum": 1,
                               "description": "The winning output neuron's activation."},
                "verdict": {"type": "string", "enum": list(VERDICTS), "description":
                            facts.rule.in_words() + " The thresholds come with the weights (model card "
                            "`verdict`); settings UNCERTAIN_MIN_CONFIDENCE and UNCERTAIN_MAX_RATIO override them."},
                "uncertain": {"type": "boolean", "description":
                              "True when `verdict` is not \"digit\" (kept for clients older than `verdict`)."},
                "runner_up": {"type": "integer", "minimum": 0, "maximum": 9},
                "output": _numbers(10, 0, 1),
                "activations": {
                    "type": "object", "required": ["input", "hidden1", "hidden2", "output"],
                    "properties": {"input": _numbers(784, 0, 1), "hidden1": _numbers(16, 0, 1),
                                   "hidden2": _numbers(16, 0, 1), "output": _numbers(10, 0, 1)}},
                "preprocessing": _ref("Preprocessing"),
                "model": model_schema(facts.checkpoints),
            },
        },
        "BatchResponse": {
            "type": "object", "required": ["predictions"],
            "properties": {"predictions": {"type": "array", "items": _ref("Prediction")}},
        },
        "Layer": {
            "type": "object", "required": ["weights", "biases"],
            "properties": {
                "weights": {"type": "array", "items": {"type": "array", "items": {"type": "number"}},
                            "description": "One row per neuron of this layer (a' = σ(W a + b))."},
                "biases": {"type": "array", "items": {"type": "number"}}},
        },
        "Model": {
            "type": "object", "required": ["name", "sha256", "architecture", "layers", "card"],
            "properties": {
                "name": {"type": "string"}, "version": {"type": "string"},
                "sha256": {"type": "string"},
                "architecture": {"type": "object", "required": ["sizes", "activation", "parameters"],
                                 "properties": {"sizes": {"type": "array", "items": {"type": "integer"}},
                                                "activation": {"type": "string"},
                                                "parameters": {"type": "integer"}}},
                "layers": {"type": "array", "items": _ref("Layer"), "minItems": 3, "maxItems": 3},
                "card": {"type": "object", "description":
                         "The model card: test accuracy, confusion matrix, training recipe, seed."},
            },
        },
        "Examples": {
            "type": "object", "required": ["examples"],
            "properties": {"examples": {"type": "array", "items": {
                "type": "object", "required": ["label", "index", "pixels"],
                "properties": {"label": {"type": "integer", "minimum": 0, "maximum": 9},
                               "index": {"type": "integer", "minimum": 0,
                                         "description": "Index in the MNIST test split."},
                               "pixels": _numbers(784, 0, 1)}}}},
        },
        "OipError": {"type": "object", "required": ["error"],
                     "properties": {"error": {"type": "string"}}},
        "OipTensor": {
            "type": "object", "required": ["name", "shape", "datatype"],
            "properties": {"name": {"type": "string"},
                           "shape": {"type": "array", "items": {"type": "integer"}},
                           "datatype": {"type": "string"},
                           "parameters": {"type": "object"},
                           "data": {"type": "array"}},
        },
        "OipInferRequest": {
            "type": "object", "required": ["inputs"],
            "properties": {
                "id": {"type": "string"},
                "parameters": {"type": "object"},
                "inputs": {"type": "array", "minItems": 1, "maxItems": 1, "items": {
                    "type": "object", "required": ["name", "shape", "datatype", "data"],
                    "properties": {
                        "name": {"const": "input"},
                        "shape": {"type": "array", "prefixItems": [
                            {"type": "integer", "minimum": 1, "maximum": max_batch},
                            {"const": 784}], "minItems": 2, "maxItems": 2},
                        "datatype": {"const": "FP32"},
                        "parameters": {"type": "object"},
                        "data": {"type": "array", "minItems": 784, "maxItems": 784 * max_batch,
                                 "description": "N × 784 numbers, row-major (N = shape[0]).",
                                 "items": {"type": "number", "minimum": 0, "maximum": 1}}}}},
                "outputs": {"type": "array", "items": {
                    "type": "object", "required": ["name"],
                    "properties": {"name": {"enum": ["output", "label", "verdict"]},
                                   "parameters": {"type": "object"}}}},
            },
        },
        "OipInferResponse": {
            "type": "object", "required": ["model_name", "outputs"],
            "properties": {"model_name": {"type": "string"}, "model_version": {"type": "string"},
                           "id": {"type": "string"},
                           "outputs": {"type": "array", "items": _ref("OipTensor")}},
        },
        "OipModelMetadata": {
            "type": "object", "required": ["name", "platform", "inputs", "outputs"],
            "properties": {"name": {"type": "string"},
                           "versions": {"type": "array", "items": {"type": "string"}},
                           "platform": {"type": "string"},
                           "inputs": {"type": "array", "items": _ref("OipTensor")},
                           "outputs": {"type": "array", "items": _ref("OipTensor")}},
        },
        **training_schemas(facts.checkpoints),
    }
    # One drawing, optionally with the snapshot to answer with (inside a batch, it goes
    # beside "inputs" instead).
    schemas["PredictRequest"] = {"oneOf": [
        {**schemas[name], "properties": {**schemas[name]["properties"], "checkpoint": checkpoint}}
        for name in ("ImageInput", "StrokesInput", "PixelsInput")]}
    return schemas


def _oip_model_params(with_version: bool, model_name: str) -> list[dict[str, Any]]:
    params = [{"name": "name", "in": "path", "required": True, "schema": {"type": "string", "const": model_name},
               "description": f"The model's name: {model_name}."}]
    if with_version:
        params.append({"name": "version", "in": "path", "required": True,
                       "schema": {"type": "string", "const": MODEL_VERSION},
                       "description": f"The model version: {MODEL_VERSION}."})
    return params


def _oip_paths(facts: Facts) -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/v2": {"get": {"tags": ["Open Inference Protocol"], "summary": "Server metadata",
                        "operationId": "oipServerMetadata",
                        "responses": {"200": _json({"type": "object", "required": ["name", "version", "extensions"],
                                                    "properties": {"name": {"type": "string"},
                                                                   "version": {"type": "string"},
                                                                   "extensions": {"type": "array", "items": {"type": "string"}}}},
                                                   "Server name, version and extensions.")}}},
        "/v2/health/live": {"get": {"tags": ["Open Inference Protocol"], "summary": "Liveness",
                                    "operationId": "oipLive",
                                    "responses": {"200": _json({"type": "object", "properties": {"live": {"type": "boolean"}}},
                                                               "The process is up.")}}},
        "/v2/health/ready": {"get": {"tags": ["Open Inference Protocol"], "summary": "Readiness",
                                     "operationId": "oipReady",
                                     "responses": {
                                         "200": _json({"type": "object", "properties": {"ready": {"const": True}}},
                                                      "The model is loaded and serving."),
                                         "503": _json({"type": "object", "required": ["ready", "reason"],
                                                       "properties": {"ready": {"const": False}, "reason": {"type": "string"}}},
                                                      "Not ready; `reason` says why (missing or bad weights).")}}},
    }
    for versioned in (False, True):
        base = "/v2/models/{name}" + ("/versions/{version}" if versioned else "")
        suffix = " (a given version)" if versioned else ""
        params = _oip_model_params(versioned, facts.model_name)
        op = "Version" if versioned else ""
        paths[base] = {"get": {
            "tags": ["Open Inference Protocol"], "summary": "Model metadata" + suffix,
            "operationId": f"oipModelMetadata{op}", "parameters": params,
            "responses": {"200": _json(_ref("OipModelMetadata"), "Inputs and outputs of the model."),
                          "404": _oip_error("No such model or version.")}}}
        paths[base + "/ready"] = {"get": {
            "tags": ["Open Inference Protocol"], "summary": "Model readiness" + suffix,
            "operationId": f"oipModelReady{op}", "parameters": params,
            "responses": {"200": _json({"type": "object"}, "The model is ready."),
                          "404": _oip_error("No such model or version."),
                          "503": _json({"type": "object"}, "The model is not ready.")}}}
        paths[base + "/infer"] = {"post": {
            "tags": ["Open Inference Protocol"], "summary": "Inference" + suffix,
            "description": "FP32 input `input` of shape [N, 784] (MNIST form, N ≤ MAX_BATCH); "
                           "outputs `output` (FP32 [N, 10], the sigmoid activations), `label` "
                           "(INT64 [N], the strongest outputs' digits) and `verdict` (BYTES [N]: "
                           "\"digit\", \"unsure\" or \"not-a-digit\", as `/api/predict` decides). "
                           "`id` is echoed. Triton's binary "
                           "tensor data extension is supported (Inference-Header-Content-Length).",
            "operationId": f"oipInfer{op}", "parameters": params,
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": _ref("OipInferRequest")}}},
            "responses": {"200": _json(_ref("OipInferResponse"), "The activations and labels."),
                          "400": _oip_error("The request is not a valid inference request."),
                          "404": _oip_error("No such model or version."),
                          "413": _oip_error("Body or batch too large."),
                          "415": _oip_error("Wrong media type."),
                          "503": _oip_error("The model is not ready.")}}}
    return paths


def _build(facts: Facts) -> dict[str, Any]:
    max_batch, max_body = facts.max_batch, facts.max_body
    predict_errors = {
        "400": _problem("Malformed JSON, bad base64, a corrupt PNG, or not exactly one input kind."),
        "413": _problem(f"Body over {max_body} bytes, image over {MAX_SIDE}×{MAX_SIDE}, or batch over {max_batch}."),
        "415": _problem("Not application/json, or the image is not a PNG."),
        "422": _problem("Well-formed but unusable: an empty drawing (nothing to recognize), "
                        "pixels of the wrong shape or range, unusable strokes; or a `checkpoint` "
                        "that is not a snapshot's id."),
        "503": _problem("The model is not loaded, or a `checkpoint` was asked of a server without "
                        "the training run's snapshots."),
    }
    schemas = _schemas(facts)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Draw a Digit",
            "version": "1.0.0",
            "summary": "The 784-16-16-10 network from 3Blue1Brown's lesson, recognizing drawn digits.",
            "description": "Send a drawing (canvas PNG, pen strokes, or 28×28 pixels) and get the "
                           "ten output activations and every layer's activations. Human-readable "
                           "documentation with curl examples: /docs. Pages on other origins may "
                           "call /api and /v2 when the server's CORS_ORIGINS lists them.",
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [{"url": "/"}],
        "tags": [{"name": "Digits"}, {"name": "Open Inference Protocol"}, {"name": "Pages"},
                 {"name": "Operations"}],
        "paths": {
            "/api/predict": {"post": {
                "tags": ["Digits"], "summary": "Recognize a digit (or a batch)",
                "operationId": "predict",
                "requestBody": json_request({"oneOf": [_ref("PredictRequest"), _ref("BatchRequest")]}, {
                    "strokes": ("A 7 drawn with the pen on a 280×280 canvas", EXAMPLE_DRAWING),
                    "batch": ("That 7 and a 1, answered together",
                              {"inputs": [EXAMPLE_DRAWING, {**EXAMPLE_DRAWING, "strokes": [[[140, 30], [140, 250]]]}]}),
                }),
                "responses": {
                    "200": _json({"oneOf": [_ref("Prediction"), _ref("BatchResponse")]},
                                 "The answer: digit, activations, preprocessing record.",
                                 headers={"Cache-Control": {"schema": {"const": "no-store"}}}),
                    **predict_errors}}},
            "/api/explain": explain_path(max_body),
            **training_paths(facts.checkpoints, facts.model_sha256),
            "/api/model": {"get": {
                "tags": ["Digits"], "summary": "The network: architecture, weights, model card",
                "operationId": "model",
                "responses": {
                    "200": _json(_ref("Model"), "All weights and biases and the model card.",
                                 headers={"ETag": {"schema": {"type": "string"}}}),
                    "304": {"description": "Not modified (If-None-Match matched the ETag)."},
                    "503": _problem("The model is not loaded.")}}},
            "/api/examples": {"get": {
                "tags": ["Digits"], "summary": "Real MNIST test digits",
                "operationId": "examples",
                "parameters": [
                    {"name": "digit", "in": "query", "required": False, "allowEmptyValue": True,
                     "schema": {"type": "integer", "minimum": 0, "maximum": 9},
                     "description": "Only examples of this digit (default: any)."},
                    {"name": "n", "in": "query", "required": False, "allowEmptyValue": True,
                     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_EXAMPLES, "default": 1},
                     "description": "How many examples."}],
                "responses": {"200": _json(_ref("Examples"), "Examples with their true labels."),
                              "400": _problem("digit or n out of range or not a number."),
                              "503": _problem("The example sample could not be loaded.")}}},
            "/": {"get": {
                "tags": ["Pages"], "summary": "The drawing page", "operationId": "page",
                "responses": {"200": {"description": "HTML page.",
                                      "content": {"text/html": {"schema": {"type": "string"}}}}}}},
            "/docs": {"get": {
                "tags": ["Pages"], "summary": "Human-readable API documentation", "operationId": "docs",
                "responses": {"200": {"description": "HTML page.",
                                      "content": {"text/html": {"schema": {"type": "string"}}}}}}},
            "/openapi.json": {"get": {
                "tags": ["Digits"], "summary": "This document", "operationId": "openapi",
                "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1 document.")}}},
            "/metrics": {"get": {
                "tags": ["Operations"], "summary": "Prometheus metrics", "operationId": "metrics",
                "description": "For Prometheus to scrape: requests by route and status, /api/predict "
                               "latency, predictions by input kind and answer, whether the model is "
                               "loaded; counted over every server process. Names in /docs#metrics.",
                "responses": {"200": {
                    "description": "The Prometheus text exposition format, version 0.0.4.",
                    "headers": {"Cache-Control": {"schema": {"const": "no-store"}}},
                    "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
            **_oip_paths(facts),
        },
        "components": {"schemas": {**schemas, **explain_schemas(schemas, checkpoint_option(facts.checkpoints))}},
    }


@lru_cache(maxsize=8)
def _cached(facts: Facts) -> dict[str, Any]:
    return _build(facts)


def document(config: Mapping[str, Any], state: State) -> dict[str, Any]:
    return _cached(Facts(int(config["MAX_BATCH"]), int(config["MAX_CONTENT_LENGTH"]),
                         state.rule, state.name, state.sha256, state.run.count if state.run else 0))


@bp.get("/openapi.json")
def openapi_document():
    response = jsonify(document(current_app.config, current_state()))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
