"""What the benchmarks' drawers send: request bodies of each input kind.

- ``strokes``: the page's own request, ``{"strokes", "width": 280, "height": 280}`` with the
  drawing so far (a digit's pen paths, sampled as pointer events sample them);
- ``png``: a 280×280 canvas PNG data URL of an MNIST test digit, encoded as Chromium's
  ``toDataURL()`` encodes a cleared canvas (tests/drawing.chromium_png);
- ``pixels``: 784 values of an MNIST test digit, what the page posts for an example.
"""
from __future__ import annotations

import json
import math
import random

import numpy as np

CANVAS = 280              # the page's canvas, CSS pixels


# Digits as pen paths in a unit box (x right, y down): lists of strokes, each a list of
# (x, y) anchor points; arcs are written as many anchors. Good enough to cost what a real
# drawing costs (points, ink area); recognition is not the point here.
def _arc(cx, cy, rx, ry, a0, a1, n=24):
    return [(cx + rx * math.cos(a), cy + ry * math.sin(a))
            for a in np.linspace(math.radians(a0), math.radians(a1), n)]


DIGIT_PATHS = {
    0: [_arc(0.5, 0.5, 0.32, 0.45, -90, 270, 40)],
    1: [[(0.38, 0.2), (0.55, 0.05), (0.55, 0.95)]],
    2: [_arc(0.5, 0.3, 0.3, 0.25, 200, 360 + 20) + [(0.15, 0.95), (0.85, 0.95)]],
    3: [_arc(0.5, 0.28, 0.3, 0.23, 200, 450) + _arc(0.5, 0.72, 0.33, 0.23, -90, 160)],
    4: [[(0.6, 0.05), (0.12, 0.65), (0.88, 0.65)], [(0.65, 0.35), (0.65, 0.95)]],
    5: [[(0.8, 0.05), (0.25, 0.05), (0.22, 0.45)] + _arc(0.48, 0.68, 0.32, 0.27, -120, 160)],
    6: [[(0.7, 0.05)] + _arc(0.5, 0.68, 0.3, 0.27, 200, 560)],
    7: [[(0.15, 0.07), (0.85, 0.07), (0.4, 0.95)]],
    8: [_arc(0.5, 0.27, 0.25, 0.22, 90, 450) + _arc(0.5, 0.72, 0.3, 0.23, -90, 270)],
    9: [_arc(0.5, 0.3, 0.28, 0.24, 0, 360) + [(0.78, 0.3), (0.7, 0.95)]],
}


def _densify(points, spacing):
    """Points every ``spacing`` pixels along a polyline, as pointer events would sample it."""
    out = [points[0]]
    for (x0, y0), (x1, y1) in zip(points[:-1], points[1:]):
        n = max(1, int(math.hypot(x1 - x0, y1 - y0) / spacing))
        out.extend((x0 + (x1 - x0) * t / n, y0 + (y1 - y0) * t / n) for t in range(1, n + 1))
    return out


def strokes_drawing(rng: random.Random) -> dict:
    """A digit drawn on the 280×280 canvas, maybe not finished yet (the live update)."""
    digit = rng.randrange(10)
    size = rng.uniform(120, 220)
    x0, y0 = rng.uniform(10, CANVAS - size * 0.8), rng.uniform(10, CANVAS - size - 5)
    spacing = rng.uniform(2.0, 5.0)
    strokes = []
    for path in DIGIT_PATHS[digit]:
        pts = [(x0 + size * 0.8 * x + rng.gauss(0, 2), y0 + size * y + rng.gauss(0, 2)) for x, y in path]
        strokes.append([[round(x, 1), round(y, 1)] for x, y in _densify(pts, spacing)])
    total = sum(len(s) for s in strokes)
    keep = max(8, int(total * rng.uniform(0.35, 1.0)))  # the drawing so far
    partial = []
    for s in strokes:
        if keep <= 0:
            break
        partial.append(s[:keep])
        keep -= len(s)
    return {"strokes": partial, "width": CANVAS, "height": CANVAS}


def request_bodies(count: int = 40, seed: int = 0) -> dict[str, list[bytes]]:
    """JSON bodies of each kind: MNIST test digits (png, pixels) and drawn strokes."""
    from training import mnist
    from tests.drawing import canvas_png, data_url

    rng = random.Random(seed)
    test = mnist.load().test
    chosen = rng.sample(range(len(test.labels)), count)
    png, pixels = [], []
    for i in chosen:
        image = test.images[i]
        height = rng.randrange(140, 230)
        at = (rng.randrange(0, CANVAS - height), rng.randrange(0, CANVAS - height))
        data = canvas_png(image, size=CANVAS, height=height, at=at, mode="transparent", encoder="chromium")
        png.append(json.dumps({"image": data_url(data)}).encode())
        pixels.append(json.dumps({"pixels": np.round(image.astype(float), 4).tolist()}).encode())
    strokes = [json.dumps(strokes_drawing(rng), separators=(",", ":")).encode() for _ in range(count)]
    return {"strokes": strokes, "png": png, "pixels": pixels}
