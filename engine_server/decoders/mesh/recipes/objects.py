"""Prop subjects: statues, broken columns, lanterns, braziers, chests, fences, banners, obelisks,
campfires, gravestones and tables."""

from __future__ import annotations

import math

import numpy as np

from engine_server.decoders.mesh import geometry as g
from engine_server.decoders.mesh.assembly import Builder
from engine_server.decoders.mesh.recipes.common import Ctx, beam, block, curve, rod
from engine_server.decoders.mesh.recipes.common import lantern as lantern_box
from engine_server.decoders.mesh.recipes.shapes import flames, pyramid


def statue(b: Builder, c: Ctx) -> None:
    k = c.k
    mat = "metal" if c.s in ("scifi", "industrial") else "stone"
    ph = k.u("plinth", 0.9, 1.2)
    block(b, "trim", (1.1, 0.2, 1.1), (0, 0.1, 0), bevel=0.02)
    block(b, "stone", (0.85, ph - 0.35, 0.85), (0, 0.2 + (ph - 0.35) / 2, 0), bevel=0.01)
    block(b, "trim", (1.0, 0.15, 1.0), (0, ph - 0.075, 0), bevel=0.02)
    s = k.u("scale", 0.95, 1.15)
    n = b.seg(12, 5)
    y = ph
    for sx in (-1, 1):  # legs
        b.add(mat, g.tube([(sx * 0.12 * s, y, 0), (sx * 0.11 * s, y + 0.5 * s, 0.03), (sx * 0.13 * s, y + 0.9 * s, 0)],
                          [0.08 * s, 0.09 * s, 0.11 * s], n))
    torso = [(0.0, 0.0), (0.24 * s, 0.0), (0.2 * s, 0.25 * s), (0.27 * s, 0.55 * s), (0.12 * s, 0.68 * s),
             (0.0, 0.7 * s)]
    b.add(mat, g.lathe(torso, n, hard_angle=50), at=(0, y + 0.85 * s, 0))
    b.add(mat, g.cube_sphere((0.12 * s, 0.15 * s, 0.13 * s), 4 if b.lod <= 1 else 2), at=(0, y + 1.7 * s, 0))
    raise_arm = k.chance("raise", 0.6)
    for sx in (-1, 1):
        shoulder = np.array([sx * 0.28 * s, y + 1.42 * s, 0.0])
        if sx == 1 and raise_arm:
            hand = shoulder + np.array([0.15 * s, 0.6 * s, 0.1 * s])
        else:
            hand = shoulder + np.array([sx * 0.1 * s, -0.55 * s, 0.12 * s])
        b.add(mat, g.tube(curve(shoulder, (shoulder + hand) / 2 + [sx * 0.05, 0, 0.05], hand, 4), 0.06 * s, n))
        if sx == 1 and raise_arm and b.lod <= 1:
            rod(b, mat, hand - np.array([0, 0.6 * s, 0]), hand + np.array([0, 0.5 * s, 0]), 0.025, 6)


def broken_column(b: Builder, c: Ctx) -> None:
    k = c.k
    r = k.u("r", 0.22, 0.28)
    n = b.seg(c.style.round_segments + 8, 8)
    block(b, "trim", (r * 3.2, 0.25, r * 3.2), (0, 0.125, 0), bevel=0.015)
    h = k.u("h", 1.0, 1.8)
    b.add("structure", g.cylinder(r, h, n, radius_top=r * 0.95), at=(0, 0.25, 0))
    cut = g.cube_sphere((r, r * 0.45, r), 3, lambda d: 1.0 + 0.25 * np.abs(np.sin(d[:, 0] * 9 + d[:, 2] * 7)))
    b.add("structure", cut, at=(0, 0.25 + h, 0), rot=g.rotation(z=k.u("tilt", 8, 20)))
    drums = c.count("drums", 1, 3)
    for i in range(drums):
        a = k.u(f"a{i}", 0, 6.28)
        d = k.u(f"d{i}", 0.8, 1.4)
        L = k.u(f"l{i}", 0.4, 0.7)
        b.add("structure", g.cylinder(r * 0.95, L, n), at=(d * math.cos(a), r * 0.95, d * math.sin(a)),
              rot=g.rotation(y=math.degrees(a)) @ g.rotation(z=90.0))
    for i in range(c.count("rubble", 2, 5) if b.lod <= 1 else 0):
        a = k.u(f"ra{i}", 0, 6.28)
        d = k.u(f"rd{i}", 0.45, 1.0)
        s = k.u(f"rs{i}", 0.08, 0.16)
        b.add("stone", g.cube_sphere((s, s * 0.7, s), 2), at=(d * math.cos(a), s * 0.5, d * math.sin(a)))


