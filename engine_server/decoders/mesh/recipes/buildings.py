"""Architecture subjects: cabins, huts, temples, shrines, towers, walls, gates, bridges and their kin.

Every piece stands on y = 0, faces +z (its door or open side toward the camera) and keeps its parts
from sharing exposed face planes (trims stop short, overlaps interpenetrate)."""

from __future__ import annotations

import math

import numpy as np

from engine_server.decoders.mesh import geometry as g
from engine_server.decoders.mesh.assembly import Builder
from engine_server.decoders.mesh.recipes.common import Ctx, beam, block, curve, lantern, rod
from engine_server.decoders.mesh.recipes.shapes import arch, gable, plank_row, pyramid, ring


def _window(b: Builder, at: tuple[float, float, float], w: float, h: float, facing_x: bool = False) -> None:
    x, y, z = at
    size = (0.04, h, w) if facing_x else (w, h, 0.04)
    frame = (0.07, h + 0.12, w + 0.12) if facing_x else (w + 0.12, h + 0.12, 0.07)
    block(b, "trim", frame, (x, y, z), bevel=0.005)
    off = (0.03 if x > 0 else -0.03, 0, 0) if facing_x else (0, 0, 0.03 if z > 0 else -0.03)
    block(b, "glow", size, (x + off[0], y, z + off[2]))


def cabin(b: Builder, c: Ctx) -> None:
    k = c.k
    W, D, H = k.u("w", 3.2, 4.2), k.u("d", 2.6, 3.3), k.u("h", 2.1, 2.5)
    r = H / 16
    n = b.seg(12, 4)
    if b.lod <= 1:
        for i in range(8):
            y = r + i * 2 * r
            for sz in (-1, 1):
                b.add("wood", g.cylinder(r, W + 0.3, n), at=(-(W + 0.3) / 2, y, sz * D / 2), rot=g.rotation(z=-90.0))
            for sx in (-1, 1):
                b.add("wood", g.cylinder(r * 0.97, D + 0.3, n), at=(sx * W / 2, y + r, -(D + 0.3) / 2),
                      rot=g.rotation(x=90.0))
    else:
        block(b, "wood", (W, H, D), (0, H / 2, 0))
    rise = k.u("rise", 0.9, 1.3)
    gable(b, "wood", W - 0.02, D - 0.02, rise * 0.96, (0, H + r, 0))
    slope = math.atan2(rise, D / 2)
    slab = math.hypot(D / 2 + 0.35, rise + 0.25)
    for sz in (-1, 1):
        block(b, "accent", (W + 0.6, 0.12, slab), (0, H + r + rise / 2 - 0.02, sz * (D / 4 + 0.1)),
              rx=sz * math.degrees(slope), bevel=0.01)
    block(b, "trim", (0.9, 1.85, 0.08), (k.u("door_x", -0.6, 0.6), 0.95, D / 2 + r + 0.02), bevel=0.01)
    _window(b, (W / 2 - 0.8, 1.35, D / 2 + r + 0.03), 0.6, 0.55)
    if k.chance("chimney", 0.7):
        cx = -W / 2 + 0.6
        block(b, "stone", (0.55, H + rise + 0.6, 0.55), (cx, (H + rise + 0.6) / 2, -D / 4), bevel=0.01)
    if b.full and k.chance("porch", 0.6):
        plank_row(b, c, "wood", W, 0.9, 5, 0.12, D / 2 + r + 0.05)


def hut(b: Builder, c: Ctx) -> None:
    k = c.k
    R, H = k.u("r", 1.3, 1.8), k.u("h", 1.6, 2.0)
    n = b.seg(c.style.round_segments + 8, 8)
    b.add("structure", g.cylinder(R, H, n, radius_top=R * 0.97))
    roof_h = k.u("roof", 1.4, 2.0)
    b.add("wood", pyramid(R * 1.3, roof_h, n), at=(0, H - 0.12, 0))
    if k.chance("spike", 0.5):
        rod(b, "bark", (0, H + roof_h - 0.2, 0), (0, H + roof_h + 0.5, 0), 0.04, 6)
    block(b, "trim", (0.8, 1.4, 0.25), (0, 0.7, R - 0.05), bevel=0.01)
    if b.lod <= 1:
        block(b, "wood", (1.0, 0.1, 0.3), (0, 1.45, R + 0.03), bevel=0.005)
        for i in range(c.count("stones", 4, 9) if b.full else 0):
            a = 2 * math.pi * i / 9 + k.u(f"sa{i}", 0, 0.3)
            b.add("rock", g.cube_sphere((0.16, 0.09, 0.13), 2),
                  at=(R * 1.02 * math.cos(a), 0.05, R * 1.02 * math.sin(a)))


