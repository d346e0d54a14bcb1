"""``POST /api/explain``: a prediction, why the network made it, and what it would learn.

One drawing, as for ``/api/predict`` (no batch form), plus optional ``target`` (0–9, the
digit the person meant; default the network's own answer), ``steps`` (0–50 steps of
gradient descent on this example), ``learning_rate`` (0 < η ≤ 10) and ``checkpoint`` (a
snapshot of the training run: everything, descent included, starts from it). The answer is
everything ``/api/predict`` answers — built by the same :func:`server.api.predictions` —
beside ``target``, ``attribution``, ``cost``, ``nudges``, ``top_weights`` and ``descent``
(computed by :mod:`model.explain`; documented in /docs and /openapi.json).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
from flask import Blueprint, jsonify

from model import explain
from model.network import Network
from server.api import checkpoint_of, json_body, network_for, predictions, preprocess_input, ready_state, shown
from server.errors import Problem

bp = Blueprint("explain", __name__)

OPTIONS = ("target", "steps", "learning_rate", "checkpoint")
DIGITS = 6  # significant digits of gradients, nudges, attributions and costs


def significant(values: Any, digits: int = DIGITS) -> list[float]:
    """Each value rounded to ``digits`` significant digits, as a list of floats.

    Gradients span many orders of magnitude (a saturated neuron's are tiny), so a fixed
    number of decimals would turn the small ones into 0. Values below 1e-300 become 0.
    """
    a = np.asarray(values, np.float64)
    out = np.zeros_like(a)
    nonzero = np.abs(a) >= 1e-300
    v = a[nonzero]
    k = np.clip(digits - 1 - np.floor(np.log10(np.abs(v))), -300, 300)  # decimals to keep
    power = 10.0 ** np.abs(k)  # a power of ten, exact up to 1e22: the decimals survive
    out[nonzero] = np.where(k >= 0, np.round(v * power) / power, np.round(v / power) * power)
    return out.tolist()


def _whole(body: dict, name: str, high: int, default: int | None) -> int | None:
    """``body[name]`` as a whole number from 0 to ``high`` (3.0 counts; true does not)."""
    if name not in body:
        return default
    value = body[name]
    whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if isinstance(value, bool) or not whole or not 0 <= value <= high:
        raise Problem("invalid-option", f"\"{name}\" must be a whole number from 0 to {high} "
                      f"(got {shown(value)}).")
    return int(value)


def _learning_rate(body: dict) -> float:
    if "learning_rate" not in body:
        return explain.DEFAULT_LEARNING_RATE
    value = body["learning_rate"]
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not number or not math.isfinite(value) or not 0 < value <= explain.MAX_LEARNING_RATE:
        raise Problem("invalid-option", f"\"learning_rate\" must be a number above 0 and at most "
                      f"{explain.MAX_LEARNING_RATE:g} (got {shown(value)}); the default is "
                      f"{explain.DEFAULT_LEARNING_RATE:g}.")
    return float(value)


def explanation(network: Network, x: np.ndarray, digit: int, runner_up: int,
                target: int, steps: int, learning_rate: float) -> dict[str, Any]:
    """The fields /api/explain adds to a prediction, for the input ``x`` (784,)."""
    f, g = (digit, runner_up) if target == digit else (target, digit)
    lesson = explain.lesson(network, x, target)
    hidden1, hidden2, output = lesson.nudges
    top = explain.top_weights(network, lesson.grad_weights)
    gradients = significant([w["gradient"] for w in top])
    descent = explain.descend(network, x, target, learning_rate, steps)
    costs, outputs = significant(descent.costs), np.round(descent.outputs, 6).tolist()
    return {
        "target": target,
        "attribution": {"for": f, "against": g,
                        "pixels": significant(explain.attribution(network, x, f, g))},
        "cost": significant(lesson.cost),
        "nudges": {"output": significant(output), "hidden2": significant(hidden2),
                   "hidden1": significant(hidden1)},
        "top_weights": [{**w, "weight": round(w["weight"], 6), "gradient": gradient}
                        for w, gradient in zip(top, gradients)],
        "descent": {"learning_rate": learning_rate, "steps": [
            {"step": k + 1, "cost": costs[k], "output": outputs[k], "digit": int(descent.digits[k])}
            for k in range(steps)]},
    }


@bp.post("/api/explain")
def explain_route():
    s = ready_state()
    body = json_body()
    if not isinstance(body, dict):
        raise Problem("invalid-request", "expected a JSON object with one of \"image\", \"strokes\" "
                      "or \"pixels\" (and optionally \"target\", \"steps\", \"learning_rate\", "
                      "\"checkpoint\").")
    if "inputs" in body:
        raise Problem("invalid-request", "/api/explain takes one drawing: send one of \"image\", "
                      "\"strokes\" or \"pixels\", not a batch of \"inputs\".")
    target = _whole(body, "target", 9, None)
    steps = _whole(body, "steps", explain.MAX_STEPS, 0)
    learning_rate = _learning_rate(body)
    checkpoint = checkpoint_of(body)
    pre = preprocess_input({k: v for k, v in body.items() if k not in OPTIONS})
    network = network_for(s, checkpoint)
    answer = predictions(s, [pre], checkpoint, network)[0]
    assert steps is not None
    answer.update(explanation(network, pre.pixels, answer["digit"], answer["runner_up"],
                              answer["digit"] if target is None else target, steps, learning_rate))
    response = jsonify(answer)
    response.headers["Cache-Control"] = "no-store"
    return response
