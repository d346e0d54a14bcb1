"""Turn a drawing into what the network was trained on: an MNIST-like 28×28 image.

MNIST digits were size-normalized to fit a 20×20 box (aspect ratio kept, anti-aliased)
and placed in a 28×28 field with their centre of mass at the centre. A person's drawing
can be anywhere on the canvas, any size, with any pen; we undo all of that the same way:

1. **Ink.** A PNG becomes an ink image (0 = background, 1 = full ink) whatever its
   colours: the alpha channel if the background is transparent, otherwise the contrast
   with the background colour (the median of the image's border), divided by the ink's
   own contrast. Strokes are rendered with a round pen whose width is chosen in the
   28-grid (:data:`MNIST_STROKE_WIDTH`, MNIST's median).
2. **Crop** to the ink and bring it to a *working resolution* of 4–8 pixels per 28-grid
   pixel (Pillow's box ``reduce`` for big drawings, bilinear for small ones), so the cost
   hardly depends on the canvas size.
3. **Stroke width** (images). We measure the drawing's width (``2·area / perimeter``, as
   it would be once fitted) and bring it into :data:`WIDTH_BAND`, MNIST's own common
   range: within a pixel by blending with a one-pixel grey dilation or erosion, beyond
   that by a Gaussian blur and a threshold chosen so a straight stroke gets exactly the
   new width. Thinning never erases a stroke that was already thin. Widths inside the
   band are kept: the network learned that variety (bench/canvas_robustness.py).
4. **Fit and centre.** The longer side of the ink box becomes 20 grid pixels; the image is
   area-averaged onto the 28×28 grid with a sub-pixel offset that puts the centre of mass
   at :data:`TARGET_CENTER` — measured on MNIST's training set, (14.0, 14.0) in index
   coordinates, not the geometric 13.5 — unless that would push the box off the grid.

Pixel conventions. *Index coordinates*: pixel (row r, column c) is the point (x=c, y=r);
that is what ``center_of_mass`` and :data:`TARGET_CENTER` use. *Continuous coordinates*
(internal, and ``bbox`` of images): pixel c covers [c, c + 1), so its centre is c + 0.5.

Every failure is a :class:`PreprocessError` subclass whose message says what to fix;
nothing else escapes (tests/test_preprocess_fuzz.py holds us to it). numpy + Pillow only.
"""
from __future__ import annotations

import binascii
import functools
import io
import math
import struct
import zlib
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pybase64
from PIL import Image, ImageDraw

from model.png import Alpha, canvas_alpha

# --- the MNIST conventions we reproduce (measured by bench/canvas_robustness.py --measure) ---
GRID = 28                       # output side, pixels
BOX = 20                        # the longer side of the ink box, grid pixels
TARGET_CENTER = (14.0, 14.0)    # centre of mass, index coordinates (x, y); MNIST train mean (14.008, 13.996)
MNIST_STROKE_WIDTH = 2.47       # median 2·area/perimeter of MNIST training digits, grid pixels
WIDTH_BAND = (2.15, 3.45)       # its 30th and 90th percentiles: widths outside are brought to the nearer end

