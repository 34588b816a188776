"""Palettes read from pixels: deterministic k-means in OKLab, shared by the sketch reader and the analysers.

OKLab (`engine_server.oklab`) is the space for palettes: distances in it track perceived differences well
enough for clustering. The *coherence figure* of a picture (how close its dominant colours sit to a
latent palette, CIEDE2000) is the mesh package's `texture_distance` (engine_server/decoders/mesh/
coherence.py), re-exported here as `picture_distance` so that the kit, the image and the clip are
judged by one measure.

Plain numpy only: the decode path must not pay colour-science's import time.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine_server.oklab import hex_to_srgb


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


def picture_distance(rgb8: np.ndarray, palette_hex: Sequence[str]) -> float:
    """The coherence figure of a picture or frame against a palette (CIEDE2000; see the module doc).

    Coverage-weighted mean CIEDE2000 from the picture's dominant colours (median cut, 5 colours, each
    covering >= 5 %) to the nearest palette colour: 0 = every dominant colour is a palette colour,
    ~2 = just noticeable, unrelated colours 20-60. Uses colour-science (tests and benchmarks only).
    """
    from engine_server.decoders.mesh.coherence import texture_distance

    return float(texture_distance(np.asarray(rgb8)[..., :3], [hex_to_srgb(h) for h in palette_hex]))
