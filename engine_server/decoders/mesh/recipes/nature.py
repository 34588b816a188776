"""Natural forms: rocks, trees and logs, deformed by seeded 3D noise."""

from __future__ import annotations

import math

import numpy as np

from engine_server.decoders.mesh import geometry as g
from engine_server.decoders.mesh.assembly import Builder
from engine_server.decoders.mesh.recipes.common import Ctx, curve


def _rock_shape(c: Ctx, key: str, ridged: float):  # type: ignore[no-untyped-def]
    off = np.array([c.k.u(key + "x", -80, 80), c.k.u(key + "y", -80, 80), c.k.u(key + "z", -80, 80)])
    facets = c.k.i(key + "facets", 5, 9)
    normals = np.array([[math.cos(a) * math.cos(e), math.sin(e), math.sin(a) * math.cos(e)]
                        for a, e in ((c.k.u(f"{key}a{i}", 0, 6.28), c.k.u(f"{key}e{i}", -0.3, 1.2))
                                     for i in range(facets))])
    cuts = np.array([c.k.u(f"{key}c{i}", 0.72, 0.9) for i in range(facets)])

    def disp(d: np.ndarray) -> np.ndarray:
        n = c.vn(d * 1.2 + off, 1.0, 4)
        r = 1.0 + 0.18 * n + ridged * 0.12 * (1 - np.abs(c.vn(d * 2.5 - off, 1.0, 2)))
        # flat cleavage planes: cut the blob where it passes each plane (r . n_i <= cut_i)
        for nrm, cut in zip(normals, cuts, strict=True):
            dot = d @ nrm
            r = np.where(dot * r > cut, np.maximum(cut / np.maximum(dot, 1e-3), 0.4), r)
        return r

    return disp


def rock(b: Builder, c: Ctx) -> None:
    k = c.k
    res = (10, 5, 3)[min(b.lod, 2)]
    count = 1 if c.s == "organic" else k.i("count", 1, 3)
    smooth = c.s == "organic"
    for i in range(count):
        size = k.u(f"size{i}", 0.6, 1.1) * (1.0 if i == 0 else k.u(f"sub{i}", 0.35, 0.6))
        radii = (size, size * k.u(f"fl{i}", 0.5, 0.8), size * k.u(f"dp{i}", 0.7, 1.0))
        disp = (lambda d: 1.0 + 0.08 * c.vn(d * 1.5, 1.0, 2)) if smooth else _rock_shape(c, f"r{i}", 1.0)
        part = g.cube_sphere(radii, res, disp)
        # sink the rock a little and flatten what is below ground level
        pos = part.pos.copy()
        sink = radii[1] * 0.25
        pos[:, 1] = np.maximum(pos[:, 1], -radii[1] + sink * 2) + radii[1] - sink
        part = g.finish(pos, g.smooth_normals(pos, part.tri), part.uv, part.tri, part.chart)
        ang = 2 * math.pi * i / max(count, 1) + k.u(f"ang{i}", 0, 1)
        dist = 0.0 if i == 0 else size + radii[0] * 0.6
        b.add("rock", part, at=(dist * math.cos(ang), 0.0, dist * math.sin(ang)),
              rot=g.rotation(y=k.u(f"ry{i}", 0, 360)))
        if smooth:
            for j in range(c.count(f"pebble{i}", 0, 3) if b.lod <= 1 else 0):
                pr = size * k.u(f"pr{j}", 0.2, 0.35)
                b.add("trim", g.cube_sphere((pr, pr * 0.6, pr), 3),
                      at=(size * 1.1 * math.cos(j * 2.3), pr * 0.5, size * 1.1 * math.sin(j * 2.3)))


