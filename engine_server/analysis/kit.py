"""Read latent-like fields back from a kit of GLB files: palette, finish and shape vocabulary.

Each GLB is read with pygltflib as any glTF viewer would: the default scene's nodes (with their
transforms) and meshes, which is LOD0 (coarser MSFT_lod levels are not in the scene), and the
materials' PBR inputs. Nothing from `extras` or kit.json is read. Definitions (docs/COHERENCE.md):

- palette: k-means in OKLab (as for pictures) over the base-colour textures (times baseColorFactor),
  each material's pixels weighted by the share of the kit's surface area it covers;
- metalness, roughness: area-weighted means of the metallic-roughness texture (B, G) times the factors;
- emissive_share: share of surface area whose material emits;
- straightness: share of surface area whose face normal lies within 10 deg of a principal axis
  (boxes and panels 1, spheres and rocks near 0);
- silhouette_fill: share of the front view's (x-y) bounding box covered by the asset's projection,
  median over assets (box 1, sphere pi/4, pyramid 1/2);
- height_m, footprint_m2: median over assets of the bounding-box height and x-z area; triangles: median.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine_server.analysis.image import palette_of, thumbnail
from engine_server.oklab import linear_to_oklab, srgb_to_linear

AXIS_TOLERANCE_DEG = 10.0
SILHOUETTE_GRID = 64
SILHOUETTE_SAMPLES = 40_000
TEXTURE_THUMB = 64
_COMPONENTS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}
_DTYPES = {5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}


@dataclass
class Surface:
    """The triangles of one asset's LOD0 grouped by material (world space, metres)."""

    triangles: dict[int, np.ndarray] = field(default_factory=dict)  # material -> (n, 3, 3)

    def all(self) -> np.ndarray:
        parts = [t for t in self.triangles.values() if len(t)]
        return np.concatenate(parts) if parts else np.zeros((0, 3, 3))


def _accessor(gltf: Any, blob: bytes, index: int) -> np.ndarray:
    acc = gltf.accessors[index]
    view = gltf.bufferViews[acc.bufferView]
    dtype = np.dtype(_DTYPES[acc.componentType])
    n_comp = _COMPONENTS[acc.type]
    start = (view.byteOffset or 0) + (acc.byteOffset or 0)
    stride = view.byteStride or dtype.itemsize * n_comp
    raw = np.frombuffer(blob, dtype=np.uint8, count=stride * (acc.count - 1) + dtype.itemsize * n_comp, offset=start)
    if stride == dtype.itemsize * n_comp:
        out = raw.view(dtype).reshape(acc.count, n_comp)
    else:
        out = np.stack([raw[i * stride: i * stride + dtype.itemsize * n_comp].view(dtype) for i in range(acc.count)])
    return out.astype(np.float64) if n_comp > 1 else out.reshape(-1)


def _node_matrix(node: Any) -> np.ndarray:
    if node.matrix:
        return np.asarray(node.matrix, dtype=np.float64).reshape(4, 4).T  # glTF is column-major
    t = np.eye(4)
    if node.translation:
        t[:3, 3] = node.translation
    r = np.eye(4)
    if node.rotation:
        x, y, z, w = node.rotation
        r[:3, :3] = [[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]]
    s = np.eye(4)
    if node.scale:
        s[0, 0], s[1, 1], s[2, 2] = node.scale
    return t @ r @ s


