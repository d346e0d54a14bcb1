"""What preprocessing accepts, and how it refuses the rest.

Limits on untrusted input (checked before any expensive work), the thresholds that decide
what counts as a drawing, and the errors: every failure is a :class:`PreprocessError`
whose ``code`` is a stable slug (mapped to an HTTP status by ``server/``) and whose
message says what to fix.
"""
from __future__ import annotations

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


def short(exc: BaseException) -> str:
    """An exception as a phrase for a message, cut to 120 characters."""
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."
