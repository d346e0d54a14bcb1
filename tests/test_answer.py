"""The answer rule (model/answer.py): one table of outputs and what must be said of them."""
from __future__ import annotations

import numpy as np
import pytest

from model.answer import Rule, answer, answers


def outputs(**values: float) -> np.ndarray:
    out = np.full(10, 0.01)
    for digit, value in values.items():
        out[int(digit[1:])] = value
    return out


@pytest.mark.parametrize("output, digit, runner_up, uncertain", [
    (outputs(d7=0.97, d9=0.02), 7, 9, False),
    (outputs(d7=0.97, d9=0.4), 7, 9, False),        # runner-up below half of the winner
    (outputs(d7=0.8, d9=0.4), 7, 9, True),          # exactly half: two digits compete
    (outputs(d7=0.49, d9=0.02), 7, 9, True),        # nothing says "yes"
    (outputs(d7=0.5, d9=0.02), 7, 9, False),        # exactly the minimum is enough
    (outputs(d3=0.6, d5=0.6), 3, 5, True),          # a tie: the first is named, and unsure
    (np.zeros(10), 0, 1, True),                     # all dark
])
def test_the_rule(output, digit, runner_up, uncertain):
    said = answer(output, Rule(min_confidence=0.5, max_ratio=0.5))
    assert (said.digit, said.runner_up, said.uncertain) == (digit, runner_up, uncertain)
    assert said.confidence == output[digit]


def test_a_batch_is_answered_row_by_row():
    batch = np.stack([outputs(d1=0.9), outputs(d8=0.3)])
    assert [(a.digit, a.uncertain) for a in answers(batch, Rule())] == [(1, False), (8, True)]
