"""Geometry primitives: the parts every recipe is built from.

A `Part` is an indexed triangle mesh in metres with per-vertex normals, chart coordinates in metres
(`uv`: s across, t "up" the surface) and a chart id per vertex. Each chart is laid out flat without
self-overlap, so the assembler can both tile material textures at a constant texel density (TEXCOORD_0)
and pack the charts into a non-overlapping lightmap layout (TEXCOORD_1).

Primitives: bevelled boxes, lathes (profiles of revolution), extrusions (profiles along Z, caps
ear-clipped), tubes swept along paths, parametric grids and displaced cube-spheres. Winding is made
to agree with the normals, and closed primitives enclose positive volume (normals point out).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

Vec3 = tuple[float, float, float]
Floats = Sequence[float] | np.ndarray  # a point or a vector
Points = Sequence[Sequence[float]] | np.ndarray  # a polyline


@dataclass
class Part:
    pos: np.ndarray  # (n, 3) float64, metres
    nrm: np.ndarray  # (n, 3) unit normals
    uv: np.ndarray  # (n, 2) chart coordinates in metres (t runs "up" the surface)
    tri: np.ndarray  # (m, 3) int64, counter-clockwise seen from the normal side
    chart: np.ndarray  # (n,) int64 chart id, 0..n_charts-1

    @property
    def n_tris(self) -> int:
        return len(self.tri)

    @property
    def n_charts(self) -> int:
        return int(self.chart.max()) + 1 if len(self.chart) else 0

    def transformed(self, rot: np.ndarray | None = None, at: Floats = (0.0, 0.0, 0.0)) -> Part:
        """The part moved rigidly (rotation matrix, then translation). Rigid only: chart metres stay metres."""
        r = np.eye(3) if rot is None else rot
        return Part(self.pos @ r.T + np.asarray(at, dtype=np.float64), self.nrm @ r.T, self.uv, self.tri, self.chart)


def rotation(x: float = 0.0, y: float = 0.0, z: float = 0.0) -> np.ndarray:
    """Rotation matrix from Euler angles in degrees, applied X, then Y, then Z."""
    ax, ay, az = (math.radians(a) for a in (x, y, z))
    rx = np.array([[1, 0, 0], [0, math.cos(ax), -math.sin(ax)], [0, math.sin(ax), math.cos(ax)]])
    ry = np.array([[math.cos(ay), 0, math.sin(ay)], [0, 1, 0], [-math.sin(ay), 0, math.cos(ay)]])
    rz = np.array([[math.cos(az), -math.sin(az), 0], [math.sin(az), math.cos(az), 0], [0, 0, 1]])
    return rz @ ry @ rx


def align_y_to(direction: Floats) -> np.ndarray:
    """Rotation taking +Y onto `direction` (for posts, braces and struts placed between two points)."""
    d = np.asarray(direction, dtype=np.float64)
    d = d / np.linalg.norm(d)
    y = np.array([0.0, 1.0, 0.0])
    v = np.cross(y, d)
    c = float(np.dot(y, d))
    if np.linalg.norm(v) < 1e-9:
        return np.eye(3) if c > 0 else np.diag([1.0, -1.0, -1.0])
    vx = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + vx + vx @ vx * (1.0 / (1.0 + c))


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(n > 1e-12, n, 1.0)


def finish(pos: np.ndarray, nrm: np.ndarray, uv: np.ndarray, tri: np.ndarray, chart: np.ndarray) -> Part:
    """Drop degenerate triangles and wind every triangle to face its vertices' normals."""
    tri = np.asarray(tri, dtype=np.int64).reshape(-1, 3)
    p0, p1, p2 = pos[tri[:, 0]], pos[tri[:, 1]], pos[tri[:, 2]]
    g = np.cross(p1 - p0, p2 - p0)
    area2 = np.linalg.norm(g, axis=1)
    keep = area2 > 1e-10
    tri, g = tri[keep], g[keep]
    vn = nrm[tri[:, 0]] + nrm[tri[:, 1]] + nrm[tri[:, 2]]
    flip = np.einsum("ij,ij->i", g, vn) < 0
    tri[flip] = tri[flip][:, [0, 2, 1]]
    return Part(pos.astype(np.float64), _unit(nrm.astype(np.float64)), uv.astype(np.float64), tri,
                np.asarray(chart, dtype=np.int64))


