"""Sci-fi subjects: wall panels, doors, consoles, pipe runs, antennas and shipping containers."""

from __future__ import annotations

import math

import numpy as np

from engine_server.decoders.mesh import geometry as g
from engine_server.decoders.mesh.assembly import Builder
from engine_server.decoders.mesh.recipes.common import Ctx, beam, block, bolts, curve, rod
from engine_server.decoders.mesh.recipes.shapes import ring


def wall_panel(b: Builder, c: Ctx) -> None:
    """A modular bulkhead panel: spans whole grid cells along x; frame, inset plates, vents, light strips."""
    k = c.k
    W = c.grid * (2 if c.grid < 2 else 1)
    H = k.u("h", 2.6, 3.0)
    T = 0.2
    block(b, "structure", (W, H, T), (0, H / 2, 0))
    for sx in (-1, 1):
        block(b, "trim", (0.14, H - 0.004, T + 0.08), (sx * (W / 2 - 0.07), H / 2, 0), bevel=0.02)
    block(b, "trim", (W - 0.3, 0.2, T + 0.06), (0, 0.1, 0), bevel=0.02)
    rows = c.count("plates", 2, 4)
    ph = (H - 0.5) / rows
    for i in range(rows):
        y = 0.3 + (i + 0.5) * ph
        kind = k.i(f"p{i}", 0, 2)
        if kind == 0 or b.lod > 1:
            block(b, "accent", (W - 0.5, ph - 0.12, 0.04), (0, y, T / 2 + 0.02), bevel=0.012)
        elif kind == 1:
            for j in range(6 if b.lod == 0 else 3):
                block(b, "trim", (W - 0.6, 0.035, 0.05), (0, y - ph * 0.3 + j * ph * 0.6 / 5, T / 2 + 0.025))
        else:
            block(b, "glow", (W - 0.6, 0.04, 0.03), (0, y, T / 2 + 0.015))
            block(b, "accent", (W - 0.5, ph * 0.35, 0.04), (0, y + ph * 0.28, T / 2 + 0.02), bevel=0.01)
    if b.full:
        bolts(b, "metal", [(sx * (W / 2 - 0.07), y, T / 2 + 0.04) for sx in (-1, 1) for y in (0.4, H - 0.2)], 2)


def door(b: Builder, c: Ctx) -> None:
    k = c.k
    w, h = k.u("w", 1.4, 1.8), k.u("h", 2.2, 2.6)
    frame = 0.3
    for sx in (-1, 1):
        block(b, "trim", (frame, h + frame, 0.5), (sx * (w / 2 + frame / 2), (h + frame) / 2, 0), bevel=0.03)
    block(b, "trim", (w + 0.004, frame, 0.5), (0, h + frame / 2, 0), bevel=0.03)
    gap = k.u("open", 0.0, 0.35) * w
    for sx in (-1, 1):
        x = sx * (w / 4 + gap / 2)
        block(b, "structure", (w / 2 - 0.02, h - 0.02, 0.16), (x, h / 2, 0), bevel=0.015)
        block(b, "glow", (0.03, h * 0.7, 0.02), (sx * (gap / 2 + 0.05), h / 2, 0.09))
        if b.lod <= 1:
            for i in range(4):
                block(b, "accent", (w / 2 - 0.12, 0.08, 0.02), (x, 0.25 + i * 0.12, 0.085), rz=sx * 35.0)
    block(b, "accent", (0.25, 0.35, 0.08), (w / 2 + frame + 0.2, 1.3, 0.05), bevel=0.015)
    block(b, "glow", (0.14, 0.14, 0.02), (w / 2 + frame + 0.2, 1.35, 0.1))


def console(b: Builder, c: Ctx) -> None:
    k = c.k
    L = k.u("l", 1.6, 2.2)
    side = [(-0.35, 0.0), (0.35, 0.0), (0.35, 0.75), (0.15, 0.95), (-0.3, 1.15), (-0.35, 1.15)]
    b.add("structure", g.extrude(side, L, hard_angle=30), rot=g.rotation(y=90.0))
    slope = math.degrees(math.atan2(0.2, 0.2))
    block(b, "glow", (L - 0.2, 0.02, 0.24), (0, 0.86, -0.25 + 0.5), rx=-slope)
    tilt = math.degrees(math.atan2(0.2, 0.45))
    block(b, "accent", (L - 0.1, 0.02, 0.46), (0, 1.06 - 0.01, 0.0), rx=-tilt)
    if b.lod <= 1:
        for i in range(c.count("screens", 1, 3)):
            x = -L / 2 + (i + 0.5) * L / 3
            block(b, "trim", (0.5, 0.36, 0.05), (x, 1.45, -0.28), bevel=0.01, rx=-10)
            block(b, "glow", (0.44, 0.3, 0.01), (x, 1.455, -0.25), rx=-10)
            rod(b, "metal", (x, 1.15, -0.3), (x, 1.3, -0.3), 0.025, 6)
    if b.full:
        for i in range(8):
            block(b, "accent" if i % 3 else "glow", (0.06, 0.02, 0.05),
                  (-L / 2 + 0.2 + i * (L - 0.4) / 7, 0.96, 0.07), rx=-tilt)
    block(b, "trim", (L + 0.1, 0.08, 0.8), (0, 0.04, 0), bevel=0.01)


