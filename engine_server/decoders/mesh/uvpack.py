"""Lightmap UVs: pack every chart of one LOD, unscaled (metres keep their proportions), into the unit
square without overlap. A shelf packer is plenty for the box-, band- and cap-shaped charts recipes
make, and it is deterministic and fast (one pass per candidate width)."""

from __future__ import annotations

import math

import numpy as np

PAD_TEXELS = 2.0  # gutter between charts at the lightmap resolution below
LIGHTMAP_RES = 512


def _shelf(sizes: np.ndarray, order: np.ndarray, width: float, pad: float) -> tuple[np.ndarray, float]:
    offs = np.zeros((len(sizes), 2))
    x = y = shelf_h = 0.0
    for c in order:
        w, h = sizes[c]
        if x > 0 and x + w + pad > width:
            y += shelf_h + pad
            x = shelf_h = 0.0
        offs[c] = (x + pad, y + pad)
        x += w + pad
        shelf_h = max(shelf_h, h)
    return offs, y + shelf_h + 2 * pad


def pack_charts(uv: np.ndarray, chart: np.ndarray) -> np.ndarray:
    """Per-vertex lightmap UVs in [0, 1] (glTF orientation: v down) from chart coordinates in metres."""
    if len(uv) == 0:
        return np.zeros((0, 2))
    n = int(chart.max()) + 1
    lo = np.full((n, 2), np.inf)
    hi = np.full((n, 2), -np.inf)
    np.minimum.at(lo, chart, uv)
    np.maximum.at(hi, chart, uv)
    sizes = np.maximum(hi - lo, 1e-6)
    order = np.lexsort((-sizes[:, 0], -sizes[:, 1]))  # tallest first, then widest
    area = float((sizes[:, 0] * sizes[:, 1]).sum())
    best: tuple[float, np.ndarray] | None = None
    side_guess = math.sqrt(area) * 1.2 + float(sizes.max()) * 0.1
    for _ in range(2):  # padding depends on the final scale: pack, measure, repack
        pad = side_guess * PAD_TEXELS / LIGHTMAP_RES
        best = None
        base = max(math.sqrt(area) * 1.05, float(sizes[:, 0].max()) + 2 * pad)
        for f in (1.0, 1.1, 1.25, 1.45, 1.7, 2.0, 2.5):
            width = base * f
            offs, height = _shelf(sizes, order, width, pad)
            side = max(width, height)
            if best is None or side < best[0]:
                best = (side, offs)
        assert best is not None
        side_guess = best[0]
    side, offs = best  # type: ignore[misc]
    out = (uv - lo[chart] + offs[chart]) / side
    out[:, 1] = 1.0 - out[:, 1]
    return np.clip(out, 0.0, 1.0)
