"""From parts to game-ready per-LOD meshes: group by material, put the origin at the bottom centre,
tile material UVs at a constant texel density, pack lightmap UVs, and compute tangents.

Recipes only call `Builder.add(material, part, at=..., rot=...)`; they never see vertex buffers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from engine_server.decoders.mesh.geometry import Floats, Part, merge
from engine_server.decoders.mesh.uvpack import pack_charts

GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


@dataclass
class Primitive:
    """Final vertex data of one material in one LOD (float32 / uint16|uint32, glTF conventions)."""

    material: str
    pos: np.ndarray
    nrm: np.ndarray
    tan: np.ndarray  # (n, 4): xyz + handedness
    uv0: np.ndarray  # tiling material UVs
    uv1: np.ndarray  # non-overlapping lightmap UVs in [0, 1]
    idx: np.ndarray  # flat indices

    @property
    def n_tris(self) -> int:
        return len(self.idx) // 3


@dataclass
class LodMesh:
    lod: int
    primitives: list[Primitive]

    @property
    def n_tris(self) -> int:
        return sum(p.n_tris for p in self.primitives)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        allp = np.concatenate([p.pos for p in self.primitives])
        return allp.min(axis=0), allp.max(axis=0)


class Builder:
    """Collects the parts of one asset at one LOD, keyed by material role."""

    def __init__(self, lod: int) -> None:
        self.lod = lod
        self.parts: dict[str, list[Part]] = {}

    @property
    def full(self) -> bool:
        """True at LOD0: add small details (bolts, trims, slats) only when this is set."""
        return self.lod == 0

    def seg(self, n: int, minimum: int = 4) -> int:
        """Round-segment count for this LOD: n at LOD0, about a half at LOD1, a quarter at LOD2."""
        return max(minimum, round(n / (1, 2, 4)[min(self.lod, 2)]))

    def bevel(self, b: float) -> float:
        return b if self.lod == 0 else 0.0

    def add(self, material: str, part: Part, at: Floats = (0.0, 0.0, 0.0),
            rot: np.ndarray | None = None) -> None:
        if part.n_tris:
            self.parts.setdefault(material, []).append(part.transformed(rot, at))

    @property
    def n_tris(self) -> int:
        return sum(p.n_tris for ps in self.parts.values() for p in ps)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        allp = np.concatenate([p.pos for ps in self.parts.values() for p in ps])
        return allp.min(axis=0), allp.max(axis=0)

    def cull_to(self, max_tris: int) -> None:
        """Detail culling for coarse LODs: drop the smallest parts (by bounding-box diagonal) until the
        LOD fits `max_tris`; the largest part always stays. Deterministic: ties keep insertion order."""
        if self.n_tris <= max_tris:
            return
        entries = [(float(np.linalg.norm(p.pos.max(axis=0) - p.pos.min(axis=0))), m, i)
                   for m, ps in self.parts.items() for i, p in enumerate(ps)]
        entries.sort(key=lambda e: -e[0])  # stable: equal sizes keep their order
        keep: dict[str, list[int]] = {}
        total = 0
        for rank, (_, m, i) in enumerate(entries):
            tris = self.parts[m][i].n_tris
            if rank > 0 and total + tris > max_tris:
                continue
            keep.setdefault(m, []).append(i)
            total += tris
        self.parts = {m: [self.parts[m][i] for i in sorted(idx)] for m, idx in keep.items()}


def _tangents(pos: np.ndarray, nrm: np.ndarray, uv: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """Per-vertex tangents (xyz, w) from UV gradients; w makes cross(N, T) * w point image-up (-dP/dv),
    the glTF convention for OpenGL-style (green-up) normal maps."""
    p0, p1, p2 = (pos[tri[:, k]] for k in range(3))
    t0, t1, t2 = (uv[tri[:, k]] for k in range(3))
    e1, e2 = p1 - p0, p2 - p0
    d1, d2 = t1 - t0, t2 - t0
    det = d1[:, 0] * d2[:, 1] - d2[:, 0] * d1[:, 1]
    r = np.where(np.abs(det) > 1e-14, 1.0 / np.where(det == 0, 1.0, det), 0.0)[:, None]
    tu = (e1 * d2[:, 1:2] - e2 * d1[:, 1:2]) * r
    tv = (e2 * d1[:, 0:1] - e1 * d2[:, 0:1]) * r
    acc_u = np.zeros_like(pos)
    acc_v = np.zeros_like(pos)
    for k in range(3):
        np.add.at(acc_u, tri[:, k], tu)
        np.add.at(acc_v, tri[:, k], tv)
    t = acc_u - nrm * np.einsum("ij,ij->i", acc_u, nrm)[:, None]
    norm = np.linalg.norm(t, axis=1)
    bad = norm < 1e-9
    if bad.any():  # no usable UV gradient: any unit vector perpendicular to the normal
        ref = np.where(np.abs(nrm[bad, 0:1]) < 0.9, [[1.0, 0.0, 0.0]], [[0.0, 1.0, 0.0]])
        alt = np.cross(nrm[bad], ref)
        t[bad] = alt
        norm[bad] = np.linalg.norm(alt, axis=1)
    t /= norm[:, None]
    w = np.where(np.einsum("ij,ij->i", np.cross(nrm, t), -acc_v) < 0, -1.0, 1.0)
    return np.column_stack([t, w])


def _grain_align(uv: np.ndarray, chart: np.ndarray) -> np.ndarray:
    """Turn each chart so its long side runs along s (wood grain follows planks and posts)."""
    n = int(chart.max()) + 1
    lo = np.full((n, 2), np.inf)
    hi = np.full((n, 2), -np.inf)
    np.minimum.at(lo, chart, uv)
    np.maximum.at(hi, chart, uv)
    ext = hi - lo
    swap = (ext[:, 1] > ext[:, 0] * 1.2)[chart]
    out = uv.copy()
    out[swap] = uv[swap][:, ::-1] * [1.0, -1.0]
    return out


def assemble(builders: Sequence[Builder], tile_m: Mapping[str, float],
             grain: frozenset[str] = frozenset()) -> list[LodMesh]:
    """Finish all LODs of one asset. The origin shift comes from LOD0's bounds, so LODs stay aligned:
    footprint centred on x/z = 0 and the lowest point at y = 0."""
    lo, hi = builders[0].bounds()
    shift = np.array([-(lo[0] + hi[0]) / 2.0, -lo[1], -(lo[2] + hi[2]) / 2.0])
    out = []
    for b in builders:
        mats = sorted(b.parts)
        merged = [merge(b.parts[m]) for m in mats]
        whole = merge(merged)
        uv1_all = pack_charts(whole.uv, whole.chart)
        prims = []
        v_off = 0
        c_off = 0
        for m, part in zip(mats, merged, strict=True):
            nv = len(part.pos)
            uv1 = uv1_all[v_off:v_off + nv]
            v_off += nv
            chart_uv = _grain_align(part.uv, part.chart) if m in grain else part.uv
            gid = part.chart + c_off
            c_off += part.n_charts
            jitter = np.stack([(gid * GOLDEN) % 1.0, (gid * GOLDEN * GOLDEN) % 1.0], axis=1)
            tile = tile_m.get(m, 2.0)
            uv0 = np.column_stack([chart_uv[:, 0] / tile, -chart_uv[:, 1] / tile]) + jitter
            pos = part.pos + shift
            tan = _tangents(pos, part.nrm, uv0, part.tri)
            idx_t = np.uint16 if nv < 65535 else np.uint32
            prims.append(Primitive(
                material=m,
                pos=pos.astype(np.float32),
                nrm=part.nrm.astype(np.float32),
                tan=tan.astype(np.float32),
                uv0=uv0.astype(np.float32),
                uv1=uv1.astype(np.float32),
                idx=part.tri.ravel().astype(idx_t),
            ))
        out.append(LodMesh(b.lod, prims))
    return out