def merge(parts: Sequence[Part]) -> Part:
    """One part from many (indices and chart ids offset)."""
    parts = [p for p in parts if p.n_tris]
    if not parts:
        return Part(np.zeros((0, 3)), np.zeros((0, 3)), np.zeros((0, 2)), np.zeros((0, 3), np.int64),
                    np.zeros(0, np.int64))
    v_off = np.cumsum([0] + [len(p.pos) for p in parts[:-1]])
    c_off = np.cumsum([0] + [p.n_charts for p in parts[:-1]])
    return Part(
        np.concatenate([p.pos for p in parts]),
        np.concatenate([p.nrm for p in parts]),
        np.concatenate([p.uv for p in parts]),
        np.concatenate([p.tri + o for p, o in zip(parts, v_off, strict=True)]),
        np.concatenate([p.chart + o for p, o in zip(parts, c_off, strict=True)]),
    )


# --------------------------------------------------------------------------------------------- boxes
_FACE_AXES = {0: (2, 1), 1: (0, 2), 2: (0, 1)}  # face axis -> (s axis, t axis) of its chart


def box(size: Floats, bevel: float = 0.0) -> Part:
    """Box centred on the origin, edges chamfered by `bevel` metres (0: sharp, 12 triangles)."""
    h = np.asarray(size, dtype=np.float64) / 2.0
    b = float(min(max(bevel, 0.0), 0.45 * h.min()))
    inner = h - b
    pos: list[np.ndarray] = []
    nrm: list[np.ndarray] = []
    uvs: list[np.ndarray] = []
    tris: list[list[int]] = []
    charts: list[int] = []

    def add_poly(pts: np.ndarray, n: np.ndarray, uv: np.ndarray) -> None:
        base = sum(len(p) for p in pos)
        pos.append(pts)
        nrm.append(np.repeat(n[None], len(pts), axis=0))
        uvs.append(uv)
        for k in range(1, len(pts) - 1):
            tris.append([base, base + k, base + k + 1])
        charts.extend([len(pos) - 1] * len(pts))

    for a in range(3):
        sa, ta = _FACE_AXES[a]
        for s in (-1.0, 1.0):
            pts = np.zeros((4, 3))
            quad = [(-1, -1), (1, -1), (1, 1), (-1, 1)]
            for k, (qs, qt) in enumerate(quad):
                pts[k, a] = s * h[a]
                pts[k, sa] = qs * inner[sa]
                pts[k, ta] = qt * inner[ta]
            n = np.zeros(3)
            n[a] = s
            add_poly(pts, n, np.stack([pts[:, sa] * s if a != 1 else pts[:, sa], pts[:, ta]], axis=1))
    if b > 0:
        diag = b * math.sqrt(2.0)
        for a, c in ((0, 1), (0, 2), (1, 2)):
            d = 3 - a - c
            for s1 in (-1.0, 1.0):
                for s2 in (-1.0, 1.0):
                    pts = np.zeros((4, 3))
                    for k, (side, end) in enumerate(((0, -1), (0, 1), (1, 1), (1, -1))):
                        pts[k, a] = s1 * (h[a] if side == 0 else inner[a])
                        pts[k, c] = s2 * (inner[c] if side == 0 else h[c])
                        pts[k, d] = end * inner[d]
                    n = np.zeros(3)
                    n[a], n[c] = s1, s2
                    uv = np.stack([pts[:, d], np.array([0.0, 0.0, diag, diag])], axis=1)
                    add_poly(pts, _unit(n), uv)
        for sx in (-1.0, 1.0):
            for sy in (-1.0, 1.0):
                for sz in (-1.0, 1.0):
                    sg = np.array([sx, sy, sz])
                    pts = np.array([
                        sg * [h[0], inner[1], inner[2]],
                        sg * [inner[0], h[1], inner[2]],
                        sg * [inner[0], inner[1], h[2]],
                    ])
                    uv = np.array([[0.0, 0.0], [diag, 0.0], [diag / 2, diag * 0.866]])
                    add_poly(pts, _unit(sg), uv)
    return finish(np.concatenate(pos), np.concatenate(nrm), np.concatenate(uvs), np.array(tris),
                  np.asarray(charts))


