"""Inputs that are not digits, made the way users' input really arrives.

A network that only ever saw digits names a digit for anything (the lesson's series shows
it confidently naming random noise as a digit). To train and measure an answer
that can say "that doesn't look like a digit", this module makes non-digits of several
kinds, each as a request body of ``/api/predict`` would carry it — pen strokes
(``{"strokes", "width", "height"}``, what the page sends), a PNG (``{"image"}``) or 28×28
pixels (``{"pixels"}``) — and passes it through the same public preprocessing API
(``preprocess.from_strokes`` / ``from_png`` / ``from_pixels``), so the network sees what
preprocessing makes of it. A body that preprocessing refuses (``EmptyDrawing``: "nothing to
recognize", a 422 for the API) is not a non-digit the network would ever see; another is
drawn in its place.

Kinds (:data:`KINDS`):

``noise``     random pixels: i.i.d. uniform at a random density and contrast (pixels), or a
              noisy patch on a canvas (PNG), no thinner than 1:2 (a filled bar is a 1).
``salt``      scattered dots: taps of the pen (one-point strokes).
``scribble``  random-walk scribbles with momentum (strokes).
``blob``      filled areas: filled ellipses and polygons (PNG) whose box is no thinner than
              1:2 and at least 40 % filled, or an area coloured in by back-and-forth
              hatching (strokes).
``glyph``     letters and symbols that are no digit, from stroke templates (:data:`GLYPHS`),
              randomly slanted, stretched and wobbled (strokes). Never O, I, S, Z, B, G, l,
              q, g, b or anything else a person could fairly read as a digit.
``fragment``  part of a digit: a contiguous 15–35 % of the centre line of an MNIST digit
              drawn as strokes (:mod:`training.strokes`), of the curved digits only (pieces
              of 1, 4 and 7 are lines and corners that read as a 1 or a 7), never a
              straight line (a 1) nor a closed loop (a 0).

Splits (:data:`SPLITS`): ``train`` (for training), ``choose`` (for choosing thresholds and
recipes) and ``heldout`` (only for reporting). Every (kind, split) has its own random
stream (``SeedSequence([seed, kind, split])``). Beyond new seeds, the held-out split is
built to test the general case, not the generator's own habits: half of its samples come
from procedures or templates that train and choose never use — other
letters and symbols, zigzags and knots instead of random walks, dashes, blotchy
low-frequency noise, lumpy blobs and spiral colouring-in, noisy photos — and its fragments
come from MNIST *test* digits, where train and choose cut MNIST training digits.

What the kinds draw with — request bodies, placing and resampling paths, ink images —
is in :mod:`training.canvas`; the letter and symbol templates are in :mod:`training.glyphs`,
the cutting of digits into fragments in :mod:`training.fragments`.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np
from PIL import Image, ImageDraw

from model import preprocess
from training.canvas import (CANVAS, ink_image, place, png_body, random_walk, resample,
                             smooth_field, strokes_body)
from training.fragments import FRAGMENT_DIGITS, fragment
from training.glyphs import GLYPHS, GLYPHS_UNSEEN, jitter

KINDS = ("noise", "salt", "scribble", "blob", "glyph", "fragment")
SPLITS = ("train", "choose", "heldout")
HELDOUT_UNSEEN = 0.5            # share of the held-out split made by unseen procedures


# --- what preprocessing makes of a request body ---------------------------------------------

def to_input(body: dict) -> np.ndarray:
    """The network's (784,) input for a request body, as ``/api/predict`` would compute it."""
    if "strokes" in body:
        return preprocess.from_strokes(body["strokes"], body.get("width"), body.get("height")).pixels
    if "image" in body:
        return preprocess.from_png(body["image"]).pixels
    return preprocess.from_pixels(body["pixels"]).pixels


# --- noise -------------------------------------------------------------------------------

def _noise(rng, unseen: bool, context) -> dict:
    if not unseen:
        if rng.random() < 0.6:  # pixels: uniform at a random density and contrast
            density = rng.uniform(0.15, 1.0)
            values = rng.random(784) * rng.uniform(0.4, 1.0) * (rng.random(784) < density)
            return {"pixels": values.astype(np.float32)}
        # a canvas with a noisy rectangle (no thinner than 1:2: a filled bar is a 1)
        w = int(rng.integers(40, 260))
        h = int(np.clip(w * np.exp(rng.uniform(-0.69, 0.69)), 20, 260))
        x, y = rng.integers(0, CANVAS - w + 1), rng.integers(0, CANVAS - h + 1)
        coverage = np.zeros((CANVAS, CANVAS), np.float32)
        coverage[y:y + h, x:x + w] = rng.random((h, w)) * (rng.random((h, w)) < rng.uniform(0.2, 0.9))
        return png_body(ink_image(coverage, rng))
    if rng.random() < 0.5:  # blotchy low-frequency noise, as pixels
        field = smooth_field(rng, (28, 28), int(rng.integers(4, 9)))
        values = np.clip((field - rng.uniform(0.3, 0.6)) * rng.uniform(2, 5), 0, 1)
        return {"pixels": values.astype(np.float32).ravel()}
    # Gaussian noise over a photo-like grey gradient, on white
    base = 235 - 60 * smooth_field(rng, (CANVAS, CANVAS), 3)
    grey = np.clip(base + rng.normal(0, rng.uniform(15, 60), (CANVAS, CANVAS)), 0, 255)
    return png_body(Image.fromarray(np.round(grey).astype(np.uint8), "L"))


