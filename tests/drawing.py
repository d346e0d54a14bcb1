"""Test helpers that draw digits the way a canvas would send them."""
from __future__ import annotations

import base64
import io
import struct
import zlib

import numpy as np
from PIL import Image


def canvas_png(image28: np.ndarray, size: int = 280, height: int = 180, at=(50, 40),
               mode: str = "transparent", encoder: str = "pillow") -> bytes:
    """An MNIST digit (784 values, ink = 1) scaled up onto a canvas, as PNG bytes.

    ``mode``: ``"transparent"`` (black ink in the alpha channel, as a cleared HTML canvas),
    ``"white"`` (dark ink on white) or ``"black"`` (light ink on black). ``encoder``:
    ``"pillow"`` (a filter chosen per row, Paeth among them: preprocessing's general path)
    or ``"chromium"`` (:func:`chromium_png`, what a browser sends).
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
    if encoder == "chromium":
        return chromium_png(canvas)
    buffer = io.BytesIO()
    canvas.save(buffer, "PNG")
    return buffer.getvalue()


def chromium_png(image: Image.Image) -> bytes:
    """RGBA, 8-bit, every row filtered Up, zlib level 1: how Chromium's ``toDataURL()``
    encodes a canvas (tests/data/chromium-canvas/manifest.json records it)."""
    pixels = np.asarray(image.convert("RGBA"))
    return png(image.width, image.height, zlib.compress(filtered_rows(pixels, [2] * image.height), 1), colour=6)


def filtered_rows(pixels: np.ndarray, filters) -> bytes:
    """PNG scanlines of an (h, w, channels) uint8 image, each with the given filter (0–4)."""
    h, w, c = pixels.shape
    flat = pixels.reshape(h, w * c).astype(np.int64)
    out, above = [], np.zeros(w * c, np.int64)
    for row, kind in zip(flat, filters):
        left = np.concatenate([np.zeros(c, np.int64), row[:-c]])
        upper_left = np.concatenate([np.zeros(c, np.int64), above[:-c]])
        if kind == 0:
            predicted = np.zeros_like(row)
        elif kind == 1:
            predicted = left
        elif kind == 2:
            predicted = above
        elif kind == 3:
            predicted = (left + above) // 2  # the encoder reads the original bytes: no loop
        else:
            p = left + above - upper_left
            pa, pb, pc = np.abs(p - left), np.abs(p - above), np.abs(p - upper_left)
            predicted = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, above, upper_left))
        out.append(bytes([kind]) + ((row - predicted) % 256).astype(np.uint8).tobytes())
        above = row
    return b"".join(out)


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_chunk(kind: bytes, data: bytes, crc: int | None = None) -> bytes:
    """One PNG chunk; ``crc`` overrides the right checksum (to build corrupt files)."""
    crc = zlib.crc32(kind + data) if crc is None else crc
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc & 0xFFFFFFFF)


def png(width: int, height: int, idat: bytes | list[bytes], depth: int = 8, colour: int = 0,
        extra: list[bytes] = (), ihdr_crc: int | None = None, interlace: int = 0,
        after: list[bytes] = ()) -> bytes:
    """A PNG assembled by hand: its header may declare anything, whatever ``idat`` holds
    (one IDAT chunk, or one per piece of a list); ``extra`` chunks go before the image data,
    ``after`` chunks after it."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace)
    pieces = [idat] if isinstance(idat, bytes) else idat
    return (PNG_SIGNATURE + png_chunk(b"IHDR", ihdr, ihdr_crc) + b"".join(extra)
            + b"".join(png_chunk(b"IDAT", piece) for piece in pieces) + b"".join(after)
            + png_chunk(b"IEND", b""))


def png_declaring(width: int, height: int) -> bytes:
    """A tiny, well-formed PNG whose header declares width × height (a decompression bomb)."""
    return png(width, height, zlib.compress(b"\x00" * 64))