# ------------------------------------------------------------------------------------- grid surface
def _grid_tris(nu: int, nv: int) -> np.ndarray:
    """Triangles of an (nu+1) x (nv+1) vertex grid, vertex index = i * (nv+1) + j."""
    i, j = np.meshgrid(np.arange(nu), np.arange(nv), indexing="ij")
    a = (i * (nv + 1) + j).ravel()
    b = a + (nv + 1)
    return np.concatenate([np.stack([a, b, b + 1], 1), np.stack([a, b + 1, a + 1], 1)])


def _grid_uv(grid: np.ndarray) -> np.ndarray:
    """Chart coordinates for a grid: s = arc length along each row (centred per row), t = mean arc
    length across rows. Rows are horizontal lines in the chart and keep their order, so it never folds."""
    du = np.linalg.norm(np.diff(grid, axis=0), axis=-1)  # (nu, nv+1)
    s = np.concatenate([np.zeros((1, grid.shape[1])), np.cumsum(du, axis=0)], axis=0)
    s -= s[-1:, :] / 2.0
    dv = np.linalg.norm(np.diff(grid, axis=1), axis=-1).mean(axis=0)  # (nv,)
    t = np.concatenate([[0.0], np.cumsum(dv)])
    return np.stack([s, np.broadcast_to(t, s.shape)], axis=-1)


def smooth_normals(pos: np.ndarray, tri: np.ndarray, weld: bool = True) -> np.ndarray:
    """Area-weighted vertex normals; with `weld`, coincident vertices (seams) share one normal."""
    p0, p1, p2 = pos[tri[:, 0]], pos[tri[:, 1]], pos[tri[:, 2]]
    fn = np.cross(p1 - p0, p2 - p0)
    if weld:
        keys = np.round(pos * 1e5).astype(np.int64)
        _, inv = np.unique(keys, axis=0, return_inverse=True)
        inv = inv.ravel()
    else:
        inv = np.arange(len(pos))
    acc = np.zeros((int(inv.max()) + 1, 3))
    for k in range(3):
        np.add.at(acc, inv[tri[:, k]], fn)
    return _unit(acc[inv])


def grid_surface(grid: np.ndarray, normals: np.ndarray | None = None, flip: bool = False) -> Part:
    """Open surface through an (nu+1, nv+1, 3) point grid. Without `normals`, smooth normals follow the
    winding (du x dv, or the reverse with `flip`)."""
    nu, nv = grid.shape[0] - 1, grid.shape[1] - 1
    pos = grid.reshape(-1, 3)
    tri = _grid_tris(nu, nv)
    if flip:
        tri = tri[:, [0, 2, 1]]
    nrm = smooth_normals(pos, tri) if normals is None else normals.reshape(-1, 3)
    uv = _grid_uv(grid).reshape(-1, 2)
    return finish(pos, nrm, uv, tri, np.zeros(len(pos), np.int64))