def read_surface(gltf: Any, blob: bytes) -> Surface:
    """LOD0 triangles of the default scene, transformed to world space, grouped by material index."""
    surface = Surface()
    scene = gltf.scenes[gltf.scene or 0] if gltf.scenes else None
    roots = scene.nodes if scene is not None else []

    def visit(i: int, parent: np.ndarray) -> None:
        node = gltf.nodes[i]
        m = parent @ _node_matrix(node)
        if node.mesh is not None:
            for prim in gltf.meshes[node.mesh].primitives:
                if prim.mode not in (None, 4) or prim.attributes.POSITION is None:
                    continue
                pos = _accessor(gltf, blob, prim.attributes.POSITION)
                pos = pos @ m[:3, :3].T + m[:3, 3]
                idx = (_accessor(gltf, blob, prim.indices).astype(np.int64) if prim.indices is not None
                       else np.arange(len(pos)))
                tris = pos[idx[: len(idx) // 3 * 3].reshape(-1, 3)]
                key = -1 if prim.material is None else int(prim.material)
                prev = surface.triangles.get(key)
                surface.triangles[key] = tris if prev is None else np.concatenate([prev, tris])
        for child in node.children or []:
            visit(child, m)

    for r in roots:
        visit(r, np.eye(4))
    return surface


def _image(gltf: Any, blob: bytes, texture_index: int | None) -> np.ndarray | None:
    from PIL import Image

    if texture_index is None:
        return None
    src = gltf.textures[texture_index].source
    if src is None:
        return None
    image = gltf.images[src]
    if image.bufferView is None:
        return None
    view = gltf.bufferViews[image.bufferView]
    data = blob[view.byteOffset or 0:(view.byteOffset or 0) + view.byteLength]
    with Image.open(io.BytesIO(data)) as img:
        return np.asarray(img.convert("RGB"))


def triangle_areas_normals(tris: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    cross = np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])
    norm = np.linalg.norm(cross, axis=1)
    return 0.5 * norm, cross / np.maximum(norm, 1e-12)[:, None]


def straightness(tris: np.ndarray) -> float:
    """Share of area whose face normal is within AXIS_TOLERANCE_DEG of +-X, +-Y or +-Z."""
    area, normal = triangle_areas_normals(tris)
    if area.sum() <= 0:
        return 0.0
    aligned = np.abs(normal).max(axis=1) >= math.cos(math.radians(AXIS_TOLERANCE_DEG))
    return float(area[aligned].sum() / area.sum())


def silhouette_fill(tris: np.ndarray, grid: int = SILHOUETTE_GRID, samples: int = SILHOUETTE_SAMPLES) -> float:
    """Share of the front (x-y) bounding box covered by the projected triangles.

    Area-weighted points on the triangles (fixed generator) are splatted on a grid, which is then closed
    and hole-filled (scipy.ndimage); exact for shapes whose surface covers their projection.
    """
    from scipy import ndimage

    if len(tris) == 0:
        return 0.0
    xy = tris[:, :, :2]
    lo, hi = xy.reshape(-1, 2).min(0), xy.reshape(-1, 2).max(0)
    span = np.maximum(hi - lo, 1e-9)
    area = np.abs(np.cross(xy[:, 1] - xy[:, 0], xy[:, 2] - xy[:, 0])) * 0.5 + 1e-12
    rng = np.random.default_rng(0)
    pick = rng.choice(len(tris), size=samples, p=area / area.sum())
    u, v = rng.random(samples), rng.random(samples)
    flip = u + v > 1
    u[flip], v[flip] = 1 - u[flip], 1 - v[flip]
    t = xy[pick]
    pts = t[:, 0] + u[:, None] * (t[:, 1] - t[:, 0]) + v[:, None] * (t[:, 2] - t[:, 0])
    # triangle vertices too, so thin edges and corners are always marked
    pts = np.concatenate([pts, xy.reshape(-1, 2)])
    cell = np.clip(((pts - lo) / span * grid).astype(int), 0, grid - 1)
    mask = np.zeros((grid, grid), dtype=bool)
    mask[cell[:, 1], cell[:, 0]] = True
    mask = ndimage.binary_closing(mask, structure=np.ones((3, 3)), border_value=0) | mask
    mask = ndimage.binary_fill_holes(mask)
    return float(mask.mean())


def analyse_glb(path: Path | str) -> dict[str, Any]:
    """One asset: size, triangles, straightness, silhouette, and per-material area and PBR inputs."""
    import pygltflib

    gltf = pygltflib.GLTF2().load_binary(str(path))
    blob = gltf.binary_blob() or b""
    surface = read_surface(gltf, blob)
    tris = surface.all()
    lo = tris.reshape(-1, 3).min(0) if len(tris) else np.zeros(3)
    hi = tris.reshape(-1, 3).max(0) if len(tris) else np.zeros(3)
    materials = []
    for mat_index, mt in surface.triangles.items():
        area = float(triangle_areas_normals(mt)[0].sum())
        record: dict[str, Any] = {"area_m2": area, "texels": None, "colour": [1.0, 1.0, 1.0],
                                  "metallic": 1.0, "roughness": 1.0, "emissive": False}
        if mat_index >= 0:
            mat = gltf.materials[mat_index]
            pbr = mat.pbrMetallicRoughness
            if pbr is not None:
                factor = pbr.baseColorFactor or [1.0, 1.0, 1.0, 1.0]
                record["colour"] = [float(c) for c in factor[:3]]
                base = _image(gltf, blob, pbr.baseColorTexture.index if pbr.baseColorTexture else None)
                if base is not None:
                    record["texels"] = thumbnail(base, TEXTURE_THUMB)
                orm = _image(gltf, blob, pbr.metallicRoughnessTexture.index if pbr.metallicRoughnessTexture
                             else None)
                mf = 1.0 if pbr.metallicFactor is None else float(pbr.metallicFactor)
                rf = 1.0 if pbr.roughnessFactor is None else float(pbr.roughnessFactor)
                if orm is not None:
                    small = thumbnail(orm, TEXTURE_THUMB).astype(np.float64) / 255.0
                    mf *= float(small[..., 2].mean())
                    rf *= float(small[..., 1].mean())
                record["metallic"], record["roughness"] = mf, rf
            emissive = mat.emissiveFactor or [0.0, 0.0, 0.0]
            record["emissive"] = max(emissive) > 0 and (mat.emissiveTexture is not None or max(emissive) > 0)
        materials.append(record)
    size = hi - lo
    return {
        "path": str(path),
        "height_m": float(size[1]),
        "footprint_m2": float(size[0] * size[2]),
        "triangles": len(tris),
        "straightness": straightness(tris) if len(tris) else 0.0,
        "silhouette_fill": silhouette_fill(tris),
        "materials": materials,
    }


def _kit_palette(assets: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    points, weights = [], []
    total = sum(m["area_m2"] for a in assets for m in a["materials"]) or 1.0
    for a in assets:
        for m in a["materials"]:
            # baseColorFactor is linear: it multiplies the texture in linear light
            if m["texels"] is not None:
                lin = srgb_to_linear(np.asarray(m["texels"], dtype=np.float32) / 255.0) * np.asarray(
                    m["colour"], dtype=np.float32)
            else:
                lin = np.asarray([m["colour"]], dtype=np.float32)
            lab = linear_to_oklab(lin).reshape(-1, 3)
            points.append(lab)
            weights.append(np.full(len(lab), m["area_m2"] / total / len(lab)))
    if not points:
        raise ValueError("the kit has no surfaces to take colours from")
    return palette_of(np.concatenate(points), weights=np.concatenate(weights))


def analyse_kit(paths: Iterable[Path | str]) -> dict[str, Any]:
    """The kit's recovered fields (definitions in the module doc)."""
    assets = [analyse_glb(p) for p in sorted(paths, key=str)]
    if not assets:
        raise ValueError("no GLB files to analyse")
    area = np.array([m["area_m2"] for a in assets for m in a["materials"]])
    total = float(area.sum()) or 1.0
    metal = float(sum(m["metallic"] * m["area_m2"] for a in assets for m in a["materials"]) / total)
    rough = float(sum(m["roughness"] * m["area_m2"] for a in assets for m in a["materials"]) / total)
    emissive = float(sum(m["area_m2"] for a in assets for m in a["materials"] if m["emissive"]) / total)
    tri_area = [float(sum(m["area_m2"] for m in a["materials"])) for a in assets]
    straight = float(np.average([a["straightness"] for a in assets], weights=np.maximum(tri_area, 1e-9)))
    return {
        "assets": len(assets),
        "palette": _kit_palette(assets),
        "metalness": round(metal, 4),
        "roughness": round(rough, 4),
        "emissive_share": round(emissive, 4),
        "straightness": round(straight, 4),
        "silhouette_fill": round(float(np.median([a["silhouette_fill"] for a in assets])), 4),
        "height_m": round(float(np.median([a["height_m"] for a in assets])), 4),
        "max_height_m": round(float(max(a["height_m"] for a in assets)), 4),
        "footprint_m2": round(float(np.median([a["footprint_m2"] for a in assets])), 4),
        "triangles": int(np.median([a["triangles"] for a in assets])),
        "per_asset": [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in a.items() if k != "materials"}
                      for a in assets],
    }
