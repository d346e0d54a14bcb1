"""The answer: which digit the network names, the runner-up, and whether it is sure.

One rule for every caller — ``/api/predict``, the Open Inference Protocol route and
``python -m model.predict`` — so they can never disagree about the same ten outputs.

The rule (:class:`Rule`): the answer is *uncertain* when the strongest output's activation
is below ``min_confidence`` (the network says "yes" to no digit), or when the runner-up
reaches ``max_ratio`` of it (two digits compete).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Rule:
    min_confidence: float = 0.5
    max_ratio: float = 0.5


@dataclass(frozen=True)
class Answer:
    digit: int          # the strongest output (the first, if two are equal)
    runner_up: int      # the second strongest
    confidence: float   # the strongest output's activation, in [0, 1]
    uncertain: bool


def answer(output: np.ndarray, rule: Rule) -> Answer:
    """The answer for one input's ten output activations, shape (10,)."""
    digit, runner_up = np.argsort(-np.asarray(output), kind="stable")[:2].tolist()
    confidence = float(output[digit])
    uncertain = confidence < rule.min_confidence or float(output[runner_up]) >= rule.max_ratio * confidence
    return Answer(digit, runner_up, confidence, uncertain)


def answers(outputs: np.ndarray, rule: Rule) -> list[Answer]:
    """:func:`answer` for every row of ``outputs``, shape (N, 10)."""
    return [answer(row, rule) for row in outputs]
