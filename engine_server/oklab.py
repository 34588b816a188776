"""sRGB <-> OKLab (Björn Ottosson, 2020) in plain numpy: the one place Motif converts colours.

OKLab makes "lightness", "chroma" and "distance between two colours" mean what a person sees, so the
encoder's palettes, the sketch reader, the renderer's grade and the coherence analysers all work in it.
It is two 3x3 matrices and a cube root, cheap enough for every pixel of a frame, and it needs no
colour-science import (~2 s) on the decode path.

Precision follows the input: float32 arrays (frames, textures) stay float32 for speed; anything else
(hex colours, latent palettes) is computed in float64.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# linear sRGB -> LMS -> OKLab (Ottosson 2020, M1 then M2)
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


def _array(c: np.ndarray | Sequence[float]) -> np.ndarray:
    a = np.asarray(c)
    return a if a.dtype == np.float32 else a.astype(np.float64)


def srgb_to_linear(c: np.ndarray | Sequence[float]) -> np.ndarray:
    """sRGB transfer (0..1) to linear light."""
    c = _array(c)
    return np.where(c <= 0.04045, c / 12.92, ((np.maximum(c, 0.0) + 0.055) / 1.055) ** 2.4).astype(c.dtype)


def linear_to_srgb(c: np.ndarray | Sequence[float]) -> np.ndarray:
    """Linear light to the sRGB transfer, clipped to 0..1."""
    c = np.clip(_array(c), 0.0, 1.0)
    return np.where(c <= 0.0031308, c * 12.92, 1.055 * np.power(c, 1 / 2.4) - 0.055).astype(c.dtype)


def linear_to_oklab(rgb: np.ndarray | Sequence[float]) -> np.ndarray:
    """Linear sRGB (..., 3) to OKLab (..., 3); negative light is clipped."""
    rgb = _array(rgb)
    lms = np.maximum(rgb, 0.0) @ _M1.T.astype(rgb.dtype)
    return (np.cbrt(lms) @ _M2.T.astype(rgb.dtype)).astype(rgb.dtype)


def oklab_to_linear(lab: np.ndarray | Sequence[float]) -> np.ndarray:
    """OKLab (..., 3) to linear sRGB (..., 3) (may leave the gamut; callers clip or gamut-map)."""
    lab = _array(lab)
    lms = lab @ _M2_INV.T.astype(lab.dtype)
    return ((lms**3) @ _M1_INV.T.astype(lab.dtype)).astype(lab.dtype)


def srgb8_to_oklab(rgb8: np.ndarray) -> np.ndarray:
    """An 8-bit sRGB picture (..., 3) to OKLab in float32."""
    return linear_to_oklab(srgb_to_linear(np.asarray(rgb8, dtype=np.float32) / 255.0))


def hex_to_srgb(colour: str) -> tuple[float, float, float]:
    """'#rrggbb' to sRGB components in 0..1."""
    r, g, b = (int(colour[i : i + 2], 16) / 255.0 for i in (1, 3, 5))
    return r, g, b


def hex_to_oklab(colour: str) -> np.ndarray:
    """'#rrggbb' to an OKLab triple (float64)."""
    return linear_to_oklab(srgb_to_linear(hex_to_srgb(colour)))


def srgb_to_hex(rgb: Sequence[float] | np.ndarray) -> str:
    """sRGB components (clipped to 0..1) to '#rrggbb'."""
    return "#" + "".join(f"{round(min(max(float(c), 0.0), 1.0) * 255):02x}" for c in rgb)


def oklab_to_hex(lab: Sequence[float] | np.ndarray) -> str:
    """One OKLab colour to '#rrggbb', clipping what leaves the sRGB gamut (for colours read from pixels)."""
    return srgb_to_hex(linear_to_srgb(oklab_to_linear(_array(lab))))


def in_gamut(lab: np.ndarray, eps: float = 1e-4) -> np.ndarray:
    """Whether each OKLab row is inside the sRGB cube (with a small tolerance)."""
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


def gamut_mapped_hex(lab: np.ndarray) -> list[str]:
    """OKLab rows to '#rrggbb', gamut-mapped first (for colours the encoder invents, which may lie outside sRGB)."""
    srgb = linear_to_srgb(oklab_to_linear(gamut_map(lab)))
    ints = np.clip(np.round(srgb * 255.0), 0, 255).astype(int)
    return ["#{:02x}{:02x}{:02x}".format(*row) for row in ints]