def lantern(b: Builder, c: Ctx) -> None:
    """A standing lantern: stone (toro-like) in the hand-made styles, a post lantern otherwise."""
    k = c.k
    if c.s in ("medieval", "organic", "natural", "architectural") and k.chance("toro", 0.6):
        block(b, "stone", (0.6, 0.15, 0.6), (0, 0.075, 0), bevel=0.02)
        b.add("stone", g.cylinder(0.1, k.u("post", 0.7, 0.9), b.seg(12, 5)), at=(0, 0.15, 0))
        y = 0.15 + k.u("post", 0.7, 0.9)
        block(b, "stone", (0.5, 0.1, 0.5), (0, y + 0.05, 0), bevel=0.01)
        block(b, "glow", (0.28, 0.3, 0.28), (0, y + 0.25, 0))
        for sx in (-1, 1):
            for sz in (-1, 1):
                block(b, "stone", (0.06, 0.3, 0.06), (sx * 0.17, y + 0.25, sz * 0.17))
        b.add("stone", pyramid(0.45, 0.35, 4, concave=0.5), at=(0, y + 0.4, 0))
        b.add("stone", g.cube_sphere((0.06, 0.08, 0.06), 2), at=(0, y + 0.8, 0))
        return
    H = k.u("H", 1.4, 1.8)
    block(b, "metal", (0.35, 0.06, 0.35), (0, 0.03, 0), bevel=0.01)
    rod(b, "metal", (0, 0.06, 0), (0, H, 0), 0.03, 8)
    lantern_box(b, c, (0, H, 0), 0.32)
    if b.lod <= 1:
        for i in range(c.count("hang", 0, 2)):
            rod(b, "metal", (0, H * 0.7, 0), (0.35 * (1 if i else -1), H * 0.72, 0), 0.012, 4)
            lantern_box(b, c, (0.35 * (1 if i else -1), H * 0.72 - 0.3, 0), 0.2)


def brazier(b: Builder, c: Ctx) -> None:
    k = c.k
    H = k.u("H", 0.9, 1.2)
    R = k.u("R", 0.35, 0.45)
    for i in range(3):
        a = 2 * math.pi * i / 3
        ca, sa = math.cos(a), math.sin(a)
        beam(b, "metal", (R * 1.2 * ca, 0, R * 1.2 * sa), (R * 0.5 * ca, H, R * 0.5 * sa), 0.05, 0.05)
    n = b.seg(16, 6)
    b.add("metal", g.lathe([(0.0, 0.0), (R * 0.5, 0.0), (R, R * 0.55), (R * 0.93, R * 0.58), (0.0, R * 0.2)], n,
                           hard_angle=30), at=(0, H - 0.05, 0))
    for i in range(c.count("coals", 3, 6) if b.lod <= 1 else 0):
        a = 2 * math.pi * i / 6 + k.u(f"ca{i}", 0, 1)
        b.add("rock", g.cube_sphere((0.09, 0.06, 0.08), 2),
              at=(R * 0.4 * math.cos(a), H + R * 0.35, R * 0.4 * math.sin(a)))
    flames(b, (0, H + R * 0.3, 0), k.u("flame", 0.5, 0.7), R * 0.45)


def chest(b: Builder, c: Ctx) -> None:
    k = c.k
    W, D, H = k.u("w", 0.8, 1.1), k.u("d", 0.5, 0.65), k.u("h", 0.45, 0.55)
    block(b, "wood", (W, H, D), (0, H / 2, 0), bevel=0.01)
    lid = [(D / 2 * math.cos(t), D * 0.35 * math.sin(t)) for t in np.linspace(0, math.pi, b.seg(10, 4) + 1)]
    open_lid = k.chance("open", 0.4)
    rot = g.rotation(y=90.0)
    if open_lid:
        rot = g.rotation(x=-100.0) @ rot
        b.add("wood", g.extrude(lid, W), at=(0, H + 0.01, -D / 2 + 0.05), rot=rot)
        block(b, "glow", (W - 0.1, 0.05, D - 0.1), (0, H - 0.02, 0))
    else:
        b.add("wood", g.extrude(lid, W), at=(0, H + 0.003, 0), rot=rot)
    for x in (-W / 2 + 0.12, W / 2 - 0.12):
        block(b, "metal", (0.05, H + 0.01, D + 0.02), (x, H / 2, 0))
        if not open_lid and b.lod <= 1:
            band = [(D / 2 * 1.03 * math.cos(t), D * 0.35 * 1.06 * math.sin(t)) for t in np.linspace(0, math.pi, 9)]
            outline, cap = g.thick_polyline(band, 0.02)
            b.add("metal", g.extrude(outline, 0.05, cap_tris=cap), at=(x, H + 0.003, 0), rot=g.rotation(y=90.0))
    block(b, "metal", (0.12, 0.14, 0.03), (0, H - 0.08, D / 2 + 0.015))


