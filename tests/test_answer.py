"""The answer rule (model/answer.py): one table of outputs and what must be said of them."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from model.answer import VERDICTS, Answer, Rule, answer, answers, verdict_codes, verdicts

CARD = Path(__file__).resolve().parent.parent / "weights" / "mnist-784-16-16-10.json"


def outputs(**values: float) -> np.ndarray:
    out = np.full(10, 0.01)
    for digit, value in values.items():
        out[int(digit[1:])] = value
    return out


# By activation: not a digit below 0.5, unsure when the runner-up reaches half the winner.
@pytest.mark.parametrize("output, digit, runner_up, verdict", [
    (outputs(d7=0.97, d9=0.02), 7, 9, "digit"),
    (outputs(d7=0.97, d9=0.4), 7, 9, "digit"),          # runner-up below half of the winner
    (outputs(d7=0.8, d9=0.4), 7, 9, "unsure"),          # exactly half: two digits compete
    (outputs(d7=0.49, d9=0.02), 7, 9, "not-a-digit"),   # nothing says "yes"
    (outputs(d7=0.49, d9=0.45), 7, 9, "not-a-digit"),   # nothing says "yes", even if two compete
    (outputs(d7=0.5, d9=0.02), 7, 9, "digit"),          # exactly the minimum is enough
    (outputs(d3=0.6, d5=0.6), 3, 5, "unsure"),          # a tie: the first is named, and unsure
    (np.zeros(10), 0, 1, "not-a-digit"),                # all dark
    (np.ones(10), 0, 1, "unsure"),                      # all lit: every digit competes
])
def test_the_rule_by_activation(output, digit, runner_up, verdict):
    said = answer(output, Rule(min_confidence=0.5, max_ratio=0.5))
    assert (said.digit, said.runner_up, said.verdict) == (digit, runner_up, verdict)
    assert said.uncertain == (verdict != "digit")
    assert said.confidence == output[digit]


# By odds a/(1 − a): unsure when the runner-up's odds reach 1/100 of the winner's.
@pytest.mark.parametrize("output, verdict", [
    (outputs(d4=0.99, d9=0.5), "unsure"),        # odds 99 and 1: exactly 1/99 ≥ 1/100
    (outputs(d4=0.99, d9=0.4), "digit"),         # odds 0.67 < 0.99
    (outputs(d4=0.999, d9=0.5), "digit"),        # odds 999 and 1
    (outputs(d4=1.0, d9=0.9), "digit"),          # a winner at exactly 1: infinite odds, no division
    (outputs(d4=1.0, d9=1.0), "unsure"),         # two at exactly 1 compete
    (outputs(d4=0.3, d9=0.29), "not-a-digit"),   # below the minimum, whatever competes
    (np.zeros(10), "not-a-digit"),
])
def test_the_rule_by_odds(output, verdict):
    assert answer(output, Rule(min_confidence=0.31, max_ratio=0.01, odds=True)).verdict == verdict


def test_the_default_rule_is_the_old_uncertain_rule():
    """Rule() keeps what `uncertain` meant before the verdict: winner < 0.5 or runner-up ≥ half."""
    rng = np.random.default_rng(0)
    for output in rng.random((500, 10)) ** 3:
        winner, second = np.sort(output)[::-1][:2]
        assert answer(output, Rule()).uncertain == (winner < 0.5 or second >= 0.5 * winner)


@pytest.mark.parametrize("rule", [Rule(), Rule(0.3, 0.01, odds=True), Rule(0.0, 1.0), Rule(1.0, 0.0)])
def test_verdicts_for_a_batch_agree_with_answer(rule):
    rng = np.random.default_rng(1)
    batch = np.concatenate([rng.random((300, 10)) ** 4, np.round(rng.random((100, 10)), 1),
                            np.zeros((1, 10)), np.ones((1, 10))])
    expected = [VERDICTS.index(a.verdict) for a in answers(batch, rule)]
    np.testing.assert_array_equal(verdicts(batch, rule), expected)
    np.testing.assert_array_equal(verdicts(batch.astype(np.float32), rule), expected)


def test_verdict_codes_take_scalars_and_arrays():
    assert int(verdict_codes(np.float64(0.9), np.float64(0.1), Rule())) == 0
    np.testing.assert_array_equal(verdict_codes(np.array([0.9, 0.9, 0.2]), np.array([0.1, 0.6, 0.1]), Rule()),
                                  [0, 1, 2])


def test_a_batch_is_answered_row_by_row():
    batch = np.stack([outputs(d1=0.9), outputs(d8=0.3)])
    assert [(a.digit, a.verdict, a.uncertain) for a in answers(batch, Rule())] == \
        [(1, "digit", False), (8, "not-a-digit", True)]


def test_an_answer_is_plain_data():
    a = Answer(digit=7, runner_up=1, confidence=0.9, verdict="unsure")
    assert a.uncertain and Answer(7, 1, 0.9, "digit").uncertain is False


# --- the rule travels with the weights ------------------------------------------------------


def test_rule_from_a_card():
    card = {"verdict": {"thresholds": {"min_confidence": 0.2, "max_ratio": 0.004, "odds": True}}}
    assert Rule.from_card(card) == Rule(0.2, 0.004, odds=True)
    assert Rule.from_card({"verdict": {"thresholds": Rule(0.2, 0.3).as_dict()}}) == Rule(0.2, 0.3)


def test_rule_from_a_card_without_a_verdict_or_with_unknown_thresholds():
    with pytest.raises(KeyError):
        Rule.from_card({"name": "old weights"})
    assert Rule.of_card({"name": "old weights"}) == Rule()
    assert Rule.of_card({"verdict": {"thresholds": Rule(0.2, 0.3).as_dict()}}) == Rule(0.2, 0.3)
    with pytest.raises(ValueError, match="unknown thresholds: entropy"):
        Rule.from_card({"verdict": {"thresholds": {"min_confidence": 0.2, "entropy": 1}}})


@pytest.mark.parametrize("verdict, message", [
    ({"thresholds": {"min_confidence": "0.1"}}, "min_confidence must be a finite number"),
    ({"thresholds": {"min_confidence": True}}, "min_confidence must be a finite number"),
    ({"thresholds": {"max_ratio": float("nan")}}, "max_ratio must be a finite number"),
    ({"thresholds": {"max_ratio": -0.5}}, "max_ratio must be at least 0"),
    ({"thresholds": {"odds": "yes"}}, "odds must be true or false"),
    ({"thresholds": [0.1, 0.5]}, "no thresholds object"),
    ({"rule": "made up"}, "no thresholds object"),
    ("0.1", "no thresholds object"),
    ({"thresholds": {1: 0.1}}, "unknown thresholds: 1"),
])
def test_a_verdict_that_is_no_rule_is_refused_when_read(verdict, message):
    """One error, ValueError, for every way a card's verdict can fail to be a rule."""
    with pytest.raises(ValueError, match=message):
        Rule.of_card({"verdict": verdict})


def test_a_card_that_is_no_json_object_is_refused_with_the_same_error():
    with pytest.raises(ValueError, match="a model card is a JSON object"):
        Rule.of_card(["verdict"])


def test_the_shipped_card_prescribes_a_rule():
    card = json.loads(CARD.read_text())
    rule = Rule.from_card(card)
    assert 0.0 < rule.min_confidence < 1.0 and 0.0 < rule.max_ratio <= 1.0
    assert rule.as_dict() == card["verdict"]["thresholds"]


def test_the_readme_quotes_the_shipped_cards_thresholds():
    """The settings table gives the card's thresholds as examples; a retrain must update them."""
    rule = Rule.from_card(json.loads(CARD.read_text()))
    readme = (CARD.parent.parent / "README.md").read_text()
    quoted = dict(re.findall(r"\| `UNCERTAIN_(MIN_CONFIDENCE|MAX_RATIO)` \| the model card's \(([\d.]+)\)", readme))
    assert quoted == {"MIN_CONFIDENCE": f"{rule.min_confidence:.3f}", "MAX_RATIO": f"{rule.max_ratio:g}"}
