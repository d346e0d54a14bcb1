"""model/png.py, the alpha-only decoder for canvas PNGs, against Pillow as the reference.

Whatever it accepts it must decode exactly as Pillow does; whatever is unusual it must
decline (``None``), so that preprocessing takes Pillow's path and behaves as before.
"""
from __future__ import annotations

import io
import json
import zlib

import numpy as np
import pytest
from PIL import Image

from model import preprocess
from model.png import canvas_alpha
from tests.chromium_canvases import OUT as CHROMIUM_CANVASES
from tests.drawing import PNG_SIGNATURE, canvas_png, filtered_rows, png, png_chunk

FIXTURES = sorted(CHROMIUM_CANVASES.glob("*.png"))
MANIFEST = json.loads((CHROMIUM_CANVASES / "manifest.json").read_text())


def pillow_alpha(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA").getchannel("A"))


def assert_decodes_as_pillow(png: bytes) -> None:
    """canvas_alpha gives Pillow's alpha channel, as the tight box of its non-zero values
    with each row's largest value."""
    alpha, expected = canvas_alpha(png), pillow_alpha(png)
    assert alpha is not None and alpha.box.dtype == np.uint8
    assert (alpha.height, alpha.width) == expected.shape
    np.testing.assert_array_equal(alpha.full(), expected)
    np.testing.assert_array_equal(alpha.row_peaks, alpha.box.max(axis=1, initial=0))
    rows, cols = np.flatnonzero(expected.any(axis=1)), np.flatnonzero(expected.any(axis=0))
    if rows.size:
        assert (alpha.x, alpha.y) == (cols[0], rows[0])
        assert alpha.box.shape == (rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1)
    else:
        assert alpha.box.size == 0


def encode(pixels: np.ndarray, filters, colour: int = 6, depth: int = 8, interlace: int = 0,
           chunks_before: list[bytes] = (), chunks_after: list[bytes] = (), split: int = 0,
           stream: bytes | None = None) -> bytes:
    """A PNG by hand: any filters per row, IDAT split into pieces of ``split`` bytes."""
    h, w = pixels.shape[:2]
    data = zlib.compress(filtered_rows(pixels, filters), 1) if stream is None else stream
    pieces = [data[i:i + split] for i in range(0, len(data), split)] if split else [data]
    return png(w, h, pieces, depth, colour, extra=chunks_before, interlace=interlace, after=chunks_after)


def rgba(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 4), dtype=np.uint8)


# --- what it accepts, it decodes exactly ---------------------------------------------------

def test_chromium_writes_what_the_fast_path_reads():
    """The committed canvases were written by real Chromium; record what its encoder chose."""
    assert len(MANIFEST["files"]) == len(FIXTURES) == 21
    for entry in MANIFEST["files"]:
        assert (entry["depth"], entry["colour_type"], entry["interlace"]) == (8, 6, 0), entry["file"]
        assert set(entry["filters"]) <= {0, 1, 2}, entry["file"]


@pytest.mark.parametrize("path", FIXTURES, ids=[p.name for p in FIXTURES])
def test_chromium_canvases_decode_exactly_as_pillow_does(path):
    assert_decodes_as_pillow(path.read_bytes())


@pytest.mark.parametrize("colour", [6, 4], ids=["rgba", "grey+alpha"])
@pytest.mark.parametrize("filters", ["none", "sub", "up", "mixed", "up-after-sub"])
@pytest.mark.parametrize("size", [(1, 1), (1, 7), (9, 1), (23, 17)])
def test_none_sub_up_in_any_mix_decode_exactly(colour, filters, size):
    h, w = size
    pixels = rgba(h, w, seed=h * 31 + w)[:, :, :4 if colour == 6 else 2]
    rows = {"none": [0] * h, "sub": [1] * h, "up": [2] * h,
            "mixed": list(np.random.default_rng(h + w).integers(0, 3, h)),
            "up-after-sub": [1] + [2] * (h - 1)}[filters]
    assert_decodes_as_pillow(encode(pixels, rows, colour=colour))


def _sparse(h: int, w: int, boxes: list[tuple[int, int, int, int]], seed: int = 0,
            colour: str = "random") -> np.ndarray:
    """RGBA with alpha only inside the given (y0, y1, x0, x1) boxes, and colours either random
    everywhere or black (a canvas drawn in black: nothing but alpha changes)."""
    pixels = rgba(h, w, seed) if colour == "random" else np.zeros((h, w, 4), np.uint8)
    alpha = np.zeros((h, w), np.uint8)
    for y0, y1, x0, x1 in boxes:
        alpha[y0:y1, x0:x1] = np.random.default_rng(seed + y0).integers(1, 256, (y1 - y0, x1 - x0))
    pixels[:, :, 3] = alpha
    return pixels