def temple(b: Builder, c: Ctx) -> None:
    k = c.k
    cols = k.choice("cols", (4, 4, 6))
    W = k.u("w", 4.6, 5.6)
    D = k.u("d", 3.2, 4.0)
    steps = 3
    for i in range(steps):
        block(b, "stone", (W + 1.2 - i * 0.4, 0.2, D + 1.2 - i * 0.4), (0, 0.1 + i * 0.2, 0), bevel=0.01)
    base = steps * 0.2
    ch = k.u("col_h", 2.6, 3.2)
    r = 0.2
    n = b.seg(c.style.round_segments, 6)
    for row_z in (D / 2 - 0.3, -D / 2 + 0.3):
        for i in range(cols):
            x = -W / 2 + 0.4 + i * (W - 0.8) / (cols - 1)
            b.add("structure", g.cylinder(r, ch, n, radius_top=r * 0.86), at=(x, base, row_z))
            if b.lod <= 1:
                block(b, "trim", (0.5, 0.12, 0.5), (x, base + 0.06, row_z), bevel=0.01)
                block(b, "trim", (0.52, 0.12, 0.52), (x, base + ch - 0.06, row_z), bevel=0.01)
    block(b, "structure", (W - 1.0, ch - 0.02, D - 1.2), (0, base + (ch - 0.02) / 2, 0))
    block(b, "glow", (0.9, 1.6, 0.04), (0, base + 0.8, (D - 1.2) / 2 + 0.02))
    block(b, "trim", (W + 0.3, 0.45, D + 0.1), (0, base + ch + 0.225, 0), bevel=0.01)
    gable(b, "stone", D + 0.3, W + 0.5, k.u("pediment", 0.8, 1.1), (0, base + ch + 0.45, 0), ry=90.0)
    if k.chance("ruined", 0.25 + 0.5 * c.wear) and b.lod <= 1:
        b.add("rock", g.cube_sphere((0.5, 0.3, 0.4), 3), at=(W / 2 + 0.4, 0.2, D / 2 + 0.5))


def shrine(b: Builder, c: Ctx) -> None:
    """A pagoda-like shrine: plinth, a small hall on posts, two or three upturned roofs, a finial."""
    k = c.k
    tiers = k.i("tiers", 2, 3)
    w = k.u("w", 1.6, 2.2)
    block(b, "stone", (w + 0.8, 0.35, w + 0.8), (0, 0.175, 0), bevel=0.02)
    y = 0.35
    for t in range(tiers):
        s = w * (1 - 0.22 * t)
        hh = k.u(f"h{t}", 1.0, 1.3) * (1 - 0.15 * t)
        block(b, "structure", (s * 0.7, hh, s * 0.7), (0, y + hh / 2, 0))
        for sx in (-1, 1):
            for sz in (-1, 1):
                block(b, "accent", (0.12, hh, 0.12), (sx * s * 0.36, y + hh / 2, sz * s * 0.36))
        if t == 0:
            block(b, "glow", (0.4, 0.55, 0.02), (0, y + 0.5, s * 0.35 + 0.011))
        y += hh
        b.add("trim", pyramid(s * 0.95, 0.75 * (1 - 0.1 * t), 4, concave=0.6), at=(0, y - 0.05, 0))
        y += 0.35
    rod(b, "metal", (0, y - 0.1, 0), (0, y + 0.9, 0), 0.03, 8)
    if b.lod <= 1:
        for i in range(3):
            b.add("metal", g.cylinder(0.08 - i * 0.015, 0.04, b.seg(10, 4)), at=(0, y + 0.25 + i * 0.2, 0))


