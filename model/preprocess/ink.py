"""Step 2 for images: which pixels are ink, whatever the colours, cropped tight.

The result is an ink image (uint8: 0 = background, 255 = full ink): the alpha channel if
the background is transparent, otherwise the contrast with the background colour (the
median of the image's border), divided by the ink's own contrast.
"""
from __future__ import annotations

import numpy as np
from PIL import Image

from model.preprocess.decode import DECODE_ERRORS
from model.preprocess.limits import INK_FLOOR, MIN_CONTRAST, CorruptImage, EmptyDrawing, PreprocessError, short


def find_ink(image: Image.Image) -> tuple[np.ndarray, tuple[int, int], str]:
    """The ink of a decoded image, cropped tight; the crop's top-left corner ``(x, y)``; and
    the polarity: ``"alpha"``, ``"dark-on-light"`` or ``"light-on-dark"``."""
    channel, background, sign, polarity = _ink_channel(image)
    ink, origin = _ink_crop(channel, background, sign)
    return ink, origin, polarity


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
    except DECODE_ERRORS as exc:
        raise CorruptImage(f"The PNG's pixels cannot be converted ({short(exc)}).") from None
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
    ink = np.take(_ink_table(background, sign, full), crop)
    local = _bbox(ink)
    if local is None:
        raise EmptyDrawing("Nothing to recognize: the image is blank. Draw a digit.")
    return ink[local[1]:local[3], local[0]:local[2]], (box[0] + local[0], box[1] + local[1])


def _ink_table(background: float, sign: int, full: float) -> np.ndarray:
    """Channel level → ink (uint8): contrast with the background over the ink's full contrast,
    0 where that is below MIN_CONTRAST of full scale or INK_FLOOR of the ink's contrast."""
    contrast = sign * (np.arange(256, dtype=np.float64) - background)
    inked = contrast >= max(MIN_CONTRAST * 255, INK_FLOOR * full)
    return np.where(inked, np.round(np.clip(contrast / full, 0.0, 1.0) * 255), 0).astype(np.uint8)

