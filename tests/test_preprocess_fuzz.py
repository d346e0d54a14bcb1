"""Property-based fuzzing of the three entry points: whatever arrives, the answer is either
a valid MNIST-like input or a PreprocessError subclass with a sentence — never any other
exception, never NaN, never a value outside [0, 1].

The default profile (400 examples a test) keeps the file to about 15 s; for a long run:

    PREPROCESS_FUZZ=thorough .venv/bin/pytest tests/test_preprocess_fuzz.py
"""
from __future__ import annotations

import base64
import io
import json
import os
import struct
import warnings
import zlib

import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from model import preprocess
from model.preprocess import PreprocessError

settings.register_profile("preprocess-fuzz", max_examples=400, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("preprocess-fuzz-thorough", max_examples=5000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FUZZ = settings(settings.get_profile(
    "preprocess-fuzz-thorough" if os.environ.get("PREPROCESS_FUZZ") == "thorough" else "preprocess-fuzz"))


def check(call, *args):
    """Run one entry point: a valid result, or a PreprocessError with a sentence and a code.
    Numeric warnings (overflow, invalid values) count as failures too."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            result = call(*args)
    except PreprocessError as exc:
        message = str(exc)
        assert message and message[0].isupper() and message.endswith("."), message
        assert exc.code in {"bad-base64", "not-png", "image-too-large", "corrupt-image", "bad-strokes",
                            "bad-pixels", "empty-drawing"}
        return None
    pixels = result.pixels
    assert pixels.shape == (784,) and pixels.dtype == np.float32
    assert np.isfinite(pixels).all() and pixels.min() >= 0.0 and pixels.max() <= 1.0
    json.dumps(result.info, allow_nan=False)
    return result


# --- images -------------------------------------------------------------------------------------

MODES = ["1", "L", "LA", "P", "RGB", "RGBA", "I;16"]
STYLES = ["noise", "blank", "flat", "lines", "blobs", "gradient"]


@st.composite
def images(draw) -> Image.Image:
    """A random image: size, PNG mode and content style chosen by hypothesis, pixels by a seed."""
    width = draw(st.integers(1, 96) | st.sampled_from([1, 2, 3, 28, 280]))
    height = draw(st.integers(1, 96) | st.sampled_from([1, 2, 3, 28, 280]))
    mode = draw(st.sampled_from(MODES))
    style = draw(st.sampled_from(STYLES))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    if style == "noise":
        grey = rng.integers(0, 256, (height, width))
    elif style == "blank":
        grey = np.zeros((height, width))
    elif style == "flat":
        grey = np.full((height, width), rng.integers(0, 256))
    elif style == "gradient":
        grey = np.add.outer(np.arange(height), np.arange(width)) * 255 / max(1, width + height - 2)
    else:
        canvas = Image.new("L", (width, height), int(rng.integers(0, 256)))
        pen = ImageDraw.Draw(canvas)
        for _ in range(int(rng.integers(1, 6))):
            box = sorted(rng.integers(0, max(width, height) + 1, 2)) + sorted(rng.integers(0, max(width, height) + 1, 2))
            if style == "lines":
                pen.line([(box[0], box[2]), (box[1], box[3])], fill=int(rng.integers(0, 256)),
                         width=int(rng.integers(1, 12)))
            else:
                pen.ellipse((box[0], box[2], box[1], box[3]), fill=int(rng.integers(0, 256)))
        grey = np.asarray(canvas)
    grey = np.asarray(grey, dtype=np.float64)
    if mode == "I;16":
        return Image.fromarray(np.round(grey * 257).astype(np.uint16))
    image = Image.fromarray(np.round(grey).astype(np.uint8))
    if mode == "RGBA":
        alpha = Image.fromarray(rng.permutation(np.round(grey).astype(np.uint8).ravel()).reshape(grey.shape)
                                if draw(st.booleans()) else np.round(grey).astype(np.uint8))
        image = image.convert("RGBA")
        image.putalpha(alpha)
    elif mode == "LA":
        image = Image.merge("LA", [Image.new("L", image.size, int(rng.integers(0, 256))), image])
    elif mode == "P":
        image = image.convert("P", palette=Image.Palette.ADAPTIVE, colors=int(rng.integers(1, 17)))
        if draw(st.booleans()):
            image.info["transparency"] = int(rng.integers(0, 4))
    elif mode != "L":
        image = image.convert(mode)
    return image


def encode(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    params = {"transparency": image.info["transparency"]} if "transparency" in image.info else {}
    image.save(buffer, "PNG", **params)
    return buffer.getvalue()


@FUZZ
@given(images(), st.booleans())
def test_random_images_give_a_digit_or_a_typed_error(image, as_data_url):
    png = encode(image)
    check(preprocess.from_png, "data:image/png;base64," + base64.b64encode(png).decode() if as_data_url else png)


@FUZZ
@given(st.binary(max_size=4096), st.booleans())
@example(b"", False)
@example(b"\x89PNG\r\n\x1a\n", False)
def test_random_bytes_give_a_typed_error(data, with_signature):
    check(preprocess.from_png, (b"\x89PNG\r\n\x1a\n" + data) if with_signature else data)


def _chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    chunks, at = [], 8
    while at + 8 <= len(png):
        length, kind = struct.unpack(">I4s", png[at:at + 8])
        chunks.append((kind, png[at + 8:at + 8 + length]))
        at += 12 + length
    return chunks


def _assemble(chunks: list[tuple[bytes, bytes]]) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"".join(
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data)) for kind, data in chunks)


@FUZZ
@given(images(), st.data())
def test_mutated_pngs_give_a_digit_or_a_typed_error(image, data):
    png = bytearray(encode(image))
    how = data.draw(st.sampled_from(["flip", "truncate", "insert", "rechunk", "ihdr", "inflate"]))
    if how == "flip":  # CRCs will mostly catch these
        for _ in range(data.draw(st.integers(1, 8))):
            png[data.draw(st.integers(0, len(png) - 1))] = data.draw(st.integers(0, 255))
    elif how == "truncate":
        png = png[:data.draw(st.integers(0, len(png) - 1))]
    elif how == "insert":
        at = data.draw(st.integers(0, len(png)))
        png[at:at] = data.draw(st.binary(min_size=1, max_size=64))
    elif how == "rechunk":  # damage a chunk's data but give it a correct CRC, so the decoder sees it
        chunks = _chunks(bytes(png))
        i = data.draw(st.integers(0, len(chunks) - 1))
        kind, body = chunks[i]
        body = bytearray(body)
        for _ in range(data.draw(st.integers(1, 6))):
            if body:
                body[data.draw(st.integers(0, len(body) - 1))] = data.draw(st.integers(0, 255))
        chunks[i] = (kind, bytes(body) + data.draw(st.binary(max_size=8)))
        png = bytearray(_assemble(chunks))
    elif how == "ihdr":  # a well-formed header with other sizes, depths and colour types
        chunks = _chunks(bytes(png))
        w = data.draw(st.integers(0, 2 ** 32 - 1) | st.integers(1, 300))
        h = data.draw(st.integers(0, 2 ** 32 - 1) | st.integers(1, 300))
        depth = data.draw(st.sampled_from([1, 2, 4, 8, 16, 3, 0, 255]))
        colour = data.draw(st.sampled_from([0, 2, 3, 4, 6, 1, 7]))
        interlace = data.draw(st.sampled_from([0, 1, 2]))
        chunks[0] = (b"IHDR", struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, interlace))
        png = bytearray(_assemble(chunks))
    else:  # image data that inflates to something else than the header promises
        chunks = [(k, d) for k, d in _chunks(bytes(png)) if k != b"IDAT"]
        payload = data.draw(st.binary(max_size=256)) * data.draw(st.integers(1, 2000))
        chunks.insert(len(chunks) - 1 if chunks else 0, (b"IDAT", zlib.compress(payload)))
        png = bytearray(_assemble(chunks))
    check(preprocess.from_png, bytes(png))


B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="


@FUZZ
@given(st.one_of(
    st.text(max_size=200),
    st.builds(lambda s: "data:image/png;base64," + s, st.text(alphabet=B64 + " \n-_*", max_size=200)),
    st.builds(lambda head, s: f"data:{head}," + s, st.text(max_size=30), st.text(alphabet=B64, max_size=60)),
    st.none(), st.integers(), st.floats(), st.lists(st.integers(0, 255), max_size=20),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=3),
))
def test_random_text_and_objects_give_a_typed_error(value):
    check(preprocess.from_png, value)


# --- strokes ------------------------------------------------------------------------------------

NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-1e7, 1e7),
    st.floats(0, 300),
    st.integers(-2 ** 70, 2 ** 70),
    st.integers(0, 300),
)
JSON_LIKE = st.recursive(
    st.none() | st.booleans() | NUMBERS | st.text(max_size=4),
    lambda children: st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=40,
)
POINT = st.one_of(st.tuples(NUMBERS, NUMBERS).map(list), st.tuples(st.floats(0, 280), st.floats(0, 280)).map(list))
STROKES = st.lists(st.lists(POINT, max_size=40), max_size=8)
SIDE = st.one_of(st.none(), NUMBERS, st.just(280), st.text(max_size=3), st.booleans(), st.lists(st.integers(), max_size=2))


@FUZZ
@given(st.one_of(STROKES, JSON_LIKE), SIDE, SIDE)
def test_random_strokes_give_a_digit_or_a_typed_error(strokes, width, height):
    check(preprocess.from_strokes, strokes, width, height)


@FUZZ
@given(st.lists(st.lists(st.tuples(st.floats(-5, 300), st.floats(-5, 300)).map(list), min_size=1, max_size=60),
                min_size=1, max_size=6))
def test_plausible_strokes_are_centred_and_fitted(strokes):
    result = check(preprocess.from_strokes, strokes, 280, 280)
    if result is not None:
        assert max(result.info["fitted_size"]) == 20.0 or abs(max(result.info["fitted_size"]) - 20.0) < 1e-6
        # Mass that the fitted box pushed past the grid's edge is lost, so only check digits kept whole.
        image = result.pixels.reshape(28, 28)
        if not (image[0].any() or image[-1].any() or image[:, 0].any() or image[:, -1].any()):
            cx, cy = preprocess.center_of_mass(image)
            assert abs(cx - 14.0) < 0.05 and abs(cy - 14.0) < 0.05


# --- pixels -------------------------------------------------------------------------------------

@FUZZ
@given(st.one_of(
    JSON_LIKE,
    st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=780, max_size=790),
    st.lists(st.floats(0, 1), min_size=784, max_size=784),
    st.lists(st.lists(st.floats(-0.5, 1.5), min_size=27, max_size=29), min_size=27, max_size=29),
    st.lists(st.integers(-1, 2), min_size=784, max_size=784),
))
def test_random_pixels_give_a_digit_or_a_typed_error(values):
    result = check(preprocess.from_pixels, values)
    if result is not None:
        np.testing.assert_array_equal(result.pixels, np.asarray(values, dtype=np.float32).ravel())