# --- limits on untrusted input ---
MAX_SIDE = 2048                 # pixels, either side of a PNG
MAX_PIXELS = MAX_SIDE * MAX_SIDE
MAX_PNG_BYTES = 8 * 1024 * 1024
DATA_URL_PREFIX = "data:image/png;base64,"
MAX_DATA_URL_CHARS = len(DATA_URL_PREFIX) + 4 * ((MAX_PNG_BYTES + 2) // 3)
MAX_STROKES = 100
MAX_POINTS = 10_000             # all strokes together
MAX_COORDINATE = 1e6            # |x|, |y|, width and height

# --- what counts as a drawing ---
MIN_CONTRAST = 0.1              # ink must differ from the background by 10% of full scale
INK_FLOOR = 0.1                 # ink below 10% of the ink's contrast is background noise
SPECK_FRACTION = 0.02           # the ink box's longer side must reach 2% of the surface's longer side ...
SPECK_MIN_PX = 3.0              # ... and 3 source pixels (images and pixels)
SPECK_MIN_MASS = 0.5            # total ink, in units of (speck limit)², e.g. 15.7 px² on a 280² canvas
MIN_STROKE_EXTENT = 1e-6        # surface units: below this, strokes are one point whatever the surface

# --- how we work ---
WORK_PER_GRID = 4               # working pixels per grid pixel, at least (images)
PEN_PX = 12                     # working pixels across the pen (strokes): 12 / 2.47 ≈ 4.9 per grid pixel
WIDTH_TOLERANCE = 0.05          # leave a stroke width alone if within 5% of the band
_SQUARE_REACH = 4 / math.pi * math.log(1 + math.sqrt(2))  # mean of 1/max(|cos θ|, |sin θ|) ≈ 1.12
_SHARP_TURN_COS = math.cos(math.radians(25))  # round joins drawn where a stroke turns more than this
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_INDEX = np.arange(4 * MAX_SIDE, dtype=np.float64)  # 0, 1, 2, ...: sliced, not rebuilt, on every call
_INDEX32 = _INDEX.astype(np.float32)
_ONES32 = np.ones(len(_INDEX), dtype=np.float32)
_ONE_INDEX32 = np.stack([_ONES32, _INDEX32])  # rows [1, 1, ...] and [0, 1, 2, ...]: moments as products
# Each pixel of the 28×28 grid (row-major) with its [1, x, y]: mass and moments in one product.
_GRID_MOMENTS = np.stack([np.ones(GRID * GRID), np.tile(_INDEX[:GRID], GRID), np.repeat(_INDEX[:GRID], GRID)],
                         axis=1).astype(np.float32)
_GRID_EDGES = np.concatenate([_INDEX32[:GRID + 1], _INDEX32[:GRID + 1]])  # grid edges, for y then x


# --- errors -----------------------------------------------------------------------------

class PreprocessError(ValueError):
    """The input cannot be turned into a digit; ``str(exc)`` says what to fix."""

    code = "unprocessable"


class BadBase64(PreprocessError):
    code = "bad-base64"


class NotPng(PreprocessError):
    code = "not-png"


class ImageTooLarge(PreprocessError):
    code = "image-too-large"


class CorruptImage(PreprocessError):
    code = "corrupt-image"


class BadStrokes(PreprocessError):
    code = "bad-strokes"


class BadPixels(PreprocessError):
    code = "bad-pixels"


class EmptyDrawing(PreprocessError):
    code = "empty-drawing"


Box = tuple[float, float, float, float]  # (x0, y0, x1, y1)


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


# --- measurements shared by every path (and by the tests and benches) -------------------

def center_of_mass(image: np.ndarray) -> tuple[float, float]:
    """Centre of mass ``(x, y)`` of a 2-D ink image in index coordinates (NaN if no ink)."""
    image = np.asarray(image)
    columns = image.sum(axis=0, dtype=np.float64)
    mass = columns.sum()
    if not mass > 0:
        return (math.nan, math.nan)
    x = float(columns @ np.arange(image.shape[1]) / mass)
    y = float(image.sum(axis=1, dtype=np.float64) @ np.arange(image.shape[0]) / mass)
    return (x, y)


def stroke_width(image: np.ndarray) -> float:
    """Mean stroke width in pixels of a 2-D ink image: 2·area / perimeter.

    A stroke of width w and length L ≫ w has area wL and perimeter ≈ 2L. The area is the
    ink mass (so a faint hairline counts as thin); the perimeter is counted on the image
    thresholded at 30% of its peak, as horizontal plus vertical edge crossings times π/4
    (the mean of |cos θ| + |sin θ| over directions is 4/π). Works from sub-pixel widths
    up, and on MNIST gives the same figure at 28×28 as on the digits drawn 8× larger.
    """
    image = np.asarray(image)
    peak = float(image.max()) if image.size else 0.0
    if not peak > 0:
        return 0.0
    return _width(float(image.sum(dtype=np.float64)), image > 0.3 * peak)


def _width(area: float, inked: np.ndarray) -> float:
    """2·area / perimeter, the perimeter being ``inked``'s edge crossings × π/4."""
    return 2.0 * area / (math.pi / 4.0 * _crossings(inked))


def _crossings(inked: np.ndarray) -> int:
    """Horizontal plus vertical edge crossings of a 2-D boolean image, its border included."""
    padded = _pad(inked, 1)
    return int(np.count_nonzero(padded[1:] != padded[:-1]) + np.count_nonzero(padded[:, 1:] != padded[:, :-1]))


# --- entry points ------------------------------------------------------------------------

def from_png(data: bytes | str) -> Preprocessed:
    """A PNG (bytes, or a ``data:image/png;base64,...`` URL) → MNIST-like input.

    Accepts any PNG colour type and bit depth up to :data:`MAX_SIDE` pixels a side. The
    background is read from the image, so black ink on transparent, dark on light and
    light on dark all work.
    """
    png = _png_bytes(data)
    size = _check_header(png)
    # Browsers' canvases first: ink on a cleared canvas is all in the alpha channel, which
    # model/png.py decodes without Pillow. Anything else goes the general way.
    alpha = canvas_alpha(png)
    cropped = None if alpha is None else _canvas_ink(alpha)
    if cropped is not None:
        ink, origin, polarity = *cropped, "alpha"
    else:
        channel, background, sign, polarity = _ink_channel(_decode_png(png, size))
        ink, origin = _ink_crop(channel, background, sign)
    return _from_ink(ink, origin, size, polarity)


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
    pixels, _, placed = _place(work, box)
    info = {
        "source": "strokes",
        "canvas": [_json_number(surface[0]), _json_number(surface[1])],
        "bbox": [_json_number(v) for v in (low[0], low[1], high[0], high[1])],
        "scale": _json_number(scale),
        **placed,
    }
    return Preprocessed(pixels, info)


def from_pixels(values: Any) -> Preprocessed:
    """784 numbers (or 28 rows of 28) already in MNIST form → checked, used as given.

    No recentering: these are meant to be MNIST digits (``/api/examples``) or the output
    of this module, and the network should see exactly them.
    """
    try:
        array = np.array(values)
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise BadPixels(f"Pixels must be 784 numbers or 28 rows of 28 numbers ({_short(exc)}).") from None
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


# --- PNG: bytes, header, decode ------------------------------------------------------------

def _png_bytes(data: Any) -> bytes:
    """Raw PNG bytes from bytes or a strict ``data:image/png;base64,`` URL."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        png = bytes(data)
        if len(png) > MAX_PNG_BYTES:
            raise ImageTooLarge(f"The PNG is {len(png):,} bytes; the limit is {MAX_PNG_BYTES:,}.")
        return png
    if not isinstance(data, str):
        raise BadBase64(f"The image must be a data:image/png;base64 URL string, not {type(data).__name__}.")
    if len(data) > MAX_DATA_URL_CHARS:
        raise ImageTooLarge(f"The image data URL is {len(data):,} characters; the limit is {MAX_DATA_URL_CHARS:,}.")
    head, comma, payload = data.partition(",")
    if not comma or not head[:5].lower() == "data:":
        raise BadBase64("The image must be a data URL starting with data:image/png;base64, .")
    media, *params = head[5:].split(";")
    if media.strip().lower() != "image/png":
        raise NotPng(f"The data URL holds {media.strip() or 'an unnamed type'!r}; send a PNG (data:image/png;base64,...).")
    if [p.strip().lower() for p in params] != ["base64"]:
        raise BadBase64("The data URL must be exactly data:image/png;base64, followed by the base64 PNG.")
    try:
        # pybase64 (SIMD): 1 µs for a canvas where binascii, a byte at a time, takes 28. It
        # accepts what binascii's strict mode accepts, less padding after a whole group of
        # four, which RFC 4648 forbids too (a test holds it to that).
        return pybase64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise BadBase64("The image's base64 is invalid (only A–Z a–z 0–9 + / and = padding, no spaces).") from None


def _sniff(data: bytes) -> str:
    """A name for what non-PNG bytes look like, for the error message."""
    head = data[:512].lstrip()
    if data[:3] == b"\xff\xd8\xff":
        return "a JPEG"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "a GIF"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "a WebP image"
    if data[:2] == b"BM":
        return "a BMP"
    if head[:5].lower() in (b"<svg ", b"<?xml") or b"<svg" in head.lower():
        return "SVG text"
    if not data:
        return "empty"
    return "not a PNG"


def _check_header(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, refused if too large *before* decoding."""
    if png[:8] != _PNG_SIGNATURE:
        what = _sniff(png)
        raise NotPng(f"The image is {what}; only PNG is accepted." if what != "not a PNG"
                     else "The image is not a PNG (its first bytes are not the PNG signature).")
    if len(png) < 33:
        raise CorruptImage("The PNG is truncated: it ends inside its header.")
    length, kind, width, height = struct.unpack(">I4sII", png[8:24])
    if kind != b"IHDR" or length != 13:
        raise CorruptImage("The PNG is damaged: it does not start with an image header (IHDR).")
    if width == 0 or height == 0:
        raise CorruptImage(f"The PNG declares an empty {width}×{height} image.")
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise ImageTooLarge(f"The PNG declares {width}×{height} pixels; the limit is {MAX_SIDE}×{MAX_SIDE}.")
    return width, height


# Everything Pillow may raise on hostile bytes. DecompressionBombError is an Exception subclass,
# not an OSError, so it is listed and handled first.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, TypeError, IndexError, KeyError,
                  struct.error, EOFError, zlib.error, OverflowError)


