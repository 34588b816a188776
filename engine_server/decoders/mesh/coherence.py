"""Palette coherence of a kit's textures: how far their dominant colours sit from the latent palette.

Measure (docs/MESH.md): for one base-colour texture, take its dominant colours by median-cut
quantisation (5 colours of a 64 x 64 box-filtered copy; colours covering under 5 % of the texture are
dropped), find for each the CIEDE2000 distance (colour-science, D65 CIELAB) to the nearest palette
colour, and average those distances weighted by coverage. A kit's figure is the mean over its distinct
base-colour textures. 0 means every dominant colour is a palette colour; about 2 is a just-noticeable
difference; unrelated colours score 20-60.

colour-science takes ~2 s to import, so this module is for tests and benchmarks, never the decode path.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

MIN_SHARE = 0.05
N_COLOURS = 5
THUMB = 64


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB in 0..1 (..., 3) to CIELAB (D65) with colour-science."""
    import colour

    xyz = colour.RGB_to_XYZ(np.asarray(rgb, dtype=np.float64), colour.RGB_COLOURSPACES["sRGB"],
                            apply_cctf_decoding=True)
    return np.asarray(colour.XYZ_to_Lab(xyz))


def delta_e00(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 between CIELAB colours (broadcasting), via colour-science."""
    import colour

    return np.asarray(colour.delta_E(np.asarray(lab1, dtype=np.float64), np.asarray(lab2, dtype=np.float64),
                                     method="CIE 2000"))


def dominant_colours(rgb8: np.ndarray, k: int = N_COLOURS, min_share: float = MIN_SHARE
                     ) -> list[tuple[tuple[float, float, float], float]]:
    """(sRGB 0..1, share of the texture) of its dominant colours, largest first."""
    img = Image.fromarray(np.ascontiguousarray(rgb8[..., :3]), "RGB").resize((THUMB, THUMB), Image.Resampling.BOX)
    q = img.quantize(colors=k, method=Image.Quantize.MEDIANCUT)
    pal = np.asarray((q.getpalette() or [])[: 3 * k], dtype=np.float64).reshape(-1, 3) / 255.0
    counts = np.bincount(np.asarray(q).ravel(), minlength=len(pal))[: len(pal)]
    share = counts / counts.sum()
    order = np.argsort(-share, kind="stable")
    return [(tuple(map(float, pal[i])), float(share[i])) for i in order if share[i] >= min_share]  # type: ignore[misc]


def texture_distance(rgb8: np.ndarray, palette_rgb: Sequence[Sequence[float]]) -> float:
    """Coverage-weighted mean CIEDE2000 from a texture's dominant colours to the nearest palette colour."""
    dom = dominant_colours(rgb8)
    cols = np.array([c for c, _ in dom])
    share = np.array([s for _, s in dom])
    d = delta_e00(srgb_to_lab(cols)[:, None, :], srgb_to_lab(np.asarray(palette_rgb))[None, :, :])
    return float((d.min(axis=1) * share).sum() / share.sum())


def kit_distance(textures: Iterable[np.ndarray], palette_rgb: Sequence[Sequence[float]]) -> float:
    """The kit figure: mean of texture_distance over its distinct base-colour textures."""
    values = [texture_distance(t, palette_rgb) for t in textures]
    if not values:
        raise ValueError("no textures to measure")
    return float(np.mean(values))


def glb_base_colour_images(paths: Iterable[Path | str]) -> list[np.ndarray]:
    """The distinct base-colour images (RGB uint8) referenced by the materials of the given GLBs."""
    import pygltflib

    seen: set[str] = set()
    out = []
    for path in paths:
        gltf = pygltflib.GLTF2().load_binary(str(path))
        blob = gltf.binary_blob()
        for mat in gltf.materials:
            pbr = mat.pbrMetallicRoughness
            if pbr is None or pbr.baseColorTexture is None:
                continue
            image = gltf.images[gltf.textures[pbr.baseColorTexture.index].source]
            view = gltf.bufferViews[image.bufferView]
            data = blob[view.byteOffset or 0: (view.byteOffset or 0) + view.byteLength]
            digest = hashlib.sha256(data).hexdigest()
            if digest in seen:
                continue
            seen.add(digest)
            out.append(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))
    return out
