"""Step 1 for images: a data URL or bytes → a checked PNG → Pillow's decoded image.

The size is read from the PNG header and refused before anything is decoded, so a
hostile "decompression bomb" never reaches the decoder; Pillow decodes every PNG.
"""
from __future__ import annotations

import binascii
import io
import struct
import zlib
from typing import Any

from PIL import Image

from model.preprocess.limits import (MAX_DATA_URL_CHARS, MAX_PIXELS, MAX_PNG_BYTES, MAX_SIDE, BadBase64,
                                     CorruptImage, ImageTooLarge, NotPng, PreprocessError, short)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_bytes(data: Any) -> bytes:
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
    invalid = "The image's base64 is invalid (only A–Z a–z 0–9 + / and = padding, no spaces)."
    if len(payload) % 4:
        # RFC 4648: whole groups of four. (binascii's strict mode lets "QUJD=" through.)
        raise BadBase64(invalid)
    try:
        return binascii.a2b_base64(payload, strict_mode=True)
    except (binascii.Error, ValueError):
        raise BadBase64(invalid) from None


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


def check_header(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, refused if too large *before* decoding."""
    if png[:8] != PNG_SIGNATURE:
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
DECODE_ERRORS = (OSError, SyntaxError, ValueError, TypeError, IndexError, KeyError,
                 struct.error, EOFError, zlib.error, OverflowError)


def decode(png: bytes, size: tuple[int, int]) -> Image.Image:
    """Pillow's decode of any PNG whose header :func:`check_header` accepted (``size``)."""
    width, height = size
    # check_header already refused more than MAX_PIXELS, far below Pillow's own bomb
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
    except DECODE_ERRORS as exc:
        raise CorruptImage(f"The PNG is truncated or damaged and cannot be decoded ({short(exc)}).") from None
    return image