def _decode_png(png: bytes, size: tuple[int, int]) -> Image.Image:
    """Pillow's decode of any PNG whose header ``_check_header`` accepted (``size``)."""
    width, height = size
    # _check_header already refused more than MAX_PIXELS, far below Pillow's own bomb
    # threshold, so Pillow's warning cannot fire; its error is still caught as a last fence.
    # (No warnings.catch_warnings here: it rewrites process-wide state, unsafe in threads.)
    try:
        image = Image.open(io.BytesIO(png), formats=["PNG"])
        if image.size != (width, height):
            raise CorruptImage("The PNG's size does not match its header.")
        image.load()
    except Image.DecompressionBombError:
        raise ImageTooLarge(f"The PNG's {width}×{height} pixels are too many to decode safely.") from None
    except PreprocessError:
        raise
    except _DECODE_ERRORS as exc:
        raise CorruptImage(f"The PNG is truncated or damaged and cannot be decoded ({_short(exc)}).") from None
    return image


# --- PNG: which pixels are ink -------------------------------------------------------------

def _fully_transparent() -> EmptyDrawing:
    return EmptyDrawing("Nothing to recognize: the image is fully transparent. Draw a digit.")


def _alpha_background(alpha: np.ndarray) -> float | None:
    """The background level if the alpha channel carries the drawing (it varies, and the
    border is transparent); ``None`` if the drawing must be read from the colours instead.
    A fully transparent image is an empty drawing."""
    low, high = int(alpha.min()), int(alpha.max())
    if high < MIN_CONTRAST * 255:
        raise _fully_transparent()
    if high - low < MIN_CONTRAST * 255:
        return None
    border = _border_median(alpha)
    return border if border < 128 else None