def torii(b: Builder, c: Ctx) -> None:
    k = c.k
    span = k.u("span", 2.6, 3.4)
    H = k.u("h", 3.0, 3.6)
    r = k.u("r", 0.13, 0.17)
    n = b.seg(16, 6)
    for sx in (-1, 1):
        b.add("accent", g.cylinder(r, H, n, radius_top=r * 0.85), at=(sx * span / 2, 0, 0), rot=g.rotation(z=sx * 2.0))
        b.add("metal", g.cylinder(r * 1.25, 0.3, n), at=(sx * span / 2, 0, 0))
    block(b, "accent", (span + 0.5, 0.16, 0.2), (0, H * 0.78, 0), bevel=0.01)
    top_w = span + 1.6
    pts = [(x, 0.12 * (2 * x / top_w) ** 2) for x in np.linspace(-top_w / 2, top_w / 2, b.seg(12, 4))]
    outline, cap = g.thick_polyline(pts, 0.22)
    b.add("accent", g.extrude(outline, 0.3, hard_angle=40, cap_tris=cap), at=(0, H + 0.02, 0))
    outline2, cap2 = g.thick_polyline([(x, y + 0.16) for x, y in pts], 0.1)
    b.add("trim", g.extrude(outline2, 0.34, hard_angle=40, cap_tris=cap2), at=(0, H + 0.02, 0))
    if b.lod <= 1:
        block(b, "accent", (0.14, H * 0.2, 0.14), (0, H * 0.78 + H * 0.11, 0))


def tower(b: Builder, c: Ctx) -> None:
    k = c.k
    R, H = k.u("r", 1.2, 1.6), k.u("h", 6.0, 7.5)
    n = b.seg(c.style.round_segments + 8, 8)
    b.add("stone", g.cylinder(R * 1.08, H, n, radius_top=R))
    b.add("trim", g.cylinder(R * 1.15, 0.3, n), at=(0, H - 0.1, 0))
    if k.chance("roof", 0.5):
        b.add("accent", pyramid(R * 1.3, k.u("cone", 2.0, 3.0), n), at=(0, H + 0.18, 0))
    else:
        merlons = 8 if b.lod <= 1 else 4
        for i in range(merlons):
            a = 2 * math.pi * i / merlons
            block(b, "stone", (0.45, 0.55, 0.3), (R * 1.0 * math.cos(a), H + 0.45, R * 1.0 * math.sin(a)),
                  ry=-math.degrees(a) + 90)
    for i, y in enumerate((1.8, H * 0.5, H * 0.75)):
        a = math.radians(90 + (i - 1) * 30)
        rr = R * (1.08 - 0.08 * y / H) + 0.02
        block(b, "glow", (0.22, 0.6, 0.06), (rr * math.cos(a), y, rr * math.sin(a)), ry=-math.degrees(a) + 90)
    block(b, "wood", (0.9, 1.8, 0.2), (0, 0.9, R * 1.06), bevel=0.01)


def lighthouse(b: Builder, c: Ctx) -> None:
    k = c.k
    H = k.u("h", 7.0, 8.5)
    R0, R1 = k.u("r0", 1.3, 1.5), k.u("r1", 0.85, 1.0)
    n = b.seg(c.style.round_segments + 8, 8)
    block(b, "stone", (R0 * 2 + 0.8, 0.6, R0 * 2 + 0.8), (0, 0.3, 0), bevel=0.03)
    b.add("structure", g.cylinder(R0, H, n, radius_top=R1), at=(0, 0.6, 0))
    for i in range(3):
        y = 0.6 + H * (0.2 + 0.25 * i)
        rr = R0 + (R1 - R0) * (y - 0.6) / H + 0.01
        b.add("accent", g.cylinder(rr, H * 0.1, n, radius_top=rr - (R0 - R1) * 0.1), at=(0, y, 0))
    top = 0.6 + H
    b.add("metal", g.cylinder(R1 + 0.45, 0.15, n), at=(0, top, 0))
    b.add("glow", g.cylinder(R1 * 0.6, 1.1, n), at=(0, top + 0.15, 0))
    b.add("metal", g.lathe([(0.0, 0.0), (R1 * 0.75, 0.0), (R1 * 0.6, 0.35), (0.1, 0.7), (0.0, 0.75)], n),
          at=(0, top + 1.25, 0))
    if b.lod <= 1:
        posts = 12 if b.full else 6
        for i in range(posts):
            a = 2 * math.pi * i / posts
            rr = R1 + 0.38
            px, pz = rr * math.cos(a), rr * math.sin(a)
            rod(b, "metal", (px, top + 0.15, pz), (px, top + 0.9, pz), 0.02, 6)
        b.add("metal", ring(R1 + 0.35, R1 + 0.41, 0.05, n), at=(0, top + 0.88, 0))
    block(b, "wood", (0.8, 1.7, 0.15), (0, 1.45, R0 - 0.02), bevel=0.01)


