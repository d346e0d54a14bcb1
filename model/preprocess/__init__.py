"""Turn a drawing into what the network was trained on: an MNIST-like 28×28 image.

MNIST digits were size-normalized to fit a 20×20 box (aspect ratio kept, anti-aliased)
and placed in a 28×28 field with their centre of mass at the centre. A person's drawing
can be anywhere on the canvas, any size, with any pen; we undo all of that the same way.
The modules, in the order a drawing passes through them:

- :mod:`.limits` — what is accepted at all, and the errors for the rest;
- images: :mod:`.decode` (data URL → checked PNG header → Pillow) → :mod:`.ink` (which
  pixels are ink, whatever the colours; cropped) → :func:`.fit.to_working` (4–8 working
  pixels per grid pixel) → :mod:`.width` (stroke width into MNIST's range) → :func:`.fit.place`;
- strokes: :mod:`.strokes` (drawn again with MNIST's pen, at working resolution) → :func:`.fit.place`;
- pixels: :mod:`.pixels` (already MNIST-like: checked, used as given);
- :mod:`.measure` — centre of mass, stroke width, ink box: shared by all of them.

Every failure is a :class:`PreprocessError` subclass whose message says what to fix;
nothing else escapes (tests/test_preprocess_fuzz.py holds us to it). numpy + Pillow only.
"""
from __future__ import annotations

from model.preprocess import decode, fit, ink, width
from model.preprocess.fit import BOX, GRID, TARGET_CENTER, Preprocessed
from model.preprocess.limits import (MAX_COORDINATE, MAX_POINTS, MAX_SIDE, MAX_STROKES, BadBase64, BadPixels,
                                     BadStrokes, CorruptImage, EmptyDrawing, ImageTooLarge, NotPng, PreprocessError)
from model.preprocess.measure import center_of_mass, ink_box, stroke_width
from model.preprocess.pixels import from_pixels
from model.preprocess.strokes import from_strokes
from model.preprocess.width import MNIST_STROKE_WIDTH, WIDTH_BAND

__all__ = [
    "from_png", "from_strokes", "from_pixels", "Preprocessed", "center_of_mass", "stroke_width", "ink_box",
    "PreprocessError", "BadBase64", "NotPng", "ImageTooLarge", "CorruptImage", "BadStrokes", "BadPixels",
    "EmptyDrawing", "GRID", "BOX", "TARGET_CENTER", "MNIST_STROKE_WIDTH", "WIDTH_BAND", "MAX_SIDE",
    "MAX_STROKES", "MAX_POINTS", "MAX_COORDINATE",
]


def from_png(data: bytes | str) -> Preprocessed:
    """A PNG (bytes, or a ``data:image/png;base64,...`` URL) → MNIST-like input.

    Accepts any PNG colour type and bit depth up to :data:`MAX_SIDE` pixels a side. The
    background is read from the image, so black ink on transparent, dark on light and
    light on dark all work.
    """
    png = decode.png_bytes(data)
    size = decode.check_header(png)
    crop, (x0, y0), polarity = ink.find_ink(decode.decode(png, size))
    work, per_source, tight = fit.to_working(crop, size)
    work, box = width.normalize_width(work, ink_box(work, tight=tight))
    pixels, k, placed = fit.place(work, box)
    info = {
        "source": "image",
        "canvas": list(size),
        "bbox": [x0, y0, x0 + crop.shape[1], y0 + crop.shape[0]],
        "scale": fit.json_number(k * per_source),
        **placed,
        "polarity": polarity,
    }
    return Preprocessed(pixels, info)