def _ink_channel(image: Image.Image) -> tuple[np.ndarray, float, int, str]:
    """The 8-bit channel (a 2-D uint8 array) that carries the drawing, its background level,
    the sign of ink (+1: ink is higher than the background) and the polarity's name.

    Alpha carries the drawing when it varies and the border is transparent; otherwise
    luminance does, with the background taken as the median of the border and the ink as
    whichever side of it (darker or lighter) holds more contrast.
    """
    try:
        luminance, alpha = _channels(image)
        if alpha is not None:
            background = _alpha_background(alpha)
            if background is not None:
                return alpha, background, +1, "alpha"
            if int(alpha.max()) - int(alpha.min()) >= MIN_CONTRAST * 255:
                # An opaque canvas with transparent marks (ink erased out of it): the marks are
                # the drawing, so show them against the colour that contrasts most with the canvas.
                lum = luminance().astype(np.float32)
                behind = 0.0 if _border_median(luminance()) >= 128 else 255.0
                weight = alpha.astype(np.float32) / 255
                flat = lum * weight + behind * (1 - weight)
                lum = np.clip(flat + 0.5, 0, 255).astype(np.uint8)
            else:
                lum = luminance()
        else:
            lum = luminance()
    except PreprocessError:
        raise
    except _DECODE_ERRORS as exc:
        raise CorruptImage(f"The PNG's pixels cannot be converted ({_short(exc)}).") from None
    background = _border_median(lum)
    histogram = np.bincount(lum.ravel(), minlength=256).astype(np.float64)
    levels = np.arange(256)
    contrast = np.abs(levels - background)
    strong = contrast >= MIN_CONTRAST * 255
    dark = (histogram * contrast * (strong & (levels < background))).sum()
    light = (histogram * contrast * (strong & (levels > background))).sum()
    if dark == 0 and light == 0:
        raise EmptyDrawing("Nothing to recognize: the image is a single flat colour. Draw a digit.")
    if dark >= light:
        return lum, background, -1, "dark-on-light"
    return lum, background, +1, "light-on-dark"