# --------------------------------------------------------------------------------------------- lathe
def lathe(profile: Sequence[tuple[float, float]], segments: int, hard_angle: float = 40.0,
          sweep_deg: float = 360.0) -> Part:
    """Surface of revolution about +Y. `profile` is (radius, y) from bottom to top; start and end on the
    axis (radius 0) for a closed solid. Corners sharper than `hard_angle` degrees get hard edges."""
    prof = np.asarray(profile, dtype=np.float64)
    seg_d = np.diff(prof, axis=0)
    seg_n = _unit(np.stack([seg_d[:, 1], -seg_d[:, 0]], axis=1))  # outward 2D normal (r, y)
    cos_hard = math.cos(math.radians(hard_angle))
    theta = np.linspace(0.0, math.radians(sweep_deg), segments + 1)
    ct, st = np.cos(theta), np.sin(theta)
    parts: list[Part] = []
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(seg_d, axis=1))])
    for k in range(len(seg_d)):
        if np.linalg.norm(seg_d[k]) < 1e-9:
            continue
        ends = []
        for end, other in ((k, k - 1), (k + 1, k + 1)):
            n = seg_n[k]
            if 0 <= other < len(seg_n) and float(np.dot(seg_n[other], seg_n[k])) > cos_hard:
                n = _unit(seg_n[k] + seg_n[other])
            ends.append((prof[end], n, arc[end]))
        grid = np.zeros((segments + 1, 2, 3))
        nrm = np.zeros((segments + 1, 2, 3))
        uv = np.zeros((segments + 1, 2, 2))
        for j, ((r, y), n, t) in enumerate(ends):
            grid[:, j] = np.stack([r * ct, np.full_like(ct, y), -r * st], axis=1)
            nrm[:, j] = np.stack([n[0] * ct, np.full_like(ct, n[1]), -n[0] * st], axis=1)
            uv[:, j, 0] = (theta - theta[-1] / 2) * r
            uv[:, j, 1] = t
        tri = _grid_tris(segments, 1)
        parts.append(finish(grid.reshape(-1, 3), nrm.reshape(-1, 3), uv.reshape(-1, 2), tri,
                            np.zeros((segments + 1) * 2, np.int64)))
    whole = merge(parts)
    whole.chart[:] = 0  # the bands form one unrolled chart: rows stay ordered, nothing folds
    return whole


def cylinder(radius: float, height: float, segments: int, radius_top: float | None = None,
             bevel: float = 0.0) -> Part:
    """Closed cylinder (or frustum) standing on y=0, optionally with chamfered rims."""
    rt = radius if radius_top is None else radius_top
    if bevel > 0:
        b = min(bevel, 0.4 * min(radius, rt), 0.3 * height)
        prof = [(0.0, 0.0), (radius - b, 0.0), (radius, b), (rt, height - b), (rt - b, height), (0.0, height)]
    else:
        prof = [(0.0, 0.0), (radius, 0.0), (rt, height), (0.0, height)]
    return lathe(prof, segments)


# ------------------------------------------------------------------------------------------ extrude
def _signed_area(poly: np.ndarray) -> float:
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def triangulate(poly: np.ndarray) -> np.ndarray:
    """Ear-clipping triangulation of a simple counter-clockwise polygon; returns (k-2, 3) indices."""
    idx = list(range(len(poly)))
    out: list[tuple[int, int, int]] = []
    guard = 0
    while len(idx) > 3 and guard < 10 * len(poly) ** 2:
        guard += 1
        n = len(idx)
        for k in range(n):
            i0, i1, i2 = idx[(k - 1) % n], idx[k], idx[(k + 1) % n]
            a, b, c = poly[i0], poly[i1], poly[i2]
            cross = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
            if cross <= 1e-14:
                continue
            inside = False
            for m in idx:
                if m in (i0, i1, i2):
                    continue
                p = poly[m]
                d1 = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])
                d2 = (c[0] - b[0]) * (p[1] - b[1]) - (c[1] - b[1]) * (p[0] - b[0])
                d3 = (a[0] - c[0]) * (p[1] - c[1]) - (a[1] - c[1]) * (p[0] - c[0])
                if d1 >= 0 and d2 >= 0 and d3 >= 0:
                    inside = True
                    break
            if not inside:
                out.append((i0, i1, i2))
                idx.pop(k)
                break
        else:  # numerically stuck (collinear run): clip the flattest vertex
            idx.pop(0)
    if len(idx) == 3:
        out.append((idx[0], idx[1], idx[2]))
    return np.asarray(out, dtype=np.int64).reshape(-1, 3)


