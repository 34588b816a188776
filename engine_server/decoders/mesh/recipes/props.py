"""Props: crates, barrels, benches and planters, each shaped by the style's vocabulary."""

from __future__ import annotations

import math

import numpy as np

from engine_server.decoders.mesh import geometry as g
from engine_server.decoders.mesh.assembly import Builder
from engine_server.decoders.mesh.recipes.common import Ctx, beam, block, bolts, rod


def _wood_crate(b: Builder, c: Ctx, key: str, size: tuple[float, float, float], at: tuple[float, float, float],
                ry: float = 0.0) -> None:
    k = c.k
    sx, sy, sz = size
    rot = g.rotation(y=ry)
    ox, oy, oz = at

    def put(mat: str, part: g.Part, p: tuple[float, float, float]) -> None:
        q = rot @ np.asarray(p)
        b.add(mat, part, at=(ox + q[0], oy + q[1], oz + q[2]), rot=rot)

    f = min(sx, sy, sz) * 0.1
    put("wood", g.box((sx - 2 * f * 0.6, sy - 2 * f * 0.6, sz - 2 * f * 0.6)), (0, sy / 2, 0))
    # frame battens on the 12 edges
    for ax in range(3):
        dims = [sx, sy, sz]
        length = dims[ax]
        for s1 in (-1, 1):
            for s2 in (-1, 1):
                others = [a for a in range(3) if a != ax]
                p = [0.0, sy / 2, 0.0]
                p[others[0]] += s1 * (dims[others[0]] / 2 - f / 2)
                p[others[1]] += s2 * (dims[others[1]] / 2 - f / 2)
                d = [f, f, f]
                d[ax] = length - (2 * f if ax != 0 else 0.0)  # x battens run through the corners
                put("trim", g.box(d, b.bevel(0.004)), (p[0], p[1], p[2]))
    if b.lod <= 1 and k.chance(key + "brace", 0.7):
        for side in (-1, 1):
            brace = g.box((math.hypot(sx - 2 * f, sy - 2 * f), f * 0.9, f * 0.6), b.bevel(0.003))
            ang = math.degrees(math.atan2(sy - 2 * f, sx - 2 * f))
            b.add("trim", brace, at=tuple(np.add(at, rot @ np.array([0.0, sy / 2, side * (sz / 2 - f * 0.3 - 0.003)]))),
                  rot=rot @ g.rotation(z=ang * side))
    if b.full:
        pts = [(ox + sx2 * (sx / 2 - f / 2), oy + y, oz + sz / 2) for sx2 in (-1, 1) for y in (f / 2, sy - f / 2)]
        if ry == 0.0:
            bolts(b, "metal", pts, 2, r=0.008)


def crate(b: Builder, c: Ctx) -> None:
    k = c.k
    s = c.s
    w = k.u("w", 0.7, 1.0)
    h = k.u("h", 0.55, 0.85) * w
    d = k.u("d", 0.7, 1.0) * w
    if s == "scifi":
        block(b, "structure", (w, h, d), (0, h / 2 + 0.04, 0), bevel=0.04)
        for sx in (-1, 1):
            block(b, "trim", (0.02, h * 0.55, d * 0.7), (sx * w / 2, h / 2 + 0.04, 0), bevel=0.01)
            if b.lod <= 1:
                rod(b, "metal", (sx * (w / 2 + 0.03), h * 0.7, -d * 0.2), (sx * (w / 2 + 0.03), h * 0.7, d * 0.2),
                    0.015, 8)
        block(b, "glow", (w * 0.6, 0.025, 0.012), (0, h * 0.8, d / 2))
        block(b, "accent", (w * 0.9, 0.05, d * 0.9), (0, h + 0.05, 0), bevel=0.02)
        for sx in (-1, 1):
            for sz in (-1, 1):
                block(b, "trim", (0.12, 0.05, 0.12), (sx * (w / 2 - 0.08), 0.025, sz * (d / 2 - 0.08)), bevel=0.01)
        if k.chance("stack", 0.5):
            w2 = w * k.u("w2", 0.5, 0.7)
            block(b, "accent", (w2, w2 * 0.6, w2), (k.u("sx", -0.1, 0.1), h + 0.08 + w2 * 0.3, 0), bevel=0.03,
                  ry=k.u("sr", -25, 25))
        return
    if s in ("industrial",) and k.chance("metal_crate", 0.5):
        block(b, "accent", (w, h, d), (0, h / 2, 0), bevel=0.01)
        ribs = 5 if b.lod < 2 else 0
        for i in range(ribs):
            x = -w / 2 + (i + 0.5) * w / ribs
            block(b, "trim", (0.03, h - 0.04, d + 0.03), (x, h / 2, 0), bevel=b.bevel(0.005))
        block(b, "trim", (w + 0.02, 0.05, d + 0.02), (0, h - 0.025, 0), bevel=0.008)
    else:
        _wood_crate(b, c, "c0", (w, h, d), (0.0, 0.0, 0.0))
    if k.chance("stack", 0.55):
        w2 = w * k.u("w2", 0.55, 0.75)
        _wood_crate(b, c, "c1", (w2, w2 * k.u("h2", 0.6, 0.9), w2 * k.u("d2", 0.8, 1.0)),
                    (k.u("sx", -0.1, 0.1) * w, h, k.u("sz", -0.1, 0.1) * d), ry=k.u("sr", -30, 30))


