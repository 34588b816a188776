"""Vehicles: a rowing boat, a ship's hull with its mast, a two-wheeled cart. Hulls are lofted
sections (shapes.hull); they rest on y = 0 (on a sea floor, a beach or a slipway)."""

from __future__ import annotations

import math

import numpy as np

from engine_server.decoders.mesh import geometry as g
from engine_server.decoders.mesh.assembly import Builder
from engine_server.decoders.mesh.recipes.common import Ctx, beam, block, rod
from engine_server.decoders.mesh.recipes.shapes import hull, ring


def boat(b: Builder, c: Ctx) -> None:
    k = c.k
    L, B, D = k.u("l", 3.2, 4.2), k.u("b", 1.1, 1.4), k.u("d", 0.45, 0.55)
    b.add("wood", hull(L, B, D, b.seg(16, 6), b.seg(10, 4), well=0.3, sheer=0.18))
    block(b, "trim", (L * 0.9, 0.05, 0.06), (0, 0.02, 0))  # keel strip under the hull
    for i in range(k.i("thwarts", 2, 3)):
        x = -L * 0.25 + i * L * 0.25
        half = B / 2 * (1 - abs(2 * x / L) ** 2.2) ** 0.6
        block(b, "wood", (0.22, 0.05, half * 1.55), (x, D - 0.1, 0), bevel=0.005)
    if b.lod <= 1:
        for sz in (-1, 1):
            a = k.u(f"oar{sz}", -12, 12)
            p0 = np.array([0.1, D + 0.05, sz * B * 0.3])
            d = np.array([math.cos(math.radians(a)), 0.05, sz * 0.35])
            rod(b, "wood", p0 - d * 1.0, p0 + d * 1.2, 0.025, 6)
            blade_at = p0 + d * 1.2
            block(b, "wood", (0.45, 0.02, 0.14), tuple(blade_at), ry=-a)


def ship_hull(b: Builder, c: Ctx) -> None:
    k = c.k
    L, B, D = k.u("l", 8.0, 10.0), k.u("b", 2.6, 3.2), k.u("d", 1.6, 2.0)
    b.add("wood", hull(L, B, D, b.seg(20, 8), b.seg(12, 4), well=0.25, sheer=0.5))
    block(b, "trim", (L * 0.92, 0.12, 0.16), (0, 0.06, 0))
    stripe_y = D * 0.8
    for sz in (-1, 1):
        pts = []
        for x in np.linspace(-L * 0.42, L * 0.42, b.seg(10, 4)):
            half = B / 2 * (1 - abs(2 * x / L) ** 2.2) ** 0.6
            pts.append((x, stripe_y + 0.5 * (2 * x / L) ** 2, sz * (half + 0.02)))
        b.add("accent", g.tube(pts, 0.06, b.seg(6, 4)))
    broken = k.chance("broken", 0.2 + 0.6 * c.wear)
    mast_h = k.u("mast", 5.5, 7.0) * (0.45 if broken else 1.0)
    deck = D - 0.25
    b.add("wood", g.cylinder(0.16, mast_h, b.seg(12, 5), radius_top=0.1), at=(L * 0.05, deck, 0))
    if not broken:
        yard = mast_h * 0.8
        rod(b, "wood", (L * 0.05 + 0.18, deck + yard, -2.0), (L * 0.05 + 0.18, deck + yard, 2.0), 0.06, 8)
        sail = [(-1.8, 0.0), (1.8, 0.0), (1.6, -mast_h * 0.55), (-1.6, -mast_h * 0.55)]
        b.add("cloth", g.extrude(sail, 0.04), at=(L * 0.05 + 0.3, deck + yard - 0.05, 0), rot=g.rotation(y=90.0))
    block(b, "wood", (L * 0.22, 1.0, B * 0.6), (-L * 0.32, deck + 0.5 + 0.25, 0), bevel=0.02)
    if b.lod <= 1:
        beam(b, "wood", (L / 2 - 0.2, D + 0.3, 0), (L / 2 + 1.4, D + 0.9, 0), 0.1)
        for i in range(2):
            block(b, "glow", (0.05, 0.3, 0.3), (-L * 0.32 + 0.4 * (i - 0.5) * 2, deck + 1.0, B * 0.3 + 0.01),
                  ry=90.0)


def _wheel(b: Builder, c: Ctx, r: float, at: tuple[float, float, float]) -> None:
    n = b.seg(20, 8)
    rot = g.rotation(x=90.0)
    b.add("wood", ring(r - 0.07, r, 0.09, n).transformed(rot), at=(at[0], at[1], at[2] - 0.045))
    b.add("metal", g.cylinder(0.09, 0.2, b.seg(10, 4)).transformed(rot), at=(at[0], at[1], at[2] - 0.1))
    spokes = 8 if b.lod <= 1 else 4
    for i in range(spokes):
        a = math.pi * i / spokes
        d = np.array([math.cos(a), math.sin(a), 0.0]) * (r - 0.05)
        beam(b, "wood", np.asarray(at) - d, np.asarray(at) + d, 0.035, 0.03)


def cart(b: Builder, c: Ctx) -> None:
    k = c.k
    L, Wd = k.u("l", 1.8, 2.4), k.u("w", 1.1, 1.4)
    r = k.u("wheel", 0.5, 0.65)
    bed_y = r + 0.05
    block(b, "wood", (L, 0.08, Wd), (0, bed_y, 0), bevel=0.006)
    for sz in (-1, 1):
        block(b, "wood", (L, 0.35, 0.05), (0, bed_y + 0.2, sz * (Wd / 2 - 0.025)), bevel=0.005)
        _wheel(b, c, r, (0.0, r, sz * (Wd / 2 + 0.12)))
    for sx in (-1, 1):
        block(b, "wood", (0.05, 0.35, Wd - 0.1), (sx * (L / 2 - 0.025), bed_y + 0.2, 0), bevel=0.005)
    rod(b, "metal", (0, r, -Wd / 2 - 0.05), (0, r, Wd / 2 + 0.05), 0.04, 8)
    for sz in (-1, 1):
        beam(b, "wood", (L / 2 - 0.2, bed_y - 0.06, sz * 0.35), (L / 2 + 1.3, 0.08, sz * 0.3), 0.07, 0.07)
    if b.lod <= 1:
        for i in range(c.count("load", 1, 3)):
            block(b, "cloth", (0.5, 0.35, 0.45), (-L / 4 + i * 0.4, bed_y + 0.22, k.u(f"lz{i}", -0.2, 0.2)),
                  ry=k.u(f"lr{i}", -20, 20), bevel=0.05)