def castle_wall(b: Builder, c: Ctx) -> None:
    """A modular curtain wall: spans whole grid cells along x, crenellated, with a buttress."""
    k = c.k
    W = 4.0
    H = k.u("h", 3.4, 4.2)
    T = 1.0
    block(b, "stone", (W, H, T), (0, H / 2, 0))
    block(b, "trim", (W, 0.25, T + 0.2), (0, H + 0.125, 0))
    merlons = 5
    for i in range(merlons):
        x = -W / 2 + (i + 0.5) * W / merlons
        block(b, "stone", (W / merlons * 0.5, 0.6, 0.35), (x, H + 0.55, T / 2 - 0.05), bevel=0.01)
    block(b, "stone", (W - 0.002, 0.5, 0.25), (0, H + 0.5, -T / 2 + 0.125 + 0.02))
    if k.chance("buttress", 0.6):
        bx = k.u("bx", -0.8, 0.8)
        block(b, "stone", (0.9, H * 0.55, 0.7), (bx, H * 0.275, T / 2 + 0.3), bevel=0.01)
        gable(b, "stone", 0.68, 0.88, 0.45, (bx, H * 0.55, T / 2 + 0.3), ry=90.0)
    if b.lod <= 1:
        for i in range(2):
            block(b, "glow", (0.12, 0.7, 0.06), (-1.0 + 2.0 * i, H * 0.6, T / 2 + 0.02))


def gate(b: Builder, c: Ctx) -> None:
    k = c.k
    span = k.u("span", 2.2, 2.8)
    pier = k.u("pier", 1.0, 1.3)
    H = k.u("h", 3.2, 3.8)
    D = 1.2
    for sx in (-1, 1):
        x = sx * (span / 2 + pier / 2)
        block(b, "stone", (pier, H + 1.0, D), (x, (H + 1.0) / 2, 0))
        for i in range(3 if b.lod <= 1 else 0):
            block(b, "stone", (0.3, 0.45, 0.3), (x - pier / 2 + 0.15 + i * (pier - 0.3) / 2, H + 1.22, D / 2 - 0.15))
    spring = H - span / 2
    arch(b, "trim", span, 0.35, D + 0.06, (0, spring, 0), 9 if b.lod <= 1 else 5)
    block(b, "stone", (span + 0.02, H + 1.0 - spring - span / 2 - 0.35, D - 0.02),
          (0, (H + 1.0 + spring + span / 2 + 0.35) / 2, 0))
    ang = k.u("open", 15, 60)
    for sx in (-1, 1):
        leaf = g.box((span / 2 - 0.05, spring, 0.1), b.bevel(0.01))
        hinge = np.array([sx * (span / 2 - 0.05), 0.0, D / 2 - 0.2])
        rot = g.rotation(y=sx * ang)
        b.add("wood", leaf, at=hinge + rot @ np.array([-sx * (span / 4 - 0.025), spring / 2, 0.0]), rot=rot)
    if b.full:
        for i in range(6):
            rod(b, "metal", (-span / 2 + 0.2 + i * (span - 0.4) / 5, spring + 0.3, -D / 2 + 0.15),
                (-span / 2 + 0.2 + i * (span - 0.4) / 5, spring + span / 2 - 0.05, -D / 2 + 0.15), 0.025, 6)


