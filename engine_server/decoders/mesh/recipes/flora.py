"""Nature subjects: pines, palms, oaks, birches, cacti, bushes, coral, kelp, mushrooms, crystals,
rock arches and cliffs. Shapes come from seeded noise (blob, the rock cleavage of nature.py)."""

from __future__ import annotations

import math

import numpy as np

from engine_server.decoders.mesh import geometry as g
from engine_server.decoders.mesh.assembly import Builder
from engine_server.decoders.mesh.recipes.common import Ctx, curve
from engine_server.decoders.mesh.recipes.nature import _rock_shape
from engine_server.decoders.mesh.recipes.shapes import blob


def _trunk(b: Builder, c: Ctx, H: float, r0: float, r1: float, lean: float = 0.0, mat: str = "bark") -> np.ndarray:
    k = c.k
    top = (lean * k.u("lx", -1, 1), H, lean * k.u("lz", -1, 1))
    pts = curve((0, 0, 0), (top[0] * 0.2, H * 0.5, top[2] * 0.2), top, b.seg(10, 3))
    radii = np.linspace(r0, r1, len(pts))
    radii[0] *= 1.35
    b.add(mat, g.tube(pts, radii, b.seg(12, 5)))
    return pts


def pine(b: Builder, c: Ctx) -> None:
    k = c.k
    H = k.u("H", 5.0, 7.0)
    pts = _trunk(b, c, H * 0.35, k.u("r", 0.16, 0.22), 0.1, 0.05)
    tiers = c.count("tiers", 4, 6) if b.lod < 2 else 3
    n = b.seg(12, 6)
    base_y = H * 0.18
    for i in range(tiers):
        t = i / max(tiers - 1, 1)
        r = k.u("spread", 1.4, 1.9) * (1 - 0.78 * t)
        h = (H - base_y) / tiers * 1.6
        y = base_y + t * (H - base_y - h)
        prof = [(0.0, 0.0), (r, 0.0), (r * 0.55, h * 0.25), (r * 0.62, h * 0.3), (0.0, h)]
        tier = g.lathe(prof, n, hard_angle=30)
        b.add("foliage", tier, at=(pts[-1][0] * t, y, pts[-1][2] * t), rot=g.rotation(y=k.u(f"tr{i}", 0, 60)))


def palm(b: Builder, c: Ctx) -> None:
    k = c.k
    H = k.u("H", 4.5, 6.0)
    bend = k.u("bend", 0.6, 1.4)
    top = np.array([bend, H, 0.0])
    pts = curve((0, 0, 0), (bend * 0.1, H * 0.6, 0), top, b.seg(14, 4))
    radii = np.linspace(0.2, 0.13, len(pts))
    b.add("bark", g.tube(pts, radii, b.seg(10, 5)))
    if b.full:
        for i in range(2, len(pts) - 1, 2):
            b.add("bark", g.cylinder(radii[i] * 1.12, 0.06, 8), at=tuple(pts[i]),
                  rot=g.align_y_to(pts[i + 1] - pts[i - 1]))
    fronds = c.count("fronds", 6, 9) if b.lod < 2 else 4
    for i in range(fronds):
        a = 2 * math.pi * i / fronds + k.u(f"fa{i}", 0, 0.4)
        reach = k.u(f"fr{i}", 1.8, 2.4)
        droop = k.u(f"fd{i}", 0.8, 1.4)
        xs = np.linspace(0.0, reach, b.seg(8, 3) + 1)
        ys = 0.4 * xs - droop * (xs / reach) ** 2
        outline, cap = g.thick_polyline(list(zip(xs, ys, strict=True)), 0.03)
        leaf = g.extrude(outline, k.u(f"fw{i}", 0.35, 0.5), hard_angle=40, cap_tris=cap)
        b.add("foliage", leaf, at=tuple(top), rot=g.rotation(y=-math.degrees(a)))
    for i in range(c.count("nuts", 2, 4) if b.lod <= 1 else 0):
        a = 2 * math.pi * i / 4
        b.add("wood", g.cube_sphere((0.1, 0.12, 0.1), 2),
              at=(top[0] + 0.16 * math.cos(a), H - 0.15, 0.16 * math.sin(a)))


