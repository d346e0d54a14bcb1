"""``python -m model.predict``: the same answer, verdict included, as the API gives."""
from __future__ import annotations

import base64
import json
import shutil

import numpy as np
import pytest

from model import predict
from model.answer import Rule
from tests.conftest import CARD, WEIGHTS
from tests.drawing import canvas_png


def png_file(tmp_path, name: str, image: np.ndarray):
    path = tmp_path / name
    path.write_bytes(canvas_png(np.asarray(image, np.float64)))
    return path


def test_each_file_gets_the_apis_verdict(tmp_path, capsys, client, mnist):
    noise = np.random.default_rng(0).random(784) > 0.5
    files = [png_file(tmp_path, "seven.png", mnist.test.images[0]), png_file(tmp_path, "noise.png", noise)]
    assert predict.main([str(f) for f in files]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    for path, line in zip(files, lines):
        image = "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()
        api = client.post("/api/predict", json={"image": image}).get_json()
        assert line.startswith(f"{path}: ")
        if api["verdict"] == "not-a-digit":
            assert "not a digit" in line
        elif api["verdict"] == "unsure":
            assert f"unsure: maybe {api['runner_up']}" in line
        else:
            assert line.startswith(f"{path}: {api['digit']} (") and "unsure" not in line
        values = [float(v.split(":")[1]) for v in line.split()[-10:]]
        np.testing.assert_allclose(values, api["output"], atol=6e-4)
    assert lines[0].startswith(f"{files[0]}: 7 (") and "not a digit" in lines[1]


def test_the_rule_is_the_cards_beside_the_weights(tmp_path):
    assert predict.rule_beside(WEIGHTS) == Rule.from_card(json.loads(CARD.read_text()))
    alone = tmp_path / WEIGHTS.name
    shutil.copy(WEIGHTS, alone)
    assert predict.rule_beside(alone) == Rule()


@pytest.mark.parametrize("content, says", [(b"not a png", "PNG"), (None, "cannot read")])
def test_bad_files_are_named_and_fail_the_run(tmp_path, capsys, content, says):
    path = tmp_path / "bad.png"
    if content is not None:
        path.write_bytes(content)
    assert predict.main([str(path)]) == 1
    assert says in capsys.readouterr().err


@pytest.mark.parametrize("card", ["not json", '{"verdict": {"thresholds": {"bogus": 1}}}', "[]",
                                  '{"verdict": {"thresholds": {"min_confidence": "high"}}}', '{"verdict": 0.5}'])
def test_a_card_that_is_no_rule_stops_the_run(tmp_path, capsys, card):
    """Like the server, which refuses such weights: no silent fallback to another rule."""
    weights = tmp_path / WEIGHTS.name
    shutil.copy(WEIGHTS, weights)
    weights.with_suffix(".json").write_text(card)
    assert predict.main([str(tmp_path / "any.png"), "--weights", str(weights)]) == 1
    assert "no usable answer rule" in capsys.readouterr().err