def extrude(profile: Sequence[tuple[float, float]], depth: float, hard_angle: float = 40.0,
            caps: bool = True, cap_tris: np.ndarray | None = None) -> Part:
    """Prism: a simple polygon in the XY plane extruded along Z from -depth/2 to +depth/2.

    `cap_tris` may give the caps' triangulation (indices into `profile`), e.g. the strip of a
    thick polyline; otherwise the caps are ear-clipped."""
    poly = np.asarray(profile, dtype=np.float64)
    if _signed_area(poly) < 0:
        poly = poly[::-1].copy()
        if cap_tris is not None:
            cap_tris = len(poly) - 1 - np.asarray(cap_tris)
    k = len(poly)
    nxt = np.roll(poly, -1, axis=0)
    e = nxt - poly
    en = _unit(np.stack([e[:, 1], -e[:, 0]], axis=1))  # outward normals of CCW edges
    cos_hard = math.cos(math.radians(hard_angle))
    perim = np.concatenate([[0.0], np.cumsum(np.linalg.norm(e, axis=1))])
    z = np.array([-depth / 2, depth / 2])
    pos, nrm, uv, tri = [], [], [], []
    base = 0
    for i in range(k):
        if np.linalg.norm(e[i]) < 1e-9:
            continue
        n_prev, n_next = en[(i - 1) % k], en[(i + 1) % k]
        n0 = _unit(en[i] + n_prev) if float(np.dot(en[i], n_prev)) > cos_hard else en[i]
        n1 = _unit(en[i] + n_next) if float(np.dot(en[i], n_next)) > cos_hard else en[i]
        for p, n, s in ((poly[i], n0, perim[i]), (nxt[i], n1, perim[i + 1])):
            for zz in z:
                pos.append([p[0], p[1], zz])
                nrm.append([n[0], n[1], 0.0])
                uv.append([zz, s])
        tri += [[base, base + 2, base + 3], [base, base + 3, base + 1]]
        base += 4
    side = finish(np.array(pos), np.array(nrm), np.array(uv), np.array(tri), np.zeros(len(pos), np.int64))
    if not caps:
        return side
    ct = triangulate(poly) if cap_tris is None else np.asarray(cap_tris, dtype=np.int64)
    cap_parts = [side]
    for zz, nz in ((depth / 2, 1.0), (-depth / 2, -1.0)):
        p3 = np.column_stack([poly, np.full(k, zz)])
        n3 = np.tile([0.0, 0.0, nz], (k, 1))
        cap_parts.append(finish(p3, n3, poly * [nz, 1.0], ct, np.zeros(k, np.int64)))
    return merge(cap_parts)


def thick_polyline(points: Sequence[tuple[float, float]], thickness: float
                   ) -> tuple[list[tuple[float, float]], np.ndarray]:
    """A closed outline around an open 2D polyline (awnings, corrugated sheet, shells) and the strip
    triangulation of its caps (ear clipping is cubic in the point count; a strip is linear)."""
    p = np.asarray(points, dtype=np.float64)
    d = np.gradient(p, axis=0)
    n = _unit(np.stack([-d[:, 1], d[:, 0]], axis=1)) * (thickness / 2)
    m = len(p)
    i = np.arange(m - 1)
    j = 2 * m - 1 - i
    tris = np.concatenate([np.stack([i, i + 1, j], 1), np.stack([i + 1, j - 1, j], 1)])
    outline = [(float(x), float(y)) for x, y in np.concatenate([p + n, (p - n)[::-1]])]
    return outline, tris