def tent(b: Builder, c: Ctx) -> None:
    k = c.k
    if k.chance("yurt", 0.4):
        R = k.u("r", 1.6, 2.1)
        n = b.seg(24, 8)
        b.add("cloth", g.cylinder(R, 1.3, n))
        b.add("cloth", pyramid(R * 1.05, k.u("roof", 0.9, 1.2), n), at=(0, 1.28, 0))
        block(b, "wood", (0.8, 1.1, 0.1), (0, 0.55, R - 0.02), bevel=0.01)
        b.add("trim", ring(R - 0.02, R + 0.04, 0.12, n), at=(0, 0.9, 0))
        return
    L, Wd, H = k.u("l", 2.6, 3.4), k.u("w", 2.0, 2.6), k.u("h", 1.6, 2.0)
    tri = [(-Wd / 2, 0.0), (Wd / 2, 0.0), (0.0, H)]
    b.add("cloth", g.extrude(tri, L))
    flap = [(-0.5, 0.0), (0.0, 0.0), (0.0, H * 0.7)]
    b.add("trim", g.extrude(flap, 0.03), at=(0.05, 0, L / 2 + 0.03), rot=g.rotation(y=-25.0))
    for sz in (-1, 1):
        rod(b, "wood", (0, 0, sz * (L / 2 + 0.05)), (0, H + 0.25, sz * (L / 2 + 0.05)), 0.03, 6)
        if b.lod <= 1:
            for sx in (-1, 1):
                rod(b, "trim", (0, H + 0.15, sz * (L / 2 + 0.05)), (sx * (Wd / 2 + 0.7), 0.02, sz * (L / 2 + 0.6)),
                    0.008, 4)
                block(b, "wood", (0.05, 0.2, 0.05), (sx * (Wd / 2 + 0.7), 0.08, sz * (L / 2 + 0.6)))


def bridge(b: Builder, c: Ctx) -> None:
    k = c.k
    L, Wd = k.u("l", 4.5, 6.0), k.u("w", 1.4, 1.8)
    rise = k.u("rise", 0.5, 0.9)
    n = b.seg(16, 6)
    xs = np.linspace(-L / 2, L / 2, n + 1)
    ys = 0.15 + rise * (1 - (2 * xs / L) ** 2)
    outline, cap = g.thick_polyline(list(zip(xs, ys, strict=True)), 0.22)
    b.add("wood", g.extrude(outline, Wd, hard_angle=30, cap_tris=cap))
    posts = 7 if b.lod <= 1 else 3
    for sz in (-1, 1):
        for i in range(posts):
            x = -L / 2 + 0.2 + i * (L - 0.4) / (posts - 1)
            y = 0.15 + rise * (1 - (2 * x / L) ** 2)
            block(b, "trim", (0.09, 0.95, 0.09), (x, y + 0.55, sz * (Wd / 2 - 0.05)), bevel=0.006)
        rail = curve((-L / 2 + 0.2, 1.15, sz * (Wd / 2 - 0.05)), (0, 1.15 + 2 * rise, sz * (Wd / 2 - 0.05)),
                     (L / 2 - 0.2, 1.15, sz * (Wd / 2 - 0.05)), b.seg(12, 4))
        b.add("trim", g.tube(rail, 0.04, b.seg(8, 4)))
    for sx in (-1, 1):
        block(b, "stone", (0.7, 0.4, Wd + 0.4), (sx * (L / 2 - 0.1), 0.2, 0), bevel=0.02)


