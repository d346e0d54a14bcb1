"""Random distortions of MNIST digits, vectorized over a batch (numpy only).

The page sends digits that our preprocessing has already cropped, fitted into 20×20 and
centred by centre of mass, so the distortions that matter are the ones preprocessing does
*not* undo: small residual shifts and rotations, a little change of size and aspect, wobbly
strokes (elastic), and above all stroke thickness (a mouse, a finger and a pen draw very
different widths). Everything here maps a batch ``(N, 784)`` float32 in [0, 1] to a batch
of the same shape, drawing all randomness from the ``numpy.random.Generator`` it is given,
so a seeded run is reproducible.

Geometry: for every output pixel we compute where it comes from in the source image
(inverse affine map + a smooth displacement field) and read the source by bilinear
interpolation with zeros outside the 28×28 square. Thickness: a grey-level dilation or
erosion (3×3 cross), blended with the original by a random amount so widths vary
continuously rather than in whole pixels.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

SIDE = 28
CENTRE = (SIDE - 1) / 2.0  # 13.5: the middle of the pixel grid
PAD = 2                    # zero border so bilinear reads never leave the array
_GRID_Y, _GRID_X = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32)
_GRID_X = (_GRID_X.ravel() - CENTRE)[None, :]  # (1, 784), centred coordinates
_GRID_Y = (_GRID_Y.ravel() - CENTRE)[None, :]


@dataclass(frozen=True)
class Augmentation:
    """How strongly to distort; every field is recorded in the model card.

    ``probability`` is the chance that a given image is distorted at all; within a
    distorted image every kind of distortion is drawn independently.
    """

    probability: float = 0.5
    max_shift: float = 1.0          # pixels, uniform in [-max_shift, max_shift] per axis
    max_rotation: float = 8.0       # degrees, uniform in [-max_rotation, max_rotation]
    scale: tuple[float, float] = (0.95, 1.05)   # isotropic size change, uniform
    max_aspect: float = 0.03        # extra x/y stretch, exp(uniform(±max_aspect))
    max_shear: float = 0.0          # shear factor, uniform in [-max_shear, max_shear]
    elastic: float = 1.5            # largest elastic displacement, pixels (≈, smooth field)
    elastic_grid: int = 4           # the random field is drawn on a grid this coarse
    thickness_probability: float = 0.3  # chance of a dilation or erosion (half each)

    def as_dict(self) -> dict:
        return asdict(self)


def _bilinear_matrix(n_coarse: int, n_fine: int = SIDE) -> np.ndarray:
    """(n_fine, n_coarse) matrix that linearly interpolates a coarse 1-D grid to a fine one."""
    m = np.zeros((n_fine, n_coarse), dtype=np.float32)
    pos = np.linspace(0, n_coarse - 1, n_fine)
    lo = np.minimum(np.floor(pos).astype(int), n_coarse - 2)
    frac = pos - lo
    m[np.arange(n_fine), lo] = 1 - frac
    m[np.arange(n_fine), lo + 1] = frac
    return m


def _upsampler(n_coarse: int) -> np.ndarray:
    """(n_coarse², 784) matrix: a coarse field (row-major) @ it = the bilinear 28×28 field."""
    m = _bilinear_matrix(n_coarse)
    return np.kron(m, m).T.astype(np.float32)


def sample_coordinates(n: int, rng: np.random.Generator, aug: Augmentation) -> tuple[np.ndarray, np.ndarray]:
    """Source coordinates ``(xs, ys)``, each (n, 784), for n random geometric distortions."""
    angle = np.deg2rad(rng.uniform(-aug.max_rotation, aug.max_rotation, n)).astype(np.float32)
    scale = rng.uniform(aug.scale[0], aug.scale[1], n).astype(np.float32)
    aspect = np.exp(rng.uniform(-aug.max_aspect, aug.max_aspect, n)).astype(np.float32)
    shear = rng.uniform(-aug.max_shear, aug.max_shear, n).astype(np.float32)
    shift = rng.uniform(-aug.max_shift, aug.max_shift, (n, 2)).astype(np.float32)
    # Output = A · source + shift, about the centre; we need source = A⁻¹ (output − shift).
    sx, sy = scale * aspect, scale / aspect
    cos, sin = np.cos(angle), np.sin(angle)
    # A = rotation · [[1, shear], [0, 1]] · diag(sx, sy)
    a11, a12 = cos * sx, (cos * shear - sin) * sy
    a21, a22 = sin * sx, (sin * shear + cos) * sy
    det = a11 * a22 - a12 * a21
    i11, i12, i21, i22 = a22 / det, -a12 / det, -a21 / det, a11 / det
    ox = _GRID_X - shift[:, :1]
    oy = _GRID_Y - shift[:, 1:]
    xs = i11[:, None] * ox + i12[:, None] * oy
    ys = i21[:, None] * ox + i22[:, None] * oy
    if aug.elastic > 0:
        g = aug.elastic_grid
        # A unit-variance coarse field interpolated bilinearly stays within about ±1.6;
        # scaling by elastic/1.6 keeps typical displacements at or below ``elastic``.
        field = rng.standard_normal((2 * n, g * g), dtype=np.float32) * np.float32(aug.elastic / 1.6)
        disp = field @ _upsampler(g)
        xs += disp[:n]
        ys += disp[n:]
    return xs + CENTRE, ys + CENTRE


def warp(images: np.ndarray, xs: np.ndarray, ys: np.ndarray, chunk: int = 512) -> np.ndarray:
    """Read ``images`` (n, 784) at source coordinates (n, 784) by bilinear interpolation.

    Works in chunks of ``chunk`` images so the gathers stay in cache (about 4× faster
    than one big gather over the whole batch).
    """
    n = images.shape[0]
    side = SIDE + 2 * PAD
    out = np.empty((n, SIDE * SIDE), dtype=np.float32)
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        k = stop - start
        x = np.clip(xs[start:stop], -PAD, SIDE + PAD - 1.001)
        y = np.clip(ys[start:stop], -PAD, SIDE + PAD - 1.001)
        x0 = np.floor(x)
        y0 = np.floor(y)
        fx = x - x0
        fy = y - y0
        padded = np.zeros((k, side, side), dtype=np.float32)
        padded[:, PAD:PAD + SIDE, PAD:PAD + SIDE] = images[start:stop].reshape(k, SIDE, SIDE)
        padded = padded.ravel()
        i00 = (((y0 + PAD) * side + (x0 + PAD)).astype(np.int32)
               + (np.arange(k, dtype=np.int32) * side * side)[:, None])
        p00, p01 = padded[i00], padded[i00 + 1]
        p10, p11 = padded[i00 + side], padded[i00 + side + 1]
        top = p00 + (p01 - p00) * fx
        bottom = p10 + (p11 - p10) * fx
        out[start:stop] = top + (bottom - top) * fy
    return out


def _cross_filter(images: np.ndarray, reduce) -> np.ndarray:
    """``reduce`` (np.maximum or np.minimum) over each pixel's 3×3 cross, zeros outside."""
    n = images.shape[0]
    p = np.zeros((n, SIDE + 2, SIDE + 2), dtype=np.float32)
    p[:, 1:-1, 1:-1] = images.reshape(n, SIDE, SIDE)
    out = reduce(p[:, 1:-1, 1:-1], p[:, :-2, 1:-1])
    for neighbour in (p[:, 2:, 1:-1], p[:, 1:-1, :-2], p[:, 1:-1, 2:]):
        reduce(out, neighbour, out=out)
    return out.reshape(n, SIDE * SIDE)