def barrel(b: Builder, c: Ctx) -> None:
    k = c.k
    s = c.s
    n = b.seg(c.style.round_segments + 4, 8)
    h = k.u("h", 0.85, 1.0)
    r = k.u("r", 0.28, 0.34)
    if s == "scifi":
        prof = [(0.0, 0.0), (r - 0.03, 0.0), (r, 0.03), (r, h - 0.08), (r - 0.06, h - 0.02), (r * 0.5, h),
                (r * 0.5, h + 0.05), (0.0, h + 0.05)]
        b.add("structure", g.lathe(prof, n))
        band_y = k.u("band", 0.35, 0.6) * h
        b.add("glow", g.cylinder(r + 0.008, 0.04, n), at=(0, band_y, 0))
        b.add("trim", g.cylinder(r + 0.012, 0.06, n, bevel=0.01), at=(0, 0.12, 0))
        b.add("trim", g.cylinder(r + 0.012, 0.06, n, bevel=0.01), at=(0, h - 0.2, 0))
        return
    if s == "organic":
        prof = [(0.0, 0.0)]
        steps = (12, 8, 5)[min(b.lod, 2)]
        for i in range(1, steps):
            t = i / steps
            prof.append((r * (0.55 + 0.65 * math.sin(t * math.pi) ** 0.8) * (1 - 0.25 * t), h * 1.1 * t))
        prof += [(r * 0.35, h * 1.12), (0.0, h * 1.12)]
        b.add("structure", g.lathe(prof, n, hard_angle=60))
        b.add("glow", g.cube_sphere((r * 0.28, r * 0.18, r * 0.28), 3), at=(0, h * 1.12, 0))
        return
    wooden = s in ("medieval", "natural", "architectural") or k.chance("wooden", 0.2)
    if wooden:
        bulge = k.u("bulge", 0.08, 0.14)
        prof = [(0.0, 0.02)]
        for i in range(9):
            t = i / 8
            prof.append((r * (1 - bulge + bulge * math.sin(t * math.pi)), 0.02 + t * (h - 0.04)))
        prof += [(0.0, h - 0.02)]
        staves = b.seg(16, 6)
        b.add("wood", g.lathe(prof, staves, hard_angle=20))
        for t in (0.1, 0.3, 0.7, 0.9) if b.lod <= 1 else (0.15, 0.85):
            rr = r * (1 - bulge + bulge * math.sin(t * math.pi)) + 0.006
            b.add("metal", g.cylinder(rr, 0.045, staves), at=(0, 0.02 + t * (h - 0.04) - 0.022, 0))
        if b.full:
            b.add("wood", g.cylinder(r * (1 - bulge) - 0.01, 0.025, staves), at=(0, h - 0.04, 0))
    else:  # steel drum
        b.add("accent", g.cylinder(r, h, n, bevel=b.bevel(0.012)))
        for t in (0.33, 0.66):
            b.add("accent", g.lathe([(0.0, -0.02), (r, -0.02), (r + 0.012, 0.0), (r, 0.02), (0.0, 0.02)], n),
                  at=(0, t * h, 0))
        b.add("metal", g.lathe([(0.0, 0.0), (r + 0.008, 0.0), (r + 0.008, 0.03), (0.0, 0.03)], n), at=(0, h - 0.01, 0))
        if b.full:
            b.add("metal", g.cylinder(0.035, 0.02, 8), at=(r * 0.55, h + 0.015, 0))
    if k.chance("pair", 0.45):
        x = r * 2.1
        b.add("wood" if wooden else "accent", g.cylinder(r * 0.95, 2 * r * 0.95, n),
              at=(x, r * 0.95, -r * 0.95 * 1.0), rot=g.rotation(x=90.0, y=k.u("lie", -20, 20)))


