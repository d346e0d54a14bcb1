"""How long preprocessing takes, beside the floor of merely decoding the PNG.

    .venv/bin/python bench/preprocess_speed.py [--repeats 2000]

Inputs, built like the page sends them:
- a 280×280 canvas PNG: RGBA, transparent background, a black anti-aliased digit drawn with
  an 18 px round pen, 170 px tall, encoded as Chromium's ``canvas.toDataURL()`` encodes
  (every row filtered Up, zlib level 1: see tests/data/chromium-canvas/manifest.json); and
  the same image encoded by Pillow (a filter chosen per row, Paeth among them);
- the same digit as one 200-point stroke list on a 280×280 surface.

Reports the median and 90th percentile of each, the Pillow decode-only floor for the same
PNG, and the ratios, all measured in this one run. Goal: under 1 ms each. No assertions:
machines are noisy; this is a report.
"""
from __future__ import annotations

import argparse
import io
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model import preprocess  # noqa: E402
from tests.drawing import chromium_png, data_url  # noqa: E402

CANVAS = 280
PEN = 18


def digit_path(n: int = 200) -> np.ndarray:
    """A hand-like "2" (a hook, a diagonal and a base line), n points, canvas coordinates."""
    t = np.linspace(0.0, 1.0, n)
    points = []
    for s in t:
        if s < 0.45:  # the hook: an arc from the upper left over the top to the right
            a = np.pi * (1.1 - 1.5 * s / 0.45)
            points.append((140 + 52 * np.cos(a), 100 - 45 * np.sin(a)))
        elif s < 0.8:  # down-left diagonal to the bottom
            u = (s - 0.45) / 0.35
            x0, y0 = 140 + 52 * np.cos(np.pi * -0.4), 100 - 45 * np.sin(np.pi * -0.4)
            points.append((x0 + (85 - x0) * u, y0 + (215 - y0) * u))
        else:  # the base line to the right
            u = (s - 0.8) / 0.2
            points.append((85 + 110 * u, 215 + 4 * np.sin(3 * u)))
    jitter = np.random.default_rng(0).normal(0, 0.4, (n, 2))  # a hand is not a plotter
    return np.round(np.array(points) + jitter, 1)


def canvas_image(path: np.ndarray) -> Image.Image:
    """The path drawn like a browser canvas: round pen, anti-aliased (4× supersampled), RGBA."""
    factor = 4
    big = Image.new("L", (CANVAS * factor, CANVAS * factor), 0)
    draw = ImageDraw.Draw(big)
    scaled = [(x * factor, y * factor) for x, y in path]
    draw.line(scaled, fill=255, width=PEN * factor)
    r = PEN * factor / 2
    for x, y in scaled:
        draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    image = Image.new("RGBA", (CANVAS, CANVAS), (0, 0, 0, 0))
    image.putalpha(big.reduce(factor))
    return image


def pillow_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def timings(call, repeats: int) -> list[float]:
    for _ in range(min(100, repeats)):  # warm up caches and allocators
        call()
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=2000)
    args = parser.parse_args(argv)

    path = digit_path()
    image = canvas_image(path)
    png, general = chromium_png(image), pillow_png(image)
    url = data_url(png)
    strokes = [path.tolist()]
    check = preprocess.from_png(png)
    np.testing.assert_array_equal(check.pixels, preprocess.from_png(general).pixels)

    def decode_only(data: bytes):
        def decode() -> None:
            with Image.open(io.BytesIO(data), formats=["PNG"]) as opened:
                opened.load()
        return decode

    cases = [
        ("Pillow decode only (the floor)", decode_only(png)),
        ("from_png(bytes)", lambda: preprocess.from_png(png)),
        ("from_png(data URL)", lambda: preprocess.from_png(url)),
        ("from_strokes(200 points)", lambda: preprocess.from_strokes(strokes, CANVAS, CANVAS)),
        ("Pillow-encoded: decode only", decode_only(general)),
        ("Pillow-encoded: from_png(bytes)", lambda: preprocess.from_png(general)),
    ]
    results = {}
    for name, call in cases:
        t = timings(call, args.repeats)
        results[name] = (statistics.median(t), float(np.percentile(t, 90)))

    floor = results[cases[0][0]][0]
    print(f"Preprocessing speed ({args.repeats} runs each, one process; Python {platform.python_version()}, "
          f"numpy {np.__version__}, Pillow {Image.__version__})")
    print(f"  input: {CANVAS}×{CANVAS} RGBA canvas PNG, {len(png):,} bytes as Chromium encodes it "
          f"({len(url):,} as a data URL; {len(general):,} as Pillow encodes it), pen {PEN} px; "
          f"the same digit as 1 stroke of {len(path)} points")
    print(f"  (preprocessed: polarity {check.info['polarity']}, fitted {check.info['fitted_size']}, "
          f"stroke width {check.info['stroke_width']})")
    print(f"  {'':34}{'median':>10}{'p90':>10}{'× floor':>10}")
    for name, (median, p90) in results.items():
        print(f"  {name:34}{median * 1e3:8.3f} ms{p90 * 1e3:7.3f} ms{median / floor:9.2f}×")
    for name in ("from_png(bytes)", "from_strokes(200 points)", "Pillow-encoded: from_png(bytes)"):
        median = results[name][0]
        print(f"  goal < 1 ms: {name}: {'met' if median < 1e-3 else 'NOT met'} ({median * 1e3:.3f} ms median)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
