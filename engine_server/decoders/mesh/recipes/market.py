"""Street pieces: market stalls, wall awnings, signs and lamp posts."""

from __future__ import annotations

import math

import numpy as np

from engine_server.decoders.mesh import geometry as g
from engine_server.decoders.mesh.assembly import Builder
from engine_server.decoders.mesh.recipes.common import Ctx, arc_profile, beam, block, curve, glyph_strokes, lantern, rod


def _canopy(b: Builder, c: Ctx, mat: str, width: float, depth: float, at: tuple[float, float, float],
            rise: float, drop: float, scallops: bool) -> None:
    """A fabric canopy: a thin arched shell spanning `width` (x), sloping down to the front (+z)."""
    n = b.seg(16, 4)
    prof = arc_profile(depth, rise, n, drop=drop)
    pts = prof  # profile x maps to -z once turned: x = -depth/2 (the low end) is the front
    outline, cap = g.thick_polyline(pts, 0.02)
    shell = g.extrude(outline, width, hard_angle=50, cap_tris=cap)
    b.add(mat, shell, at=at, rot=g.rotation(y=90.0))
    if b.lod <= 1:
        fy = at[1] + pts[0][1] - 0.0
        fz = at[2] + depth / 2
        val_h = 0.18
        if scallops and b.full:
            count = max(3, int(width / 0.3))
            for i in range(count):
                x = -width / 2 + (i + 0.5) * width / count
                tri = g.extrude([(-width / count / 2, 0.0), (width / count / 2, 0.0), (0.0, -val_h)], 0.01)
                b.add(mat, tri, at=(at[0] + x, fy - 0.01, fz + 0.005))
        else:
            block(b, mat, (width, val_h * 0.6, 0.012), (at[0], fy - val_h * 0.3, fz + 0.005))


