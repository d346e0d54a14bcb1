"""Test helpers that draw digits the way a canvas would send them."""
from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image


def canvas_png(image28: np.ndarray, size: int = 280, height: int = 180, at=(50, 40),
               mode: str = "transparent") -> bytes:
    """An MNIST digit (784 values, ink = 1) scaled up onto a canvas, as PNG bytes.

    ``mode``: ``"transparent"`` (black ink in the alpha channel, as a cleared HTML canvas),
    ``"white"`` (dark ink on white) or ``"black"`` (light ink on black).
    """
    ink = Image.fromarray((np.asarray(image28).reshape(28, 28) * 255).astype(np.uint8), "L")
    ink = ink.resize((height, height), Image.Resampling.BILINEAR)
    layer = Image.new("L", (size, size), 0)
    layer.paste(ink, at)
    if mode == "transparent":
        canvas = Image.new("RGBA", (size, size), (0, 0, 0, 0))
        canvas.putalpha(layer)
    elif mode == "white":
        canvas = Image.eval(layer, lambda v: 255 - v).convert("RGB")
    elif mode == "black":
        canvas = layer.convert("RGB")
    else:
        raise ValueError(mode)
    buffer = io.BytesIO()
    canvas.save(buffer, "PNG")
    return buffer.getvalue()


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
