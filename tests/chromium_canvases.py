"""Canvas PNGs written by real Chromium, for the tests and bench/serve_latency.py.

    .venv/bin/python -m tests.chromium_canvases     # rewrites tests/data/chromium-canvas/

Twenty MNIST test digits, each scaled to 180 px (bilinear, as tests/drawing.py's
``canvas_png``) at (50, 40) of a 280×280 canvas, put into the canvas as black ink in the
alpha channel of a cleared canvas, and encoded by Chromium's own ``canvas.toDataURL()``;
plus one drawn dark on an opaque white canvas. ``manifest.json`` records the Chromium
version, each file's label and MNIST test index, and what Chromium's encoder chose
(colour type, filters, zlib level) — the facts model/png.py's fast path relies on.
tests/browser/test_canvas_png.py checks the installed Chromium still writes that way.
"""
from __future__ import annotations

import base64
import json
import sys
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

OUT = Path(__file__).resolve().parent / "data" / "chromium-canvas"
SIZE, HEIGHT, AT = 280, 180, (50, 40)
COUNT = 20

_DRAW = """([alphas, white]) => alphas.map((alpha, n) => {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = %d;
  const ctx = canvas.getContext("2d");
  const data = ctx.createImageData(canvas.width, canvas.height);
  for (let i = 0; i < alpha.length; i++) {
    if (n === white) { data.data.fill(255 - alpha[i], 4 * i, 4 * i + 3); data.data[4 * i + 3] = 255; }
    else data.data[4 * i + 3] = alpha[i];
  }
  ctx.putImageData(data, 0, 0);
  return canvas.toDataURL();
})""" % SIZE


def ink_layer(image28: np.ndarray) -> np.ndarray:
    """The digit as 280×280 ink levels, exactly as tests/drawing.canvas_png lays it out."""
    ink = Image.fromarray((np.asarray(image28).reshape(28, 28) * 255).astype(np.uint8), "L")
    ink = ink.resize((HEIGHT, HEIGHT), Image.Resampling.BILINEAR)
    layer = Image.new("L", (SIZE, SIZE), 0)
    layer.paste(ink, AT)
    return np.asarray(layer)


def encoding(png: bytes) -> dict:
    """What an encoder chose: colour type, bit depth, interlace, row filters, zlib level."""
    position, idat, header = 8, b"", b""
    while position < len(png):
        length = int.from_bytes(png[position:position + 4], "big")
        kind, data = png[position + 4:position + 8], png[position + 8:position + 8 + length]
        header = data if kind == b"IHDR" else header
        idat += data if kind == b"IDAT" else b""
        position += 12 + length
    width, height = int.from_bytes(header[:4], "big"), int.from_bytes(header[4:8], "big")
    depth, colour, interlace = header[8], header[9], header[12]
    raw = zlib.decompress(idat)
    stride = len(raw) // height
    filters = sorted({raw[r * stride] for r in range(height)})
    return {"size": [width, height], "depth": depth, "colour_type": colour, "interlace": interlace,
            "filters": filters, "zlib_level_flag": idat[1] >> 6}


def main() -> None:
    from playwright.sync_api import sync_playwright

    from training import mnist

    sys.path.insert(0, str(Path(__file__).resolve().parent / "browser"))
    from pen import CHROMIUM, CHROMIUM_ARGS

    test = mnist.load().test
    indices = [int(i) for i in np.random.default_rng(0).choice(len(test.labels), size=COUNT, replace=False)]
    alphas = [ink_layer(test.images[i]).ravel().tolist() for i in indices]
    white = len(alphas)  # one more, dark ink on an opaque white canvas
    alphas.append(alphas[0])
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        urls = page.evaluate(_DRAW, [alphas, white])
        version = browser.version
        browser.close()
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.png"):
        old.unlink()
    files = []
    for n, url in enumerate(urls):
        index = indices[n if n < white else 0]
        name = f"{'white-' if n == white else ''}{n if n < white else 0:02d}-digit{int(test.labels[index])}.png"
        png = base64.b64decode(url.split(",", 1)[1])
        (OUT / name).write_bytes(png)
        files.append({"file": name, "label": int(test.labels[index]), "mnist_test_index": index,
                      "background": "white" if n == white else "transparent", **encoding(png)})
    manifest = {"chromium": version, "drawn": "tests/chromium_canvases.py", "files": files}
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"wrote {len(files)} canvases from Chromium {version} to {OUT}")


if __name__ == "__main__":
    main()