def tree(b: Builder, c: Ctx) -> None:
    k = c.k
    H = k.u("H", 3.5, 5.0)
    lean = (k.u("lx", -0.4, 0.4), k.u("lz", -0.4, 0.4))
    top = (lean[0], H * 0.72, lean[1])
    pts = curve((0, 0, 0), (lean[0] * 0.2, H * 0.4, lean[1] * 0.2), top, b.seg(12, 4))
    radii = np.linspace(k.u("trunk_r", 0.14, 0.22), 0.07, len(pts))
    radii[0] *= 1.5
    b.add("bark", g.tube(pts, radii, b.seg(12, 5)))
    if c.s == "organic":
        cap = g.lathe([(0.0, 0.0), (1.3, -0.2), (1.35, -0.05), (1.0, 0.35), (0.0, 0.6)], b.seg(24, 8), hard_angle=40)
        b.add("structure", cap, at=top)
        b.add("glow", g.cube_sphere((0.12, 0.12, 0.12), 2), at=(top[0] + 0.6, top[1] - 0.15, top[2]))
        return
    branches = c.count("branches", 2, 5) if b.lod <= 1 else 0
    for i in range(branches):
        t = k.u(f"bt{i}", 0.45, 0.8)
        p0 = pts[int(t * (len(pts) - 1))]
        ang = 2 * math.pi * i / max(branches, 1) + k.u(f"ba{i}", 0, 1)
        reach = k.u(f"br{i}", 0.6, 1.2)
        end = (p0[0] + reach * math.cos(ang), p0[1] + reach * 0.7, p0[2] + reach * math.sin(ang))
        mid = (p0[0] + reach * 0.5 * math.cos(ang), p0[1] + reach * 0.2, p0[2] + reach * 0.5 * math.sin(ang))
        b.add("bark", g.tube(curve(p0, mid, end, b.seg(6, 3)), np.linspace(0.06, 0.025, b.seg(6, 3) + 1),
                             b.seg(8, 4)))
    res = (7, 4, 2)[min(b.lod, 2)]
    blobs = c.count("blobs", 3, 6)
    for i in range(blobs if b.lod < 2 else 2):
        ang = 2 * math.pi * i / blobs + k.u(f"ca{i}", 0, 0.5)
        rr = k.u(f"cr{i}", 0.7, 1.1) * (1.0 if i else 1.25)
        off = 0.0 if i == 0 else k.u(f"co{i}", 0.5, 0.8)
        centre = (top[0] + off * math.cos(ang), top[1] + 0.5 + k.u(f"cy{i}", -0.3, 0.5) * (1 if i else 0.5),
                  top[2] + off * math.sin(ang))
        b.add("foliage", g.cube_sphere((rr, rr * 0.8, rr), res, _leafy(c, i)), at=centre)


def _leafy(c: Ctx, i: int):  # type: ignore[no-untyped-def]
    shift = np.array([c.k.u(f"lf{i}x", -60, 60), c.k.u(f"lf{i}y", -60, 60), c.k.u(f"lf{i}z", -60, 60)])

    def disp(d: np.ndarray) -> np.ndarray:
        return 1.0 + 0.22 * c.vn(d * 1.8 + shift, 1.0, 3)

    return disp


def log(b: Builder, c: Ctx) -> None:
    k = c.k
    n = b.seg(14, 6)
    if k.chance("stump", 0.4):
        r = k.u("r", 0.3, 0.45)
        h = k.u("h", 0.4, 0.8)
        prof = [(0.0, 0.0), (r * 1.35, 0.0), (r * 1.1, 0.12), (r, 0.3), (r * 0.98, h), (0.0, h)]
        b.add("bark", g.lathe(prof, n, hard_angle=50))
        b.add("wood", g.cylinder(r * 0.9, 0.012, n), at=(0, h, 0))
        for i in range(c.count("roots", 2, 4) if b.lod <= 1 else 0):
            a = 2 * math.pi * i / 4 + k.u(f"ra{i}", 0, 0.8)
            pts = curve((r * 0.8 * math.cos(a), 0.2, r * 0.8 * math.sin(a)),
                        (r * 1.4 * math.cos(a), 0.12, r * 1.4 * math.sin(a)),
                        (r * 2.0 * math.cos(a), 0.03, r * 2.0 * math.sin(a)), b.seg(6, 3))
            b.add("bark", g.tube(pts, np.linspace(0.09, 0.03, len(pts)), b.seg(8, 4)))
        return
    L = k.u("L", 1.6, 2.6)
    r = k.u("r", 0.18, 0.28)
    prof = [(0.0, 0.0), (r, 0.0), (r * 1.05, L * 0.3), (r * 0.95, L * 0.75), (r * 0.9, L), (0.0, L)]
    b.add("bark", g.lathe(prof, n, hard_angle=50), at=(-L / 2, r, 0), rot=g.rotation(z=-90.0))
    for x, rr in ((-L / 2, r), (L / 2, r * 0.9)):
        b.add("wood", g.cylinder(rr * 0.92, 0.012, n), at=(x + (0.006 if x < 0 else -0.006), r, 0),
              rot=g.rotation(z=-90.0 if x > 0 else 90.0))
    if b.lod <= 1 and k.chance("branch", 0.6):
        p0 = (k.u("bx", -0.4, 0.4) * L, r * 1.6, 0.0)
        b.add("bark", g.tube(curve(p0, (p0[0] + 0.2, r * 2.2, 0.1), (p0[0] + 0.45, r * 2.6, 0.25), b.seg(6, 3)),
                             np.linspace(0.05, 0.02, b.seg(6, 3) + 1), b.seg(8, 4)))