@pytest.mark.parametrize("colour", ["random", "black"])
@pytest.mark.parametrize("filters", ["up", "mixed"])
@pytest.mark.parametrize("name,boxes", [
    ("inside", [(5, 20, 6, 14)]),
    ("two apart, blank rows between", [(2, 6, 3, 5), (15, 19, 10, 17)]),
    ("an L: rows of different widths", [(4, 18, 3, 6), (15, 18, 3, 16)]),
    ("touching the top and left", [(0, 7, 0, 9)]),
    ("down to the bottom edge", [(10, 24, 4, 12)]),
    ("right edge only", [(3, 9, 19, 20)]),
    ("one pixel", [(11, 12, 7, 8)]),
    ("one pixel in the last row", [(23, 24, 0, 1)]),
    ("everything", [(0, 24, 0, 20)]),
    ("nothing", []),
])
def test_the_box_of_ink_is_found_wherever_it_is(colour, filters, name, boxes):
    pixels = _sparse(24, 20, boxes, colour=colour)
    rows = [2] * 24 if filters == "up" else list(np.random.default_rng(1).integers(0, 3, 24))
    assert_decodes_as_pillow(encode(pixels, rows))


def test_data_after_the_stream_is_ignored_as_pillow_ignores_it():
    pixels = rgba(12, 10, seed=5)
    png = encode(pixels, [2] * 12, stream=zlib.compress(filtered_rows(pixels, [2] * 12)) + b"junk")
    assert_decodes_as_pillow(png)


def test_split_idat_and_ancillary_chunks_are_fine():
    pixels = rgba(30, 20, seed=3)
    png = encode(pixels, [2] * 30, split=7,
                 chunks_before=[png_chunk(b"tEXt", b"Software\0Chromium"), png_chunk(b"pHYs", bytes(9))],
                 chunks_after=[png_chunk(b"tEXt", b"Comment\0after the image")])
    np.testing.assert_array_equal(canvas_alpha(png).full(), pixels[:, :, 3])


# --- what is unusual, it declines ------------------------------------------------------------

def _declined() -> list[tuple[str, bytes]]:
    pixels = rgba(12, 10, seed=5)
    good = encode(pixels, [2] * 12)
    raw = filtered_rows(pixels, [2] * 12)
    ihdr_end = 8 + 8 + 13 + 4
    return [
        ("average filter", encode(pixels, [3] * 12)),
        ("paeth filter", encode(pixels, [2] * 11 + [4])),
        ("filter type 5", encode(pixels, [2] * 12, stream=zlib.compress(raw[:-41] + b"\x05" + raw[-40:]))),
        ("interlaced", encode(pixels, [2] * 12, interlace=1)),
        ("rgb", encode(pixels[:, :, :3], [2] * 12, colour=2)),
        ("grey", encode(pixels[:, :, :1], [2] * 12, colour=0)),
        ("16-bit rgba", encode(np.repeat(pixels, 2, axis=1), [2] * 12, depth=16)),
        ("bad crc in IDAT", good[:-20] + bytes([good[-20] ^ 1]) + good[-19:]),
        ("bad crc in IHDR", good[:ihdr_end - 1] + bytes([good[ihdr_end - 1] ^ 1]) + good[ihdr_end:]),
        ("no IEND", good[:-12]),
        ("bytes after IEND", good + b"\0"),
        ("IDAT chunks apart", PNG_SIGNATURE + good[8:ihdr_end] + png_chunk(b"IDAT", zlib.compress(raw)[:10])
         + png_chunk(b"tEXt", b"a\0b") + png_chunk(b"IDAT", zlib.compress(raw)[10:]) + png_chunk(b"IEND", b"")),
        ("unknown critical chunk", encode(pixels, [2] * 12, chunks_before=[png_chunk(b"ABCD", b"?")])),
        ("stream too short", encode(pixels, [2] * 12, stream=zlib.compress(raw[:-1]))),
        ("stream too long", encode(pixels, [2] * 12, stream=zlib.compress(raw + bytes(10_000_000)))),
        ("bad checksum", encode(pixels, [2] * 12, stream=zlib.compress(raw)[:-4] + b"\0\0\0\0")),
        ("not zlib", encode(pixels, [2] * 12, stream=b"not a zlib stream")),
        ("no IDAT", PNG_SIGNATURE + good[8:ihdr_end] + png_chunk(b"IEND", b"")),
        ("not a png", b"GIF89a" + good[6:]),
        ("empty", b""),
    ]


