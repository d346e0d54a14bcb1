"""The non-digit generator (training/nondigits.py) and digits drawn as strokes (training/strokes.py)."""
from __future__ import annotations

import numpy as np
import pytest

from model import preprocess
from server.api import preprocess_input
from tests.drawing import data_url
from training import fragments, glyphs, nondigits, strokes


def as_json(body: dict) -> dict:
    """A non-digit's request body as a client would post it: PNG bytes as a data URL."""
    if "image" in body:
        return {"image": data_url(body["image"])}
    if "pixels" in body:
        return {"pixels": np.asarray(body["pixels"]).tolist()}
    return body

N = 12  # per (kind, split): enough to see every procedure a few times, fast


@pytest.fixture(scope="module")
def made() -> dict:
    return {(kind, split): nondigits.samples(kind, split, N) for kind in nondigits.KINDS
            for split in nondigits.SPLITS}


@pytest.mark.parametrize("kind", nondigits.KINDS)
def test_every_kind_makes_request_bodies_and_valid_inputs(made, kind):
    for split in nondigits.SPLITS:
        for sample in made[(kind, split)]:
            body = sample.body
            assert len(set(body) & {"strokes", "image", "pixels"}) == 1
            if "strokes" in body:
                assert 1 <= len(body["strokes"]) <= preprocess.MAX_STROKES
                assert all(len(p) >= 1 and all(len(xy) == 2 for xy in p) for p in body["strokes"])
                assert sum(len(p) for p in body["strokes"]) <= preprocess.MAX_POINTS
            elif "image" in body:
                assert body["image"][:8] == b"\x89PNG\r\n\x1a\n"
            x = sample.pixels
            assert x.shape == (784,) and x.dtype == np.float32
            assert np.isfinite(x).all() and x.min() >= 0 and x.max() <= 1 and x.sum() > 0
            # what /api/predict computes from the same body, sent as JSON
            np.testing.assert_array_equal(preprocess_input(as_json(body)).pixels, x)


def test_the_page_s_input_is_most_of_it(made):
    """Strokes are what the page sends: most non-digits arrive that way."""
    sources = [next(iter(set(s.body) & {"strokes", "image", "pixels"}))
               for samples in made.values() for s in samples]
    assert sources.count("strokes") > len(sources) / 2
    assert {"image", "pixels"} <= set(sources)


def test_same_seed_same_inputs_other_seed_other_inputs():
    for kind in nondigits.KINDS:
        a = nondigits.inputs(kind, "train", 4, seed=3)
        np.testing.assert_array_equal(a, nondigits.inputs(kind, "train", 4, seed=3))
        assert not np.array_equal(a, nondigits.inputs(kind, "train", 4, seed=4))


def test_the_splits_are_disjoint(made):
    for kind in nondigits.KINDS:
        rows = [s.pixels.tobytes() for split in nondigits.SPLITS for s in made[(kind, split)]]
        assert len(set(rows)) == len(rows), kind


def test_only_the_held_out_split_uses_unseen_procedures(made):
    for kind in nondigits.KINDS:
        assert not any(s.unseen for split in ("train", "choose") for s in made[(kind, split)])
        flags = [s.unseen for s in nondigits.samples(kind, "heldout", 40)]
        assert 0 < sum(flags) < 40, kind


def test_letters_and_symbols_are_no_digits_and_held_out_ones_are_new():
    assert not set(glyphs.GLYPHS) & set(glyphs.GLYPHS_UNSEEN)
    forbidden = set("0123456789OoIilSsZzBbGgqQDJjT")
    assert not (set(glyphs.GLYPHS) | set(glyphs.GLYPHS_UNSEEN)) & forbidden


def test_a_fragment_is_never_a_straight_line_nor_a_closed_loop():
    rng = np.random.default_rng(0)
    line = [np.stack([np.linspace(0, 100, 50), np.linspace(0, 5, 50)], 1)]
    assert all(fragments.fragment(line, rng, share=(0.3, 0.6)) is None for _ in range(20))
    t = np.linspace(0, 2 * np.pi, 200)
    circle = [np.stack([np.cos(t), np.sin(t)], 1) * 50]
    assert all(fragments.fragment(circle, rng, share=(0.95, 0.99)) is None for _ in range(20))
    arc = fragments.fragment(circle, rng, share=(0.3, 0.3))
    assert arc is not None and len(arc) == 1
    length = np.hypot(*np.diff(arc[0], axis=0).T).sum()
    assert length == pytest.approx(0.3 * 2 * np.pi * 50, rel=0.02)


def test_unknown_kind_or_split_is_refused():
    with pytest.raises(ValueError, match="kind"):
        nondigits.samples("cat", "train", 1)
    with pytest.raises(ValueError, match="split"):
        nondigits.samples("noise", "test", 1)


# --- digits drawn as strokes ----------------------------------------------------------------


def test_skeleton_of_a_thick_bar_is_its_centre_line():
    bar = np.zeros((20, 40), dtype=bool)
    bar[8:13, 5:35] = True
    line = strokes.skeleton(bar)
    assert line.any() and (line.sum(axis=0) <= 1).all()
    assert set(np.flatnonzero(line.any(axis=1))) <= {9, 10, 11}


def test_trace_turns_a_line_image_into_polylines():
    image = np.zeros((10, 10), dtype=bool)
    image[2, 1:8] = True      # a horizontal line
    image[5:9, 5] = True      # a separate vertical one
    image[0, 9] = True        # a dot
    paths = strokes.trace(image)
    assert sorted(len(p) for p in paths) == [1, 4, 7]
    assert sum(len(p) for p in paths) == image.sum()


def test_mnist_digits_become_strokes_the_api_accepts():
    from training import mnist
    data = mnist.load()
    images = data.test.images[:10]
    for image in images:
        paths = strokes.digit_strokes(image)
        assert 1 <= len(paths) <= preprocess.MAX_STROKES
        assert all(p.shape[1] == 2 and (p >= 0).all() and (p <= strokes.SURFACE).all() for p in paths)
    drawn = strokes.stroke_drawn(images)
    assert drawn.shape == (10, 784) and (drawn.sum(1) > 0).all()
    again = preprocess.from_strokes([p.tolist() for p in strokes.digit_strokes(images[0])],
                                    strokes.SURFACE, strokes.SURFACE).pixels
    np.testing.assert_array_equal(drawn[0], again)