def fence(b: Builder, c: Ctx) -> None:
    """A modular fence section: spans whole grid cells along x."""
    k = c.k
    W = c.grid * (2 if c.grid < 2 else 1)
    H = k.u("h", 0.9, 1.2)
    picket = k.chance("picket", 0.5)
    for sx in (-1, 1):
        block(b, "wood", (0.1, H + 0.1, 0.1), (sx * (W / 2 - 0.05), (H + 0.1) / 2, 0), bevel=0.008)
    for y in (H * 0.3, H * 0.75):
        block(b, "wood", (W - 0.2 - 0.004, 0.08, 0.04), (0, y, 0.05 + 0.022), bevel=0.004)
    if picket and b.lod <= 1:
        count = int((W - 0.2) / 0.16)
        for i in range(count):
            x = -W / 2 + 0.1 + (i + 0.5) * (W - 0.2) / count
            h = H - 0.08 + c.jit(f"ph{i}", 1.5)
            block(b, "trim", (0.09, h, 0.025), (x, h / 2 + 0.02, 0.105), bevel=0.003)
            if b.full:
                b.add("trim", g.extrude([(-0.045, 0.0), (0.045, 0.0), (0.0, 0.07)], 0.025), at=(x, h + 0.02, 0.105))


def banner(b: Builder, c: Ctx) -> None:
    k = c.k
    H = k.u("H", 2.8, 3.4)
    w = k.u("w", 0.7, 0.9)
    block(b, "stone", (0.5, 0.2, 0.5), (0, 0.1, 0), bevel=0.02)
    rod(b, "wood", (0, 0.2, 0), (0, H, 0), 0.045, 10)
    rod(b, "wood", (-w / 2 - 0.1, H - 0.15, 0.06), (w / 2 + 0.1, H - 0.15, 0.06), 0.03, 8)
    drop = k.u("drop", 1.4, 1.9)
    notch = k.u("notch", 0.2, 0.35)
    cloth = [(-w / 2, 0.0), (w / 2, 0.0), (w / 2, -drop), (0.0, -drop + notch), (-w / 2, -drop)]
    b.add("cloth", g.extrude(cloth, 0.02), at=(0, H - 0.18, 0.08))
    if b.lod <= 1:
        block(b, "accent", (w * 0.45, w * 0.45, 0.01), (0, H - 0.18 - drop * 0.4, 0.095), rz=45.0)
        b.add("metal", g.cube_sphere((0.07, 0.1, 0.07), 2), at=(0, H + 0.08, 0))


def obelisk(b: Builder, c: Ctx) -> None:
    k = c.k
    H = k.u("H", 3.5, 4.5)
    r0 = k.u("r", 0.35, 0.45)
    for i in range(2):
        s = r0 * 3.2 - i * r0 * 0.9
        block(b, "trim", (s, 0.22, s), (0, 0.11 + i * 0.22, 0), bevel=0.01)
    shaft = g.lathe([(0.0, 0.0), (r0 * 1.414, 0.0), (r0 * 0.7 * 1.414, H), (0.0, H + r0 * 0.9)], 4, hard_angle=20)
    b.add("stone", shaft.transformed(g.rotation(y=45.0)), at=(0, 0.44, 0))
    if b.lod <= 1:
        for i in range(c.count("glyphs", 3, 6)):
            y = 0.9 + i * 0.45
            w = r0 * (1 - 0.3 * y / H) * 0.9
            block(b, "glow", (w, 0.05, 0.015), (0, 0.44 + y, r0 * (1 - 0.3 * (y / H)) + 0.004))


