"""Seeded noise: tileable 2D fields for textures, smooth 3D value noise for shapes, hashed knobs.

Everything here is a pure function of its seed, so the same kit replays to the same bytes. Texture
noise is made by spectral synthesis (filtered random spectrum, one inverse FFT): it tiles by
construction and costs one FFT per two fields, which keeps 1K texture synthesis well under a second.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from functools import lru_cache
from typing import TypeVar

import numpy as np
import scipy.fft as sfft

F32 = np.float32
T = TypeVar("T")


def derive_seed(*parts: object) -> int:
    """A 64-bit integer from any printable parts (seed, asset name, purpose): order-independent of calls."""
    digest = hashlib.blake2b("\x1f".join(str(p) for p in parts).encode(), digest_size=8).digest()
    return int(struct.unpack("<Q", digest)[0])


class Knobs:
    """Named random choices for one asset: `u("leg_h", 0.8, 1.0)` always returns the same value for the
    same seed and name, whatever else was drawn before. Recipes can therefore skip details at lower LODs
    without shifting any other variation (LOD1 is the same object as LOD0, only coarser)."""

    def __init__(self, *scope: object) -> None:
        self._scope = "\x1e".join(str(s) for s in scope)

    def _unit(self, key: str) -> float:
        digest = hashlib.blake2b(f"{self._scope}\x1d{key}".encode(), digest_size=8).digest()
        return (int(struct.unpack("<Q", digest)[0]) >> 11) / float(1 << 53)

    def u(self, key: str, lo: float = 0.0, hi: float = 1.0) -> float:
        return lo + (hi - lo) * self._unit(key)

    def i(self, key: str, lo: int, hi: int) -> int:
        """Integer in [lo, hi], both included."""
        return lo + min(int(self._unit(key) * (hi - lo + 1)), hi - lo)

    def chance(self, key: str, p: float) -> bool:
        return self._unit(key) < p

    def choice(self, key: str, options: Sequence[T]) -> T:
        return options[self.i(key, 0, len(options) - 1)]

    def normal(self, key: str, mu: float = 0.0, sigma: float = 1.0) -> float:
        a = max(self._unit(key + "#a"), 1e-12)
        b = self._unit(key + "#b")
        return mu + sigma * float(np.sqrt(-2.0 * np.log(a)) * np.cos(2.0 * np.pi * b))

    def child(self, *scope: object) -> Knobs:
        return Knobs(self._scope, *scope)


SPECTRUM = 256  # noise spectra are drawn at this size: the same seed looks the same at 512, 1K and 2K


@lru_cache(maxsize=8)
def _frequencies(m: int) -> tuple[np.ndarray, np.ndarray]:
    f = (sfft.fftfreq(m) * m).astype(F32)
    fy, fx = np.meshgrid(f, f, indexing="ij")
    return fx, fy


def spectral_pair(
    rng: np.random.Generator,
    n: int,
    beta: float = 1.6,
    cutoff: float | None = None,
    low: float = 1.0,
    stretch: tuple[float, float] = (1.0, 1.0),
) -> tuple[np.ndarray, np.ndarray]:
    """Two independent tileable noise fields (n x n, zero mean, unit std, float32).

    `beta` is the spectral slope (higher = smoother), `cutoff` a soft upper frequency in cycles per
    tile (band-limiting keeps PNGs small), `low` the lowest frequency kept, and `stretch` scales the
    x / y frequencies (stretch=(6, 1) gives features elongated along x, like wood grain). The spectrum
    is drawn at SPECTRUM x SPECTRUM and zero-padded to n, so the field does not depend on n.
    """
    m = min(SPECTRUM, n)
    fx, fy = _frequencies(m)
    k = np.hypot(fx * stretch[0], fy * stretch[1])
    k[0, 0] = 1.0
    amp = np.power(k, -beta, dtype=F32)
    if cutoff is not None:
        amp *= np.exp(-((k / cutoff) ** 2)).astype(F32)
    amp[k < low] = 0.0
    amp[0, 0] = 0.0
    amp[m // 2, :] = 0.0  # drop the Nyquist row/column: embedding stays Hermitian-free and exact
    amp[:, m // 2] = 0.0
    small = (rng.standard_normal((m, m), dtype=F32) + 1j * rng.standard_normal((m, m), dtype=F32)) * amp
    if m == n:
        spec = small.astype(np.complex64)
    else:
        h = m // 2
        spec = np.zeros((n, n), dtype=np.complex64)
        spec[:h, :h] = small[:h, :h]
        spec[:h, -h:] = small[:h, -h:]
        spec[-h:, :h] = small[-h:, :h]
        spec[-h:, -h:] = small[-h:, -h:]
    field = sfft.ifft2(spec, workers=2)
    out = []
    for part in (field.real, field.imag):
        part = part.astype(F32)
        part -= part.mean()
        std = float(part.std())
        out.append(part / std if std > 0 else part)
    return out[0], out[1]


def worley(rng: np.random.Generator, n: int, cells: int, jitter: float = 0.8,
           max_res: int = 512) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tileable cellular noise on a `cells` x `cells` jittered grid.

    Returns (F1, F2, cell_id): distances to the nearest and second-nearest feature point in cell units
    and the id (0..cells²-1) of the nearest cell, for stones, cobbles and leaves. Computed at most at
    `max_res` and upsampled (distances bilinearly, ids by nearest): cells span tens of pixels there.
    """
    m = min(n, max_res)
    pts = (0.5 + (rng.random((cells, cells, 2), dtype=F32) - 0.5) * jitter).astype(F32)
    coord = (np.arange(m, dtype=F32) + 0.5) * (cells / m)
    cy, cx = np.meshgrid(coord, coord, indexing="ij")
    iy = np.floor(cy).astype(np.int32)
    ix = np.floor(cx).astype(np.int32)
    fy = cy - iy
    fx = cx - ix
    d1 = np.full((m, m), 81.0, dtype=F32)  # squared distances
    d2 = np.full((m, m), 81.0, dtype=F32)
    cid = np.zeros((m, m), dtype=np.int32)
    for oy in (-1, 0, 1):
        jy = (iy + oy) % cells
        for ox in (-1, 0, 1):
            jx = (ix + ox) % cells
            p = pts[jy, jx]
            dy = (oy - fy) + p[..., 1]
            dx = (ox - fx) + p[..., 0]
            d = dx * dx + dy * dy
            closer = d < d1
            np.copyto(d2, np.where(closer, d1, np.minimum(d2, d)))
            np.copyto(cid, jy * cells + jx, where=closer)
            np.copyto(d1, d, where=closer)
    f1, f2 = np.sqrt(d1), np.sqrt(d2)
    if m == n:
        return f1, f2, cid
    k = n // m
    return _upsample(f1, k), _upsample(f2, k), np.repeat(np.repeat(cid, k, axis=0), k, axis=1)


