"""Canvas PNGs as browsers write them (tests/data/chromium-canvas/, written by real Chromium)
and the unusual ones a canvas can also produce, through ``preprocess.from_png``."""
from __future__ import annotations

import io
import json
import zlib

import numpy as np
import pytest
from PIL import Image

from model import preprocess
from model.answer import Rule, answer
from tests.chromium_canvases import OUT as CHROMIUM_CANVASES
from tests.drawing import canvas_png, filtered_rows, png

FIXTURES = sorted(CHROMIUM_CANVASES.glob("*.png"))
MANIFEST = {entry["file"]: entry for entry in json.loads((CHROMIUM_CANVASES / "manifest.json").read_text())["files"]}


def alpha_canvas(image: np.ndarray) -> bytes:
    """A canvas whose ink is ``image`` in the alpha channel, encoded as Chromium encodes one."""
    pixels = np.zeros(image.shape + (4,), np.uint8)
    pixels[:, :, 3] = image
    return png(image.shape[1], image.shape[0], zlib.compress(filtered_rows(pixels, [2] * image.shape[0]), 1), colour=6)


@pytest.mark.parametrize("path", FIXTURES, ids=[p.name for p in FIXTURES])
def test_real_chromium_canvases_become_their_mnist_digit(path, mnist, network, card):
    """Each canvas is an MNIST test digit scaled onto a 280×280 canvas by a browser: preprocessing
    brings it back close to the digit MNIST itself holds, and where the network is sure of that
    digit (the card's rule says "digit") it reads the canvas as the same digit."""
    entry = MANIFEST[path.name]
    result = preprocess.from_png(path.read_bytes())
    original = mnist.test.images[entry["mnist_test_index"]]
    assert result.info["canvas"] == [280, 280]
    assert np.corrcoef(result.pixels, original)[0, 1] > 0.8
    said = answer(network.forward(original)[-1], Rule.from_card(card))
    read = int(np.argmax(network.forward(result.pixels)[-1]))
    # Sure of the original: the same digit. Not sure: one of the two it hesitates between.
    assert read == said.digit if said.verdict == "digit" else read in (said.digit, said.runner_up)


@pytest.mark.parametrize("name, image, polarity", [
    ("faint ink", np.pad(np.full((60, 20), 90, np.uint8), 50), "alpha"),
    ("grey border", np.pad(np.full((60, 20), 200, np.uint8), 50, constant_values=1), "alpha"),
    ("opaque with transparent marks", 255 - np.pad(np.full((60, 20), 255, np.uint8), 50), "light-on-dark"),
])
def test_unusual_canvases_that_hold_a_drawing(name, image, polarity):
    result = preprocess.from_png(alpha_canvas(image))
    assert result.info["polarity"] == polarity
    assert result.info["bbox"] == [50, 50, 70, 110]
    assert max(result.info["fitted_size"]) == 20.0


def test_ink_touching_the_border_is_still_found():
    image = np.pad(np.full((150, 40), 255, np.uint8), ((0, 50), (60, 100)))
    assert preprocess.from_png(alpha_canvas(image)).info["bbox"] == [60, 0, 100, 150]


@pytest.mark.parametrize("name, image, says", [
    ("fully transparent", np.zeros((100, 100), np.uint8), "fully transparent"),
    ("nearly transparent", np.pad(np.full((60, 20), 20, np.uint8), 50), "fully transparent"),
    ("a speck", np.pad(np.full((2, 2), 255, np.uint8), 99), "speck"),
])
def test_canvases_with_nothing_to_recognize(name, image, says):
    with pytest.raises(preprocess.EmptyDrawing, match=says):
        preprocess.from_png(alpha_canvas(image))


def test_damaged_canvases_are_refused_clearly_or_read():
    """Single-byte damage anywhere in a real canvas: a clear PreprocessError, or (if the file is
    still a valid PNG) a drawing. Never anything else."""
    data = FIXTURES[0].read_bytes()
    rng = np.random.default_rng(7)
    outcomes = set()
    for position in rng.choice(len(data), size=150, replace=False):
        damaged = bytearray(data)
        damaged[position] ^= int(rng.integers(1, 256))
        try:
            preprocess.from_png(bytes(damaged))
            outcomes.add("read")
        except preprocess.PreprocessError as exc:
            outcomes.add(exc.code)
    assert "corrupt-image" in outcomes and outcomes <= {"read", "corrupt-image", "not-png", "image-too-large",
                                                         "empty-drawing"}


def test_the_chromium_like_encoder_of_the_benches_writes_what_chromium_writes():
    """tests/drawing.chromium_png (bench/bodies.py, bench/preprocess_speed.py) makes the same
    choices as the real canvases, so the benches measure what browsers send."""
    from tests.chromium_canvases import encoding

    image = np.zeros(784, np.float32)
    image.reshape(28, 28)[5:23, 10:17] = 1.0
    data = canvas_png(image, encoder="chromium")
    chosen, real = encoding(data), MANIFEST[FIXTURES[0].name]
    keys = ("depth", "colour_type", "interlace", "filters", "zlib_level_flag")
    assert {k: chosen[k] for k in keys} == {k: real[k] for k in keys}
    pillow = Image.open(io.BytesIO(data))
    np.testing.assert_array_equal(np.asarray(pillow.getchannel("A")),
                                  np.asarray(Image.open(io.BytesIO(canvas_png(image))).getchannel("A")))
    np.testing.assert_array_equal(preprocess.from_png(data).pixels, preprocess.from_png(canvas_png(image)).pixels)
