"""The installed Chromium still writes canvas PNGs the way the benches' canvases are written
(tests/data/chromium-canvas/manifest.json), and a drawing sent as its canvas PNG gets the
same answer as sent as strokes."""
from __future__ import annotations

import base64
import io
import json
import re

import numpy as np
import pytest
from PIL import Image

from pen import mouse_draw, on_pad, settle, status
from tests.chromium_canvases import encoding
from tests.live_server import post_json

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("digit", [2, 7])
def test_the_pads_png_gets_the_strokes_answer(page, live_server, digit):
    mouse_draw(page, on_pad(page, digit))
    settle(page)
    announced = re.match(r"^Looks like a (\d)", status(page))
    assert announced, status(page)

    url = page.evaluate("document.querySelector('#pad').toDataURL()")
    png = base64.b64decode(url.split(",", 1)[1])
    chosen = encoding(png)
    assert (chosen["depth"], chosen["colour_type"], chosen["interlace"]) == (8, 6, 0), chosen
    assert set(chosen["filters"]) <= {0, 1, 2}, chosen  # None, Sub, Up: as tests/drawing.chromium_png writes
    alpha = np.asarray(Image.open(io.BytesIO(png)).getchannel("A"))
    assert alpha.any() and not (alpha[0].any() or alpha[-1].any() or alpha[:, 0].any() or alpha[:, -1].any())

    code, _, body = post_json(f"{live_server}/api/predict", {"image": url})
    assert code == 200, body
    answer = json.loads(body)
    assert answer["preprocessing"]["polarity"] == "alpha"
    assert answer["digit"] == int(announced.group(1)) == digit