def well(b: Builder, c: Ctx) -> None:
    k = c.k
    R = k.u("r", 0.65, 0.85)
    h = k.u("h", 0.75, 0.9)
    n = b.seg(c.style.round_segments + 4, 8)
    b.add("stone", ring(R - 0.18, R, h, n))
    b.add("accent", g.cylinder(R - 0.17, h - 0.25, n), at=(0, 0.0, 0))
    b.add("trim", ring(R - 0.2, R + 0.04, 0.08, n), at=(0, h, 0))
    top = h + k.u("frame", 1.3, 1.6)
    for sx in (-1, 1):
        block(b, "wood", (0.12, top, 0.12), (sx * (R + 0.02), top / 2, 0), bevel=0.008)
    rod(b, "wood", (-R - 0.15, top - 0.4, 0), (R + 0.15, top - 0.4, 0), 0.06, 10)
    gable(b, "accent", R * 2 + 0.6, 1.3, 0.55, (0, top, 0))
    if b.lod <= 1:
        rod(b, "trim", (0, top - 0.4, 0), (0, h + 0.35, 0), 0.01, 4)
        b.add("wood", g.cylinder(0.13, 0.22, b.seg(10, 4), radius_top=0.15), at=(0, h + 0.12, 0))


def windmill(b: Builder, c: Ctx) -> None:
    k = c.k
    H = k.u("h", 5.0, 6.2)
    R0, R1 = k.u("r0", 1.4, 1.7), k.u("r1", 0.9, 1.1)
    b.add("structure", g.cylinder(R0, H, 8, radius_top=R1).transformed(g.rotation(y=22.5)))
    b.add("wood", g.lathe([(0.0, 0.0), (R1 + 0.2, 0.0), (R1 * 0.8, 0.7), (0.0, 1.2)], b.seg(16, 6)), at=(0, H, 0))
    hub = np.array([0.0, H + 0.3, R1 + 0.45])
    rod(b, "metal", (0, H + 0.3, R1 - 0.2), tuple(hub), 0.1, 10)
    spin = k.u("spin", 0, 90)
    L = k.u("sail", 3.0, 3.6)
    for i in range(4):
        a = math.radians(spin + 90 * i)
        d = np.array([math.cos(a), math.sin(a), 0.0])
        beam(b, "wood", hub + d * 0.1, hub + d * L, 0.1, 0.08)
        side = np.array([-math.sin(a), math.cos(a), 0.0])
        centre = hub + d * (L * 0.6) + side * 0.32 + np.array([0.0, 0.0, 0.03])
        b.add("cloth", g.box((0.55, L * 0.72, 0.025)), at=centre, rot=g.rotation(z=math.degrees(a) - 90.0))
    block(b, "wood", (0.8, 1.7, 0.15), (0, 0.85, R0 - 0.02), bevel=0.01)
    _window(b, (0.0, H * 0.6, R0 - (R0 - R1) * 0.6 + 0.01), 0.4, 0.5)


def dock(b: Builder, c: Ctx) -> None:
    k = c.k
    L, Wd = k.u("l", 4.5, 6.0), k.u("w", 1.8, 2.4)
    deck = 0.9
    planks = c.count("planks", 8, 14) if b.lod <= 1 else 1
    if planks > 1:
        for i in range(planks):
            x = -L / 2 + (i + 0.5) * L / planks
            block(b, "wood", (L / planks - 0.03, 0.06, Wd + c.jit(f"pw{i}", 3.0)), (x, deck - 0.03, c.jit(f"pz{i}")),
                  bevel=0.004, ry=c.jit(f"pr{i}", 20.0))
    else:
        block(b, "wood", (L, 0.06, Wd), (0, deck - 0.03, 0))
    n = b.seg(10, 4)
    for i in range(4):
        x = -L / 2 + 0.2 + i * (L - 0.4) / 3
        for sz in (-1, 1):
            pile = deck - 0.06 + (0.35 if i in (0, 3) else 0.0)  # the end piles stand proud as mooring posts
            b.add("bark", g.cylinder(0.12, pile, n), at=(x, 0, sz * (Wd / 2 - 0.1)))
        block(b, "wood", (0.12, 0.14, Wd), (x, deck - 0.14, 0))
    if b.lod <= 1:
        for sx in (-1, 1):
            b.add("metal", g.lathe([(0.0, 0.0), (0.1, 0.0), (0.07, 0.18), (0.11, 0.25), (0.0, 0.26)], n),
                  at=(sx * L / 3, deck, Wd / 2 - 0.2))
        coil = [(0.2 * math.cos(a), 0.03, 0.2 * math.sin(a)) for a in np.linspace(0, 2 * math.pi * 0.95, b.seg(14, 6))]
        b.add("cloth", g.tube(np.asarray(coil) + np.array([L / 4, deck, -Wd / 4]), 0.025, 6))