def stall(b: Builder, c: Ctx) -> None:
    k = c.k
    s = c.s
    W = k.u("w", 1.8, 2.6)
    D = k.u("d", 0.8, 1.1)
    ch = k.u("counter_h", 0.9, 1.05)
    H = k.u("h", 2.3, 2.7)
    post_mat = "metal" if s in ("scifi", "industrial") else "wood"
    counter_mat = "structure" if s in ("scifi",) else "accent" if s == "industrial" else "wood"
    # counter
    if s == "scifi":
        block(b, counter_mat, (W, ch - 0.06, D), (0, (ch - 0.06) / 2, 0), bevel=0.03)
        block(b, "glow", (W - 0.1, 0.03, 0.02), (0, ch * 0.2, D / 2))
        block(b, "trim", (W + 0.1, 0.06, D + 0.12), (0, ch - 0.03, 0.03), bevel=0.015)
    else:
        block(b, counter_mat, (W - 0.1, ch - 0.1, D - 0.1), (0, (ch - 0.1) / 2 + 0.05, 0), bevel=0.01)
        block(b, "wood" if s != "industrial" else "trim", (W + 0.1, 0.05, D + 0.1), (0, ch - 0.025, 0.02), bevel=0.008)
        if b.lod <= 1:
            planks = 5 if b.full else 2
            for i in range(planks):
                x = -W / 2 + 0.1 + (i + 0.5) * (W - 0.2) / planks
                block(b, "wood" if s != "industrial" else "trim", ((W - 0.2) / planks - 0.02, ch - 0.2, 0.025),
                      (x + c.jit(f"pk{i}", 0.3), (ch - 0.2) / 2 + 0.08, D / 2 - 0.03), bevel=0.004)
    # posts (front ones shorter: the canopy slopes to the front)
    front_h = H - k.u("slope", 0.25, 0.4)
    for sx in (-1, 1):
        for sz, top in ((-1, H), (1, front_h)):
            x = sx * (W / 2 - 0.04)
            z = sz * (D / 2 + 0.1)
            if post_mat == "metal":
                rod(b, post_mat, (x, 0, z), (x, top, z), 0.03, 12)
            else:
                beam(b, post_mat, (x + c.jit(f"px{sx}{sz}", 0.5), 0, z), (x, top, z), 0.08, 0.08, bevel=0.008)
    # canopy
    if s == "scifi":
        slab = g.box((W + 0.3, 0.06, D + 0.5), b.bevel(0.02))
        ang = math.degrees(math.atan2(H - front_h, D + 0.2))
        b.add("accent", slab, at=(0, (H + front_h) / 2 + 0.04, 0), rot=g.rotation(x=ang))
        edge_y = front_h + 0.04 - math.sin(math.radians(ang)) * 0.15
        block(b, "glow", (W + 0.3, 0.03, 0.03), (0, edge_y - 0.02, D / 2 + 0.34))
    else:
        _canopy(b, c, "cloth", W + 0.3, D + 0.5, (0.0, front_h, 0.0), rise=0.15, drop=-(H - front_h),
                scallops=s in ("medieval", "architectural"))
    # sign board over the front
    sign_w = W * k.u("sign_w", 0.5, 0.8)
    if s in ("scifi", "industrial"):
        block(b, "trim", (sign_w, 0.32, 0.06), (0, front_h + 0.3, D / 2 + 0.16), bevel=0.01)
        x0 = -sign_w / 2 + 0.08
        glyphs = c.count("glyphs", 3, 5)
        gw = (sign_w - 0.16) / glyphs
        for i in range(glyphs):
            for j, (ax, ay, bx, by) in enumerate(glyph_strokes(k, f"g{i}", gw * 0.7, 0.2)):
                if b.lod <= 1 or j == 0:
                    beam(b, "glow", (x0 + i * gw + ax, front_h + 0.2 + ay, D / 2 + 0.2),
                         (x0 + i * gw + bx, front_h + 0.2 + by, D / 2 + 0.2), 0.02, 0.02)
    elif k.chance("board", 0.7):
        block(b, "accent", (sign_w, 0.28, 0.03), (0, front_h + 0.25, D / 2 + 0.2), bevel=0.006, rz=c.jit("bt", 40))
    # goods on the counter (LOD0/1)
    if b.lod <= 1:
        n = c.count("goods", 2, 6)
        for i in range(n):
            x = -W / 2 + 0.2 + (i + 0.5) * (W - 0.4) / n
            kind = k.i(f"gk{i}", 0, 2)
            if kind == 0:
                box_s = k.u(f"gs{i}", 0.15, 0.3)
                block(b, "wood" if s != "scifi" else "accent", (box_s, box_s * 0.7, box_s),
                      (x, ch + box_s * 0.35, -0.05),
                      bevel=0.005, ry=k.u(f"gr{i}", -20, 20))
            elif kind == 1:
                rr = k.u(f"gs{i}", 0.06, 0.12)
                jar = g.cylinder(rr, rr * 2.2, b.seg(10, 5), bevel=b.bevel(0.01))
                b.add("accent" if s != "medieval" else "cloth", jar, at=(x, ch, k.u(f"gz{i}", -0.2, 0.1)))
            else:
                rr = k.u(f"gs{i}", 0.12, 0.2)
                basket = g.lathe([(0.0, 0.0), (rr * 0.8, 0.0), (rr, rr * 0.6), (rr * 0.9, rr * 0.6), (0.0, rr * 0.1)],
                                 b.seg(12, 6), hard_angle=30)
                b.add("wood", basket, at=(x, ch, -0.05))
    if s in ("medieval", "architectural") and b.lod <= 1 and k.chance("lantern", 0.6):
        beam(b, "metal", (W / 2 - 0.04, front_h - 0.05, D / 2 + 0.1), (W / 2 - 0.04, front_h - 0.35, D / 2 + 0.1),
             0.01)
        lantern(b, c, (W / 2 - 0.04, front_h - 0.6, D / 2 + 0.1), 0.22)