# --- salt ----------------------------------------------------------------------------------

def _salt(rng, unseen: bool, context) -> dict:
    if not unseen:
        k = int(rng.integers(3, 41))
        box = rng.uniform(60, CANVAS, 2)
        origin = rng.uniform(0, CANVAS - box)
        dots = origin + rng.random((k, 2)) * box
        return strokes_body([d[None, :] for d in dots])
    if rng.random() < 0.5:
        if rng.random() < 0.5:  # short dashes
            k = int(rng.integers(4, 31))
            start = rng.uniform(10, CANVAS - 10, (k, 2))
            angle = rng.uniform(0, 2 * np.pi, k)
            length = rng.uniform(2, 10, k)
            end = start + length[:, None] * np.stack([np.cos(angle), np.sin(angle)], 1)
            return strokes_body([np.stack([s, e]) for s, e in zip(start, end)])
        # dots in a few clusters
        centres = rng.uniform(40, CANVAS - 40, (int(rng.integers(2, 5)), 2))
        k = int(rng.integers(8, 41))
        dots = centres[rng.integers(0, len(centres), k)] + rng.normal(0, 15, (k, 2))
        return strokes_body([d[None, :] for d in np.clip(dots, 0, CANVAS)])
    # a speckled canvas (PNG)
    coverage = np.zeros((CANVAS, CANVAS), np.float32)
    for _ in range(int(rng.integers(5, 60))):
        x, y = rng.integers(0, CANVAS - 6, 2)
        r = int(rng.integers(1, 5))
        coverage[y:y + r, x:x + r] = rng.uniform(0.5, 1.0)
    return png_body(ink_image(coverage, rng))


# --- scribble ------------------------------------------------------------------------------

def _scribble(rng, unseen: bool, context) -> dict:
    if not unseen:
        paths = [random_walk(rng, int(rng.integers(40, 160)), rng.uniform(0.2, 0.7))
                 for _ in range(int(rng.integers(1, 4)))]
        # separate strokes start near each other, as one hand scribbling
        paths = [p + rng.normal(0, 8, 2) for p in paths]
        return strokes_body([resample(p, 0.8) for p in place(paths, rng)])
    if rng.random() < 0.5:  # a zigzag (back and forth, drifting)
        k = int(rng.integers(6, 14))  # five segments at least: fewer read as Z (a 2) or N
        xs = np.where(np.arange(k) % 2 == 0, 0.0, 1.0) + rng.normal(0, 0.1, k)
        ys = np.linspace(0, rng.uniform(0.5, 1.5), k) + rng.normal(0, 0.05, k)
        path = np.stack([xs, ys], 1)
        angle = rng.uniform(0, np.pi)
        rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        return strokes_body([resample(p, 3.0) for p in place([path @ rot.T], rng)])
    # a knot: a Lissajous curve (ratios 3:2 and up; 1:1 is an ellipse = 0, 1:2 a figure 8)
    p, q = [(3, 2), (2, 3), (3, 4), (4, 3), (5, 2), (2, 5), (5, 3), (3, 5), (5, 4)][int(rng.integers(9))]
    t = np.linspace(0, 2 * np.pi, 200)
    path = np.stack([np.sin(p * t + rng.uniform(0, np.pi)), np.sin(q * t)], 1)
    return strokes_body([resample(p, 2.0) for p in place([path], rng)])


# --- blob ----------------------------------------------------------------------------------

def _blobby(mask: np.ndarray) -> bool:
    """A filled area, not a bar (a 1): its box is no thinner than 1:2 and at least 40 % filled."""
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    if not rows.size:
        return False
    h, w = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
    return min(h, w) >= 0.5 * max(h, w) and mask.sum() >= 0.4 * h * w


