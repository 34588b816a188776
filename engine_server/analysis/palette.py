"""Colour maths shared by the sketch reader, the renderer's grade and the coherence checks.

OKLab (Ottosson 2020) is the space for palettes: distances in it track perceived differences well
enough for clustering, and it is cheap (two 3x3 matrices and a cube root), so it can run on every
pixel of a frame. The *coherence figure* of a picture (how close its dominant colours sit to a
latent palette, CIEDE2000) is the mesh package's `texture_distance` (engine_server/decoders/mesh/
coherence.py), re-exported here as `picture_distance` so that the kit, the image and the clip are
judged by one measure.

Plain numpy only: the decode path must not pay colour-science's import time.
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


def srgb_to_linear(c: np.ndarray) -> np.ndarray:
    """sRGB transfer (0..1) to linear light."""
    c = np.asarray(c, dtype=np.float32)
    return np.where(c <= 0.04045, c / 12.92, ((np.maximum(c, 0.0) + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(c: np.ndarray) -> np.ndarray:
    """Linear light to the sRGB transfer, clipped to 0..1."""
    c = np.clip(np.asarray(c, dtype=np.float32), 0.0, 1.0)
    return np.where(c <= 0.0031308, c * 12.92, 1.055 * np.power(c, 1 / 2.4) - 0.055).astype(np.float32)


def linear_to_oklab(rgb: np.ndarray) -> np.ndarray:
    """Linear sRGB (..., 3) to OKLab (..., 3); negative light is clipped."""
    lms = np.maximum(np.asarray(rgb, dtype=np.float32), 0.0) @ _M1.T.astype(np.float32)
    return (np.cbrt(lms) @ _M2.T.astype(np.float32)).astype(np.float32)


def oklab_to_linear(lab: np.ndarray) -> np.ndarray:
    """OKLab (..., 3) to linear sRGB (..., 3) (may leave the gamut; callers clip)."""
    lms = np.asarray(lab, dtype=np.float32) @ _M2_INV.T.astype(np.float32)
    return ((lms**3) @ _M1_INV.T.astype(np.float32)).astype(np.float32)


def srgb8_to_oklab(rgb8: np.ndarray) -> np.ndarray:
    return linear_to_oklab(srgb_to_linear(np.asarray(rgb8, dtype=np.float32) / 255.0))


def hex_to_srgb(colour: str) -> tuple[float, float, float]:
    return tuple(int(colour[i : i + 2], 16) / 255.0 for i in (1, 3, 5))  # type: ignore[return-value]


def srgb_to_hex(rgb: Sequence[float] | np.ndarray) -> str:
    return "#" + "".join(f"{round(min(max(float(c), 0.0), 1.0) * 255):02x}" for c in rgb)


def oklab_to_hex(lab: Sequence[float] | np.ndarray) -> str:
    return srgb_to_hex(linear_to_srgb(oklab_to_linear(np.asarray(lab, dtype=np.float32))))


def kmeans_oklab(
    lab: np.ndarray, k: int, weights: np.ndarray | None = None, iterations: int = 12
) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic weighted k-means on OKLab points (n, 3): (centres (k', 3), share (k',)), largest first.

    Seeding is farthest-point from the weighted mean (no randomness), so the same pixels always give
    the same palette; empty clusters are dropped, so k' <= k.
    """
    pts = np.asarray(lab, dtype=np.float64).reshape(-1, 3)
    w = np.ones(len(pts)) if weights is None else np.asarray(weights, dtype=np.float64).reshape(-1)
    if len(pts) == 0 or w.sum() <= 0:
        raise ValueError("no pixels to cluster")
    mean = (pts * w[:, None]).sum(0) / w.sum()
    # Farthest-point seeding from the mean, lightness weighted a little less (shading varies L most).
    scale = np.array([0.7, 1.0, 1.0])
    centres = [pts[int(np.argmax((((pts - mean) * scale) ** 2).sum(1) * (w > 0)))]]
    dist = (((pts - centres[0]) * scale) ** 2).sum(1)
    while len(centres) < k:
        i = int(np.argmax(dist * (w > 0)))
        if dist[i] <= 1e-10:
            break
        centres.append(pts[i])
        dist = np.minimum(dist, (((pts - pts[i]) * scale) ** 2).sum(1))
    c = np.array(centres)
    for _ in range(iterations):
        d = (((pts[:, None, :] - c[None, :, :]) * scale) ** 2).sum(2)
        label = d.argmin(1)
        mass = np.bincount(label, weights=w, minlength=len(c)).astype(np.float64)
        keep = mass > 0
        new = np.stack([np.bincount(label, weights=w * pts[:, j], minlength=len(c)) for j in range(3)], 1).astype(
            np.float64)
        new[keep] /= mass[keep, None]
        new[~keep] = c[~keep]
        if np.allclose(new, c, atol=1e-6):
            c = new
            break
        c = new
    d = (((pts[:, None, :] - c[None, :, :]) * scale) ** 2).sum(2)
    final = d.argmin(1)
    share = np.bincount(final, weights=w, minlength=len(c)).astype(np.float64)
    keep = share > 0
    c, share = c[keep], share[keep]
    order = np.argsort(-share, kind="stable")
    return c[order].astype(np.float32), (share[order] / share.sum()).astype(np.float32)


def dominant_oklab(rgb8: np.ndarray, k: int = 6, thumb: int = 96) -> tuple[np.ndarray, np.ndarray]:
    """Dominant colours of an sRGB uint8 picture: k-means in OKLab over a box-filtered thumbnail."""
    from PIL import Image

    img = Image.fromarray(np.ascontiguousarray(np.asarray(rgb8)[..., :3]), "RGB")
    img.thumbnail((thumb, thumb), Image.Resampling.BOX)
    return kmeans_oklab(srgb8_to_oklab(np.asarray(img)), k)


def picture_distance(rgb8: np.ndarray, palette_hex: Sequence[str]) -> float:
    """The coherence figure of a picture or frame against a palette (CIEDE2000; see the module doc).

    Coverage-weighted mean CIEDE2000 from the picture's dominant colours (median cut, 5 colours, each
    covering >= 5 %) to the nearest palette colour: 0 = every dominant colour is a palette colour,
    ~2 = just noticeable, unrelated colours 20-60. Uses colour-science (tests and benchmarks only).
    """
    from engine_server.decoders.mesh.coherence import texture_distance

    return float(texture_distance(np.asarray(rgb8)[..., :3], [hex_to_srgb(h) for h in palette_hex]))