def bench(b: Builder, c: Ctx) -> None:
    k = c.k
    s = c.s
    L = k.u("len", 1.4, 2.0)
    seat_h = k.u("seat", 0.42, 0.48)
    depth = k.u("depth", 0.38, 0.48)
    if s == "scifi":
        block(b, "structure", (L, 0.12, depth), (0, seat_h - 0.06, 0), bevel=0.03)
        for sx in (-1, 1):
            block(b, "trim", (0.12, seat_h - 0.12, depth * 0.8), (sx * (L / 2 - 0.2), (seat_h - 0.12) / 2, 0),
                  bevel=0.02)
        block(b, "glow", (L - 0.5, 0.02, depth * 0.6), (0, 0.01, 0))
        return
    if s == "organic":
        n = b.seg(24, 8)
        xs = np.linspace(-L / 2, L / 2, n + 1)
        ys = seat_h + 0.05 * np.cos(xs / L * 2 * math.pi)
        pts = [(x, y) for x, y in zip(xs, ys, strict=True)]
        outline, cap = g.thick_polyline(pts, 0.08)
        b.add("structure", g.extrude(outline, depth, hard_angle=30, cap_tris=cap))
        for sx in (-1, 1):
            leg = g.lathe([(0.0, 0.0), (0.16, 0.0), (0.09, 0.15), (0.07, seat_h - 0.1), (0.14, seat_h - 0.02),
                           (0.0, seat_h - 0.02)], b.seg(16, 6), hard_angle=60)
            b.add("trim", leg, at=(sx * L * 0.32, 0, 0))
        return
    if s == "natural":
        log_r = depth / 2
        log = g.lathe([(0.0, 0.0), (log_r, 0.0), (log_r * 1.02, L * 0.5), (log_r, L), (0.0, L)], b.seg(14, 6))
        b.add("bark", log, at=(-L / 2, seat_h - log_r, 0), rot=g.rotation(z=-90.0))
        block(b, "wood", (L - 0.02, 0.02, depth * 0.8), (0, seat_h, 0))
        for sx in (-1, 1):
            b.add("rock", g.cube_sphere((0.2, seat_h / 2 - 0.03, 0.22), 3 if b.full else 1),
                  at=(sx * (L / 2 - 0.25), (seat_h / 2 - 0.03), 0))
        return
    # slatted bench: legs per style, slats, optional back
    slats = c.count("slats", 3, 5) if b.lod <= 1 else 1
    sw = depth / slats
    leg_mat = "trim" if s in ("architectural",) else "metal" if s == "industrial" else "wood"
    for sx in (-1, 1):
        x = sx * (L / 2 - 0.18)
        if s == "architectural":
            block(b, "trim", (0.14, seat_h - 0.05, depth * 0.95), (x, (seat_h - 0.05) / 2, 0), bevel=0.01)
        elif s == "industrial":
            for sz in (-1, 1):
                beam(b, leg_mat, (x, 0, sz * depth * 0.4), (x, seat_h - 0.05, sz * depth * 0.4), 0.04, 0.04)
            beam(b, leg_mat, (x, seat_h - 0.06, -depth * 0.45), (x, seat_h - 0.06, depth * 0.45), 0.05, 0.03)
        else:  # medieval trestle
            for sz in (-1, 1):
                beam(b, leg_mat, (x + c.jit(f"lx{sx}{sz}"), 0, sz * depth * 0.45),
                     (x, seat_h - 0.05, sz * depth * 0.15), 0.07, 0.07, bevel=0.005)
    mat = "wood"
    for i in range(slats):
        z = -depth / 2 + sw * (i + 0.5)
        block(b, mat, (L + c.jit(f"sl{i}", 2.0), 0.045, sw - (0.015 if slats > 1 else 0)),
              (c.jit(f"so{i}", 0.5), seat_h - 0.0225, z), bevel=0.006, ry=c.jit(f"sa{i}", 20.0))
    if s != "medieval" and k.chance("back", 0.6):
        for sx in (-1, 1):
            beam(b, leg_mat, (sx * (L / 2 - 0.18), seat_h - 0.05, -depth / 2 + 0.03),
                 (sx * (L / 2 - 0.18), seat_h + 0.42, -depth / 2 - 0.06), 0.05, 0.04)
        for i in range(2 if b.lod <= 1 else 1):
            block(b, mat, (L, 0.09, 0.03), (0, seat_h + 0.18 + i * 0.15, -depth / 2 - 0.03 - i * 0.03), bevel=0.005,
                  rx=-12)