def pipe_run(b: Builder, c: Ctx) -> None:
    k = c.k
    L = k.u("l", 3.0, 4.0)
    pipes = k.i("pipes", 2, 4)
    n = b.seg(16, 6)
    ys = []
    for i in range(pipes):
        r = k.u(f"r{i}", 0.08, 0.16)
        y = 0.6 + i * 0.35
        z = k.u(f"z{i}", -0.1, 0.1)
        ys.append((y, z, r))
        rod(b, "metal" if i % 2 else "accent", (-L / 2, y, z), (L / 2, y, z), r, n)
        if b.lod <= 1:
            for x in (-L / 4, L / 4):
                b.add("trim", g.cylinder(r + 0.03, 0.08, n), at=(x - 0.04, y, z), rot=g.rotation(z=-90.0))
    for x in (-L / 2 + 0.3, L / 2 - 0.3):
        top = ys[-1][0] + ys[-1][2] + 0.05
        block(b, "trim", (0.08, top, 0.08), (x, top / 2, -0.3), bevel=0.005)
        for y, z, r in ys:
            beam(b, "trim", (x, y, -0.3), (x, y, z - r - 0.005), 0.05, 0.05)
    y0, z0, r0 = ys[0]
    elbow = curve((L / 2 - 0.01, y0, z0), (L / 2 + 0.4, y0, z0), (L / 2 + 0.4, 0.02, z0), b.seg(8, 3))
    b.add("accent", g.tube(elbow, r0, n))
    if b.lod <= 1:
        y, z, r = ys[-1]
        wheel = ring(0.14, 0.18, 0.03, b.seg(16, 6))
        rod(b, "metal", (0, y, z + r), (0, y, z + r + 0.14), 0.02, 6)
        b.add("glow" if k.chance("lit", 0.5) else "accent", wheel, at=(0, y, z + r + 0.14), rot=g.rotation(x=90.0))


def antenna(b: Builder, c: Ctx) -> None:
    k = c.k
    block(b, "trim", (1.2, 0.4, 1.2), (0, 0.2, 0), bevel=0.03)
    if k.chance("dish", 0.55):
        H = k.u("H", 1.6, 2.2)
        b.add("metal", g.cylinder(0.12, H, b.seg(12, 5)), at=(0, 0.4, 0))
        R = k.u("R", 1.1, 1.5)
        dish = g.lathe([(0.0, 0.0), (R, R * 0.35), (R, R * 0.35 + 0.04), (0.0, 0.05)], b.seg(24, 8), hard_angle=30)
        tilt = k.u("tilt", 25, 50)
        centre = np.array([0.0, 0.4 + H, 0.0])
        rot = g.rotation(x=tilt)
        b.add("structure", dish, at=centre, rot=rot)
        feed = rot @ np.array([0.0, R * 0.7, 0.0])
        for i in range(3):
            a = 2 * math.pi * i / 3
            rim = rot @ np.array([R * 0.9 * math.cos(a), R * 0.33, R * 0.9 * math.sin(a)])
            rod(b, "metal", centre + rim, centre + feed, 0.015, 4)
        b.add("glow", g.cube_sphere((0.06, 0.06, 0.06), 2), at=tuple(centre + feed))
        return
    H = k.u("mast", 4.0, 5.5)
    w = 0.35
    for sx in (-1, 1):
        for sz in (-1, 1):
            rod(b, "metal", (sx * w, 0.4, sz * w), (sx * w * 0.3, H, sz * w * 0.3), 0.03, 6)
    levels = 6 if b.lod <= 1 else 2
    for i in range(levels):
        y = 0.6 + i * (H - 0.8) / levels
        s = w * (1 - 0.7 * (y - 0.4) / (H - 0.4))
        for p0, p1 in (((-s, -s), (s, s)), ((s, -s), (-s, s))):  # cross braces
            rod(b, "metal", (p0[0], y, p0[1]), (p1[0], y + (H - 0.8) / levels * 0.9, p1[1]), 0.012, 4)
    rod(b, "metal", (0, H - 0.2, 0), (0, H + 1.0, 0), 0.02, 6)
    b.add("glow", g.cube_sphere((0.07, 0.07, 0.07), 2), at=(0, H + 1.05, 0))
    for i in range(2):
        block(b, "accent", (0.1, 0.7, 0.25), (w * 0.5 + 0.05, H * (0.55 + 0.2 * i), 0), bevel=0.01)


def container(b: Builder, c: Ctx) -> None:
    k = c.k
    L = k.choice("len", (3.0, 6.0, 6.0))
    W, H = 2.44, 2.59
    block(b, "accent", (L - 0.1, H - 0.1, W - 0.1), (0, H / 2, 0))
    for sx in (-1, 1):
        for sz in (-1, 1):
            block(b, "trim", (0.16, H, 0.16), (sx * (L / 2 - 0.08), H / 2, sz * (W / 2 - 0.08)))
    for sy in (0.08, H - 0.08):
        for sz in (-1, 1):
            block(b, "trim", (L - 0.32 - 0.004, 0.16, 0.12), (0, sy, sz * (W / 2 - 0.08)))
    if b.lod <= 1:
        ribs = int(L / 0.3) if b.full else int(L / 0.6)
        for i in range(ribs):
            x = -L / 2 + 0.2 + (i + 0.5) * (L - 0.4) / ribs
            for sz in (-1, 1):
                block(b, "accent", (0.1, H - 0.36, 0.04), (x, H / 2, sz * (W / 2 - 0.03)))
        for i in range(4):
            z = -W / 2 + 0.4 + i * (W - 0.8) / 3
            rod(b, "metal", (L / 2 - 0.03, 0.3, z), (L / 2 - 0.03, H - 0.3, z), 0.025, 6)
    block(b, "glow", (0.02, 0.3, 1.2), (L / 2 - 0.02, H * 0.7, 0))
