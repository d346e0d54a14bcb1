"""Letters and symbols that are no digit, as pen-stroke templates, and how a person draws them.

The ``glyph`` kind of :mod:`training.nondigits`. A template is a list of strokes, each a
polyline in the unit box (x right, y down). :data:`GLYPHS` serve the train and choose splits;
:data:`GLYPHS_UNSEEN`, other letters and symbols, only the held-out split, so that it measures
letters the network was never shown. Never O, I, S, Z, B, G, l, q, g, b or anything else a
person could fairly read as a digit. :func:`jitter` draws a template as a hand would:
slanted, stretched, rotated a little, wobbly.
"""
from __future__ import annotations

import math

import numpy as np

from training.canvas import resample


def _arc(cx, cy, rx, ry, a0, a1, n=24) -> np.ndarray:
    """Points of an elliptic arc from angle a0 to a1 (degrees; 0 = right, 90 = down)."""
    t = np.deg2rad(np.linspace(a0, a1, n))
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def _glyphs_seen() -> dict[str, list[np.ndarray]]:
    a = np.array
    return {
        "A": [a([(0, 1), (0.5, 0), (1, 1)]), a([(0.22, 0.6), (0.78, 0.6)])],
        "E": [a([(1, 0), (0, 0), (0, 1), (1, 1)]), a([(0, 0.5), (0.75, 0.5)])],
        "F": [a([(1, 0), (0, 0), (0, 1)]), a([(0, 0.5), (0.7, 0.5)])],
        "H": [a([(0, 0), (0, 1)]), a([(1, 0), (1, 1)]), a([(0, 0.5), (1, 0.5)])],
        "K": [a([(0, 0), (0, 1)]), a([(0.9, 0), (0.05, 0.55)]), a([(0.3, 0.4), (1, 1)])],
        "M": [a([(0, 1), (0, 0), (0.5, 0.6), (1, 0), (1, 1)])],
        "N": [a([(0, 1), (0, 0), (1, 1), (1, 0)])],
        "W": [a([(0, 0), (0.25, 1), (0.5, 0.35), (0.75, 1), (1, 0)])],
        "X": [a([(0, 0), (1, 1)]), a([(1, 0), (0, 1)])],
        "Y": [a([(0, 0), (0.5, 0.5), (1, 0)]), a([(0.5, 0.5), (0.5, 1)])],
        "k": [a([(0, 0), (0, 1)]), a([(0.7, 0.4), (0.05, 0.75), (0.75, 1)])],
        "m": [a([(0, 1), (0, 0.35)]),
              np.concatenate([_arc(0.25, 0.55, 0.25, 0.25, 180, 360), a([(0.5, 1)])]),
              np.concatenate([a([(0.5, 0.55)]), _arc(0.75, 0.55, 0.25, 0.25, 180, 360), a([(1, 1)])])],
        "w": [a([(0, 0.3), (0.2, 1), (0.5, 0.5), (0.8, 1), (1, 0.3)])],
        "+": [a([(0.5, 0), (0.5, 1)]), a([(0, 0.5), (1, 0.5)])],
        "*": [a([(0.5, 0), (0.5, 1)]), a([(0.07, 0.25), (0.93, 0.75)]), a([(0.93, 0.25), (0.07, 0.75)])],
        "#": [a([(0.35, 0), (0.25, 1)]), a([(0.75, 0), (0.65, 1)]), a([(0, 0.33), (1, 0.33)]),
              a([(0, 0.67), (1, 0.67)])],
        "=": [a([(0, 0.3), (1, 0.3)]), a([(0, 0.7), (1, 0.7)])],
        "?": [np.concatenate([_arc(0.5, 0.25, 0.4, 0.25, 180, 400), a([(0.5, 0.7)])]), a([(0.5, 0.95)])],
        "%": [a([(0.9, 0), (0.1, 1)]), _arc(0.2, 0.2, 0.15, 0.15, 0, 360), _arc(0.8, 0.8, 0.15, 0.15, 0, 360)],
        "@": [np.concatenate([_arc(0.5, 0.5, 0.2, 0.2, 0, 360), a([(0.7, 0.75)]),
                              _arc(0.5, 0.5, 0.48, 0.48, 30, 330, 40)])],
        "triangle": [a([(0.5, 0), (1, 1), (0, 1), (0.5, 0)])],
        "star": [a([(0.5, 0), (0.8, 1), (0, 0.35), (1, 0.35), (0.2, 1), (0.5, 0)])],
        "arrow": [a([(0, 0.5), (1, 0.5)]), a([(0.65, 0.15), (1, 0.5), (0.65, 0.85)])],
        "heart": [np.concatenate([a([(0.5, 1)]), _arc(0.27, 0.3, 0.25, 0.25, 135, 360),
                                  _arc(0.73, 0.3, 0.25, 0.25, 180, 405), a([(0.5, 1)])])],
        "smiley": [_arc(0.5, 0.5, 0.5, 0.5, 0, 360, 40), a([(0.33, 0.35)]), a([(0.67, 0.35)]),
                   _arc(0.5, 0.55, 0.25, 0.2, 20, 160)],
        "check": [a([(0, 0.6), (0.35, 1), (1, 0)])],
        "tilde": [np.stack([np.linspace(0, 1, 40), 0.5 + 0.25 * np.sin(np.linspace(0, 3 * np.pi, 40))], 1)],
    }


