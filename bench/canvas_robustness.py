"""Does preprocessing make *where* and *how big* a person draws stop mattering?

    .venv/bin/python bench/canvas_robustness.py            # 2,000 MNIST test digits
    .venv/bin/python bench/canvas_robustness.py --all      # all 10,000
    .venv/bin/python bench/canvas_robustness.py --measure  # MNIST's conventions (CoM, width, box)

Each MNIST test digit is drawn onto a 280×280 canvas the way a person would draw it:
anywhere on the canvas, 40–260 px tall (the longer side of its ink box), with a pen
0.5×–2.5× as wide as the digit's own strokes, anti-aliased, in one of several colour
schemes (black on transparent like Chromium's canvas.toDataURL, dark on white, light on
black, grey on grey, coloured ink, palette and 16-bit PNGs). The PNG goes through
``preprocess.from_png`` and the shipped network. We report the accuracy beside the clean
MNIST accuracy of the same digits, and beside a naive baseline that shrinks the whole
canvas to 28×28 (what a widget without preprocessing does). Seeded; no timing.

How a digit is redrawn (independently of the code under test): the 28×28 digit is
up-sampled 8× (bilinear) and thresholded at 0.5, which traces its strokes; the pen is
changed by iterated 3×3 dilation or erosion at that resolution (alternating square and
cross steps, an octagonal pen); the shape is scaled to the chosen size at 2× the canvas
resolution, placed, and box-filtered down to the canvas, which anti-aliases it.
"""
from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model import preprocess  # noqa: E402
from training import mnist  # noqa: E402
from training.strokes import skeleton  # noqa: E402  (Zhang–Suen thinning)
from model.network import Network  # noqa: E402

WEIGHTS = ROOT / "weights" / "mnist-784-16-16-10.npz"
CANVAS = 280
SUPER = 2          # the canvas is drawn at 2× and box-filtered down (anti-aliasing)
TRACE = 8          # the digit's shape is traced at 8× the 28-grid
SIZES = (40, 260)  # longer side of the ink box on the canvas, px
PEN = (0.5, 2.0)   # stroke width relative to the digit's own, log-uniform
SCHEMES = ("transparent+black", "transparent+colour", "white+dark", "black+white",
           "grey+darker", "grey+lighter", "palette", "grey16")