DECLINED = _declined()


@pytest.mark.parametrize("name,png", DECLINED, ids=[d[0] for d in DECLINED])
def test_anything_unusual_is_left_to_pillow(name, png):
    assert canvas_alpha(png) is None


# --- preprocessing gives the same answer either way -------------------------------------------

def _both_ways(png: bytes, monkeypatch):
    """from_png with the fast path, and with it switched off: (result or error class) each."""
    def run():
        try:
            return preprocess.from_png(png)
        except preprocess.PreprocessError as exc:
            return type(exc)
    fast = run()
    with monkeypatch.context() as m:
        m.setattr(preprocess, "canvas_alpha", lambda data: None)
        slow = run()
    return fast, slow


def _assert_same(fast, slow):
    if isinstance(slow, type):
        assert fast is slow
    else:
        np.testing.assert_array_equal(fast.pixels, slow.pixels)
        assert fast.info == slow.info


@pytest.mark.parametrize("path", FIXTURES, ids=[p.name for p in FIXTURES])
def test_chromium_canvases_preprocess_the_same_with_or_without_the_fast_path(path, monkeypatch):
    _assert_same(*_both_ways(path.read_bytes(), monkeypatch))


@pytest.mark.parametrize("name,image", [
    ("faint ink", np.pad(np.full((60, 20), 90, np.uint8), 50)),
    ("grey border", np.pad(np.full((60, 20), 200, np.uint8), 50, constant_values=1)),
    ("fully transparent", np.zeros((100, 100), np.uint8)),
    ("nearly transparent", np.pad(np.full((60, 20), 20, np.uint8), 50)),
    ("opaque with transparent marks", 255 - np.pad(np.full((60, 20), 255, np.uint8), 50)),
    ("a speck", np.pad(np.full((2, 2), 255, np.uint8), 99)),
    ("ink touching the border", np.pad(np.full((150, 40), 255, np.uint8), ((0, 50), (60, 100)))),
])
def test_unusual_canvases_preprocess_the_same_with_or_without_the_fast_path(name, image, monkeypatch):
    pixels = np.zeros(image.shape + (4,), np.uint8)
    pixels[:, :, 3] = image
    _assert_same(*_both_ways(encode(pixels, [2] * image.shape[0]), monkeypatch))


def test_damaged_canvases_preprocess_the_same_with_or_without_the_fast_path(monkeypatch):
    """Single-byte damage anywhere in a real canvas: the fast path either declines or, if the
    file is still valid, agrees with Pillow's."""
    png = FIXTURES[0].read_bytes()
    rng = np.random.default_rng(7)
    for position in rng.choice(len(png), size=150, replace=False):
        damaged = bytearray(png)
        damaged[position] ^= int(rng.integers(1, 256))
        _assert_same(*_both_ways(bytes(damaged), monkeypatch))


def test_a_pillow_encoded_canvas_still_goes_the_general_way():
    """Pillow's encoder picks filters per row, Paeth among them: the general path decodes it."""
    image = np.zeros(784, np.float32)
    image.reshape(28, 28)[4:24, 12:16] = 1.0
    png = canvas_png(image)
    assert canvas_alpha(png) is None
    assert preprocess.from_png(png).info["polarity"] == "alpha"


def test_the_chromium_like_encoder_of_the_benches_writes_what_chromium_writes():
    """tests/drawing.chromium_png (bench/load.py, bench/preprocess_speed.py) makes the same
    choices as the real canvases, so the benches measure the path browsers take."""
    from tests.chromium_canvases import encoding

    image = np.zeros(784, np.float32)
    image.reshape(28, 28)[5:23, 10:17] = 1.0
    png = canvas_png(image, encoder="chromium")
    chosen = encoding(png)
    real = MANIFEST["files"][0]
    assert {k: chosen[k] for k in ("depth", "colour_type", "interlace", "filters", "zlib_level_flag")} == \
        {k: real[k] for k in ("depth", "colour_type", "interlace", "filters", "zlib_level_flag")}
    assert_decodes_as_pillow(png)
    np.testing.assert_array_equal(preprocess.from_png(png).pixels, preprocess.from_png(canvas_png(image)).pixels)