def awning(b: Builder, c: Ctx) -> None:
    k = c.k
    s = c.s
    W = 2 * c.grid if c.grid < 2 else c.grid * 1.5
    depth = k.u("depth", 0.9, 1.4)
    drop = k.u("drop", 0.35, 0.6)
    top = 0.6
    # wall plate and brackets
    block(b, "trim", (W, 0.12, 0.06), (0, top, -depth / 2 - 0.03), bevel=0.01)
    n_br = 2 if W <= 2 else 3
    for i in range(n_br):
        x = -W / 2 + 0.1 + i * (W - 0.2) / (n_br - 1)
        if s in ("medieval", "natural"):
            beam(b, "wood", (x, top - 0.45, -depth / 2), (x, top + 0.02, -depth / 2 + 0.02), 0.07, 0.06)
            beam(b, "wood", (x, top - 0.45, -depth / 2), (x, top - 0.02, depth / 2 - 0.1), 0.06, 0.05)
        else:
            rod(b, "metal", (x, top - drop + 0.05, depth / 2 - 0.05), (x, top, -depth / 2), 0.015, 8)
            rod(b, "metal", (x, top - 0.4, -depth / 2), (x, top - drop + 0.05, depth / 2 - 0.05), 0.012, 8)
    if s == "scifi":
        ang = math.degrees(math.atan2(drop, depth))
        b.add("accent", g.box((W, 0.04, depth / math.cos(math.radians(ang))), b.bevel(0.01)),
              at=(0, top - drop / 2 + 0.02, 0), rot=g.rotation(x=ang))
        block(b, "glow", (W, 0.025, 0.025), (0, top - drop + 0.01, depth / 2))
    else:
        _canopy(b, c, "cloth", W, depth, (0.0, top - drop + 0.02, 0.0), rise=0.1, drop=-drop,
                scallops=s in ("medieval", "architectural", "organic"))


def sign(b: Builder, c: Ctx) -> None:
    k = c.k
    s = c.s
    if s in ("scifi", "industrial") and k.chance("blade", 0.6 if s == "scifi" else 0.3):
        # vertical blade sign on a wall bracket, glyphs on both faces
        h = k.u("h", 1.4, 2.2)
        w = k.u("w", 0.45, 0.6)
        y0 = 0.4
        block(b, "trim", (0.1, h + 0.4, 0.1), (0, y0 + (h + 0.4) / 2 - 0.2, -w / 2 - 0.15), bevel=0.01)
        block(b, "accent", (0.12, h, w), (0, y0 + h / 2, 0), bevel=0.02)
        for y in (y0 + 0.15, y0 + h - 0.15):
            beam(b, "metal", (0, y, -w / 2 - 0.1), (0, y, -w / 2), 0.04)
        glyphs = c.count("glyphs", 3, 5)
        gh = (h - 0.2) / glyphs
        for side in (-1, 1):
            if side == -1 and b.lod > 1:
                continue
            for i in range(glyphs):
                for ax, ay, bx, by in glyph_strokes(k, f"g{i}", w * 0.55, gh * 0.7):
                    zc = -w * 0.275
                    beam(b, "glow", (side * 0.07, y0 + 0.1 + i * gh + ay + gh * 0.15, zc + ax),
                         (side * 0.07, y0 + 0.1 + i * gh + by + gh * 0.15, zc + bx), 0.02, 0.025)
        block(b, "glow", (0.125, 0.03, w + 0.005), (0, y0 + h - 0.02, 0))
        block(b, "glow", (0.125, 0.03, w + 0.005), (0, y0 + 0.02, 0))
        return
    # free-standing sign on posts or a hanging board
    H = k.u("H", 2.2, 2.8)
    bw = k.u("bw", 0.8, 1.2)
    bh = k.u("bh", 0.45, 0.7)
    if s in ("medieval", "natural", "organic"):
        beam(b, "wood", (0, 0, 0), (c.jit("lean", 1.0), H, 0), 0.12, 0.12, bevel=0.01)
        beam(b, "wood", (0, H - 0.1, 0), (bw + 0.2, H - 0.1, 0), 0.08, 0.08, bevel=0.008)
        beam(b, "wood", (0, H - 0.6, 0), (0.5, H - 0.12, 0), 0.06, 0.06)
        cx = 0.2 + bw / 2
        for sx in (-1, 1):
            beam(b, "metal", (cx + sx * bw * 0.35, H - 0.14, 0), (cx + sx * bw * 0.35, H - 0.3, 0), 0.012)
        block(b, "accent", (bw, bh, 0.04), (cx, H - 0.3 - bh / 2, 0), bevel=0.008, rz=c.jit("swing", 80))
        if b.lod <= 1:
            block(b, "wood", (bw + 0.06, 0.05, 0.05), (cx, H - 0.3, 0), bevel=0.005)
            block(b, "wood", (bw + 0.06, 0.05, 0.05), (cx, H - 0.3 - bh, 0), bevel=0.005)
        block(b, "stone" if s != "organic" else "trim", (0.35, 0.15, 0.35), (0, 0.075, 0), bevel=0.02)
        return
    for sx in (-1, 1):
        if s == "scifi":
            block(b, "trim", (0.08, H, 0.08), (sx * bw / 2, H / 2, 0), bevel=0.015)
        else:
            rod(b, "metal", (sx * bw / 2, 0, 0), (sx * bw / 2, H, 0), 0.03, 12)
    block(b, "accent", (bw + 0.1, bh, 0.05), (0, H - bh / 2 - 0.05, 0), bevel=0.01)
    if s in ("scifi", "industrial"):
        glyphs = c.count("glyphs", 3, 5)
        gw = (bw - 0.1) / glyphs
        for i in range(glyphs):
            for j, (ax, ay, bx, by) in enumerate(glyph_strokes(k, f"g{i}", gw * 0.7, bh * 0.55)):
                if b.lod <= 1 or j == 0:
                    x0 = -bw / 2 + 0.05 + i * gw + gw * 0.15
                    beam(b, "glow", (x0 + ax, H - bh * 0.8 + ay, 0.035), (x0 + bx, H - bh * 0.8 + by, 0.035),
                         0.02, 0.02)
    else:
        block(b, "trim", (bw - 0.05, bh * 0.5, 0.02), (0, H - bh / 2 - 0.05, 0.03), bevel=0.004)
    block(b, "trim", (bw + 0.3, 0.08, 0.3), (0, 0.04, 0), bevel=0.01)


