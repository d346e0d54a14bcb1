"""The answer: which digit the network names, the runner-up, and the verdict.

One rule for every caller — ``/api/predict``, the Open Inference Protocol route and
``python -m model.predict`` — so they can never disagree about the same ten outputs.

Three verdicts (:data:`VERDICTS`), decided from the ten output activations alone, by
:class:`Rule`:

``"not-a-digit"``  no output says "yes": the strongest activation is below
                   ``min_confidence`` ("That doesn't look like a digit").
``"unsure"``       two digits compete: the runner-up reaches ``max_ratio`` of the strongest
                   ("Maybe a 4 — or a 9"). With ``odds=True`` the comparison is between
                   their odds a/(1 − a) rather than the activations themselves.
``"digit"``        otherwise ("Looks like a 7").

``digit`` is always the strongest output (the first, if two are equal) and ``uncertain`` is
``verdict != "digit"``, as before the verdict existed. The thresholds that go with a
weights file are in its model card (``card["verdict"]["thresholds"]``, chosen on held-out
data by ``python -m training.train``): build the rule with :meth:`Rule.from_card`, so the
served rule and the shipped weights cannot drift apart.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Literal

import numpy as np

Verdict = Literal["digit", "unsure", "not-a-digit"]
VERDICTS: tuple[Verdict, ...] = ("digit", "unsure", "not-a-digit")


@dataclass(frozen=True)
class Rule:
    min_confidence: float = 0.5   # the strongest activation below this: not a digit
    max_ratio: float = 0.5        # the runner-up at this fraction of the strongest (or more): unsure
    odds: bool = False            # compare odds a/(1 − a) instead of activations

    def __post_init__(self):
        # Thresholds come from files and settings: one that is no number would fail every
        # request (or, as NaN, silently never decline), so it fails here, where it is read.
        for name in ("min_confidence", "max_ratio"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"the rule's {name} must be a finite number, not {value!r}")
        if self.max_ratio < 0:
            raise ValueError(f"the rule's max_ratio must be at least 0, not {self.max_ratio!r}")
        if not isinstance(self.odds, bool):
            raise ValueError(f"the rule's odds must be true or false, not {self.odds!r}")

    @classmethod
    def from_card(cls, card: dict) -> "Rule":
        """The rule a model card prescribes (``card["verdict"]["thresholds"]``).

        ``KeyError`` if the card has no verdict (weights trained before the verdict existed),
        ``ValueError`` for any verdict that is not a rule's thresholds.
        """
        verdict = card["verdict"]
        thresholds = verdict.get("thresholds") if isinstance(verdict, dict) else None
        if not isinstance(thresholds, dict):
            raise ValueError("the model card's verdict has no thresholds object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(str(name) for name in set(thresholds) - known)
        if unknown:
            raise ValueError(f"the model card's verdict has unknown thresholds: {', '.join(unknown)}")
        return cls(**thresholds)

    @classmethod
    def of_card(cls, card: dict) -> "Rule":
        """:meth:`from_card`, except that a card from before the verdict existed (no
        ``"verdict"``) gets the rule of those days, ``Rule()``. ``ValueError`` for anything
        that is no model card or whose verdict is no rule."""
        if not isinstance(card, dict):
            raise ValueError("a model card is a JSON object")
        return cls.from_card(card) if "verdict" in card else cls()

    def as_dict(self) -> dict:
        return asdict(self)

    def in_words(self) -> str:
        """The rule as one sentence, with its thresholds (for /docs and /openapi.json)."""
        compared = "odds a/(1 − a) reach" if self.odds else "activation reaches"
        return (f'"not-a-digit" when the strongest of the ten output activations is below '
                f'{self.min_confidence:.3g}; otherwise "unsure" when the runner-up\'s {compared} '
                f'{self.max_ratio:g} × the strongest\'s; otherwise "digit".')


@dataclass(frozen=True)
class Answer:
    digit: int          # the strongest output (the first, if two are equal)
    runner_up: int      # the second strongest
    confidence: float   # the strongest output's activation, in [0, 1]
    verdict: Verdict    # "digit", "unsure" or "not-a-digit"

    @property
    def uncertain(self) -> bool:
        """Anything but a plain "digit" (what clients read before the verdict existed)."""
        return self.verdict != "digit"


def verdict_codes(winner: np.ndarray, runner_up: np.ndarray, rule: Rule) -> np.ndarray:
    """The verdicts, as indices into :data:`VERDICTS`, for the strongest and second-strongest
    activations (arrays of any shape, or scalars): the rule itself."""
    if rule.odds:
        # odds(r) ≥ k·odds(w), multiplied out so that activations of exactly 0 or 1 need no division
        compete = runner_up * (1.0 - winner) >= rule.max_ratio * winner * (1.0 - runner_up)
    else:
        compete = runner_up >= rule.max_ratio * winner
    return np.where(winner < rule.min_confidence, 2, np.where(compete, 1, 0))


def top_two(outputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the strongest and second-strongest output of each row of (N, 10) outputs
    (ties: the lower digit first)."""
    order = np.argsort(-np.asarray(outputs), axis=-1, kind="stable")
    return order[..., 0], order[..., 1]


def answer(output: np.ndarray, rule: Rule) -> Answer:
    """The answer for one input's ten output activations, shape (10,)."""
    output = np.asarray(output)
    digit, runner_up = (int(i) for i in top_two(output))
    confidence = float(output[digit])
    code = int(verdict_codes(np.float64(confidence), np.float64(output[runner_up]), rule))
    return Answer(digit, runner_up, confidence, VERDICTS[code])


def answers(outputs: np.ndarray, rule: Rule) -> list[Answer]:
    """:func:`answer` for every row of ``outputs``, shape (N, 10)."""
    return [answer(row, rule) for row in outputs]


def strongest_two(outputs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each row of (N, 10) outputs: the strongest digit, its activation and the
    runner-up's activation (float64), as the rule reads them."""
    outputs = np.asarray(outputs, dtype=np.float64)
    first, second = top_two(outputs)
    rows = np.arange(len(outputs))
    return first, outputs[rows, first], outputs[rows, second]


def verdicts(outputs: np.ndarray, rule: Rule) -> np.ndarray:
    """The verdict of every row of ``outputs`` (N, 10) at once, as indices into
    :data:`VERDICTS` (N,) — what :func:`answer` decides, for measuring many inputs."""
    _, winners, runners = strongest_two(outputs)
    return verdict_codes(winners, runners, rule)