def oak(b: Builder, c: Ctx) -> None:
    k = c.k
    H = k.u("H", 4.0, 5.2)
    pts = _trunk(b, c, H * 0.5, k.u("r", 0.3, 0.4), 0.2, 0.2)
    top = pts[-1]
    limbs = c.count("limbs", 3, 5) if b.lod <= 1 else 2
    ends = []
    for i in range(limbs):
        a = 2 * math.pi * i / limbs + k.u(f"la{i}", 0, 0.6)
        reach = k.u(f"lr{i}", 1.2, 1.8)
        end = top + np.array([reach * math.cos(a), k.u(f"ly{i}", 0.6, 1.2), reach * math.sin(a)])
        b.add("bark", g.tube(curve(top - [0, 0.3, 0], top + (end - top) * 0.5 + [0, -0.1, 0], end, b.seg(6, 3)),
                             np.linspace(0.16, 0.07, b.seg(6, 3) + 1), b.seg(8, 4)))
        ends.append(end)
    res = (6, 4, 2)[min(b.lod, 2)]
    b.add("foliage", g.cube_sphere((2.0, 1.2, 2.0), res, blob(c, "crown", 0.22)), at=tuple(top + np.array([0, 1.3, 0])))
    for i, end in enumerate(ends if b.lod < 2 else []):
        rr = k.u(f"cr{i}", 0.9, 1.2)
        b.add("foliage", g.cube_sphere((rr, rr * 0.75, rr), res, blob(c, f"c{i}", 0.25)),
              at=tuple(end + np.array([0, 0.3, 0])))


def birch(b: Builder, c: Ctx) -> None:
    k = c.k
    stems = k.i("stems", 1, 3)
    for s in range(stems):
        H = k.u(f"H{s}", 4.5, 6.0) * (1 if s == 0 else 0.8)
        a = 2 * math.pi * s / 3 + k.u(f"sa{s}", 0, 1)
        base = np.array([0.35 * math.cos(a), 0.0, 0.35 * math.sin(a)]) * (s > 0)
        top = base + np.array([0.4 * math.cos(a) * (s > 0) + k.u(f"tx{s}", -0.2, 0.2), H, 0.4 * math.sin(a) * (s > 0)])
        pts = curve(tuple(base), tuple(base + (top - base) * 0.5), tuple(top), b.seg(10, 3))
        b.add("structure", g.tube(pts, np.linspace(0.12, 0.05, len(pts)), b.seg(10, 5)))
        if b.full:
            for j in range(3, len(pts) - 2, 2):
                b.add("metal" if c.s == "scifi" else "bark", g.cylinder(0.125 - 0.007 * j, 0.05, 8), at=tuple(pts[j]),
                      rot=g.align_y_to(pts[j + 1] - pts[j - 1]))
        res = (5, 3, 2)[min(b.lod, 2)]
        for i in range(3 if b.lod < 2 else 1):
            rr = k.u(f"c{s}{i}", 0.6, 0.9)
            b.add("foliage", g.cube_sphere((rr, rr * 1.5, rr), res, blob(c, f"b{s}{i}", 0.25)),
                  at=tuple(top + np.array([k.u(f"cx{s}{i}", -0.4, 0.4), -0.6 - i * 0.7, k.u(f"cz{s}{i}", -0.4, 0.4)])))