def thicken_or_thin(images: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """Blend each image towards its dilation (amount > 0) or erosion (amount < 0).

    ``amount`` (n,) in [-1, 1]; 0 leaves the image unchanged. A fractional amount gives a
    stroke width between the original and one pixel wider (or narrower).
    """
    out = np.array(images, dtype=np.float32)
    for sign, reduce in ((1, np.maximum), (-1, np.minimum)):
        rows = np.flatnonzero(amount * sign > 0)
        if rows.size:
            t = np.abs(amount[rows]).astype(np.float32)[:, None]
            target = _cross_filter(out[rows], reduce)
            out[rows] += t * (target - out[rows])
    return out


def augment(images: np.ndarray, rng: np.random.Generator, aug: Augmentation) -> np.ndarray:
    """A distorted copy of ``images`` (n, 784); about ``aug.probability`` of them change."""
    images = np.asarray(images, dtype=np.float32)
    n = images.shape[0]
    out = images.copy()
    chosen = np.flatnonzero(rng.random(n) < aug.probability)
    if chosen.size == 0:
        return out
    xs, ys = sample_coordinates(chosen.size, rng, aug)
    warped = warp(images[chosen], xs, ys)
    kind = rng.random(chosen.size)
    strength = rng.uniform(0.0, 1.0, chosen.size)
    half = aug.thickness_probability / 2
    amount = np.where(kind < half, strength, np.where(kind < 2 * half, -strength, 0.0))
    if aug.thickness_probability > 0:
        warped = thicken_or_thin(warped, amount)
    out[chosen] = np.clip(warped, 0.0, 1.0)
    return out
