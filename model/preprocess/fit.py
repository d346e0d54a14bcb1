"""Step 4: fit the ink into 20×20 and put its centre of mass at the centre of 28×28.

MNIST digits were size-normalized to fit a 20×20 box (aspect ratio kept, anti-aliased)
and placed in a 28×28 field with their centre of mass at the centre; we do the same to
every drawing. Images are first brought to a *working resolution* of 4–8 pixels per
28-grid pixel (:func:`to_working`), so the cost hardly depends on the canvas size; strokes
are drawn at that resolution in the first place.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from model.preprocess.limits import MAX_SIDE, SPECK_FRACTION, SPECK_MIN_MASS, SPECK_MIN_PX, EmptyDrawing
from model.preprocess.measure import Box, stroke_width

# The MNIST conventions we reproduce (measured by bench/canvas_robustness.py --measure):
GRID = 28                       # output side, pixels
BOX = 20                        # the longer side of the ink box, grid pixels
TARGET_CENTER = (14.0, 14.0)    # centre of mass, index coordinates (x, y); MNIST train mean (14.008, 13.996)
WORK_PER_GRID = 4               # working pixels per grid pixel, at least (images)
_INDEX = np.arange(4 * MAX_SIDE, dtype=np.float64)  # 0, 1, 2, ...: sliced, not rebuilt, on every call
_INDEX32 = _INDEX.astype(np.float32)
_ONES32 = np.ones(len(_INDEX), dtype=np.float32)
_ONE_INDEX32 = np.stack([_ONES32, _INDEX32])  # rows [1, 1, ...] and [0, 1, 2, ...]: moments as products
# Each pixel of the 28×28 grid (row-major) with its [1, x, y]: mass and moments in one product.
_GRID_MOMENTS = np.stack([np.ones(GRID * GRID), np.tile(_INDEX[:GRID], GRID), np.repeat(_INDEX[:GRID], GRID)],
                         axis=1).astype(np.float32)
_GRID_EDGES = np.concatenate([_INDEX32[:GRID + 1], _INDEX32[:GRID + 1]])  # grid edges, for y then x


@dataclass(frozen=True)
class Preprocessed:
    """What the network is fed and how we got it.

    ``pixels``: (784,) float32 in [0, 1], row-major 28×28, ink = 1.
    ``info``: JSON-ready record (see docs/design.md): ``source``, ``canvas``, ``bbox``,
    ``scale``, ``fitted_size``, ``shift``, ``center_of_mass``, ``stroke_width`` and, for
    images, ``polarity``.
    """

    pixels: np.ndarray
    info: dict


def to_working(ink: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, float, bool]:
    """The ink crop (uint8, tight around the ink, of a ``size`` image) at working resolution,
    as float32 in [0, 1]; working pixels per source pixel; and whether the result still
    has ink in its outermost rows and columns (a reduced crop does; an up-sampled one need
    not, after rounding). Specks too small to be a digit are refused here."""
    width, height = size
    limit = max(SPECK_MIN_PX, SPECK_FRACTION * max(width, height))
    box_h, box_w = ink.shape
    if max(box_w, box_h) < limit:
        raise EmptyDrawing(f"Nothing to recognize: the ink is a {box_w}×{box_h} pixel speck on a "
                           f"{width}×{height} image (a digit must reach {limit:.3g} pixels). Draw a digit.")
    source_per_grid = max(box_w, box_h) / BOX
    if source_per_grid >= WORK_PER_GRID:
        # Box-filter reduction by a whole factor f, to 4–8 working pixels per grid pixel (fewer
        # would let a hairline fade below the shape threshold); the crop is padded with
        # background to a multiple of f so every block is whole.
        f = int(source_per_grid // WORK_PER_GRID)
        if f > 1:
            padded = np.zeros((-(-box_h // f) * f, -(-box_w // f) * f), dtype=np.uint8)
            padded[:box_h, :box_w] = ink
            # Block sums as f + f strided additions: numpy's sum over the axes of a
            # (h/f, f, w/f, f) view is ten times slower for the small f we have.
            rows = padded[0::f].astype(np.float32)
            for i in range(1, f):
                rows += padded[i::f]
            work = rows[:, 0::f].copy()
            for j in range(1, f):
                work += rows[:, j::f]
            work *= np.float32(1 / (255 * f * f))
        else:
            work = ink.astype(np.float32) * np.float32(1 / 255)
        per_source = 1.0 / f
    else:
        # Small drawings (a 28×28 upload, a tiny canvas): up-sample so that the stroke-width
        # step has room to work; bilinear keeps edges soft, as anti-aliasing would.
        per_source = WORK_PER_GRID / source_per_grid
        scaled = (max(1, round(box_w * per_source)), max(1, round(box_h * per_source)))
        resized = Image.fromarray(np.ascontiguousarray(ink)).resize(scaled, Image.Resampling.BILINEAR)
        work = np.asarray(resized, dtype=np.float32) * np.float32(1 / 255)
        per_source = scaled[0] / box_w  # the exact factor after rounding (same on both axes to 1%)
    mass = float(work.sum()) / per_source ** 2
    if mass < SPECK_MIN_MASS * limit ** 2:
        raise EmptyDrawing(f"Nothing to recognize: there is almost no ink ({mass:.3g} pixels' worth). Draw a digit.")
    return work, per_source, source_per_grid >= WORK_PER_GRID


def place(work: np.ndarray, box: Box) -> tuple[np.ndarray, float, dict]:
    """Fit ``box`` (the ink box of ``work``) to 20 grid pixels and centre the mass at TARGET_CENTER
    (as far as the box can move without leaving the 28×28 grid).

    The map from working coordinates to the grid is g = k·x + t; each grid pixel is the
    exact area average of the working pixels under it, so mass — and therefore the centre
    of mass — moves exactly with the map, to a fraction of a grid pixel.
    """
    bw, bh = box[2] - box[0], box[3] - box[1]
    k = BOX / max(bw, bh)
    h, w = work.shape
    # Mass and first moments in two products: [1; y] · work · [1, x]ᵀ = [[m, Σx], [Σy, Σxy]].
    (mass, sum_x), (sum_y, _) = (_ONE_INDEX32[:, :h] @ work @ _ONE_INDEX32[:, :w].T).tolist()
    cx, cy = sum_x / mass + 0.5, sum_y / mass + 0.5  # continuous coordinates
    # Geometric centring first (box centre to the grid's centre, 14.0 continuous), then the shift.
    tx = GRID / 2 - k * (box[0] + box[2]) / 2
    ty = GRID / 2 - k * (box[1] + box[3]) / 2
    dx = TARGET_CENTER[0] + 0.5 - (k * cx + tx)
    dy = TARGET_CENTER[1] + 0.5 - (k * cy + ty)
    # ... but never so far that the box leaves the grid (a far-off dot, a very top-heavy 7):
    # cutting off ink is worse than a mass slightly off centre. MNIST's boxes stay inside too.
    dx = min(max(dx, -(k * box[0] + tx)), GRID - (k * box[2] + tx))
    dy = min(max(dy, -(k * box[1] + ty)), GRID - (k * box[3] + ty))
    rows, columns = _area_matrices(h, w, k, ty + dy, tx + dx)
    grid = rows @ work @ columns.T
    grid *= np.float32(k * k)  # the matrices hold lengths; area averages need k per axis
    np.clip(grid, 0.0, 1.0, out=grid)
    # What came out, measured: centre of mass (index coordinates) and stroke width.
    grid_mass, gx, gy = (grid.ravel() @ _GRID_MOMENTS).tolist()
    if not grid_mass > 0:  # cannot happen after the speck checks; never divide by it regardless
        raise EmptyDrawing("Nothing to recognize: no ink is left once the drawing is fitted. Draw a digit.")
    gx, gy = gx / grid_mass, gy / grid_mass
    placed = {
        "fitted_size": [round(float(bw * k), 3), round(float(bh * k), 3)],
        "shift": [round(float(dx), 3), round(float(dy), 3)],
        "center_of_mass": [round(gx, 3), round(gy, 3)],
        "stroke_width": round(stroke_width(grid), 3),
    }
    return grid.ravel(), k, placed


def _area_matrices(h: int, w: int, k: float, ty: float, tx: float) -> tuple[np.ndarray, np.ndarray]:
    """(28, h) and (28, w): grid pixel u covers working [(u − t)/k, (u + 1 − t)/k) on each
    axis; its entry for working pixel j is the length of that interval inside [j, j + 1).
    (Times k, the weight of j in the area average: the caller applies k once to the product.)
    Both axes in one pass."""
    # float32 throughout (good to 1e-6, as the image they multiply): half the time.
    starts = _GRID_EDGES * np.float32(1 / k)
    starts[:GRID + 1] -= np.float32(ty / k)
    starts[GRID + 1:] -= np.float32(tx / k)
    edges = np.subtract.outer(starts, _INDEX32[:max(h, w)])
    np.clip(edges, 0.0, 1.0, out=edges)  # how much of pixel j lies left of each grid edge
    lengths = edges[1:] - edges[:-1]  # row GRID spans the two axes' edges: not used
    return lengths[:GRID, :h], lengths[GRID + 1:, :w]


def json_number(value: float) -> float | int:
    """A plain int or float (6 significant digits) for the JSON record."""
    value = float(value)
    return int(value) if value.is_integer() and abs(value) < 2 ** 53 else float(f"{value:.6g}")

