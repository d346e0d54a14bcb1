"""The ``/api/explain`` part of the OpenAPI document (server/openapi.py puts it in).

Tight like the rest: every array's length, every index's range, from the network's
sizes and the limits in :mod:`model.explain`.
"""
from __future__ import annotations

from typing import Any

from model.explain import DEFAULT_LEARNING_RATE, MAX_LEARNING_RATE, MAX_STEPS
from model.network import SIZES
from server.openapi_parts import EXAMPLE_DRAWING, json_content, json_request, numbers, problem, ref

INPUTS = ("ImageInput", "StrokesInput", "PixelsInput")
DIGITS = {"type": "integer", "minimum": 0, "maximum": SIZES[-1] - 1}

OPTIONS: dict[str, Any] = {
    "target": {**DIGITS, "description": "The digit the person meant (default: the network's own "
                                        "answer, `digit`). The cost, nudges, top weights and "
                                        "descent are all about reaching it."},
    "steps": {"type": "integer", "minimum": 0, "maximum": MAX_STEPS, "default": 0,
              "description": "Steps of plain gradient descent on this one example."},
    "learning_rate": {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_LEARNING_RATE,
                      "default": DEFAULT_LEARNING_RATE,
                      "description": "η, the size of each step: W ← W − η ∂C/∂W."},
}


def _top_weight(layer: int) -> dict[str, Any]:
    """A weight of ``w{layer}``: ``to`` a row (receiving neuron), ``from`` a column."""
    return {"type": "object", "additionalProperties": False,
            "required": ["layer", "to", "from", "weight", "gradient"],
            "properties": {"layer": {"const": layer},
                           "to": {"type": "integer", "minimum": 0, "maximum": SIZES[layer] - 1},
                           "from": {"type": "integer", "minimum": 0, "maximum": SIZES[layer - 1] - 1},
                           "weight": {"type": "number"},
                           "gradient": {"type": "number", "description": "∂C/∂w"}}}


def explain_schemas(schemas: dict[str, Any], checkpoint: dict[str, Any]) -> dict[str, Any]:
    """``ExplainRequest`` (each input schema of ``schemas`` plus the options, ``checkpoint``
    among them) and ``Explanation``."""
    options = {**OPTIONS, "checkpoint": {**checkpoint, "description": "Explain this snapshot of the training "
                                         "run instead of the served network: the answer, gradients and "
                                         "descent all start from it (an id from GET /api/training)."}}
    requests = [{**schemas[name], "properties": {**schemas[name]["properties"], **options}}
                for name in INPUTS]
    n_out, hidden = SIZES[-1], SIZES[1:-1]
    return {
        "ExplainRequest": {"oneOf": requests},
        "Explanation": {"allOf": [ref("Prediction"), {
            "type": "object",
            "required": ["target", "attribution", "cost", "nudges", "top_weights", "descent"],
            "properties": {
                "target": DIGITS,
                "attribution": {
                    "type": "object", "required": ["for", "against", "pixels"],
                    "description": "pixels[i] = x_i · ∂(a_for − a_against)/∂x_i: how much each input "
                                   "pixel's ink argued for one digit over the other.",
                    "properties": {"for": DIGITS, "against": DIGITS, "pixels": numbers(SIZES[0])}},
                "cost": {"type": "number", "minimum": 0, "maximum": n_out,
                         "description": "C = Σ_j (a_j − y_j)², y the one-hot of target."},
                "nudges": {
                    "type": "object", "required": ["output", "hidden2", "hidden1"],
                    "description": "−∂C/∂a for each layer's activations.",
                    "properties": {"output": numbers(n_out, -2, 2), "hidden2": numbers(hidden[1]),
                                   "hidden1": numbers(hidden[0])}},
                "top_weights": {"type": "array", "minItems": 10, "maxItems": 10,
                                "description": "The 10 weights with the largest |∂C/∂w|, largest first.",
                                "items": {"oneOf": [_top_weight(layer) for layer in (1, 2, 3)]}},
                "descent": {
                    "type": "object", "required": ["learning_rate", "steps"],
                    "properties": {
                        "learning_rate": OPTIONS["learning_rate"],
                        "steps": {"type": "array", "maxItems": MAX_STEPS, "items": {
                            "type": "object", "required": ["step", "cost", "output", "digit"],
                            "properties": {"step": {"type": "integer", "minimum": 1, "maximum": MAX_STEPS},
                                           "cost": {"type": "number", "minimum": 0, "maximum": n_out},
                                           "output": numbers(n_out, 0, 1), "digit": DIGITS}}}}},
            }}]},
    }


def explain_path(max_body: int) -> dict[str, Any]:
    """The ``POST /api/explain`` operation."""
    return {"post": {
        "tags": ["Digits"], "summary": "Why this answer, and what this one example would teach",
        "operationId": "explain",
        "description": "One drawing, as for /api/predict (no batch), with an optional target digit, "
                       "steps of gradient descent, learning rate and snapshot of the training run. Answers everything "
                       "/api/predict answers, plus the attribution, cost, nudges, top weights and "
                       "descent (see /docs#explain). The served network never changes.",
        "requestBody": json_request(ref("ExplainRequest"), {
            "steps": ("Why the 7, and ten gradient steps towards a 9", {**EXAMPLE_DRAWING, "target": 9, "steps": 10})}),
        "responses": {
            "200": json_content(ref("Explanation"), "The prediction and its explanation.",
                                headers={"Cache-Control": {"schema": {"const": "no-store"}}}),
            "400": problem("Malformed JSON, bad base64, a corrupt PNG, a batch, or not exactly one input kind."),
            "413": problem(f"Body over {max_body} bytes, or an image too large."),
            "415": problem("Not application/json, or the image is not a PNG."),
            "422": problem("Unusable drawing (as for /api/predict), or target, steps, "
                           "learning_rate or checkpoint out of range or not a number of the right kind."),
            "503": problem("The model is not loaded, or a `checkpoint` was asked of a server without "
                           "the training run's snapshots."),
        }}}
