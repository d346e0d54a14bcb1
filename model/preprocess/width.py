"""Step 3 for images: bring the strokes' width into MNIST's own range.

We measure the drawing's width (``2·area / perimeter``, as it would be once fitted) and
bring it into :data:`WIDTH_BAND`: within a pixel by blending with a one-pixel grey
dilation or erosion, beyond that by a Gaussian blur and a threshold chosen so that a
straight stroke gets exactly the new width. Thinning never erases a stroke that was
already thin. Widths inside the band are kept: the network learned that variety
(bench/canvas_robustness.py).
"""
from __future__ import annotations

import math

import numpy as np

from model.preprocess.fit import BOX
from model.preprocess.measure import Box, ink_box, pad, width_of

# Measured on MNIST's training digits (bench/canvas_robustness.py --measure), in grid pixels:
MNIST_STROKE_WIDTH = 2.47       # median 2·area/perimeter
WIDTH_BAND = (2.15, 3.45)       # its 30th and 90th percentiles: widths outside are brought to the nearer end
WIDTH_TOLERANCE = 0.05          # leave a stroke width alone if within 5% of the band
_SQUARE_REACH = 4 / math.pi * math.log(1 + math.sqrt(2))  # mean of 1/max(|cos θ|, |sin θ|) ≈ 1.12


def normalize_width(work: np.ndarray, box: Box) -> tuple[np.ndarray, Box]:
    """Thicken or thin the strokes so that, once fitted, their width is inside WIDTH_BAND.

    ``work`` is the cropped ink at working resolution and ``box`` its ink box (:func:`~model.preprocess.measure.ink_box`);
    returns the image to use (``work`` itself, or a new one with margins if the ink grew) and
    its ink box.
    Growing strokes by dr also grows the ink box by 2·dr, so dr solves
    (w + 2dr) · 20 / (L + 2dr) = goal, L the box's longer side.
    """
    longer = max(box[2] - box[0], box[3] - box[1])
    # Work on the shape, not its shading: soft edges (or a faint hairline) would otherwise
    # act like extra blur. Half the peak is where an anti-aliased edge lies.
    inked = work >= 0.5 * work.max()
    w = width_of(np.count_nonzero(inked), inked)  # stroke_width of the shape
    current = w * BOX / longer  # grid pixels, if fitted as it is
    low, high = WIDTH_BAND
    goal = min(max(current, low), high)
    if abs(current / goal - 1.0) <= WIDTH_TOLERANCE:
        return work, box
    dr = (goal * longer / BOX - w) / (2.0 * (1.0 - goal / BOX))
    if abs(dr) <= 1.0:
        # Within a pixel: blend with the grey dilation (or erosion) by one pixel, which moves
        # every anti-aliased edge by |dr| (the usual case, and ten times cheaper than below).
        grown = pad(work, 1)
        out = grown + np.float32(abs(dr) / _SQUARE_REACH) * (_one_pixel(grown, grow=dr > 0) - grown)
        return out, ink_box(out)
    new_w = w + 2.0 * dr
    shape = inked.astype(np.float32)
    sigma = max(1.0, 0.5 * abs(dr))
    margin = int(math.ceil(max(dr, 0.0) + 3.0 * sigma)) + 1
    blurred = _gaussian_blur(pad(shape, margin), sigma)
    # A straight stroke of width w blurred by σ has the profile B(x) = Φ((x + w/2)/σ) − Φ((x − w/2)/σ);
    # cutting at B(new_w / 2) gives exactly the new width, with a one-pixel anti-aliased ramp.
    h = new_w / 2.0
    a, b = (h + w / 2.0) / sigma, (h - w / 2.0) / sigma
    level = _phi(a) - _phi(b)
    slope = abs(_pdf(a) - _pdf(b)) / sigma
    # The ramp spans one pixel, but never reaches down to the background (B ≈ 0) nor up
    # to the plateau, or faint ink would appear everywhere or strokes would never be solid.
    half = min(0.5 * slope, 0.9 * level, 0.9 * (1.0 - level))
    scale = np.float32(1.0 / (2.0 * half))
    out = blurred * scale
    out += np.float32(0.5 - level / (2.0 * half))  # (blurred − level) / (2·half) + 0.5
    np.clip(out, 0.0, 1.0, out=out)
    if dr < 0:
        # Thinning by a constant erases strokes already narrower than 2|dr| (a digit drawn
        # heavy on one side and light on the other). Whatever of the drawing is now out of
        # reach of the remaining ink was erased, not trimmed: put it back as drawn, with
        # the ink that joined it to the rest.
        reach = int(math.ceil(-dr)) + 1
        drawn = pad(inked, margin)
        lost = drawn & ~_dilate(out > 0.5, reach)
        if lost.any():
            restore = drawn & _dilate(lost, reach)
            out = np.maximum(out, pad(work, margin) * restore)
    if not out.any():  # thinned away entirely: keep the original rather than guess
        return work, box
    return out, ink_box(out)


def _one_pixel(image: np.ndarray, grow: bool) -> np.ndarray:
    """Grey dilation (grow) or erosion by a 3×3 square, separably: it moves a straight edge
    by 1 px and a diagonal one by √2, on average over directions by _SQUARE_REACH."""
    pick = np.maximum if grow else np.minimum
    rows = image.copy()
    pick(rows[1:], image[:-1], out=rows[1:])
    pick(rows[:-1], image[1:], out=rows[:-1])
    out = rows.copy()
    pick(out[:, 1:], rows[:, :-1], out=out[:, 1:])
    pick(out[:, :-1], rows[:, 1:], out=out[:, :-1])
    return out


def _dilate(mask: np.ndarray, reach: int) -> np.ndarray:
    """Boolean dilation by a (2·reach + 1)² square, as shifted ORs along each axis."""
    out = mask.copy()
    for k in range(1, reach + 1):
        out[k:] |= mask[:-k]
        out[:-k] |= mask[k:]
    rows = out.copy()
    for k in range(1, reach + 1):
        out[:, k:] |= rows[:, :-k]
        out[:, :-k] |= rows[:, k:]
    return out


def _gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur (truncated at 3σ); ``image`` must already have a zero margin of
    at least 3σ, which the result keeps.

    Each axis is one np.convolve over the image's lines laid end to end: the margins keep
    lines apart (the ink of two neighbouring lines is at least 2·3σ apart, and the kernel
    reaches 3σ), and one call does in C what shifted sums did in 4·3σ numpy calls, in a
    third of the time. (A matrix product with a banded matrix is no faster: it multiplies
    the zeros too.)
    """
    radius = int(math.ceil(3.0 * sigma))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps = (taps / taps.sum()).astype(np.float32)
    h, w = image.shape
    columns = np.convolve(image.T.ravel(), taps, mode="same").reshape(w, h)  # down each column
    return np.convolve(columns.T.ravel(), taps, mode="same").reshape(h, w)  # along each row


def _phi(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def _pdf(z: float) -> float:
    return math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)

