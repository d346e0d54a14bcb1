"""A catalogue of hostile requests and what the real server must answer to each.

Every entry is the exact bytes sent over a socket to the production gunicorn (so that
malformed HTTP, absurd headers and chunked bodies reach the real parser), the status
expected, and who answers:

- ``problem:<code>``: the app, with ``application/problem+json`` whose ``type`` is
  ``/docs#problem-<code>`` (every route under ``/api/``);
- ``oip``: the app under ``/v2``, with the Open Inference Protocol's ``{"error": "..."}``;
- ``gunicorn``: gunicorn's HTTP parser, before the app sees anything (a request line or
  headers that are not HTTP, or over gunicorn's limits). gunicorn answers those itself,
  with a short ``text/html`` page and ``Connection: close``.

``why`` says what the entry attacks. tests/test_hostile.py sends each entry to the real
server and checks the answer, that the next normal request still succeeds, and that the
workers' memory stays bounded over the whole catalogue. ``python -m tests.hostile_catalogue``
prints the catalogue as a Markdown table.
"""
from __future__ import annotations

import base64
import io
import json
import struct
import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image

from tests.drawing import PNG_SIGNATURE, canvas_png, png, png_chunk

MODEL = "mnist-784-16-16-10"
MAX_BODY = 2 * 1024 * 1024  # app.py's MAX_CONTENT_LENGTH default


@dataclass(frozen=True)
class Hostile:
    name: str
    raw: bytes
    status: int
    answer: str  # "problem:<code>", "oip" or "gunicorn"
    why: str


# --- building requests -----------------------------------------------------------------