def _shift(a: np.ndarray, dy: int, dx: int) -> np.ndarray:
    out = np.zeros_like(a)
    h, w = a.shape
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = a[max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def morph(shape: np.ndarray, steps: int) -> np.ndarray:
    """Grow (steps > 0) or shrink (steps < 0) a boolean shape by |steps| pixels (octagonal pen)."""
    grow = steps > 0
    a = shape if grow else ~shape
    cross = [(-1, 0), (1, 0), (0, -1), (0, 1)]
    square = cross + [(-1, -1), (-1, 1), (1, -1), (1, 1)]
    for i in range(abs(steps)):
        out = a.copy()
        for dy, dx in (square if i % 2 else cross):
            out |= _shift(a, dy, dx)
        a = out
    return a if grow else ~a


def pen_stroke(trajectory: np.ndarray, radius: float) -> np.ndarray:
    """Every pixel within about ``radius`` of the trajectory: a round pen drawn along it."""
    image = Image.new("1", (trajectory.shape[1], trajectory.shape[0]), 0)
    draw = ImageDraw.Draw(image)
    r = max(1, int(round(radius)))
    for y, x in np.argwhere(trajectory).tolist():
        draw.ellipse((x - r + 1, y - r + 1, x + r - 1, y + r - 1), fill=1)
    return np.asarray(image, dtype=bool)


def repen(traced: np.ndarray, factor: float, natural: float) -> np.ndarray:
    """The traced digit as if drawn with a pen ``factor`` × as wide (widths in traced pixels).

    Wider: dilation, exactly what a bigger round pen does to the same trajectory. Narrower:
    erosion, united with the centre line drawn with the narrower pen, so that parts already
    thinner than the erosion (faint tails) thin down instead of vanishing.
    """
    steps = int(round((factor - 1.0) * natural / 2.0))
    if steps >= 0:
        return morph(traced, steps) if steps else traced
    return morph(traced, steps) | pen_stroke(skeleton(traced), factor * natural / 2.0)


def draw_digit(x28: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """A 280×280 ink coverage image in [0, 1] of the digit as a person might draw it."""
    img = x28.reshape(28, 28)
    traced = np.asarray(Image.fromarray(img.astype(np.float32)).resize(
        (28 * TRACE, 28 * TRACE), Image.Resampling.BILINEAR)) >= 0.5
    factor = float(np.exp(rng.uniform(np.log(PEN[0]), np.log(PEN[1]))))
    natural = preprocess.stroke_width(img) * TRACE
    shape = repen(np.pad(traced, 2 * TRACE), factor, natural)
    rows, cols = np.flatnonzero(shape.any(axis=1)), np.flatnonzero(shape.any(axis=0))
    shape = shape[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    longer = float(rng.uniform(*SIZES))
    scale = longer * SUPER / max(shape.shape)
    size = (max(1, round(shape.shape[1] * scale)), max(1, round(shape.shape[0] * scale)))
    big = np.asarray(Image.fromarray(shape.astype(np.float32)).resize(size, Image.Resampling.BILINEAR)) >= 0.5
    side = CANVAS * SUPER
    canvas = np.zeros((side, side), dtype=np.float32)
    y = int(rng.integers(0, side - size[1] + 1))
    x = int(rng.integers(0, side - size[0] + 1))
    canvas[y:y + size[1], x:x + size[0]] = big
    coverage = np.asarray(Image.fromarray(canvas).reduce(SUPER))
    return np.clip(coverage, 0.0, 1.0), {"longer": longer, "pen": factor}


def encode(coverage: np.ndarray, scheme: str, rng: np.random.Generator) -> bytes:
    """The coverage as a PNG in the given colour scheme."""
    a = coverage[..., None]
    h, w = coverage.shape
    if scheme == "transparent+black":     # Chromium's toDataURL of a cleared canvas
        rgba = np.concatenate([np.zeros((h, w, 3)), a], axis=2) * [1, 1, 1, 255]
        image = Image.fromarray(np.round(rgba).astype(np.uint8))
    elif scheme == "transparent+colour":
        colour = rng.integers(0, 256, 3)
        rgba = np.concatenate([np.broadcast_to(colour, (h, w, 3)), a * 255], axis=2)
        image = Image.fromarray(np.round(rgba).astype(np.uint8))
    elif scheme in ("white+dark", "black+white", "grey+darker", "grey+lighter"):
        bg, ink = {"white+dark": (255, rng.integers(0, 80)), "black+white": (0, rng.integers(180, 256)),
                   "grey+darker": (rng.integers(150, 220), rng.integers(0, 70)),
                   "grey+lighter": (rng.integers(40, 110), rng.integers(190, 256))}[scheme]
        values = bg + (float(ink) - bg) * coverage
        mode = "RGB" if rng.random() < 0.5 else "L"
        image = Image.fromarray(np.round(values).astype(np.uint8))
        if mode == "RGB":
            image = image.convert("RGB")
        if rng.random() < 0.3:  # an opaque alpha channel that carries nothing
            image = image.convert("RGBA")
    elif scheme == "palette":
        image = Image.fromarray(np.round(255 - 255 * coverage).astype(np.uint8)).convert(
            "P", palette=Image.Palette.ADAPTIVE, colors=16)
    elif scheme == "grey16":
        values = np.round(65535 * (1 - coverage)).astype(np.uint16)
        image = Image.fromarray(values)
    else:
        raise ValueError(scheme)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def naive(coverage: np.ndarray) -> np.ndarray:
    """The baseline: the whole canvas box-filtered to 28×28, no cropping or centring."""
    return np.asarray(Image.fromarray(coverage.astype(np.float32)).resize(
        (28, 28), Image.Resampling.BOX)).ravel()


def measure() -> None:
    """MNIST's own conventions, which model/preprocess copies."""
    train = mnist.load().train.images.reshape(-1, 28, 28).astype(np.float64)
    mass = train.sum(axis=(1, 2))
    cx = train.sum(axis=1) @ np.arange(28) / mass
    cy = train.sum(axis=2) @ np.arange(28) / mass
    inked = train > 0
    def extent(a: np.ndarray) -> np.ndarray:
        return a.shape[1] - a[:, ::-1].argmax(axis=1) - a.argmax(axis=1)
    height, width = extent(inked.any(axis=2)), extent(inked.any(axis=1))
    widths = np.array([preprocess.stroke_width(x) for x in train])
    print(f"MNIST training set, {len(train):,} digits")
    print(f"  centre of mass (index coordinates): x {cx.mean():.3f} ± {cx.std():.3f}, "
          f"y {cy.mean():.3f} ± {cy.std():.3f}   -> TARGET_CENTER {preprocess.TARGET_CENTER}")
    longer = np.maximum(height, width)
    print(f"  longer side of the box of nonzero pixels: 20 px for {np.mean(longer == 20):.2%}, "
          f"19 for {np.mean(longer == 19):.2%}")
    p10, p30, p50, p90 = np.percentile(widths, [10, 30, 50, 90])
    print(f"  stroke width 2·area/perimeter: median {p50:.3f}, 10th {p10:.3f}, 30th {p30:.3f}, 90th {p90:.3f} "
          f"grid px   -> MNIST_STROKE_WIDTH {preprocess.MNIST_STROKE_WIDTH}, WIDTH_BAND {preprocess.WIDTH_BAND}")
    print(f"  ink mass: median {np.median(mass):.1f} px")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=2000, help="how many test digits (default 2000)")
    parser.add_argument("--all", action="store_true", help="all 10,000 test digits")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--weights", type=Path, default=WEIGHTS)
    parser.add_argument("--measure", action="store_true", help="print MNIST's conventions and exit")
    args = parser.parse_args(argv)
    if args.measure:
        measure()
        return 0

    network = Network.load(args.weights)
    test = mnist.load().test
    rng = np.random.default_rng(args.seed)
    n = len(test.labels) if args.all else min(args.n, len(test.labels))
    chosen = np.sort(rng.choice(len(test.labels), n, replace=False)) if n < len(test.labels) else np.arange(n)
    images, labels = test.images[chosen], test.labels[chosen]

    started = time.perf_counter()
    ours, baseline, records, failures = [], [], [], []
    for i, (x, label) in enumerate(zip(images, labels)):
        coverage, drawn = draw_digit(x, rng)
        scheme = SCHEMES[int(rng.integers(len(SCHEMES)))]
        png = encode(coverage, scheme, rng)
        try:
            pixels = preprocess.from_png(png).pixels
        except preprocess.PreprocessError as exc:
            failures.append((int(chosen[i]), scheme, str(exc)))
            pixels = np.zeros(784, np.float32)
        ours.append(pixels)
        baseline.append(naive(coverage))
        records.append({"scheme": scheme, **drawn})
    elapsed = time.perf_counter() - started

    clean = network.predict(images) == labels
    drawn_ok = network.predict(np.array(ours)) == labels
    naive_ok = network.predict(np.array(baseline)) == labels
    print(f"Canvas robustness: {n:,} MNIST test digits redrawn on a {CANVAS}×{CANVAS} canvas "
          f"(seed {args.seed}, {elapsed:.0f} s)")
    print(f"  weights: {args.weights.name}")
    print(f"  clean MNIST 28×28 (the same digits)  {clean.mean():7.2%}")
    print(f"  redrawn → preprocess.from_png          {drawn_ok.mean():7.2%}   "
          f"({100 * (drawn_ok.mean() - clean.mean()):+.2f} points; goal: within 0.5)")
    print(f"  redrawn → naive shrink to 28×28        {naive_ok.mean():7.2%}")
    print(f"  agreement with the clean prediction    "
          f"{np.mean(network.predict(np.array(ours)) == network.predict(images)):7.2%}")
    if failures:
        print(f"  refused as errors: {len(failures)}, e.g. {failures[0]}")

    def table(title: str, key, bins) -> None:
        print(f"  by {title}:")
        for name, test_ in bins:
            mask = np.array([test_(r[key]) for r in records])
            if mask.any():
                print(f"    {name:<22} n={mask.sum():5d}  clean {clean[mask].mean():6.1%}  "
                      f"ours {drawn_ok[mask].mean():6.1%}  naive {naive_ok[mask].mean():6.1%}")
    table("size (longer side, px)", "longer",
          [(f"{lo}–{hi}", (lambda v, lo=lo, hi=hi: lo <= v < hi)) for lo, hi in
           ((40, 80), (80, 120), (120, 160), (160, 200), (200, 261))])
    table("pen (× the digit's own width)", "pen",
          [(f"{lo}–{hi}", (lambda v, lo=lo, hi=hi: lo <= v < hi)) for lo, hi in
           ((0.5, 0.7), (0.7, 1.0), (1.0, 1.4), (1.4, 2.0), (2.0, 2.51))])
    table("colour scheme", "scheme", [(s, (lambda v, s=s: v == s)) for s in SCHEMES])
    return 0


if __name__ == "__main__":
    sys.exit(main())