def _channels(image: Image.Image):
    """(luminance, alpha) as 2-D uint8 arrays: a function giving the luminance (only
    computed if needed), and the alpha channel if the PNG has transparency."""
    mode = image.mode
    if mode.startswith("I") or mode == "F":  # 16-bit grey
        values = np.asarray(image).astype(np.float64)
        alpha = None
        transparent = image.info.get("transparency")
        if isinstance(transparent, int):
            alpha = np.where(values == transparent, 0, 255).astype(np.uint8)
        scale = 255.0 / 65535.0 if values.max() > 255 or image.info.get("bits", 16) > 8 else 1.0
        grey = np.clip(values * scale + 0.5, 0, 255).astype(np.uint8)
        return (lambda: grey), alpha
    if mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image if mode == "RGBA" else image.convert("RGBA")
        return (lambda: np.asarray(rgba.convert("L"))), np.asarray(rgba.getchannel("A"))
    return (lambda: np.asarray(image if mode == "L" else image.convert("L"))), None


def _border_median(channel: np.ndarray) -> float:
    """Median of the outermost ring of pixels: what the drawing is drawn on."""
    a = channel
    ring = np.concatenate([a[0, :], a[-1, :], a[1:-1, 0], a[1:-1, -1]])
    # Counting beats sorting for bytes: the median is the mean of the two middle ranks.
    cumulative = np.cumsum(np.bincount(ring, minlength=256))
    n = int(cumulative[-1])
    lower, upper = np.searchsorted(cumulative, [(n - 1) // 2 + 1, n // 2 + 1])
    return (float(lower) + float(upper)) / 2


def _bbox(a: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1), exclusive, of the non-zero pixels of a 2-D array; None if there are none."""
    rows = a.any(axis=1).nonzero()[0]
    if not rows.size:
        return None
    cols = a[rows[0]:rows[-1] + 1].any(axis=0).nonzero()[0]
    return (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)


def _ink_crop(channel: np.ndarray, background: float, sign: int) -> tuple[np.ndarray, tuple[int, int]]:
    """The ink (0 = background, 255 = full ink) cropped tight to where it stands out, and the
    crop's top-left corner.

    Ink is the contrast with the background divided by the ink's own full contrast: for
    alpha, the most opaque pixel; for luminance, a robust maximum (the 98th percentile
    among inked pixels, so a few stray extreme pixels in a scan do not make the drawing
    look faint). A pixel is ink only if it differs from the background by MIN_CONTRAST of
    full scale and INK_FLOOR of the ink's contrast.
    """
    threshold = MIN_CONTRAST * 255
    contrast = sign * (np.arange(256, dtype=np.float64) - background)
    usual = sign > 0 and background < 1  # the usual transparent canvas: any alpha at all marks the region
    box = _bbox(channel if usual else np.take(contrast >= threshold, channel))
    if box is None:
        raise EmptyDrawing("Nothing to recognize: nothing on the image stands out from the background. Draw a digit.")
    crop = channel[box[1]:box[3], box[0]:box[2]]
    if usual:
        full = float(crop.max()) - background
    else:
        counts = np.bincount(crop.ravel(), minlength=256) * (contrast >= threshold)
        order = np.argsort(contrast)
        cumulative = np.cumsum(counts[order])
        full = float(contrast[order][np.searchsorted(cumulative, 0.98 * cumulative[-1])])
    ink = np.take(_ink_table(background, sign, full)[0], crop)
    local = _bbox(ink)
    if local is None:
        raise EmptyDrawing("Nothing to recognize: the image is blank. Draw a digit.")
    return ink[local[1]:local[3], local[0]:local[2]], (box[0] + local[0], box[1] + local[1])


@functools.lru_cache(maxsize=64)
def _ink_table(background: float, sign: int, full: float) -> tuple[np.ndarray, int]:
    """Channel level → ink (uint8): contrast with the background over the ink's full contrast,
    0 where that is below MIN_CONTRAST of full scale or INK_FLOOR of the ink's contrast; and,
    for ink above the background (sign +1), the cut: the lowest level that is ink."""
    contrast = sign * (np.arange(256, dtype=np.float64) - background)
    inked = contrast >= max(MIN_CONTRAST * 255, INK_FLOOR * full)
    table = np.where(inked, np.round(np.clip(contrast / full, 0.0, 1.0) * 255), 0).astype(np.uint8)
    table.flags.writeable = False  # shared between calls and threads
    return table, int(np.argmax(inked))


def _canvas_ink(alpha: Alpha) -> tuple[np.ndarray, tuple[int, int]] | None:
    """:func:`_ink_crop` for the usual canvas — ink in the alpha channel, a transparent
    border — working inside the box of non-zero alpha; ``None`` if the canvas is not like
    that (its border is not clear), and the general way decides.

    The same ink, the same crop: a level is ink from ``cut`` up, so the tight box is where
    the row and column maxima reach ``cut``, found without making the ink image first.
    """
    if alpha.touches_border():
        return None  # the border's median decides what the background is: the general way
    box = alpha.box
    if box.size == 0:
        raise _fully_transparent()
    row_peaks = alpha.row_peaks
    high = int(row_peaks.max())
    if high < MIN_CONTRAST * 255:
        raise _fully_transparent()
    table, cut = _ink_table(0.0, +1, float(high))  # the table is 0 below the cut, positive from it
    rows = (row_peaks >= cut).nonzero()[0]
    band = box[rows[0]:rows[-1] + 1]
    cols = (band.max(axis=0) >= cut).nonzero()[0]
    crop = band[:, cols[0]:cols[-1] + 1]
    origin = (alpha.x + int(cols[0]), alpha.y + int(rows[0]))
    # (For opaque ink the table keeps every level from the cut as it is; a lookup is still
    # twice as fast as np.where(crop >= cut, crop, 0).)
    return np.take(table, crop), origin


# --- the shared core: crop, working resolution, stroke width, fit, centre -------------------

def _from_ink(ink: np.ndarray, origin: tuple[int, int], size: tuple[int, int], polarity: str) -> Preprocessed:
    """From the ink (a uint8 crop, tight around the ink, at ``origin`` of a ``size`` image)
    to the network's input."""
    width, height = size
    limit = max(SPECK_MIN_PX, SPECK_FRACTION * max(width, height))
    box_h, box_w = ink.shape
    x0, y0 = origin
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
    # The reduced (or unchanged) crop keeps ink in its outermost rows and columns; an
    # up-sampled one need not, after rounding.
    work, box = _normalize_width(work, _ink_box(work, tight=source_per_grid >= WORK_PER_GRID))
    pixels, k, placed = _place(work, box)
    info = {
        "source": "image",
        "canvas": [width, height],
        "bbox": [x0, y0, x0 + box_w, y0 + box_h],
        "scale": _json_number(k * per_source),
        **placed,
        "polarity": polarity,
    }
    return Preprocessed(pixels, info)


def _normalize_width(work: np.ndarray, box: Box) -> tuple[np.ndarray, Box]:
    """Thicken or thin the strokes so that, once fitted, their width is inside WIDTH_BAND.

    ``work`` is the cropped ink at working resolution and ``box`` its ink box (:func:`_ink_box`);
    returns the image to use (``work`` itself, or a new one with margins if the ink grew) and
    its ink box.
    Growing strokes by dr also grows the ink box by 2·dr, so dr solves
    (w + 2dr) · 20 / (L + 2dr) = goal, L the box's longer side.
    """
    longer = max(box[2] - box[0], box[3] - box[1])
    # Work on the shape, not its shading: soft edges (or a faint hairline) would otherwise
    # act like extra blur. Half the peak is where an anti-aliased edge lies.
    inked = work >= 0.5 * work.max()
    w = _width(np.count_nonzero(inked), inked)  # stroke_width of the shape
    current = w * BOX / longer  # grid pixels, if fitted as it is
    low, high = WIDTH_BAND
    goal = min(max(current, low), high)
    if abs(current / goal - 1.0) <= WIDTH_TOLERANCE:
        return work, box
    dr = (goal * longer / BOX - w) / (2.0 * (1.0 - goal / BOX))
    if abs(dr) <= 1.0:
        # Within a pixel: blend with the grey dilation (or erosion) by one pixel, which moves
        # every anti-aliased edge by |dr| (the usual case, and ten times cheaper than below).
        grown = _pad(work, 1)
        out = grown + np.float32(abs(dr) / _SQUARE_REACH) * (_one_pixel(grown, grow=dr > 0) - grown)
        return out, _ink_box(out)
    new_w = w + 2.0 * dr
    shape = inked.astype(np.float32)
    sigma = max(1.0, 0.5 * abs(dr))
    margin = int(math.ceil(max(dr, 0.0) + 3.0 * sigma)) + 1
    blurred = _gaussian_blur(_pad(shape, margin), sigma)
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
        drawn = _pad(inked, margin)
        lost = drawn & ~_dilate(out > 0.5, reach)
        if lost.any():
            restore = drawn & _dilate(lost, reach)
            out = np.maximum(out, _pad(work, margin) * restore)
    if not out.any():  # thinned away entirely: keep the original rather than guess
        return work, box
    return out, _ink_box(out)


def _pad(image: np.ndarray, margin: int) -> np.ndarray:
    """``image`` with ``margin`` pixels of 0 (False) around it (np.pad is ten times slower)."""
    out = np.zeros((image.shape[0] + 2 * margin, image.shape[1] + 2 * margin), dtype=image.dtype)
    out[margin:margin + image.shape[0], margin:margin + image.shape[1]] = image
    return out


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


def _ink_box(work: np.ndarray, tight: bool = False) -> Box:
    """The ink's box in continuous coordinates, to a fraction of a pixel.

    The outermost inked row or column is only partly covered; its peak coverage c says
    how far the edge reaches into it (c = 1: the whole pixel, as for MNIST's whole-pixel
    boxes). Never narrower than the outermost pixels' centres. ``tight``: the caller knows
    the first and last rows and columns hold ink, so only they are read.
    """
    if tight:
        rows, cols = (0, work.shape[0] - 1), (0, work.shape[1] - 1)
        left, right = float(work[:, 0].max()), float(work[:, -1].max())
        top, bottom = float(work[0].max()), float(work[-1].max())
    else:
        row_peaks, col_peaks = work.max(axis=1), work.max(axis=0)
        rows, cols = row_peaks.nonzero()[0], col_peaks.nonzero()[0]
        left, right = float(col_peaks[cols[0]]), float(col_peaks[cols[-1]])
        top, bottom = float(row_peaks[rows[0]]), float(row_peaks[rows[-1]])
    x0, x1 = cols[0] + 1.0 - left, cols[-1] + right
    y0, y1 = rows[0] + 1.0 - top, rows[-1] + bottom
    if x1 - x0 < max(left, right):  # a faint hairline: as wide as its coverage
        middle, half = (cols[0] + cols[-1] + 1) / 2, max(left, right) / 2
        x0, x1 = middle - half, middle + half
    if y1 - y0 < max(top, bottom):
        middle, half = (rows[0] + rows[-1] + 1) / 2, max(top, bottom) / 2
        y0, y1 = middle - half, middle + half
    return (x0, y0, x1, y1)


def _place(work: np.ndarray, box: tuple[float, ...]) -> tuple[np.ndarray, float, dict]:
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


# --- strokes -------------------------------------------------------------------------------

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


# --- small helpers ---------------------------------------------------------------------------

def _json_number(value: float) -> float | int:
    """A plain int or float (6 significant digits) for the JSON record."""
    value = float(value)
    return int(value) if value.is_integer() and abs(value) < 2 ** 53 else float(f"{value:.6g}")


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."
