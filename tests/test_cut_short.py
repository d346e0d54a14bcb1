"""bench/cut_short.py: the real app, with a PNG's preprocessing stopped after one stage.

Its measurements are only worth something if the stages before the cut really run and
the ones after it really do not; this holds it to both.
"""
from __future__ import annotations

import pytest

from model import preprocess
from tests.chromium_canvases import OUT
from tests.drawing import data_url

ONE = data_url((OUT / "00-digit1.png").read_bytes())
ZERO = data_url((OUT / "05-digit0.png").read_bytes())
# The signature and header of a real canvas PNG, its pixels cut off: only decoding finds out.
HEADER_ONLY = data_url((OUT / "10-digit7.png").read_bytes()[:64])


@pytest.fixture
def cut_short(monkeypatch):
    def make(stage: str):
        monkeypatch.setenv("CUT_SHORT_AFTER", stage)
        monkeypatch.setattr(preprocess, "from_png", preprocess.from_png)  # put back after the test
        from bench.cut_short import create_app
        return create_app().test_client()
    return make


@pytest.mark.parametrize("stage", ["base64", "decode"])
def test_every_png_is_answered_with_the_first_ones_preprocessing(cut_short, stage):
    client = cut_short(stage)
    first = client.post("/api/predict", json={"image": ONE}).get_json()
    second = client.post("/api/predict", json={"image": ZERO}).get_json()
    assert first["digit"] == 1 and first["preprocessing"]["source"] == "image"
    assert second["activations"]["input"] == first["activations"]["input"]
    assert second["preprocessing"] == first["preprocessing"]


@pytest.mark.parametrize("stage, status", [("base64", 200), ("decode", 400)])
def test_the_stages_before_the_cut_still_run(cut_short, stage, status):
    client = cut_short(stage)
    client.post("/api/predict", json={"image": ONE})
    assert client.post("/api/predict", json={"image": "data:image/png;base64,AAA"}).status_code == 400
    assert client.post("/api/predict", json={"image": HEADER_ONLY}).status_code == status


def test_an_unknown_stage_is_refused(cut_short):
    with pytest.raises(SystemExit, match="CUT_SHORT_AFTER must be one of base64, decode"):
        cut_short("ink")