def _upsample(a: np.ndarray, k: int) -> np.ndarray:
    """Bilinear, wrapping upsampling by an integer factor (texel centres stay aligned)."""
    from scipy import ndimage

    return ndimage.zoom(a, k, order=1, mode="grid-wrap", grid_mode=True).astype(F32)


class ValueNoise3:
    """Smooth 3D value noise (quintic-interpolated lattice) for deforming shapes: rocks, trunks, dents."""

    def __init__(self, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self._perm = rng.permutation(256).astype(np.int64)
        self._vals = rng.uniform(-1.0, 1.0, 256)

    def _lattice(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        p = self._perm
        return self._vals[p[(p[(p[x & 255] + y) & 255] + z) & 255]]

    def __call__(self, pts: np.ndarray, freq: float = 1.0, octaves: int = 3) -> np.ndarray:
        """Noise in about [-1, 1] at points (n, 3) in metres; `freq` in cycles per metre."""
        total = np.zeros(len(pts))
        amp, norm, f = 1.0, 0.0, freq
        for _ in range(octaves):
            total += amp * self._single(np.asarray(pts, dtype=np.float64) * f)
            norm += amp
            amp *= 0.5
            f *= 2.0
        return total / norm

    def _single(self, q: np.ndarray) -> np.ndarray:
        base = np.floor(q)
        t = q - base
        w = t * t * t * (t * (t * 6.0 - 15.0) + 10.0)
        ix, iy, iz = (base[:, k].astype(np.int64) for k in range(3))
        out = np.zeros(len(q))
        for dz in (0, 1):
            wz = w[:, 2] if dz else 1.0 - w[:, 2]
            for dy in (0, 1):
                wy = w[:, 1] if dy else 1.0 - w[:, 1]
                for dx in (0, 1):
                    wx = w[:, 0] if dx else 1.0 - w[:, 0]
                    out += wx * wy * wz * self._lattice(ix + dx, iy + dy, iz + dz)
        return out