def planter(b: Builder, c: Ctx) -> None:
    k = c.k
    s = c.s
    res = 6 if b.full else 3 if b.lod == 1 else 2
    if s in ("organic", "natural"):
        if s == "organic":
            r = k.u("r", 0.3, 0.45)
            h = k.u("h", 0.4, 0.6)
            prof = [(0.0, 0.0), (r * 0.6, 0.0), (r, h * 0.4), (r * 0.95, h * 0.9), (r * 1.05, h), (r * 0.9, h),
                    (0.0, h * 0.92)]
            b.add("structure", g.lathe(prof, b.seg(24, 8), hard_angle=50))
            top = h * 0.92
        else:
            r, top = k.u("r", 0.4, 0.6), 0.0
        for i in range(c.count("blobs", 2, 4)):
            br = r * k.u(f"br{i}", 0.7, 1.1)
            ang = 2 * math.pi * i / 3 + k.u(f"ba{i}", 0, 1)
            off = r * 0.4 if i else 0.0
            disp = _blob_noise(c, f"b{i}", 0.35)
            b.add("foliage", g.cube_sphere((br, br * k.u(f"bh{i}", 0.8, 1.2), br), res, disp),
                  at=(off * math.cos(ang), top + br * 0.75, off * math.sin(ang)))
        return
    w = k.u("w", 0.6, 1.2)
    d = k.u("d", 0.5, 0.7) if k.chance("long", 0.5) else w
    h = k.u("h", 0.45, 0.65)
    t = 0.06
    mat = "trim" if s in ("architectural",) else "accent" if s in ("scifi", "industrial") else "wood"
    for sz in (-1, 1):
        block(b, mat, (w, h, t), (0, h / 2, sz * (d / 2 - t / 2)), bevel=0.008)
    for sx in (-1, 1):
        block(b, mat, (t, h, d - 2 * t), (sx * (w / 2 - t / 2), h / 2, 0), bevel=0.008)
    block(b, "ground", (w - 2 * t, 0.04, d - 2 * t), (0, h - 0.08, 0))
    block(b, mat, (w + 0.06, 0.05, d + 0.06), (0, h, 0), bevel=0.01)
    for i in range(c.count("shrubs", 1, 3)):
        br = min(w, d) * k.u(f"sr{i}", 0.3, 0.45)
        x = (i - 1) * w * 0.25 if c.count("shrubs", 1, 3) > 1 else 0.0
        b.add("foliage", g.cube_sphere((br, br * k.u(f"sh{i}", 0.9, 1.4), br), res, _blob_noise(c, f"s{i}", 0.35)),
              at=(x, h + br * 0.6, 0))


def _blob_noise(c: Ctx, key: str, amp: float):  # type: ignore[no-untyped-def]
    off = np.array([c.k.u(key + "x", -50, 50), c.k.u(key + "y", -50, 50), c.k.u(key + "z", -50, 50)])

    def disp(d: np.ndarray) -> np.ndarray:
        return 1.0 + amp * c.vn(d * 1.3 + off, 1.0, 3)

    return disp