def cactus(b: Builder, c: Ctx) -> None:
    k = c.k
    H = k.u("H", 2.2, 3.2)
    r = k.u("r", 0.22, 0.3)
    ribs = 12
    if b.full:
        star = [((r * (1 - 0.1 * max(0.0, math.sin(a * ribs)))) * math.cos(a),
                 (r * (1 - 0.1 * max(0.0, math.sin(a * ribs)))) * math.sin(a))
                for a in np.linspace(0, 2 * math.pi, ribs * 4, endpoint=False)]
        b.add("foliage", g.extrude(star, H - r, hard_angle=30), at=(0, (H - r) / 2, 0), rot=g.rotation(x=90.0))
    else:
        b.add("foliage", g.cylinder(r, H - r, b.seg(16, 6)))
    b.add("foliage", g.cube_sphere((r, r, r), 4 if b.lod <= 1 else 2), at=(0, H - r, 0))
    for i in range(k.i("arms", 1, 3)):
        side = 1 if i % 2 == 0 else -1
        y0 = H * k.u(f"ay{i}", 0.35, 0.6)
        out = k.u(f"ao{i}", 0.5, 0.7)
        a = math.radians(k.u(f"aa{i}", -40, 40) + (0 if side > 0 else 180))
        d = np.array([math.cos(a), 0.0, math.sin(a)])
        p0 = np.array([0.0, y0, 0.0])
        pts = curve(p0, p0 + d * out, p0 + d * out + [0, k.u(f"ah{i}", 0.6, 1.0), 0], b.seg(8, 3))
        b.add("foliage", g.tube(pts, r * 0.62, b.seg(12, 5)))
        b.add("foliage", g.cube_sphere((r * 0.62,) * 3, 3 if b.lod <= 1 else 2), at=tuple(pts[-1]))


def bush(b: Builder, c: Ctx) -> None:
    k = c.k
    res = (5, 3, 2)[min(b.lod, 2)]
    n = c.count("clumps", 3, 6) if b.lod < 2 else 2
    for i in range(n):
        a = 2 * math.pi * i / n + k.u(f"a{i}", 0, 0.8)
        d = 0.0 if i == 0 else k.u(f"d{i}", 0.4, 0.8)
        rr = k.u(f"r{i}", 0.45, 0.7) * (1.2 if i == 0 else 1.0)
        b.add("foliage", g.cube_sphere((rr, rr * 0.8, rr), res, blob(c, f"b{i}", 0.3)),
              at=(d * math.cos(a), rr * 0.6, d * math.sin(a)))


def coral(b: Builder, c: Ctx) -> None:
    k = c.k
    b.add("rock", g.cube_sphere((0.7, 0.3, 0.6), (5, 3, 2)[min(b.lod, 2)], _rock_shape(c, "base", 0.5)), at=(0, 0.1, 0))
    # branching coral: three levels of forks with rounded tips
    branches = c.count("branches", 4, 7) if b.lod <= 1 else 3
    for i in range(branches):
        a = 2 * math.pi * i / branches + k.u(f"a{i}", 0, 0.5)
        p0 = np.array([0.2 * math.cos(a), 0.3, 0.2 * math.sin(a)])
        h = k.u(f"h{i}", 0.7, 1.3)
        p1 = p0 + np.array([0.35 * math.cos(a), h, 0.35 * math.sin(a)])
        pts = curve(p0, p0 + np.array([0, h * 0.5, 0]), p1, b.seg(6, 3))
        b.add("accent", g.tube(pts, np.linspace(0.07, 0.045, len(pts)), b.seg(8, 4)))
        b.add("accent", g.cube_sphere((0.06, 0.06, 0.06), 2), at=tuple(p1))
        if b.lod == 0:
            for j in (-1, 1):
                q = p0 + (p1 - p0) * 0.55
                tip = q + np.array([0.3 * math.cos(a + j), h * 0.35, 0.3 * math.sin(a + j)])
                b.add("accent", g.tube(curve(q, q + np.array([0, 0.15, 0]), tip, 4), np.linspace(0.045, 0.03, 5), 6))
                b.add("accent", g.cube_sphere((0.04, 0.04, 0.04), 2), at=tuple(tip))
    # a brain-coral head and a sea fan
    b.add("glow" if k.chance("glow", 0.5) else "cloth", g.cube_sphere((0.4, 0.3, 0.4), (6, 4, 2)[min(b.lod, 2)],
                                                                       blob(c, "brain", 0.12, 4.0)),
          at=(-0.55, 0.35, 0.25))
    fan = [(0.0, 0.0)] + [(0.7 * math.cos(t), 0.9 * math.sin(t) + 0.1) for t in np.linspace(0.3, math.pi - 0.3, 9)]
    b.add("cloth", g.extrude(fan, 0.03), at=(0.35, 0.3, -0.35), rot=g.rotation(y=k.u("fan", 20, 70)))