def fountain(b: Builder, c: Ctx) -> None:
    k = c.k
    R = k.u("r", 1.2, 1.6)
    n = b.seg(c.style.round_segments + 8, 8)
    b.add("stone", ring(R - 0.22, R, 0.55, n))
    b.add("trim", ring(R - 0.24, R + 0.05, 0.07, n), at=(0, 0.55, 0))
    b.add("accent", g.cylinder(R - 0.21, 0.42, n), at=(0, 0.0, 0))
    ph = k.u("ph", 1.0, 1.4)
    pedestal = [(0.0, 0.0), (0.35, 0.0), (0.22, 0.2), (0.16, ph - 0.2), (0.25, ph), (0.0, ph)]
    b.add("stone", g.lathe(pedestal, b.seg(16, 6)), at=(0, 0.42, 0))
    bowl_r = k.u("bowl", 0.55, 0.75)
    y = 0.42 + ph
    bowl = [(0.0, 0.0), (0.2, 0.0), (bowl_r, 0.22), (bowl_r, 0.28), (0.0, 0.2)]
    b.add("stone", g.lathe(bowl, b.seg(20, 6)), at=(0, y, 0))
    b.add("stone", g.lathe([(0.0, 0.0), (0.08, 0.0), (0.06, 0.35), (0.12, 0.45), (0.0, 0.55)], b.seg(10, 4)),
          at=(0, y + 0.2, 0))
    if b.lod <= 1:
        for i in range(4):
            a = math.pi / 2 * i + math.pi / 4
            d = np.array([math.cos(a), 0.0, math.sin(a)])
            p0 = np.array([0.0, y + 0.6, 0.0])
            pts = curve(p0, p0 + d * 0.5 + [0, 0.25, 0], np.array([0, 0.45, 0]) + d * (R - 0.5), b.seg(8, 4))
            b.add("accent", g.tube(pts, 0.025, 5))


def stairs(b: Builder, c: Ctx) -> None:
    k = c.k
    steps = k.i("steps", 6, 9)
    Wd = k.u("w", 1.6, 2.2)
    rise, run = 0.17, 0.3
    for i in range(steps):
        block(b, "stone", (Wd, rise * (i + 1), run + 0.02), (0, rise * (i + 1) / 2, -i * run + steps * run / 2),
              bevel=0.008)
    for sx in (-1, 1):
        side = [(-steps * run / 2 - 0.1, 0.0), (steps * run / 2 + 0.15, 0.0), (steps * run / 2 + 0.15, 0.3),
                (-steps * run / 2 + run - 0.1, rise * steps + 0.3), (-steps * run / 2 - 0.1, rise * steps + 0.3)]
        b.add("trim", g.extrude(side, 0.22), at=(sx * (Wd / 2 + 0.11), 0, 0), rot=g.rotation(y=-90.0))


def archway(b: Builder, c: Ctx) -> None:
    k = c.k
    span = k.u("span", 1.8, 2.4)
    H = k.u("h", 2.4, 2.9)
    D = k.u("d", 0.5, 0.7)
    spring = H - span / 2
    for sx in (-1, 1):
        x = sx * (span / 2 + 0.3)
        block(b, "stone", (0.6, spring, D), (x, spring / 2, 0), bevel=0.01)
        block(b, "trim", (0.72, 0.15, D + 0.1), (x, spring + 0.075 - 0.16, 0), bevel=0.01)
    arch(b, "stone", span, 0.6, D - 0.02, (0, spring, 0), 11 if b.lod <= 1 else 5)
    block(b, "trim", (0.3, 0.45, D + 0.08), (0, H + 0.28, 0), bevel=0.01)
    if b.lod <= 1 and k.chance("lamp", 0.5):
        lantern(b, c, (0, spring + span / 2 - 0.2 - 0.5, 0), 0.25)
        rod(b, "metal", (0, spring + span / 2 - 0.22, 0), (0, spring + span / 2 - 0.02, 0), 0.01, 4)