def _blob(rng, unseen: bool, context) -> dict:
    if not unseen:
        if rng.random() < 0.5:  # a filled ellipse or polygon (PNG)
            while True:
                canvas = Image.fromarray(np.zeros((CANVAS, CANVAS), np.float32))
                draw = ImageDraw.Draw(canvas)
                cx, cy = rng.uniform(60, 220, 2)
                rx, ry = rng.uniform(15, 110, 2)
                if rng.random() < 0.5:
                    draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=1.0)
                else:
                    k = int(rng.integers(3, 8))
                    angles = np.sort(rng.uniform(0, 2 * np.pi, k))
                    r = rng.uniform(0.5, 1.0, k)
                    draw.polygon([(cx + rx * ri * np.cos(a), cy + ry * ri * np.sin(a))
                                  for a, ri in zip(angles, r)], fill=1.0)
                mask = np.asarray(canvas)
                if _blobby(mask > 0.5):
                    return png_body(ink_image(mask, rng))
        # colouring in: hatching back and forth over an ellipse
        lines = int(rng.integers(8, 20))
        ys = np.linspace(-1, 1, lines)
        half = np.sqrt(np.clip(1 - ys ** 2, 0.05, 1)) * rng.uniform(0.8, 1.2, lines)
        xs = np.where(np.arange(lines) % 2 == 0, -half, half)
        path = np.stack([np.stack([-xs, ys], 1), np.stack([xs, ys], 1)], 1).reshape(-1, 2)
        path = path * [rng.uniform(0.6, 1.6), 1.0]
        return strokes_body([resample(p, 3.0) for p in place([path], rng)])
    if rng.random() < 0.5:  # a lumpy blob: thresholded smooth noise
        while True:
            field = smooth_field(rng, (CANVAS, CANVAS), int(rng.integers(3, 6)))
            mask = field > rng.uniform(0.45, 0.7)
            if _blobby(mask):
                return png_body(ink_image(mask.astype(np.float32), rng))
    # colouring in with a spiral
    turns = rng.uniform(4, 8)
    t = np.linspace(0, 2 * np.pi * turns, 400)
    r = t / t[-1]
    path = np.stack([r * np.cos(t) * rng.uniform(0.7, 1.3), r * np.sin(t)], 1)
    return strokes_body([resample(p, 2.0) for p in place([path], rng)])


# --- glyph: letters and symbols that are no digit ---------------------------------------------

def _glyph(rng, unseen: bool, context) -> dict:
    table = GLYPHS_UNSEEN if unseen else GLYPHS
    names = sorted(table)
    template = table[names[int(rng.integers(len(names)))]]
    return strokes_body(place(jitter(template, rng), rng, size=(60, 260)))


# --- fragment: part of a digit ----------------------------------------------------------------

def _fragment(rng, unseen: bool, context) -> dict:
    images = context["test" if unseen else "train"]
    from training.strokes import SURFACE, digit_strokes
    while True:
        paths = digit_strokes(images[int(rng.integers(len(images)))])
        piece = fragment(paths, rng)
        if piece is not None:
            return strokes_body([resample(p * (CANVAS / SURFACE), 2.0) for p in piece])


MAKERS: dict[str, Callable] = {"noise": _noise, "salt": _salt, "scribble": _scribble,
                               "blob": _blob, "glyph": _glyph, "fragment": _fragment}


# --- the public API --------------------------------------------------------------------------

def rng_for(kind: str, split: str, seed: int = 0) -> np.random.Generator:
    """The random stream of one (kind, split): disjoint across kinds, splits and seeds."""
    return np.random.default_rng(np.random.SeedSequence([seed, KINDS.index(kind), SPLITS.index(split)]))


_DIGITS_CACHE: dict = {}


def _context() -> dict:
    """MNIST digits of :data:`FRAGMENT_DIGITS` to cut fragments from (loaded once): training
    digits for train and choose, test digits for the held-out split."""
    if not _DIGITS_CACHE:
        from training import mnist
        data = mnist.load()
        for name in ("train", "test"):
            split = getattr(data, name)
            _DIGITS_CACHE[name] = split.images[np.isin(split.labels, FRAGMENT_DIGITS)]
    return _DIGITS_CACHE


class Sample(NamedTuple):
    body: dict            # the request body: {"strokes", "width", "height"}, {"image"} or {"pixels"}
    pixels: np.ndarray    # (784,) float32: what preprocessing makes of it, the network's input
    unseen: bool          # made by a procedure only the held-out split uses


def samples(kind: str, split: str, n: int, seed: int = 0) -> list[Sample]:
    """``n`` non-digits of one kind, each one preprocessing accepts (a refused body — an
    empty drawing — is replaced by the next draw)."""
    if kind not in MAKERS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    rng = rng_for(kind, split, seed)
    context = _context() if kind == "fragment" else {}
    out = []
    while len(out) < n:
        unseen = split == "heldout" and bool(rng.random() < HELDOUT_UNSEEN)
        body = MAKERS[kind](rng, unseen, context)
        try:
            pixels = to_input(body)
        except preprocess.EmptyDrawing:
            continue
        out.append(Sample(body, np.asarray(pixels, dtype=np.float32), unseen))
    return out


def inputs(kind: str, split: str, n: int, seed: int = 0) -> np.ndarray:
    """(n, 784) float32: what the network is fed for ``n`` non-digits of one kind."""
    return np.stack([s.pixels for s in samples(kind, split, n, seed)])


def dataset(split: str, per_kind: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(inputs (N, 784) float32, kind index (N,) into :data:`KINDS`) for every kind of a split."""
    xs, ks = [], []
    for kind in KINDS:
        xs.append(inputs(kind, split, per_kind, seed))
        ks.append(np.full(per_kind, KINDS.index(kind), dtype=np.int64))
    return np.concatenate(xs), np.concatenate(ks)