def _glyphs_unseen() -> dict[str, list[np.ndarray]]:
    a = np.array
    return {
        "V": [a([(0, 0), (0.5, 1), (1, 0)])],
        "P": [np.concatenate([a([(0, 1), (0, 0), (0.6, 0)]), _arc(0.6, 0.27, 0.35, 0.27, 270, 450),
                              a([(0, 0.54)])])],
        "R": [np.concatenate([a([(0, 1), (0, 0), (0.6, 0)]), _arc(0.6, 0.25, 0.35, 0.25, 270, 450),
                              a([(0, 0.5)])]), a([(0.35, 0.5), (1, 1)])],
        "h": [a([(0, 0), (0, 1)]), np.concatenate([_arc(0.45, 0.6, 0.45, 0.25, 180, 360), a([(0.9, 1)])])],
        "n": [a([(0, 0.3), (0, 1)]), np.concatenate([_arc(0.5, 0.55, 0.5, 0.3, 180, 360), a([(1, 1)])])],
        "÷": [a([(0, 0.5), (1, 0.5)]), a([(0.5, 0.15)]), a([(0.5, 0.85)])],
        "π": [a([(0, 0.1), (1, 0.1)]), a([(0.3, 0.1), (0.25, 1)]), a([(0.7, 0.1), (0.75, 1)])],
        "Σ": [a([(1, 0), (0, 0), (0.5, 0.5), (0, 1), (1, 1)])],
        "<": [a([(1, 0), (0, 0.5), (1, 1)])],
        "up-arrow": [a([(0.5, 1), (0.5, 0)]), a([(0.15, 0.35), (0.5, 0), (0.85, 0.35)])],
        "sun": [_arc(0.5, 0.5, 0.2, 0.2, 0, 360, 30)] + [
            a([(0.5 + 0.3 * math.cos(t), 0.5 + 0.3 * math.sin(t)), (0.5 + 0.5 * math.cos(t), 0.5 + 0.5 * math.sin(t))])
            for t in np.linspace(0, 2 * np.pi, 8, endpoint=False)],
        "house": [a([(0, 1), (0, 0.4), (0.5, 0), (1, 0.4), (1, 1), (0, 1)]), a([(0.4, 1), (0.4, 0.65), (0.6, 0.65), (0.6, 1)])],
    }


GLYPHS = _glyphs_seen()
GLYPHS_UNSEEN = _glyphs_unseen()


def jitter(paths: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """A template as a person might draw it: slanted, stretched, rotated a little, wobbly."""
    angle = np.deg2rad(rng.uniform(-12, 12))
    shear = rng.uniform(-0.25, 0.25)
    aspect = np.exp(rng.uniform(-0.35, 0.35))
    m = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) @ \
        np.array([[aspect, shear], [0, 1 / aspect]])
    field = rng.normal(0, 0.03, (2, 3, 3))  # a smooth wobble: a 3×3 random field, bilinear

    def wobble(p):
        g = np.clip(p, 0, 1) * 2
        i = np.minimum(g.astype(int), 1)
        f = g - i
        out = []
        for c in (0, 1):
            v = field[c]
            out.append(v[i[:, 1], i[:, 0]] * (1 - f[:, 0]) * (1 - f[:, 1]) + v[i[:, 1], i[:, 0] + 1] * f[:, 0] * (1 - f[:, 1])
                       + v[i[:, 1] + 1, i[:, 0]] * (1 - f[:, 0]) * f[:, 1] + v[i[:, 1] + 1, i[:, 0] + 1] * f[:, 0] * f[:, 1])
        return p + np.stack(out, 1)

    out = []
    for p in paths:
        p = resample(p, 0.02) if len(p) > 1 else p
        out.append((wobble(p) + rng.normal(0, 0.004, p.shape)) @ m.T)
    return out