def kelp(b: Builder, c: Ctx) -> None:
    k = c.k
    hold = g.cube_sphere((0.45, 0.25, 0.4), (4, 3, 2)[min(b.lod, 2)], _rock_shape(c, "hold", 0.4))
    b.add("rock", hold, at=(0, 0.1, 0))
    fronds = c.count("fronds", 3, 6) if b.lod < 2 else 2
    for i in range(fronds):
        H = k.u(f"H{i}", 2.5, 4.0)
        ph = k.u(f"p{i}", 0, 6.28)
        ys = np.linspace(0.0, H, b.seg(16, 5) + 1)
        xs = 0.18 * np.sin(ys * 1.6 + ph) * (ys / H)
        outline, cap = g.thick_polyline(list(zip(xs, ys, strict=True)), 0.025)
        blade = g.extrude(outline, k.u(f"w{i}", 0.16, 0.26), hard_angle=40, cap_tris=cap)
        a = 2 * math.pi * i / fronds
        b.add("foliage", blade, at=(0.18 * math.cos(a), 0.15, 0.18 * math.sin(a)), rot=g.rotation(y=math.degrees(a)))
        if b.full:
            for j in range(2, len(ys) - 1, 4):
                b.add("accent", g.cube_sphere((0.04, 0.06, 0.04), 2),
                      at=(0.18 * math.cos(a) + xs[j] * math.cos(a) + 0.08 * math.sin(a), 0.15 + ys[j],
                          0.18 * math.sin(a) - xs[j] * math.sin(a) - 0.08 * math.cos(a)))


def mushroom(b: Builder, c: Ctx) -> None:
    k = c.k
    n = b.seg(16, 6)
    count = c.count("count", 2, 5) if b.lod <= 1 else 1
    for i in range(count):
        s = 1.0 if i == 0 else k.u(f"s{i}", 0.3, 0.6)
        a = 2 * math.pi * i / max(count, 1) + k.u(f"a{i}", 0, 1)
        d = 0.0 if i == 0 else k.u(f"d{i}", 0.6, 1.0)
        x, z = d * math.cos(a), d * math.sin(a)
        H, R = k.u(f"h{i}", 1.2, 1.8) * s, k.u(f"r{i}", 0.8, 1.1) * s
        stem = [(0.0, 0.0), (0.2 * s, 0.0), (0.14 * s, H * 0.5), (0.16 * s, H), (0.0, H)]
        b.add("structure", g.lathe(stem, n, hard_angle=50), at=(x, 0, z))
        cap = [(0.0, 0.0), (R * 0.3, 0.02), (R, 0.08 * s), (R * 0.95, 0.3 * s), (R * 0.6, 0.55 * s), (0.0, 0.65 * s)]
        b.add("accent", g.lathe(cap, n, hard_angle=50), at=(x, H - 0.05 * s, z))
        if b.full:
            for j in range(5):
                t = 2 * math.pi * j / 5 + k.u(f"sp{i}{j}", 0, 0.6)
                rr = R * 0.62
                b.add("trim", g.cube_sphere((0.07 * s, 0.03 * s, 0.07 * s), 2),
                      at=(x + rr * math.cos(t), H - 0.05 * s + 0.43 * s, z + rr * math.sin(t)))
        if i == 0 and b.lod <= 1:
            b.add("glow", g.cylinder(R * 0.85, 0.02, n), at=(x, H - 0.07 * s, z))


