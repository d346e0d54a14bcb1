"""MNIST digits as pen strokes: what a person drawing the same digit on the page would send.

The page sends polylines (``{"strokes": [[[x, y], ...], ...], "width", "height"}``) and
preprocessing draws them with one round pen of MNIST's median width
(``preprocess.from_strokes``). A stroke-drawn digit therefore looks different from an
MNIST scan: one even stroke width, round ends, no faint edges. To measure how the network
and the answer rule treat such digits, :func:`digit_strokes` turns an MNIST image into
the polylines of its centre line:

1. the 28×28 digit is up-sampled :data:`TRACE`× (bilinear) and thresholded at half its
   peak, which traces its shape;
2. Zhang–Suen thinning (:func:`skeleton`) leaves the one-pixel centre line;
3. :func:`trace` walks that pixel graph into polylines (ends and junctions split them),
   lightly smoothed, in the coordinates of a ``28·TRACE``-pixel square surface.

numpy + Pillow only; deterministic (no randomness at all).
"""
from __future__ import annotations

import numpy as np
from PIL import Image

from model import preprocess

TRACE = 4                  # the digit's shape is traced at 4× the 28-grid
SURFACE = 28 * TRACE       # the strokes' surface, width = height

# The eight neighbours (dy, dx), four straight ones first.
_STRAIGHT = ((-1, 0), (1, 0), (0, -1), (0, 1))
_DIAGONAL = ((-1, -1), (-1, 1), (1, -1), (1, 1))


def _removal_tables() -> tuple[np.ndarray, np.ndarray]:
    """Zhang–Suen's two sub-iterations as lookup tables over the 8-neighbour code
    (bit i set = neighbour P(i+2) inked, P2 = north, clockwise)."""
    tables = []
    for step in (0, 1):
        table = np.zeros(256, dtype=bool)
        for code in range(256):
            n = [(code >> i) & 1 for i in range(8)]
            count = sum(n)
            transitions = sum(n[i] == 0 and n[(i + 1) % 8] == 1 for i in range(8))
            p2, p4, p6, p8 = n[0], n[2], n[4], n[6]
            if step == 0:
                side = p2 * p4 * p6 == 0 and p4 * p6 * p8 == 0
            else:
                side = p2 * p4 * p8 == 0 and p2 * p6 * p8 == 0
            table[code] = 2 <= count <= 6 and transitions == 1 and side
        tables.append(table)
    return tables[0], tables[1]


_TABLES = _removal_tables()


def skeleton(shape: np.ndarray) -> np.ndarray:
    """Zhang–Suen thinning: the one-pixel centre line of a 2-D boolean shape."""
    a = np.pad(np.asarray(shape, dtype=bool), 1).astype(np.uint8)
    inner = a[1:-1, 1:-1]
    while True:
        changed = False
        for table in _TABLES:
            code = (a[:-2, 1:-1] | (a[:-2, 2:] << 1) | (a[1:-1, 2:] << 2) | (a[2:, 2:] << 3)
                    | (a[2:, 1:-1] << 4) | (a[2:, :-2] << 5) | (a[1:-1, :-2] << 6) | (a[:-2, :-2] << 7))
            remove = table[code] & (inner == 1)
            if remove.any():
                inner[remove] = 0
                changed = True
        if not changed:
            return inner.astype(bool)


def _graph(pixels: np.ndarray) -> dict[tuple[int, int], list[tuple[int, int]]]:
    """8-connected neighbours of every set pixel, without the redundant diagonals (a diagonal
    step is dropped when the two pixels already meet through a shared straight neighbour)."""
    p = np.pad(np.asarray(pixels, dtype=bool), 1)
    h, w = pixels.shape

    def at(dy, dx):  # is the neighbour (dy, dx) of each pixel inked?
        return p[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]

    links = [(dy, dx, at(dy, dx)) for dy, dx in _STRAIGHT]
    links += [(dy, dx, at(dy, dx) & ~at(dy, 0) & ~at(0, dx)) for dy, dx in _DIAGONAL]
    graph: dict[tuple[int, int], list[tuple[int, int]]] = {
        (int(y), int(x)): [] for y, x in np.argwhere(pixels)}
    for dy, dx, linked in links:
        for y, x in np.argwhere(linked & pixels).tolist():
            graph[(y, x)].append((y + dy, x + dx))
    for near in graph.values():
        near.sort()
    return graph


def trace(pixels: np.ndarray) -> list[np.ndarray]:
    """The polylines of a one-pixel-wide line image: each an (n, 2) array of (x, y) pixel
    centres. Paths run between ends and junctions; closed loops become closed polylines; a
    lone pixel is a one-point stroke (a dot)."""
    graph = _graph(pixels)
    seen: set[frozenset] = set()
    paths = []

    def walk(start, nxt):
        path = [start, nxt]
        seen.add(frozenset((start, nxt)))
        prev, here = start, nxt
        while len(graph[here]) == 2:
            onward = [q for q in graph[here] if q != prev and frozenset((here, q)) not in seen]
            if not onward:
                break
            prev, here = here, onward[0]
            seen.add(frozenset((prev, here)))
            path.append(here)
        return path

    for node in sorted(graph):
        if len(graph[node]) == 0:
            paths.append([node])
        elif len(graph[node]) != 2:
            for q in graph[node]:
                if frozenset((node, q)) not in seen:
                    paths.append(walk(node, q))
    for node in sorted(graph):  # what is left are loops with no end or junction
        for q in graph[node]:
            if frozenset((node, q)) not in seen:
                paths.append(walk(node, q))
    return [np.array([(x, y) for y, x in path], dtype=np.float64) for path in paths]


def smooth(path: np.ndarray) -> np.ndarray:
    """A [1, 2, 1]/4 moving average along the path, ends kept (pixel steps become a pen's curve)."""
    if len(path) < 3:
        return path
    out = path.copy()
    out[1:-1] = (path[:-2] + 2 * path[1:-1] + path[2:]) / 4
    return out


def digit_strokes(image28: np.ndarray) -> list[np.ndarray]:
    """The centre-line polylines of a 28×28 digit (784 values, ink = 1) on a
    :data:`SURFACE`-pixel square surface, longest first."""
    img = np.asarray(image28, dtype=np.float32).reshape(28, 28)
    big = np.asarray(Image.fromarray(img).resize((SURFACE, SURFACE), Image.Resampling.BILINEAR))
    shape = big >= 0.5 * float(big.max())
    rows, cols = np.flatnonzero(shape.any(1)), np.flatnonzero(shape.any(0))
    crop = shape[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]  # thinning only where the ink is
    origin = np.array([cols[0], rows[0]], dtype=np.float64) + 0.5  # and pixel centres, continuous
    paths = [smooth(p) + origin for p in trace(skeleton(crop))]
    return sorted(paths, key=lambda p: -len(p))


def stroke_drawn(images: np.ndarray) -> np.ndarray:
    """(N, 784) float32: every digit re-drawn from its centre line by ``preprocess.from_strokes``
    (the page's path). A digit whose strokes preprocessing refuses (none in MNIST) stays blank."""
    out = np.zeros((len(images), 784), dtype=np.float32)
    for i, image in enumerate(images):
        paths = digit_strokes(image)[:preprocess.MAX_STROKES]  # what /api/predict accepts
        try:
            out[i] = preprocess.from_strokes([p.tolist() for p in paths], SURFACE, SURFACE).pixels
        except preprocess.PreprocessError:
            pass
    return out
