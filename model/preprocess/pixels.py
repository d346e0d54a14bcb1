"""784 numbers already in MNIST form → checked, and used exactly as given."""
from __future__ import annotations

from typing import Any

import numpy as np

from model.preprocess.fit import GRID, Preprocessed
from model.preprocess.limits import INK_FLOOR, SPECK_FRACTION, SPECK_MIN_MASS, SPECK_MIN_PX, BadPixels, EmptyDrawing, short
from model.preprocess.measure import center_of_mass, stroke_width


def from_pixels(values: Any) -> Preprocessed:
    """784 numbers (or 28 rows of 28) already in MNIST form → checked, used as given.

    No recentering: these are meant to be MNIST digits (``/api/examples``) or the output
    of this module, and the network should see exactly them.
    """
    try:
        array = np.array(values)
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise BadPixels(f"Pixels must be 784 numbers or 28 rows of 28 numbers ({short(exc)}).") from None
    if array.dtype.kind not in "iuf":
        raise BadPixels("Pixels must be numbers (no strings, booleans, nulls or nested lists of the wrong shape).")
    if array.shape not in ((GRID * GRID,), (GRID, GRID)):
        raise BadPixels(f"Pixels must be 784 numbers or 28 rows of 28 numbers, got shape {list(array.shape)}.")
    array = array.astype(np.float64).reshape(GRID, GRID)
    if not np.isfinite(array).all():
        raise BadPixels("Pixels must be finite numbers (no NaN or infinity).")
    if array.min() < 0.0 or array.max() > 1.0:
        raise BadPixels(f"Pixels must be in [0, 1] (ink = 1); got values from {array.min():.4g} to {array.max():.4g}.")
    inked = array >= INK_FLOOR
    limit = max(SPECK_MIN_PX, SPECK_FRACTION * GRID)
    if not inked.any():
        raise EmptyDrawing("Nothing to recognize: every pixel is blank. Draw a digit.")
    rows, cols = inked.any(axis=1).nonzero()[0], inked.any(axis=0).nonzero()[0]
    fitted = [int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)]
    if max(fitted) < limit or array.sum() < SPECK_MIN_MASS * limit ** 2:
        raise EmptyDrawing(f"Nothing to recognize: the ink is a {fitted[0]}×{fitted[1]} pixel speck. Draw a digit.")
    pixels = array.astype(np.float32).ravel()
    cx, cy = center_of_mass(array)
    info = {
        "source": "pixels",
        "canvas": [GRID, GRID],
        "bbox": None,
        "scale": 1.0,
        "fitted_size": fitted,
        "shift": [0.0, 0.0],
        "center_of_mass": [round(cx, 3), round(cy, 3)],
        "stroke_width": round(stroke_width(array), 3),
    }
    return Preprocessed(pixels, info)
