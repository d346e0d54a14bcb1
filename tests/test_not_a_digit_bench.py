"""bench/not_a_digit.py --in-sample: the rates on what the network was trained and chosen on.

The closing notes quote its figures; this runs it on ten non-digits of each kind (the
card's split sizes would take a minute) and holds its lines to each other.
"""
from __future__ import annotations

import json
import re

from bench import not_a_digit
from training import nondigits

LINE = re.compile(r"^  (.+?)\s+(\d+)\s+([\d.]+)%\s+([\d.]+)%\s+([\d.]+)%", re.MULTILINE)


def test_in_sample_rates_cover_the_training_digits_and_every_kind_of_both_splits(monkeypatch, capsys):
    made = []
    real = nondigits.dataset

    def few(split, per_kind, seed):
        made.append((split, per_kind))
        return real(split, 10, seed)

    monkeypatch.setattr(nondigits, "dataset", few)
    assert not_a_digit.main(["--per-kind", "10", "--strokes", "10", "--in-sample"]) == 0
    rows = {name: (int(n), float(declined)) for name, n, declined, *_ in LINE.findall(capsys.readouterr().out)}

    card = json.loads(not_a_digit.WEIGHTS.with_suffix(".json").read_text())
    assert made[-2:] == [("train", card["recipe"]["nondigits_per_kind"]),
                         ("choose", card["recipe"]["choose_per_kind"])]
    assert rows["MNIST training digits"][0] == 50_000
    for split in ("train", "choose"):
        kinds = [rows[f"{split} non-digits: {kind}"] for kind in nondigits.KINDS]
        assert all(n == 10 for n, _ in kinds)
        n, declined = rows[f"{split} non-digits, all kinds"]
        assert n == 10 * len(nondigits.KINDS)
        assert abs(declined - sum(d for _, d in kinds) / len(kinds)) < 0.01
