"""The page's canvas, for making inputs the way users' input really arrives.

What the non-digit generators (:mod:`training.nondigits`, :mod:`training.glyphs`) draw with:
the request bodies of ``/api/predict`` that carry a drawing — pen strokes
(``{"strokes", "width", "height"}``, what the page sends) or a PNG (``{"image"}``) — and the
paths and images that go into them: paths placed anywhere on the 280-px surface at any size,
resampled as a pointer samples them, a pen's random walk, ink coverage as a canvas or a photo
would hold it, and smooth random fields for blotches and lumps.
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image

CANVAS = 280                    # the page's drawing surface is about this size (CSS px)


# --- request bodies ---------------------------------------------------------------------------

def strokes_body(paths, width=CANVAS, height=CANVAS) -> dict:
    """Pen paths as the page sends them: ``{"strokes", "width", "height"}``, points to 0.01 px."""
    return {"strokes": [np.round(np.asarray(p, dtype=np.float64), 2).tolist() for p in paths],
            "width": width, "height": height}


def png_body(image: Image.Image) -> dict:
    """An image as a PNG upload: ``{"image": PNG bytes}``."""
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return {"image": buffer.getvalue()}


def ink_image(coverage: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """Ink coverage (H, W) in [0, 1] as a PNG-ready image: black on transparent (a canvas) or
    dark on white, at random."""
    if rng.random() < 0.5:
        alpha = np.round(255 * np.clip(coverage, 0, 1)).astype(np.uint8)
        rgba = np.zeros(coverage.shape + (4,), dtype=np.uint8)
        rgba[..., 3] = alpha
        return Image.fromarray(rgba, "RGBA")
    ink = float(rng.integers(0, 90))
    grey = 255 - (255 - ink) * np.clip(coverage, 0, 1)
    return Image.fromarray(np.round(grey).astype(np.uint8), "L")


# --- paths the pen takes --------------------------------------------------------------------

def place(paths: list[np.ndarray], rng: np.random.Generator, size=(60, 250)) -> list[np.ndarray]:
    """Paths scaled so their box's longer side is ``size`` px (random) and put anywhere on the canvas."""
    points = np.concatenate(paths)
    low, high = points.min(0), points.max(0)
    longer = max(float((high - low).max()), 1e-9)
    scale = rng.uniform(*size) / longer
    extent = (high - low) * scale
    origin = rng.uniform(0, np.maximum(CANVAS - extent, 0) + 1e-9)
    return [(p - low) * scale + origin for p in paths]


def resample(path: np.ndarray, step: float) -> np.ndarray:
    """Points every ``step`` units along a polyline (a pointer's samples)."""
    path = np.asarray(path, dtype=np.float64)
    if len(path) < 2:
        return path
    seg = np.hypot(*np.diff(path, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] <= step:
        return path[[0, -1]]
    t = np.append(np.arange(0.0, s[-1], step), s[-1])
    return np.stack([np.interp(t, s, path[:, 0]), np.interp(t, s, path[:, 1])], axis=1)


def random_walk(rng: np.random.Generator, n: int, turn: float) -> np.ndarray:
    """A pen wandering with momentum: unit steps, heading changed by N(0, turn) each step."""
    heading = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, turn, n))
    return np.cumsum(np.stack([np.cos(heading), np.sin(heading)], 1), axis=0)


# --- smooth random fields ---------------------------------------------------------------------

def smooth_field(rng: np.random.Generator, shape: tuple[int, int], grid: int) -> np.ndarray:
    """A smooth random field in [0, 1] over ``shape``: a coarse normal grid, bicubic up."""
    coarse = rng.standard_normal((grid, grid)).astype(np.float32)
    big = np.asarray(Image.fromarray(coarse).resize((shape[1], shape[0]), Image.Resampling.BICUBIC))
    low, high = float(big.min()), float(big.max())
    return (big - low) / max(high - low, 1e-9)
