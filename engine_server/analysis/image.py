"""Read latent-like fields back from a picture: dominant palette, brightness, contrast, warmth, saturation.

Only the pixels are read (never pack.json or the latent), so the same code judges the concept image,
frames of the clip, the kit's textures, or a picture made by another tool. Definitions (docs/COHERENCE.md):

- palette: weighted k-means (k = 6) in OKLab over a 128 px box-filtered copy (`analysis.palette.kmeans_oklab`,
  deterministic seeding), each centre reported as hex, share of the pixels, OKLab and CIELAB (D65, for CIEDE2000);
- brightness: mean OKLab lightness L (0 black .. 1 white);
- contrast: the 5th-95th percentile spread of L (0 flat .. 1 black-and-white);
- warmth: mean projection of (a, b) on the orange direction (hue 60 deg in OKLab), squashed with
  tanh(x / 0.06) to -1 (cool, blue) .. +1 (warm, orange); neutral grey is 0, green and magenta ~0;
- saturation: mean OKLab chroma / 0.2, clipped to 1 (0.2 is about a vivid sRGB primary's chroma);
- straight_edges: the share of gradient energy (Sobel on L at 256 px) whose edge runs within 10 deg of
  horizontal or vertical: built, boxy sets read high (~0.5+), foliage and rock low (uniform
  orientations give 40/180 = 0.22).

colour-science supplies the OKLab -> CIELAB step and CIEDE2000; it takes ~2 s to import, so this
module is for analysis, tests and benchmarks, never the decode path.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from engine_server.analysis.palette import kmeans_oklab
from engine_server.oklab import oklab_to_hex, srgb8_to_oklab

PALETTE_K = 6
THUMB = 128
WARM_HUE_DEG = 60.0  # OKLab hue of orange: the warm end of the warm-cool axis
WARMTH_SCALE = 0.06
CHROMA_FULL = 0.2
EDGE_THUMB = 256
EDGE_TOLERANCE_DEG = 10.0
_WARM_AXIS = np.array([math.cos(math.radians(WARM_HUE_DEG)), math.sin(math.radians(WARM_HUE_DEG))])


def oklab_to_cielab(oklab: np.ndarray) -> np.ndarray:
    """OKLab (..., 3) to CIELAB (D65, 2 deg) through XYZ with colour-science."""
    import colour

    xyz = colour.Oklab_to_XYZ(np.asarray(oklab, dtype=np.float64))
    return np.asarray(colour.XYZ_to_Lab(xyz))


def delta_e00(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 (Sharma, Wu & Dalal 2005) between CIELAB colours, broadcasting; colour-science's code."""
    from engine_server.decoders.mesh.coherence import delta_e00 as _de

    return _de(lab1, lab2)


def thumbnail(rgb8: np.ndarray, size: int = THUMB) -> np.ndarray:
    """A box-filtered copy no larger than size x size (keeps the aspect; averages, never drops, pixels)."""
    from PIL import Image

    img = Image.fromarray(np.ascontiguousarray(np.asarray(rgb8, dtype=np.uint8)[..., :3]), "RGB")
    img.thumbnail((size, size), Image.Resampling.BOX)
    return np.asarray(img)


def palette_of(oklab: np.ndarray, k: int = PALETTE_K, weights: np.ndarray | None = None) -> list[dict[str, Any]]:
    """Dominant colours of OKLab points (n, 3), largest share first, as JSON-ready records."""
    centres, share = kmeans_oklab(np.asarray(oklab).reshape(-1, 3), k, weights)
    lab = oklab_to_cielab(centres)
    return [
        {
            "hex": oklab_to_hex(c),
            "share": round(float(s), 4),
            "oklab": [round(float(v), 4) for v in c],
            "lab": [round(float(v), 3) for v in lab_c],
        }
        for c, s, lab_c in zip(centres, share, lab, strict=True)
    ]


def tone_stats(oklab: np.ndarray, weights: np.ndarray | None = None) -> dict[str, float]:
    """Brightness, contrast, warmth and saturation of OKLab points (definitions in the module doc)."""
    pts = np.asarray(oklab, dtype=np.float64).reshape(-1, 3)
    w = np.ones(len(pts)) if weights is None else np.asarray(weights, dtype=np.float64).reshape(-1)
    w = w / w.sum()
    L = pts[:, 0]
    order = np.argsort(L, kind="stable")
    cdf = np.cumsum(w[order])
    p5 = float(L[order][min(int(np.searchsorted(cdf, 0.05)), len(L) - 1)])
    p95 = float(L[order][min(int(np.searchsorted(cdf, 0.95)), len(L) - 1)])
    warm_axis = float((pts[:, 1:] @ _WARM_AXIS * w).sum())
    chroma = float((np.hypot(pts[:, 1], pts[:, 2]) * w).sum())
    return {
        "brightness": round(float((L * w).sum()), 4),
        "contrast": round(max(p95 - p5, 0.0), 4),
        "warmth": round(math.tanh(warm_axis / WARMTH_SCALE), 4),
        "warm_axis": round(warm_axis, 5),
        "saturation": round(min(chroma / CHROMA_FULL, 1.0), 4),
    }


def straight_edges(rgb8: np.ndarray) -> float:
    """Share of gradient energy on near-horizontal or near-vertical edges (see the module doc)."""
    from scipy import ndimage

    lum = srgb8_to_oklab(thumbnail(rgb8, EDGE_THUMB))[..., 0].astype(np.float64)
    gx, gy = ndimage.sobel(lum, axis=1), ndimage.sobel(lum, axis=0)
    mag = np.hypot(gx, gy)[1:-1, 1:-1]
    if mag.sum() <= 1e-9:
        return 0.0
    angle = np.degrees(np.arctan2(gy, gx))[1:-1, 1:-1] % 90.0  # 0 and 90 are axis-aligned gradients
    near = np.minimum(angle, 90.0 - angle) <= EDGE_TOLERANCE_DEG
    return float(mag[near].sum() / mag.sum())


def analyse_pixels(frames: Sequence[np.ndarray], k: int = PALETTE_K, thumb: int = THUMB) -> dict[str, Any]:
    """Palette and tone of one or more sRGB uint8 pictures pooled together (each picture counts equally)."""
    points = []
    weights = []
    for rgb8 in frames:
        lab = srgb8_to_oklab(thumbnail(rgb8, thumb)).reshape(-1, 3)
        points.append(lab)
        weights.append(np.full(len(lab), 1.0 / len(lab)))
    if not points:
        raise ValueError("no pixels to analyse")
    pts = np.concatenate(points)
    w = np.concatenate(weights)
    edges = float(np.mean([straight_edges(f) for f in frames]))
    return {"palette": palette_of(pts, k, w), **tone_stats(pts, w), "straight_edges": round(edges, 4)}


def read_rgb8(path: Path | str) -> np.ndarray:
    """An image file as sRGB uint8 (H, W, 3); transparency is composited on mid grey."""
    from PIL import Image

    with Image.open(path) as img:
        if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
            rgba = img.convert("RGBA")
            base = Image.new("RGBA", rgba.size, (128, 128, 128, 255))
            return np.asarray(Image.alpha_composite(base, rgba).convert("RGB"))
        return np.asarray(img.convert("RGB"))


def analyse_image(path: Path | str) -> dict[str, Any]:
    """The concept image's recovered fields: palette, brightness, contrast, warmth, saturation, size."""
    rgb8 = read_rgb8(path)
    out = analyse_pixels([rgb8])
    out["size"] = [int(rgb8.shape[1]), int(rgb8.shape[0])]
    return out
