"""Choosing and measuring the answer rule (model/answer.py) on held-out data.

:func:`choose_rule` picks the rule's thresholds on the *choose* data — MNIST validation
digits (held out from training) and the choose split of the non-digits — and
:func:`measure` reports what a rule does on any labelled set of inputs: how many it
declines (``unsure`` or ``not-a-digit``), and how often the digits it names are right.
The test split and the held-out non-digits are only ever measured, never chosen on.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.answer import VERDICTS, Rule, strongest_two, top_two, verdict_codes, verdicts

# The thresholds tried: the runner-up's share of the strongest output (or of its odds,
# with Rule.odds), and the strongest output's minimum as quantiles of the digits' own.
RATIOS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0)
ODDS_RATIOS = (1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
QUANTILES = np.linspace(0.0, 0.1, 401)


@dataclass(frozen=True)
class Goals:
    """What the rule aims at (the issue's goals), on the data it is chosen on."""

    max_declined: float = 0.045       # digits declined, at most (a hard budget)
    nondigits_declined: float = 0.90  # non-digits declined, mean over kinds
    every_kind: float = 0.75          # ... and of every kind
    named_accuracy: float = 0.985     # the named digits right


@dataclass(frozen=True)
class Choice:
    rule: Rule
    digits_declined: float        # share of the choose digits declined
    named_accuracy: float         # share of the named choose digits that are right
    nondigits_declined: float     # mean over kinds of the share of choose non-digits declined
    lowest_kind: float            # the lowest kind's share declined
    shortfall: float              # the largest of the three failure rates, each over what its goal allows


def choose_rule(digit_outputs: np.ndarray, labels: np.ndarray, nondigit_outputs: np.ndarray,
                kinds: np.ndarray, goals: Goals, odds: bool, ratios=None) -> Choice:
    """The rule (``max_ratio`` from ``ratios``, default all of :data:`RATIOS` or
    :data:`ODDS_RATIOS`; ``min_confidence`` from quantiles of the digits' strongest outputs),
    among those declining at most ``goals.max_declined`` of the digits, that
    comes closest to all three other goals at once: the smallest m such that the non-digits
    let through are at most m × (1 − goal) on average and of every kind, and the wrong named
    digits at most m × (1 − goal). (m ≤ 1: every goal met.) Ties go to more non-digits
    declined. If even the lowest ``min_confidence`` declines more digits than the budget (a
    poorly trained network whose outputs compete a lot), the rule that declines the fewest.
    """
    first, winners, runners = strongest_two(digit_outputs)
    right = first == labels
    _, nd_winners, nd_runners = strongest_two(nondigit_outputs)
    kind_masks = [kinds == k for k in np.unique(kinds)]
    best, fewest = None, None
    for ratio in ratios or (ODDS_RATIOS if odds else RATIOS):
        for c in np.unique(np.quantile(winners, QUANTILES)):
            rule = Rule(min_confidence=float(c), max_ratio=float(ratio), odds=odds)
            declined = verdict_codes(winners, runners, rule) > 0
            share = float(declined.mean())
            if fewest is None or share < fewest[0]:
                fewest = (share, rule)
            if share > goals.max_declined:
                break  # a higher minimum only declines more
            named = float(right[~declined].mean()) if share < 1 else 0.0
            nd = verdict_codes(nd_winners, nd_runners, rule) > 0
            per_kind = [float(nd[mask].mean()) for mask in kind_masks]
            mean, lowest = float(np.mean(per_kind)), min(per_kind)
            shortfall = max((1 - mean) / (1 - goals.nondigits_declined),
                            (1 - lowest) / (1 - goals.every_kind),
                            (1 - named) / (1 - goals.named_accuracy))
            choice = Choice(rule, share, named, mean, lowest, shortfall)
            if best is None or (shortfall, -mean) < (best.shortfall, -best.nondigits_declined):
                best = choice
    if best is None:
        share, rule = fewest
        declined = verdict_codes(winners, runners, rule) > 0
        nd = verdict_codes(nd_winners, nd_runners, rule) > 0
        per_kind = [float(nd[mask].mean()) for mask in kind_masks]
        named = float(right[~declined].mean()) if share < 1 else 0.0
        best = Choice(rule, share, named, float(np.mean(per_kind)), min(per_kind), float("inf"))
    return best


def rates(outputs: np.ndarray, rule: Rule, labels: np.ndarray | None = None) -> dict:
    """What ``rule`` says of a set of inputs: counts and shares of each verdict, and for
    labelled digits the accuracy of the strongest output and of the named digits."""
    codes = verdicts(outputs, rule)
    n = len(codes)
    out = {"n": n, "declined": round(float(np.mean(codes > 0)), 5) if n else None}
    for i, name in enumerate(VERDICTS):
        out[name] = int(np.sum(codes == i))
    if labels is not None:
        first, _ = top_two(outputs)
        right = first == labels
        out["accuracy"] = round(float(right.mean()), 5)
        named = codes == 0
        out["named_accuracy"] = round(float(right[named].mean()), 5) if named.any() else None
    return out


def confusion(groups: dict[str, tuple[np.ndarray, np.ndarray | None]], rule: Rule) -> dict:
    """The verdict confusion table: one row per true class — for each labelled digit set,
    "<set>: digit right" and "<set>: digit wrong" (by the strongest output), and one row per
    non-digit set — with the count of each verdict.
    """
    rows = {}
    for name, (outputs, labels) in groups.items():
        codes = verdicts(outputs, rule)
        if labels is not None:
            first, _ = top_two(outputs)
            right = first == labels
            parts = {f"{name}: digit right": right, f"{name}: digit wrong": ~right}
        else:
            parts = {name: np.ones(len(codes), dtype=bool)}
        for row, mask in parts.items():
            rows[row] = {v: int(np.sum(codes[mask] == i)) for i, v in enumerate(VERDICTS)}
    return {"columns": list(VERDICTS), "rows": rows}


def measure(network, rule: Rule, data, heldout_per_kind: int, stroke_digits: int,
            nondigit_seed: int = 0) -> dict:
    """What ``rule`` does with ``network`` on data no choice was made on: the MNIST test
    digits, the first ``stroke_digits`` of them re-drawn as strokes (training/strokes.py,
    through preprocess.from_strokes) and ``heldout_per_kind`` held-out non-digits of each
    kind. Returns ``{"mnist_test", "stroke_test", "heldout": {kind: ...}, "heldout_all",
    "confusion"}`` (see :func:`rates`, :func:`confusion`)."""
    from training import nondigits, strokes

    test_out = network.forward(data.test.images)[-1]
    stroke_x = strokes.stroke_drawn(data.test.images[:stroke_digits])
    stroke_out = network.forward(stroke_x)[-1]
    held = {kind: network.forward(nondigits.inputs(kind, "heldout", heldout_per_kind, nondigit_seed))[-1]
            for kind in nondigits.KINDS}
    held_rates = {kind: rates(out, rule) for kind, out in held.items()}
    all_declined = float(np.mean([r["declined"] for r in held_rates.values()]))
    groups = {"MNIST test": (test_out, data.test.labels),
              "stroke-drawn test": (stroke_out, data.test.labels[:stroke_digits]),
              **{f"non-digit: {kind}": (out, None) for kind, out in held.items()}}
    return {
        "mnist_test": rates(test_out, rule, data.test.labels),
        "stroke_test": rates(stroke_out, rule, data.test.labels[:stroke_digits]),
        "heldout": held_rates,
        "heldout_all": {"n": int(sum(r["n"] for r in held_rates.values())),
                        "declined": round(all_declined, 5),
                        "lowest_kind": min(held_rates, key=lambda k: held_rates[k]["declined"])},
        "confusion": confusion(groups, rule),
    }
