"""sRGB <-> OKLab (Björn Ottosson, 2020) in numpy: a perceptual space for palette distances.

OKLab makes "lightness", "chroma" and "distance between two colours" mean what a person sees,
so palette diversity and brightness/saturation agreement are measured there.
"""

from __future__ import annotations

import numpy as np

_M1 = np.array(
    [
        [0.4122214708, 0.5363325363, 0.0514459929],
        [0.2119034982, 0.6806995451, 0.1073969566],
        [0.0883024619, 0.2817188376, 0.6299787005],
    ]
)
_M2 = np.array(
    [
        [0.2104542553, 0.7936177850, -0.0040720468],
        [1.9779984951, -2.4285922050, 0.4505937099],
        [0.0259040371, 0.7827717662, -0.8086757660],
    ]
)
_M1_INV = np.linalg.inv(_M1)
_M2_INV = np.linalg.inv(_M2)


def srgb_to_linear(c: np.ndarray) -> np.ndarray:
    c = np.asarray(c, dtype=np.float64)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(c: np.ndarray) -> np.ndarray:
    c = np.clip(np.asarray(c, dtype=np.float64), 0.0, 1.0)
    return np.where(c <= 0.0031308, 12.92 * c, 1.055 * np.power(c, 1 / 2.4) - 0.055)


def linear_to_oklab(rgb: np.ndarray) -> np.ndarray:
    lms = np.asarray(rgb, dtype=np.float64) @ _M1.T
    return np.cbrt(lms) @ _M2.T


def oklab_to_linear(lab: np.ndarray) -> np.ndarray:
    lms = (np.asarray(lab, dtype=np.float64) @ _M2_INV.T) ** 3
    return lms @ _M1_INV.T


def hex_to_rgb(hexv: str) -> np.ndarray:
    return np.array([int(hexv[i : i + 2], 16) / 255.0 for i in (1, 3, 5)])


def hex_to_oklab(hexv: str) -> np.ndarray:
    return linear_to_oklab(srgb_to_linear(hex_to_rgb(hexv)))


def in_gamut(lab: np.ndarray, eps: float = 1e-4) -> np.ndarray:
    rgb = oklab_to_linear(lab)
    return np.all((rgb >= -eps) & (rgb <= 1 + eps), axis=-1)


def gamut_map(lab: np.ndarray, steps: int = 14) -> np.ndarray:
    """Bring OKLab colours into sRGB by lowering chroma at constant lightness and hue (bisection).

    14 halvings resolve chroma to 1/16384 of its value: far below one 8-bit sRGB step.
    """
    out = np.array(lab, dtype=np.float64, ndmin=2)
    out[:, 0] = np.clip(out[:, 0], 0.0, 1.0)
    bad = ~in_gamut(out)
    if bad.any():
        sub = out[bad]
        lo = np.zeros(len(sub))
        hi = np.ones(len(sub))
        for _ in range(steps):
            mid = (lo + hi) / 2
            trial = sub.copy()
            trial[:, 1:] *= mid[:, None]
            good = in_gamut(trial)
            lo = np.where(good, mid, lo)
            hi = np.where(good, hi, mid)
        sub[:, 1:] *= lo[:, None]
        out[bad] = sub
    return out


def oklab_to_hex(lab: np.ndarray) -> list[str]:
    """OKLab rows -> '#rrggbb' (gamut-mapped first)."""
    srgb = linear_to_srgb(oklab_to_linear(gamut_map(lab)))
    ints = np.clip(np.round(srgb * 255.0), 0, 255).astype(int)
    return ["#{:02x}{:02x}{:02x}".format(*row) for row in ints]