def request(method: str, path: str, body: bytes = b"", content_type: str | None = "application/json",
            headers: list[tuple[str, str]] | None = None, length: int | None = None) -> bytes:
    """A raw HTTP/1.1 request with Content-Length (``length`` may lie)."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}")
    if body or length is not None or method == "POST":
        lines.append(f"Content-Length: {len(body) if length is None else length}")
    for name, value in headers or []:
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def post(body, path: str = "/api/predict", **kwargs) -> bytes:
    if not isinstance(body, bytes):
        body = json.dumps(body).encode()
    return request("POST", path, body, **kwargs)


def chunked(path: str, pieces: list[bytes], content_type: str = "application/json",
            terminator: bytes = b"0\r\n\r\n") -> bytes:
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            f"Content-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    return head + b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + terminator


def data_url(data: bytes, media: str = "image/png") -> str:
    return f"data:{media};base64," + base64.b64encode(data).decode("ascii")


def image(data: bytes, media: str = "image/png") -> bytes:
    return post({"image": data_url(data, media)})


# --- building images ---------------------------------------------------------------------

def zeros_png(side: int, channels: int = 4) -> bytes:
    """A real side×side image of zeros (RGBA: fully transparent): inflates to side²·channels
    bytes from a few kilobytes."""
    colour = {1: 0, 4: 6}[channels]
    raw = bytes((1 + side * channels) * side)
    return png(side, side, zlib.compress(raw, 9), colour=colour)


def encoded(img: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def digit_image() -> Image.Image:
    ink = np.zeros((28, 28))
    ink[5:23, 12:16] = 1.0  # a plain "1": recognizable, so only the format is wrong
    return Image.open(io.BytesIO(canvas_png(ink.ravel(), mode="white"))).convert("RGB")


def nested(depth: int, open_: bytes = b"[", close: bytes = b"]") -> bytes:
    return open_ * depth + close * depth


# --- the catalogue ---------------------------------------------------------------------------

@lru_cache(maxsize=1)
def catalogue() -> tuple[Hostile, ...]:
    digit = digit_image()
    good_png = encoded(digit, "PNG")
    pixels = np.zeros(784)
    pixels[5 * 28 + 13: 23 * 28 + 13: 28] = 1.0
    good_pixels = pixels.tolist()
    bad_idat_crc = bytearray(good_png)
    idat = bad_idat_crc.find(b"IDAT")
    length = struct.unpack(">I", bad_idat_crc[idat - 4: idat])[0]
    bad_idat_crc[idat + 4 + length: idat + 8 + length] = b"\xde\xad\xbe\xef"
    bad_idat_crc[idat + 4 + length // 2] ^= 0xFF  # and a damaged byte in the stream it guards
    garbled = bytearray(good_png)
    garbled[idat + 4: idat + 4 + length] = bytes(length)  # zlib header and stream all zeros
    ztxt_bomb = png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(bytes(64 * 1024 * 1024), 9))
    E = []

    def add(name, raw, status, answer, why):
        E.append(Hostile(name, raw, status, answer, why))

    # Decompression bombs and oversized images
    add("PNG declaring 20000×20000", image(png(20000, 20000, zlib.compress(bytes(64)))), 413,
        "problem:image-too-large", "A 100-byte file whose header asks for 400 megapixels: refused from the header, before decoding.")
    add("PNG declaring 2049×1", image(png(2049, 1, zlib.compress(bytes(2050)))), 413,
        "problem:image-too-large", "One pixel past the documented 2048 limit.")
    add("PNG declaring 0×0", image(png(0, 0, zlib.compress(b""))), 400,
        "problem:corrupt-image", "An empty image is not an image.")
    add("4096×4096 of zeros (real, 20 KB)", image(zeros_png(4096)), 413,
        "problem:image-too-large", "Really inflates to 64 MB of RGBA; refused from the header.")
    add("2048×2048 RGBA of zeros (real, 16 KB)", image(zeros_png(2048)), 422,
        "problem:empty-drawing", "Allowed size: really decodes to 16 MB, and is transparent everywhere.")
    add("2048×2048 grey of zeros", image(zeros_png(2048, channels=1)), 422,
        "problem:empty-drawing", "Allowed size, 4 MB decoded, one flat colour.")
    add("IDAT zlib bomb (20 MB of zeros for a 64×64 image)",
        image(png(64, 64, zlib.compress(bytes(20 * 1024 * 1024), 9))), 422,
        "problem:empty-drawing", "The decoder stops when the image is full; the rest is never inflated.")
    add("zTXt bomb (64 MB of text)", image(png(64, 64, zlib.compress(bytes(65 * 64)), extra=[ztxt_bomb])), 400,
        "problem:corrupt-image", "Pillow refuses text chunks that inflate past MAX_TEXT_CHUNK.")
    # Truncated and corrupt PNGs
    add("PNG signature only", image(PNG_SIGNATURE), 400, "problem:corrupt-image", "Ends inside its header.")
    add("truncated PNG", image(good_png[: len(good_png) // 2]), 400, "problem:corrupt-image",
        "Cut in the middle of the image data.")
    add("bad IHDR CRC", image(png(28, 28, zlib.compress(bytes(29 * 28)), ihdr_crc=0x12345678)), 400,
        "problem:corrupt-image", "The header's checksum does not match.")
    add("bad IDAT CRC", image(bytes(bad_idat_crc)), 400, "problem:corrupt-image",
        "A damaged byte in the image data (and so a wrong checksum). Pillow does not check IDAT "
        "CRCs, so a wrong CRC over intact data is decoded: zlib's own check catches the damage.")
    add("bad zlib stream", image(bytes(garbled)), 400, "problem:corrupt-image",
        "The compressed stream is not zlib at all.")
    add("no IDAT", image(PNG_SIGNATURE + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 28, 28, 8, 0, 0, 0, 0))
                         + png_chunk(b"IEND", b"")), 400, "problem:corrupt-image", "A header and no pixels.")
    add("bit depth 7", image(png(28, 28, zlib.compress(bytes(29 * 28)), depth=7)), 400,
        "problem:corrupt-image", "A colour type / bit depth pair the PNG standard does not have.")
    add("palette PNG without a palette", image(png(28, 28, zlib.compress(bytes(29 * 28)), colour=3)), 422,
        "problem:empty-drawing", "Colour type 3 needs a PLTE chunk; Pillow lends it a grey one, so it is a blank image.")
    add("PNG signature, then a JPEG", image(PNG_SIGNATURE + encoded(digit, "JPEG")), 400,
        "problem:corrupt-image", "Starts like a PNG, is not one.")
    add("empty image", image(b""), 415, "problem:not-png", "Zero bytes after the data URL prefix.")
    # Other formats disguised as PNG
    for fmt, kwargs in [("GIF", {}), ("JPEG", {}), ("WEBP", {}), ("BMP", {}), ("TIFF", {}),
                        ("ICO", {}), ("PPM", {})]:
        add(f"{fmt} labelled image/png", image(encoded(digit, fmt, **kwargs)), 415, "problem:not-png",
            f"A real {fmt} of a digit in a data:image/png URL: only PNG is decoded.")
    add("SVG labelled image/png", image(b"<svg xmlns='http://www.w3.org/2000/svg' width='280' height='280'>"
                                        b"<path d='M140 40 V240' stroke='black' stroke-width='20'/></svg>"),
        415, "problem:not-png", "Vector text, not pixels (and a classic XSS/XXE carrier).")
    add("SVG with an XML entity bomb", image(b"<?xml version='1.0'?><!DOCTYPE l [<!ENTITY a 'aaaaaaaaaa'>"
                                             b"<!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>]><svg>&b;</svg>"),
        415, "problem:not-png", "Never parsed: refused from its first bytes.")
    add("JPEG labelled image/jpeg", image(encoded(digit, "JPEG"), media="image/jpeg"), 415, "problem:not-png",
        "The data URL itself says JPEG.")
    add("GIF polyglot with PNG inside", image(encoded(digit, "GIF") + good_png), 415, "problem:not-png",
        "Appended PNG bytes do not make a GIF a PNG.")
    # Bad base64 and data URLs
    add("bad base64 characters", post({"image": "data:image/png;base64,@@not base64@@"}), 400,
        "problem:bad-base64", "Outside the base64 alphabet.")
    add("base64 with line breaks", post({"image": "data:image/png;base64," + base64.encodebytes(good_png).decode()}),
        400, "problem:bad-base64", "MIME-style line breaks are not strict base64.")
    padded = next(data_url(good_png + bytes(n)) for n in range(3) if data_url(good_png + bytes(n)).endswith("="))
    add("base64 without padding", post({"image": padded.rstrip("=")}), 400, "problem:bad-base64",
        "Length not a multiple of 4.")
    add("data URL without ;base64", post({"image": "data:image/png," + base64.b64encode(good_png).decode()}),
        400, "problem:bad-base64", "Percent-encoded data URLs are not accepted.")
    add("http URL instead of data URL", post({"image": "http://169.254.169.254/latest/meta-data/"}), 400,
        "problem:bad-base64", "The server never fetches anything (no SSRF).")
    add("1.9 MB of valid base64 garbage", post({"image": "data:image/png;base64," + "QUFB" * 475_000}), 415,
        "problem:not-png", "Megabyte-long string inside the body limit; decodes to a non-PNG.")
    add("1.9 MB string as a field name", post(b'{"' + b"k" * 1_900_000 + b'": 1, "pixels": []}'), 400,
        "problem:invalid-request", "Unknown field, megabyte long: rejected, echoed only in part.")
    add("lone surrogate in image", post(b'{"image": "data:image/png;base64,\\ud800"}'), 400,
        "problem:bad-base64", "Valid JSON escape, invalid Unicode.")
    # Malformed JSON
    add("not JSON", post(b"{'pixels': [0]}"), 400, "problem:malformed-json", "Single quotes are not JSON.")
    add("JSON array nested 100 000 deep", post(nested(100_000)), 400, "problem:malformed-json",
        "Stack exhaustion attempt on the parser.")
    add("JSON object nested 50 000 deep", post(b'{"a":' * 50_000 + b"1" + b"}" * 50_000), 400,
        "problem:malformed-json", "The same with objects.")
    add("pixels nested 100 000 deep", post(b'{"pixels": ' + nested(100_000) + b"}"), 400,
        "problem:malformed-json", "Deep nesting inside a valid field.")
    add("NaN", post(b'{"pixels": [NaN]}'), 400, "problem:malformed-json", "Not JSON, although Python would accept it.")
    add("Infinity", post(b'{"strokes": [[[Infinity, 0]]]}'), 400, "problem:malformed-json", "Not JSON.")
    add("-Infinity", post(b'{"pixels": [-Infinity]}'), 400, "problem:malformed-json", "Not JSON.")
    add("1e999 (overflows to infinity)", post(b'{"pixels": [' + b",".join([b"1e999"] * 784) + b"]}"), 422,
        "problem:bad-pixels", "Valid JSON that parses to inf: caught as not finite.")
    add("integer with 5000 digits", post(b'{"pixels": [' + b"9" * 5000 + b"]}"), 400, "problem:malformed-json",
        "Python's int parsing limit (CVE-2020-10735) is reached: an error, not a CPU sink.")
    add("invalid UTF-8", post(b'{"image": "\xff\xfe\xfd"}'), 400, "problem:malformed-json", "Not UTF-8.")
    add("empty body", post(b""), 400, "problem:malformed-json", "Content-Length 0.")
    # Wrong types everywhere
    for name, body, status, code in [
        ("top-level null", None, 400, "invalid-request"),
        ("top-level number", 7, 400, "invalid-request"),
        ("image: number", {"image": 123}, 400, "invalid-request"),
        ("image: null", {"image": None}, 400, "invalid-request"),
        ("image: list", {"image": ["data:image/png;base64,"]}, 400, "invalid-request"),
        ("image: object", {"image": {"data": "x"}}, 400, "invalid-request"),
        ("strokes: object", {"strokes": {"0": [[1, 2]]}}, 422, "bad-strokes"),
        ("strokes: points not pairs", {"strokes": [[1, 2], [3, 4]]}, 422, "bad-strokes"),
        ("strokes: three coordinates", {"strokes": [[[1, 2, 3]]]}, 422, "bad-strokes"),
        ("strokes: booleans", {"strokes": [[[True, False], [False, True]]]}, 422, "bad-strokes"),
        ("strokes: nulls", {"strokes": [[[None, None]]]}, 422, "bad-strokes"),
        ("strokes: ragged", {"strokes": [[[1, 2], [3]]]}, 422, "bad-strokes"),
        ("strokes: 1e300 coordinates", {"strokes": [[[0, 0], [1e300, 1e300]]]}, 422, "bad-strokes"),
        ("strokes: 101 strokes", {"strokes": [[[i, i], [i + 50, i + 80]] for i in range(101)]}, 422, "bad-strokes"),
        ("strokes: 10 001 points", {"strokes": [[[i % 280, (i * 7) % 280] for i in range(10_001)]]}, 422, "bad-strokes"),
        ("width: string", {"strokes": [[[10, 10], [10, 200]]], "width": "280", "height": 280}, 422, "bad-strokes"),
        ("width: boolean", {"strokes": [[[10, 10], [10, 200]]], "width": True, "height": 280}, 422, "bad-strokes"),
        ("width: zero", {"strokes": [[[10, 10], [10, 200]]], "width": 0, "height": 280}, 422, "bad-strokes"),
        ("width with pixels", {"pixels": good_pixels, "width": 28}, 400, "invalid-request"),
        ("pixels: null", {"pixels": None}, 422, "bad-pixels"),
        ("pixels: object", {"pixels": {"0": 1}}, 422, "bad-pixels"),
        ("pixels: 27 rows", {"pixels": [[0.5] * 28] * 27}, 422, "bad-pixels"),
        ("pixels: booleans", {"pixels": [True] * 784}, 422, "bad-pixels"),
        ("pixels: mixed types", {"pixels": [0.5] * 783 + ["1"]}, 422, "bad-pixels"),
        ("pixels: negative", {"pixels": [-0.5] * 784}, 422, "bad-pixels"),
        ("pixels: 100 × 784", {"pixels": [[0.0] * 784] * 100}, 422, "bad-pixels"),
    ]:
        add(name, post(json.dumps(body).encode()), status, f"problem:{code}", "A field of the wrong type or shape.")
    # Batches
    add("batch of 65", post({"inputs": [{"pixels": good_pixels}] * 65}), 413, "problem:batch-too-large",
        "One over MAX_BATCH.")
    add("batch of 100 000 empty objects", post(b'{"inputs": [' + b",".join([b"{}"] * 100_000) + b"]}"), 413,
        "problem:batch-too-large", "Counted before anything is preprocessed.")
    add("batch of 64 bombs", post({"inputs": [{"image": data_url(png(20000, 20000, zlib.compress(bytes(64))))}] * 64}),
        413, "problem:image-too-large", "The first bomb stops the batch.")
    add("batch inside a batch", post({"inputs": [{"inputs": [{"pixels": good_pixels}]}]}), 400,
        "problem:invalid-request", "Batches do not nest.")
    add("inputs: string", post({"inputs": "all of them"}), 400, "problem:invalid-request", "Not a list.")
    # Media types
    add("text/plain", post(b'{"pixels": []}', content_type="text/plain"), 415, "problem:unsupported-media-type",
        "JSON under another media type is refused, not sniffed.")
    add("no Content-Type", post(b'{"pixels": []}', content_type=None), 415, "problem:unsupported-media-type",
        "Nothing assumed.")
    add("form-urlencoded", post(b"pixels=1&pixels=2", content_type="application/x-www-form-urlencoded"), 415,
        "problem:unsupported-media-type", "A plain HTML form post (CSRF-style) is refused.")
    boundary = "x7x7x7"
    multipart = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"d.png\"\r\n"
                 f"Content-Type: image/png\r\n\r\n").encode() + good_png + f"\r\n--{boundary}--\r\n".encode()
    add("multipart upload of a PNG", post(multipart, content_type=f"multipart/form-data; boundary={boundary}"), 415,
        "problem:unsupported-media-type", "File uploads are not an input kind.")
    add("raw PNG body", post(good_png, content_type="image/png"), 415, "problem:unsupported-media-type",
        "The PNG must come as a data URL inside JSON.")
    # Sizes and framing
    add("body over the limit", post(b" " * (MAX_BODY + 1)), 413, "problem:payload-too-large",
        "One byte over MAX_CONTENT_LENGTH.")
    add("Content-Length: 10 GB, tiny body", post(b"{}", length=10 * 1024 ** 3), 413, "problem:payload-too-large",
        "Refused from the header, without waiting for 10 GB.")
    add("chunked body over the limit", chunked("/api/predict", [b'{"pixels": ['] + [b"0.5, " * 13_000] * 40), 413,
        "problem:payload-too-large", "No Content-Length to check: the limit is enforced while reading.")
    add("chunked body, bad chunk size", chunked("/api/predict", [], terminator=b"zz\r\n{}\r\n0\r\n\r\n"), 400,
        "problem:invalid-request", "Not hexadecimal. gunicorn finds out while the app reads the body.")
    add("chunked body, chunk size 2^76", chunked("/api/predict", [], terminator=b"fffffffffffffffffff\r\n"
                                                  + b"0.5, " * 440_000), 413, "problem:payload-too-large",
        "A chunk far larger than any 64-bit length: the body limit still applies while reading.")
    add("Content-Length and Transfer-Encoding",
        post(b"{}", headers=[("Transfer-Encoding", "chunked")]), 400, "gunicorn",
        "Request smuggling: both framings at once.")
    add("two Content-Lengths", post(b"{}", headers=[("Content-Length", "5")]), 400, "gunicorn",
        "Request smuggling: conflicting lengths.")
    add("Content-Length: -1", post(b"{}", length=-1), 400, "gunicorn", "Negative length.")
    add("Content-Length: abc", request("POST", "/api/predict", b"{}").replace(b"Content-Length: 2", b"Content-Length: abc"),
        400, "gunicorn", "Not a number.")
    add("Transfer-Encoding: gzip", post(b"{}", length=None, headers=[("Transfer-Encoding", "gzip")]).replace(
        b"Content-Length: 2\r\n", b""), 400, "gunicorn", "A transfer coding gunicorn does not implement.")
    # Absurd headers and request lines
    add("request line of 10 KB", request("GET", "/api/examples?n=" + "1" * 10_000, content_type=None), 414,
        "gunicorn", "Over limit_request_line.")
    add("header of 100 KB", request("GET", "/v2/health/live", content_type=None, headers=[("X-Big", "a" * 100_000)]),
        431, "gunicorn", "Over limit_request_field_size.")
    add("101 headers", request("GET", "/v2/health/live", content_type=None,
                               headers=[(f"X-H{i}", "1") for i in range(101)]), 431, "gunicorn",
        "Over limit_request_fields.")
    add("header name with a space", request("GET", "/v2/health/live", content_type=None, headers=[("Bad Name", "1")]),
        400, "gunicorn", "Not a token.")
    add("NUL in a header value", request("GET", "/v2/health/live", content_type=None, headers=[("X-Nul", "a\x00b")]),
        400, "gunicorn", "Control character.")
    add("HTTP/9.9", b"GET /v2/health/live HTTP/9.9\r\nHost: x\r\n\r\n", 400, "gunicorn", "No such HTTP version.")
    add("not HTTP at all", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(64) + b"\r\n\r\n", 400, "gunicorn",
        "A TLS ClientHello sent to the plain-HTTP port.")
    # Routes, methods and queries
    add("GET /api/predict", request("GET", "/api/predict", content_type=None), 405, "problem:method-not-allowed",
        "Only POST.")
    add("DELETE /api/model", request("DELETE", "/api/model", content_type=None), 405, "problem:method-not-allowed",
        "Read only.")
    add("path traversal", request("GET", "/api/../../../../etc/passwd", content_type=None), 404, "problem:not-found",
        "Nothing is served from the file system under /api.")
    add("percent-encoded garbage path", request("GET", "/api/%ff%fe%00", content_type=None), 404, "problem:not-found",
        "Undecodable path.")
    add("examples n=10**100", request("GET", "/api/examples?n=1" + "0" * 100, content_type=None), 400,
        "problem:invalid-query", "Huge integer in a query.")
    add("examples digit=-0x1", request("GET", "/api/examples?digit=-0x1", content_type=None), 400,
        "problem:invalid-query", "Not a decimal integer.")
    # The Open Inference Protocol
    infer = f"/v2/models/{MODEL}/infer"
    add("OIP infer N = 10^9", post({"inputs": [{"name": "input", "datatype": "FP32", "shape": [10 ** 9, 784],
                                                "data": [0.5] * 784}]}, path=infer), 413, "oip",
        "The declared batch is refused before any allocation.")
    add("OIP infer shape [-1, 784]", post({"inputs": [{"name": "input", "datatype": "FP32", "shape": [-1, 784],
                                                       "data": []}]}, path=infer), 400, "oip", "Negative dimension.")
    add("OIP binary header length past the body", post(b'{"inputs": []}', path=infer,
                                                       headers=[("Inference-Header-Content-Length", "999999")]),
        400, "oip", "A length field pointing outside the body.")
    add("OIP binary_data_size lies", post(b'{"inputs":[{"name":"input","datatype":"FP32","shape":[1,784],'
                                          b'"parameters":{"binary_data_size":3136}}]}' + bytes(16),
                                          path=infer, headers=[("Inference-Header-Content-Length", "95")]),
        400, "oip", "Claims 3136 bytes of tensor, sends 16.")
    add("OIP NaN in data", post(b'{"inputs":[{"name":"input","datatype":"FP32","shape":[1,784],"data":[NaN]}]}',
                                path=infer), 400, "oip", "Not JSON.")
    add("OIP input named with 1.5 MB", post({"inputs": [{"name": "x" * 1_500_000, "datatype": "FP32",
                                                          "shape": [1, 784], "data": [0.5] * 784}]}, path=infer),
        400, "oip", "The error names the input it did not expect, without echoing megabytes.")
    add("OIP shape with 200 000 dimensions", post({"inputs": [{"name": "input", "datatype": "FP32",
                                                               "shape": [1] * 200_000, "data": []}]}, path=infer),
        400, "oip", "The error quotes the shape, without echoing all of it.")
    add("OIP unknown model", post({"inputs": []}, path="/v2/models/..%2f..%2fetc/infer"), 404, "oip",
        "Model names are matched, never used as paths.")
    return tuple(E)


def markdown() -> str:
    lines = ["| # | request | status | answered by | why |", "|---|---|---|---|---|"]
    for i, entry in enumerate(catalogue(), 1):
        lines.append(f"| {i} | {entry.name} | {entry.status} | {entry.answer} | {entry.why} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown())
