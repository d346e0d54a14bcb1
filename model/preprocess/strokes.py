"""Pen strokes → MNIST-like input: the strokes are drawn again, with MNIST's own pen.

A person's pen (mouse, finger, stylus) says nothing about the digit, so the server draws
the polylines itself with a round pen of :data:`~model.preprocess.width.MNIST_STROKE_WIDTH`
grid pixels, at working resolution, straight into the box that :func:`~model.preprocess.fit.place`
fits into 20×20 and centres.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
from PIL import Image, ImageDraw

from model.preprocess.fit import BOX, Preprocessed, json_number, place
from model.preprocess.limits import (MAX_COORDINATE, MAX_POINTS, MAX_STROKES, MIN_STROKE_EXTENT, SPECK_FRACTION,
                                     BadStrokes, EmptyDrawing)
from model.preprocess.width import MNIST_STROKE_WIDTH

PEN_PX = 12                     # working pixels across the pen (strokes): 12 / 2.47 ≈ 4.9 per grid pixel
_SHARP_TURN_COS = math.cos(math.radians(25))  # round joins drawn where a stroke turns more than this


def from_strokes(strokes: Any, width: Any = None, height: Any = None) -> Preprocessed:
    """Polylines ``[[[x, y], ...], ...]`` on a surface of ``width × height`` → MNIST-like input.

    The strokes are drawn with a round pen of :data:`MNIST_STROKE_WIDTH` grid pixels,
    whatever pen the person used. A one-point stroke is a dot. Without ``width`` or
    ``height`` the surface is taken to run from 0 to the largest coordinate.
    """
    paths = _validate_strokes(strokes)
    surface = [_validate_side(width, "width"), _validate_side(height, "height")]
    points = np.concatenate(paths)
    low, high = points.min(axis=0), points.max(axis=0)
    for axis in (0, 1):  # no size given: from the origin to the farthest point
        if surface[axis] is None:
            surface[axis] = float(max(high[axis], 0.0) - min(low[axis], 0.0))
    extent = high - low
    longer = float(extent.max())
    limit = max(SPECK_FRACTION * max(surface), MIN_STROKE_EXTENT)
    if not longer >= limit:
        raise EmptyDrawing(
            f"Nothing to recognize: the strokes span only {longer:.3g} × {extent.min():.3g} units, a speck "
            f"on a {surface[0]:.4g} × {surface[1]:.4g} surface (a digit must reach {limit:.3g}). Draw a digit.")

    pen = MNIST_STROKE_WIDTH
    scale = (BOX - pen) / longer          # grid pixels per surface unit: the ink box is 20 with the pen
    k = pen / PEN_PX                      # grid pixels per working pixel
    per_longer = (BOX - pen) / k          # working pixels across the longer side of the strokes' box
    margin = PEN_PX // 2 + 2
    shape = extent / longer               # in units of the longer side (so any surface scale works)
    size = np.ceil(shape * per_longer).astype(int) + 2 * margin
    canvas = Image.new("L", (int(size[0]), int(size[1])), 0)
    draw = ImageDraw.Draw(canvas)
    radius = PEN_PX // 2
    for path in paths:
        xy = (path - low) / longer * per_longer + margin
        _draw_polyline(draw, xy, radius)
    work = np.asarray(canvas, dtype=np.float32) * np.float32(1 / 255)
    r = PEN_PX / 2
    box = (margin - r, margin - r, margin + shape[0] * per_longer + r, margin + shape[1] * per_longer + r)
    pixels, _, placed = place(work, box)
    info = {
        "source": "strokes",
        "canvas": [json_number(surface[0]), json_number(surface[1])],
        "bbox": [json_number(v) for v in (low[0], low[1], high[0], high[1])],
        "scale": json_number(scale),
        **placed,
    }
    return Preprocessed(pixels, info)


def _validate_strokes(strokes: Any) -> list[np.ndarray]:
    """The non-empty strokes as (n, 2) float64 arrays, or BadStrokes / EmptyDrawing."""
    if isinstance(strokes, np.ndarray):
        strokes = list(strokes) if strokes.ndim >= 1 else strokes
    if not isinstance(strokes, (list, tuple)):
        raise BadStrokes(f"Strokes must be a list of strokes, each a list of [x, y] points, not {type(strokes).__name__}.")
    if len(strokes) > MAX_STROKES:
        raise BadStrokes(f"There are {len(strokes)} strokes; the limit is {MAX_STROKES}.")
    total = 0
    for i, stroke in enumerate(strokes):
        if not isinstance(stroke, (list, tuple, np.ndarray)):
            raise BadStrokes(f"Stroke {i} must be a list of [x, y] points, not {type(stroke).__name__}.")
        total += len(stroke)
    if total > MAX_POINTS:
        raise BadStrokes(f"The strokes have {total:,} points; the limit is {MAX_POINTS:,}.")
    paths = []
    for i, stroke in enumerate(strokes):
        if len(stroke) == 0:
            continue  # a tap that produced no point: nothing to draw
        try:
            path = np.array(stroke)
        except (ValueError, TypeError, OverflowError, RecursionError):
            raise BadStrokes(f"Stroke {i} must be a list of [x, y] points with two numbers each.") from None
        if (path.dtype.kind not in "iuf" or path.ndim != 2 or path.shape[1] != 2
                or (not isinstance(stroke, np.ndarray) and _has_bool(stroke))):
            raise BadStrokes(f"Stroke {i} must be a list of [x, y] points with two numbers each "
                             "(no strings, booleans or nulls).")
        path = path.astype(np.float64)
        if not np.isfinite(path).all():
            raise BadStrokes(f"Stroke {i} has a coordinate that is not a finite number.")
        if np.abs(path).max() > MAX_COORDINATE:
            raise BadStrokes(f"Stroke {i} has a coordinate beyond ±{MAX_COORDINATE:g}.")
        paths.append(path)
    if not paths:
        raise EmptyDrawing("Nothing to recognize: there are no strokes. Draw a digit.")
    return paths


def _has_bool(points: Sequence) -> bool:
    """numpy quietly turns True into 1.0 when it sits beside numbers; JSON true is no coordinate."""
    return any(x.__class__ is bool or y.__class__ is bool for x, y in points)


def _validate_side(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise BadStrokes(f"The surface {name} must be a number, not {type(value).__name__}.")
    value = float(value)
    if not (math.isfinite(value) and 0 < value <= MAX_COORDINATE):
        raise BadStrokes(f"The surface {name} must be a positive finite number up to {MAX_COORDINATE:g}.")
    return value


def _draw_polyline(draw: ImageDraw.ImageDraw, xy: np.ndarray, radius: int) -> None:
    """A round-capped, round-joined polyline of width 2·radius, centred on ``xy``.

    Pillow floors coordinates and offsets even-width lines by one pixel; we round to the
    nearest pixel and compensate, so the ink is centred on the points in continuous
    coordinates. Round discs go on the ends and wherever the stroke turns sharply (dense
    canvas samples make shallow turns, whose joins need no disc).
    """
    q = np.rint(xy).astype(np.int64)
    keep = np.ones(len(q), dtype=bool)
    keep[1:] = (q[1:] != q[:-1]).any(axis=1)
    q = q[keep]
    discs = [0, len(q) - 1]
    if len(q) > 2:
        before = (q[1:-1] - q[:-2]).astype(np.float64)
        after = (q[2:] - q[1:-1]).astype(np.float64)
        len_before, len_after = np.hypot(*before.T), np.hypot(*after.T)
        cos = (before * after).sum(axis=1) / (len_before * len_after)
        # Segments shorter than half the pen overlap their neighbours enough to fill the join.
        long_enough = np.maximum(len_before, len_after) >= radius / 2
        discs.extend((np.flatnonzero((cos < _SHARP_TURN_COS) & long_enough) + 1).tolist())
    if len(q) > 1:
        draw.line((q - 1).ravel().tolist(), fill=255, width=2 * radius)
    for x, y in q[sorted(set(discs))].tolist():
        draw.ellipse((x - radius, y - radius, x + radius - 1, y + radius - 1), fill=255)
