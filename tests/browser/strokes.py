"""Hand-written digits as pen paths, for driving the page like a person would.

Each digit is a list of strokes; each stroke is a list of (x, y) in a unit box
(0..1 both ways, y down), shaped and ordered the way people write them: a 0 is
one loop that overshoots where it began, a 7 is a bar then a slanted downstroke, a
4 is "down-and-across" then a long vertical. ``place`` maps them onto the canvas at
any position and size, so the tests can check that neither matters.
"""
from __future__ import annotations

import math
import random


def _curve(points, n=24):
    """Catmull-Rom through the control points: a smooth pen path with n samples per span."""
    pts = [points[0], *points, points[-1]]
    out = []
    for i in range(1, len(pts) - 2):
        p0, p1, p2, p3 = pts[i - 1], pts[i], pts[i + 1], pts[i + 2]
        for k in range(n):
            t = k / n
            t2, t3 = t * t, t * t * t
            out.append(tuple(
                0.5 * (2 * p1[j] + (-p0[j] + p2[j]) * t + (2 * p0[j] - 5 * p1[j] + 4 * p2[j] - p3[j]) * t2
                       + (-p0[j] + 3 * p1[j] - 3 * p2[j] + p3[j]) * t3) for j in range(2)))
    out.append(points[-1])
    return out


def _line(a, b, n=16):
    return [(a[0] + (b[0] - a[0]) * k / n, a[1] + (b[1] - a[1]) * k / n) for k in range(n + 1)]


def _loop(cx, cy, rx, ry, start=-100.0, sweep=-380.0, tilt=12.0, n=64):
    """An ellipse traced from angle `start` through `sweep` degrees (negative: anticlockwise
    on screen, as most people write a 0), tilted by `tilt` degrees."""
    c, s = math.cos(math.radians(tilt)), math.sin(math.radians(tilt))
    out = []
    for k in range(n + 1):
        a = math.radians(start + sweep * k / n)
        x, y = rx * math.cos(a), ry * math.sin(a)
        out.append((cx + x * c - y * s, cy + x * s + y * c))
    return out


DIGITS: dict[int, list[list[tuple[float, float]]]] = {
    0: [_loop(0.5, 0.5, 0.30, 0.45)],
    1: [_curve([(0.44, 0.14), (0.52, 0.02), (0.50, 0.45), (0.47, 0.98)], 14)],
    2: [_curve([(0.16, 0.28), (0.35, 0.05), (0.70, 0.06), (0.78, 0.30), (0.55, 0.60),
                (0.18, 0.95), (0.50, 0.92), (0.88, 0.93)], 12)],
    3: [_curve([(0.18, 0.14), (0.50, 0.02), (0.78, 0.18), (0.70, 0.38), (0.42, 0.48),
                (0.76, 0.58), (0.80, 0.82), (0.50, 0.98), (0.15, 0.86)], 12)],
    4: [_line((0.56, 0.02), (0.14, 0.64), 18) + _line((0.14, 0.64), (0.90, 0.62), 18)[1:],
        _line((0.70, 0.24), (0.66, 1.0), 22)],
    7: [_line((0.12, 0.08), (0.86, 0.06), 18) + _curve([(0.86, 0.06), (0.62, 0.45), (0.42, 0.98)], 16)[1:]],
}


def closed_four(t: float = 1.0):
    """A 4 whose open top is closed by a bar reaching fraction `t` of the way across to a
    long vertical that starts at the top: it looks as much like a 9 as a 4 (a real, honest
    ambiguity: the network lights both outputs)."""
    down_across, _ = DIGITS[4]
    (ax, ay), (bx, by) = (0.56, 0.02), (0.70, 0.0)
    bar = [(ax + (bx - ax) * t * j / 10, ay + (by - ay) * t * j / 10) for j in range(11)]
    return [down_across, _line((0.70, 0.0), (0.66, 1.0), 22), bar]


def cross():
    """An X: two crossing strokes, no digit."""
    return [_line((0.1, 0.1), (0.9, 0.9), 16), _line((0.9, 0.1), (0.1, 0.9), 16)]


def spiral(turns: float = 4.8):
    """A scribbled spiral from the middle outwards, no digit."""
    n = 200
    return [[(0.5 + 0.45 * (k / n) * math.cos(2 * math.pi * turns * k / n),
              0.5 + 0.45 * (k / n) * math.sin(2 * math.pi * turns * k / n)) for k in range(n + 1)]]


def scribble(seed: int = 0, n: int = 60):
    """A random walk with momentum, as a bored hand scribbles (seeded: the same every run)."""
    rng = random.Random(seed)
    x, y, vx, vy, points = 0.5, 0.5, 0.0, 0.0, []
    for _ in range(n):
        vx, vy = 0.8 * vx + rng.gauss(0, 0.05), 0.8 * vy + rng.gauss(0, 0.05)
        x, y = min(max(x + vx, 0.0), 1.0), min(max(y + vy, 0.0), 1.0)
        points.append((x, y))
    return [points]


def european_one():
    """A 1 written with a flag, as much of Europe writes it: the network reads it as a 7, with
    little confidence (MNIST's 1s are mostly bare strokes), and ten steps of gradient descent
    toward 1 on a what-if copy change its mind."""
    return [_line((0.25, 0.26), (0.6, 0.05), 10) + _line((0.6, 0.05), (0.6, 1.0), 20)]


def place(digit, x: float, y: float, size: float, aspect: float = 0.75):
    """The strokes of `digit` (a digit, or strokes in the unit box) in a box `size` tall,
    `size * aspect` wide, top-left at (x, y)."""
    w, h = size * aspect, size
    unit = DIGITS[digit] if isinstance(digit, int) else digit
    return [[(x + px * w, y + py * h) for px, py in stroke] for stroke in unit]