def crystal(b: Builder, c: Ctx) -> None:
    k = c.k
    b.add("rock", g.cube_sphere((0.7, 0.3, 0.6), (5, 3, 2)[min(b.lod, 2)], _rock_shape(c, "bed", 0.8)), at=(0, 0.12, 0))
    count = c.count("count", 3, 7) if b.lod <= 1 else 2
    for i in range(count):
        s = 1.0 if i == 0 else k.u(f"s{i}", 0.35, 0.7)
        r, h = 0.16 * s, k.u(f"h{i}", 1.2, 1.8) * s
        prism = g.lathe([(0.0, 0.0), (r, 0.0), (r, h), (0.0, h + r * 2.2)], 6, hard_angle=20)
        a = 2 * math.pi * i / count + k.u(f"a{i}", 0, 0.7)
        tilt = 0.0 if i == 0 else k.u(f"t{i}", 15, 40)
        rot = g.rotation(z=tilt) @ g.rotation(y=k.u(f"ry{i}", 0, 60))
        rot = g.rotation(y=-math.degrees(a)) @ rot
        d = 0.0 if i == 0 else 0.25
        b.add("glow" if i == 0 else "accent", prism, at=(d * math.cos(a), 0.15, d * math.sin(a)), rot=rot)


def rock_arch(b: Builder, c: Ctx) -> None:
    k = c.k
    span = k.u("span", 3.0, 4.0)
    H = k.u("H", 2.6, 3.4)
    res = (7, 4, 2)[min(b.lod, 2)]
    for sx in (-1, 1):
        b.add("rock", g.cube_sphere((0.8, H * 0.5, 0.7), res, _rock_shape(c, f"p{sx}", 1.0)),
              at=(sx * span / 2, H * 0.45, 0))
    n = b.seg(14, 6)
    pts = [(span / 2 * math.cos(t), H * 0.6 + H * 0.45 * math.sin(t), 0.0) for t in np.linspace(0.0, math.pi, n + 1)]
    radii = 0.45 + 0.12 * np.cos(np.linspace(0, 2 * math.pi, n + 1) * 1.5)
    b.add("rock", g.tube(pts, radii, b.seg(10, 5)))


def cliff(b: Builder, c: Ctx) -> None:
    k = c.k
    W, H, D = k.u("w", 4.5, 5.5), k.u("h", 3.5, 4.5), k.u("d", 1.8, 2.4)
    res = (10, 6, 3)[min(b.lod, 2)]
    shape = _rock_shape(c, "face", 1.0)

    def strata(d: np.ndarray) -> np.ndarray:
        return np.asarray(shape(d)) * (1.0 + 0.05 * np.sin(d[:, 1] * 14.0))

    part = g.cube_sphere((W / 2, H / 2, D / 2), res, strata)
    pos = part.pos.copy()
    pos[:, 1] = np.maximum(pos[:, 1], -H * 0.42)
    part = g.finish(pos, g.smooth_normals(pos, part.tri), part.uv, part.tri, part.chart)
    b.add("rock", part, at=(0, H * 0.42, 0))
    for i in range(c.count("ledges", 1, 3) if b.lod <= 1 else 0):
        rr = k.u(f"l{i}", 0.5, 0.8)
        b.add("rock", g.cube_sphere((rr, rr * 0.5, rr), 3, _rock_shape(c, f"le{i}", 1.0)),
              at=(k.u(f"lx{i}", -W / 3, W / 3), rr * 0.35, D / 2 + rr * 0.3))
    if b.full:
        b.add("foliage", g.cube_sphere((W * 0.45, 0.25, D * 0.35), 3, blob(c, "moss", 0.3)), at=(0, H * 0.82, 0))