# --------------------------------------------------------------------------------------------- tubes
def tube(path: Points, radius: float | Floats, segments: int,
         caps: bool = True) -> Part:
    """Round tube swept along a 3D polyline (rotation-minimising frames), with flat end caps."""
    pts = np.asarray(path, dtype=np.float64)
    rad = np.broadcast_to(np.asarray(radius, dtype=np.float64), (len(pts),))
    tang = _unit(np.gradient(pts, axis=0))
    ref = np.array([0.0, 1.0, 0.0]) if abs(tang[0, 1]) < 0.9 else np.array([1.0, 0.0, 0.0])
    nvec = _unit(np.cross(tang[0], ref))
    frames = []
    for k in range(len(pts)):
        if k:
            nvec = _unit(nvec - tang[k] * float(np.dot(nvec, tang[k])))
        frames.append((nvec, np.cross(tang[k], nvec)))
    theta = np.linspace(0.0, 2 * math.pi, segments + 1)
    ring_dirs = np.array([[math.cos(t) * f[0] + math.sin(t) * f[1] for t in theta] for f in frames])  # (k, seg+1, 3)
    grid = pts[:, None, :] + ring_dirs * rad[:, None, None]
    surf = grid_surface(np.transpose(grid, (1, 0, 2)), normals=np.transpose(ring_dirs, (1, 0, 2)))
    if not caps:
        return surf
    parts = [surf]
    for k, sign in ((0, -1.0), (len(pts) - 1, 1.0)):
        ring = grid[k, :-1]
        centre = pts[k]
        p = np.concatenate([centre[None], ring])
        n = np.tile(tang[k] * sign, (len(p), 1))
        t = np.array([[0, 1 + i, 1 + (i + 1) % segments] for i in range(segments)])
        f0, f1 = frames[k]
        uv = np.stack([(p - centre) @ f0, (p - centre) @ f1], axis=1)
        parts.append(finish(p, n, uv, t, np.zeros(len(p), np.int64)))
    return merge(parts)


# ---------------------------------------------------------------------------------------- blobs
def cube_sphere(radii: Sequence[float], res: int,
                displace: Callable[[np.ndarray], np.ndarray] | None = None) -> Part:
    """Closed ellipsoid from six subdivided cube faces (one chart each), centred on the origin.

    `displace(unit_dirs) -> scale` deforms it radially (rocks, canopies, pods); normals are smoothed
    across the cube seams."""
    r = np.asarray(radii, dtype=np.float64)
    g = np.linspace(-1.0, 1.0, res + 1)
    a, b = np.meshgrid(g, g, indexing="ij")
    faces = []
    for axis in range(3):
        for sign in (-1.0, 1.0):
            cube = np.zeros((res + 1, res + 1, 3))
            u_ax, v_ax = [x for x in range(3) if x != axis]
            cube[..., axis] = sign
            cube[..., u_ax] = a * sign if axis != 1 else a
            cube[..., v_ax] = b
            faces.append(cube)
    parts = []
    arc = math.pi / 4 * float(r.mean())
    for cube in faces:
        dirs = _unit(cube.reshape(-1, 3))
        scale = displace(dirs) if displace is not None else np.ones(len(dirs))
        pos = dirs * r * scale[:, None]
        tri = _grid_tris(res, res)
        uv = np.stack([a.ravel() * arc, b.ravel() * arc], axis=1)
        parts.append(Part(pos, dirs, uv, tri, np.zeros(len(pos), np.int64)))
    whole = merge(parts)
    # orient each triangle outward (the shape is star-shaped about the origin), then smooth across seams
    p0, p1, p2 = (whole.pos[whole.tri[:, k]] for k in range(3))
    out = np.einsum("ij,ij->i", np.cross(p1 - p0, p2 - p0), p0 + p1 + p2) < 0
    whole.tri[out] = whole.tri[out][:, [0, 2, 1]]
    whole.nrm = smooth_normals(whole.pos, whole.tri)
    return finish(whole.pos, whole.nrm, whole.uv, whole.tri, whole.chart)


def heightfield(size_x: float, size_z: float, nx: int, nz: int, height: Callable[[np.ndarray, np.ndarray], np.ndarray]
                ) -> Part:
    """Upward-facing open grid over [-sx/2, sx/2] x [-sz/2, sz/2] with y = height(x, z)."""
    xs = np.linspace(-size_x / 2, size_x / 2, nx + 1)
    zs = np.linspace(-size_z / 2, size_z / 2, nz + 1)
    x, zz = np.meshgrid(xs, zs, indexing="ij")
    grid = np.stack([x, height(x, zz), zz], axis=-1)
    part = grid_surface(grid)
    if float(part.nrm[:, 1].mean()) < 0:
        part = grid_surface(grid, flip=True)
    return part