def campfire(b: Builder, c: Ctx) -> None:
    k = c.k
    stones = c.count("stones", 7, 10) if b.lod <= 1 else 5
    R = 0.55
    for i in range(stones):
        a = 2 * math.pi * i / stones
        s = k.u(f"s{i}", 0.11, 0.16)
        b.add("rock", g.cube_sphere((s, s * 0.8, s * 1.2), 2), at=(R * math.cos(a), s * 0.6, R * math.sin(a)),
              rot=g.rotation(y=-math.degrees(a)))
    n = b.seg(8, 4)
    for i in range(k.i("logs", 3, 4)):
        a = 2 * math.pi * i / 4 + k.u(f"la{i}", 0, 0.5)
        d = np.array([math.cos(a), 0.0, math.sin(a)])
        rod(b, "bark", d * 0.4 + [0, 0.06, 0], -d * 0.05 + [0, 0.35, 0], 0.05, n)
    flames(b, (0, 0.1, 0), k.u("flame", 0.6, 0.8), 0.16)
    if k.chance("seat", 0.6):
        a = k.u("seat_a", 0, 6.28)
        b.add("bark", g.cylinder(0.17, 1.2, b.seg(10, 5)), at=(1.2 * math.cos(a), 0.17, 1.2 * math.sin(a)),
              rot=g.rotation(y=-math.degrees(a)) @ g.rotation(x=90.0))


def gravestone(b: Builder, c: Ctx) -> None:
    k = c.k
    count = c.count("count", 1, 3)
    for i in range(count):
        w, h = k.u(f"w{i}", 0.5, 0.7), k.u(f"h{i}", 0.8, 1.2)
        x = (i - (count - 1) / 2) * 0.95
        lean = c.jit(f"lean{i}", 60.0) + (k.u(f"l{i}", -6, 6) if c.wear > 0.4 else 0.0)
        if k.chance(f"cross{i}", 0.3):
            block(b, "stone", (0.14, h * 1.2, 0.12), (x, h * 0.6, 0), rz=lean, bevel=0.01)
            block(b, "stone", (0.55, 0.14, 0.12), (x, h * 0.85, 0), rz=lean, bevel=0.01)
        else:
            ts = np.linspace(0, math.pi, b.seg(10, 4) + 1)
            top = [(w / 2 * math.cos(t), h - w / 2 + w / 2 * math.sin(t)) for t in ts]
            prof = [(-w / 2, 0.0), (w / 2, 0.0), *top]
            b.add("stone", g.extrude(prof, 0.14), at=(x, 0, 0), rot=g.rotation(z=lean))
        block(b, "trim", (w + 0.2, 0.08, 0.35), (x, 0.04, 0.05), bevel=0.01)
    if b.lod <= 1 and k.chance("slab", 0.5):
        block(b, "ground", (1.0, 0.06, 1.8), (0, 0.03, 1.1), bevel=0.01)


def table(b: Builder, c: Ctx) -> None:
    k = c.k
    L, D, H = k.u("l", 1.4, 2.0), k.u("d", 0.7, 0.9), k.u("h", 0.74, 0.78)
    block(b, "wood", (L, 0.06, D), (0, H - 0.03, 0), bevel=0.008)
    for sx in (-1, 1):
        for sz in (-1, 1):
            block(b, "wood", (0.07, H - 0.06, 0.07), (sx * (L / 2 - 0.1), (H - 0.06) / 2, sz * (D / 2 - 0.1)),
                  bevel=0.005)
    block(b, "wood", (L - 0.3, 0.05, 0.04), (0, 0.2, 0))
    if b.lod <= 1:
        n = b.seg(10, 5)
        for i in range(c.count("items", 2, 5)):
            x = -L / 2 + 0.25 + i * (L - 0.5) / 4
            z = k.u(f"z{i}", -D / 4, D / 4)
            kind = k.i(f"k{i}", 0, 2)
            if kind == 0:
                b.add("accent", g.cylinder(0.05, 0.11, n), at=(x, H, z))
            elif kind == 1:
                b.add("trim", g.cylinder(0.12, 0.02, n), at=(x, H, z))
            else:
                b.add("accent", g.lathe([(0.0, 0.0), (0.05, 0.0), (0.05, 0.16), (0.015, 0.22), (0.015, 0.27),
                                         (0.0, 0.27)], n), at=(x, H, z))
        b.add("structure", g.cylinder(0.025, 0.14, 8), at=(0.05, H, 0.0))
        b.add("glow", g.cube_sphere((0.015, 0.03, 0.015), 2), at=(0.05, H + 0.17, 0.0))