def lamp_post(b: Builder, c: Ctx) -> None:
    k = c.k
    s = c.s
    H = k.u("H", 3.0, 4.2)
    n = b.seg(c.style.round_segments, 6)
    if s == "architectural":
        base = g.lathe([(0.0, 0.0), (0.22, 0.0), (0.22, 0.1), (0.16, 0.2), (0.12, 0.6), (0.09, 0.7), (0.0, 0.7)],
                       n, hard_angle=30)
        b.add("metal", base)
        b.add("metal", g.cylinder(0.07, H - 0.9, n, radius_top=0.05), at=(0, 0.7, 0))
        arms = 2 if k.chance("double", 0.4) else 1
        for i in range(arms):
            sx = 1 if i == 0 else -1
            pts = curve((0, H - 0.6, 0), (0, H - 0.1, 0), (sx * 0.55, H - 0.15, 0), b.seg(10, 3))
            b.add("metal", g.tube(pts, 0.03, b.seg(10, 5)))
            lantern(b, c, (sx * 0.55, H - 0.65, 0), 0.35)
        b.add("metal", g.cube_sphere((0.07, 0.07, 0.07), 3), at=(0, H - 0.2, 0))
    elif s == "industrial":
        b.add("trim", g.box((0.3, 0.05, 0.3), b.bevel(0.005)), at=(0, 0.025, 0))
        b.add("accent", g.cylinder(0.06, H, n), at=(0, 0.05, 0))
        pts = curve((0, H - 0.2, 0), (0, H + 0.15, 0), (0.9, H + 0.1, 0), b.seg(10, 3))
        b.add("accent", g.tube(pts, 0.04, b.seg(12, 5)))
        shade = g.lathe([(0.0, 0.12), (0.12, 0.12), (0.3, 0.0), (0.29, -0.01), (0.0, -0.01)], n, hard_angle=30)
        b.add("accent", shade, at=(0.9, H - 0.04, 0))
        b.add("glow", g.cylinder(0.24, 0.02, n), at=(0.9, H - 0.06, 0))
        block(b, "trim", (0.2, 0.3, 0.12), (0, 1.2, 0.08), bevel=0.01)
    elif s == "scifi":
        hexagon = [(-0.09, -0.12), (0.09, -0.12), (0.14, 0.0), (0.09, 0.12), (-0.09, 0.12), (-0.14, 0.0)]
        body = g.extrude(hexagon, H - 0.45)
        b.add("structure", body, at=(0, (H - 0.45) / 2 + 0.33, 0), rot=g.rotation(x=90.0))
        block(b, "trim", (0.5, 0.18, 0.5), (0, 0.09, 0), bevel=0.04)
        block(b, "trim", (0.36, 0.18, 0.36), (0, 0.26, 0), bevel=0.03)
        for side in (-1, 1):  # light strips down the front and back faces
            block(b, "glow", (0.03, H - 1.1, 0.02), (0, 0.55 + (H - 1.1) / 2, side * 0.125))
        b.add("glow", g.cylinder(0.16, 0.05, 6), at=(0, H - 0.5, 0), rot=g.rotation(y=30.0))
        head_l = k.u("head", 0.8, 1.2)
        tilt = k.u("tilt", 4.0, 10.0)
        head = g.box((head_l, 0.12, 0.32), b.bevel(0.03))
        b.add("trim", head, at=(head_l / 2 - 0.12, H - 0.08, 0), rot=g.rotation(z=tilt))
        glow_strip = g.box((head_l - 0.2, 0.02, 0.22), 0.0)
        b.add("glow", glow_strip, at=(head_l / 2 - 0.08, H - 0.14 + math.sin(math.radians(tilt)) * head_l * 0.45, 0),
              rot=g.rotation(z=tilt))
        if b.lod <= 1:  # holo panel and a cable hanging to the head
            ph = k.u("panel_h", 0.6, 0.9)
            block(b, "accent", (0.05, ph, 0.42), (-0.17, 1.5 + ph / 2, 0), bevel=0.01)
            block(b, "glow", (0.012, ph - 0.1, 0.34), (-0.2, 1.5 + ph / 2, 0))
            cable = curve((0.12, 1.9, 0.1), (0.35, H - 0.7, 0.2), (0.3, H - 0.12, 0.05), b.seg(10, 4))
            b.add("metal", g.tube(cable, 0.018, b.seg(8, 4)))
    elif s == "medieval":
        beam(b, "wood", (0, 0, 0), (c.jit("lean"), H, c.jit("leanz")), 0.16, 0.16, bevel=0.015)
        block(b, "stone", (0.4, 0.25, 0.4), (0, 0.125, 0), bevel=0.03)
        beam(b, "wood", (0, H - 0.15, 0), (0.7, H - 0.15, 0), 0.1, 0.08, bevel=0.008)
        beam(b, "wood", (0, H - 0.7, 0), (0.45, H - 0.2, 0), 0.07, 0.07)
        beam(b, "metal", (0.62, H - 0.2, 0), (0.62, H - 0.5, 0), 0.012)
        lantern(b, c, (0.62, H - 0.95, 0), 0.4)
    elif s == "organic":
        lean = k.u("lean", 0.3, 0.7)
        pts = curve((0, 0, 0), (0, H * 0.7, 0), (lean, H, 0), b.seg(16, 4))
        radii = np.linspace(0.11, 0.05, len(pts))
        b.add("trim", g.tube(pts, radii, b.seg(12, 5)))
        b.add("trim", g.lathe([(0.0, 0.0), (0.3, 0.0), (0.12, 0.25), (0.0, 0.3)], n, hard_angle=50))
        cap = g.lathe([(0.0, 0.0), (0.35, -0.05), (0.36, 0.0), (0.25, 0.12), (0.0, 0.18)], n, hard_angle=40)
        b.add("structure", cap, at=(lean, H + 0.02, 0))
        b.add("glow", g.cube_sphere((0.18, 0.22, 0.18), 4 if b.full else 2), at=(lean, H - 0.15, 0))
    else:  # natural: torch post with a fire bowl
        trunk = g.lathe([(0.0, 0.0), (0.13, 0.0), (0.1, 0.3), (0.08, H - 0.4), (0.0, H - 0.4)], b.seg(10, 5))
        b.add("bark", trunk)
        bowl = g.lathe([(0.0, 0.0), (0.12, 0.0), (0.22, 0.18), (0.2, 0.19), (0.0, 0.08)], b.seg(12, 6),
                       hard_angle=30)
        b.add("metal", bowl, at=(0, H - 0.42, 0))
        b.add("glow", g.cube_sphere((0.15, 0.3, 0.15), 3, lambda d: 1.0 + 0.3 * np.clip(d[:, 1], 0, 1)),
              at=(0, H - 0.15, 0))
        for i in range(3 if b.lod <= 1 else 0):
            a = i * 2.1 + k.u("rope", 0, 1)
            b.add("rock", g.cube_sphere((0.18, 0.1, 0.15), 2), at=(0.2 * math.cos(a), 0.05, 0.2 * math.sin(a)))
