"""Modular structure: wall modules, floor tiles, railings/fences and columns.

Wall and floor modules span exactly whole grid cells in x (and z for floors) so they snap: nothing
on them pokes past the module's edges.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from engine_server.decoders.mesh import geometry as g
from engine_server.decoders.mesh.assembly import Builder
from engine_server.decoders.mesh.recipes.common import Ctx, beam, block, bolts, rod


def wall_size(c: Ctx) -> tuple[float, float]:
    cells = 2 if c.grid >= 2 else c.k.choice("wall_cells", (2, 2, 3))
    return cells * c.grid, c.style.wall_height_cells * c.grid


def wall(b: Builder, c: Ctx) -> None:
    W, H = wall_size(c)
    k = c.k
    s = c.s
    T = 0.25 if s != "scifi" else 0.3
    if s == "architectural":
        _wall_openings(b, c, W, H, T, "structure")
        block(b, "trim", (W, 0.35, T + 0.06), (0, 0.175, 0), bevel=0.01)
        prof = [(T / 2 + 0.02, 0.0), (-T / 2 - 0.02, 0.0), (-T / 2 - 0.02, 0.06), (-T / 2 - 0.1, 0.14),
                (-T / 2 - 0.12, 0.22), (T / 2 + 0.02, 0.22)]  # moulding faces +Z once turned to run along x
        cornice = g.extrude(prof, W)
        b.add("trim", cornice, at=(0, H - 0.22, 0), rot=g.rotation(y=90.0))
        if k.chance("pilasters", 0.6):
            for sx in (-1, 1):
                block(b, "trim", (0.3, H - 0.57, T + 0.08), (sx * (W / 2 - 0.153), 0.35 + (H - 0.57) / 2, 0),
                      bevel=0.01)
    elif s == "industrial":
        block(b, "structure", (W, 0.5, T + 0.1), (0, 0.25, 0), bevel=0.01)
        ib = [(-0.1, -0.1), (0.1, -0.1), (0.1, -0.085), (0.01, -0.085), (0.01, 0.085), (0.1, 0.085),
              (0.1, 0.1), (-0.1, 0.1), (-0.1, 0.085), (-0.01, 0.085), (-0.01, -0.085), (-0.1, -0.085)]
        col = g.extrude(ib, H - 0.5)
        for sx in (-1, 1):
            b.add("trim", col, at=(sx * (W / 2 - 0.1), 0.5 + (H - 0.5) / 2, 0), rot=g.rotation(x=90.0))
        b.add("trim", g.extrude(ib, W - 0.4), at=(0, H - 0.1, 0), rot=g.rotation(y=90.0))
        # corrugated sheet between the columns: vertical ribs, smooth-shaded
        n_rib = int((W - 0.4) / 0.15)
        if b.lod < 2:
            xs = np.linspace(-(W - 0.4) / 2, (W - 0.4) / 2, n_rib * (4 if b.full else 2) + 1)
            zs = 0.025 * np.sin((xs - xs[0]) / 0.15 * 2 * math.pi)
            outline, cap = g.thick_polyline(list(zip(xs, zs, strict=True)), 0.008)
            sheet = g.extrude(outline, H - 0.7, hard_angle=70, cap_tris=cap)
            b.add("accent", sheet, at=(0, 0.5 + (H - 0.7) / 2, 0), rot=g.rotation(x=90.0))
        else:
            block(b, "accent", (W - 0.4, H - 0.7, 0.05), (0, 0.5 + (H - 0.7) / 2, 0))
        if b.lod <= 1 and k.chance("pipe", 0.8):
            py = k.u("pipe_y", 1.2, H - 0.6)
            rod(b, "metal", (-W / 2 + 0.2, py, T / 2 + 0.12), (W / 2 - 0.2, py, T / 2 + 0.12), 0.06, 16)
            for x in (-W / 4, W / 4):
                block(b, "metal", (0.04, 0.16, 0.16), (x, py, T / 2 + 0.07))
        bolts(b, "metal", [(sx * (W / 2 - 0.1), y, 0.1) for sx in (-1, 1) for y in np.linspace(0.8, H - 0.4, 4)], 2)
    elif s == "scifi":
        block(b, "structure", (W, H - 0.32, T * 0.6), (0, 0.14 + (H - 0.32) / 2, 0), bevel=0.03)
        rows = c.count("panel_rows", 2, 4)
        ph = (H - 0.5) / rows
        for r in range(rows):
            cols = k.i(f"pcols{r}", 1, 3)
            pw = (W - 0.3) / cols
            for q in range(cols):
                depth = k.u(f"pd{r}_{q}", 0.03, 0.09)
                cx = -W / 2 + 0.15 + pw * (q + 0.5)
                cy = 0.35 + ph * (r + 0.5)
                mat = "accent" if k.chance(f"pa{r}_{q}", 0.3) else "trim"
                block(b, mat, (pw - 0.06, ph - 0.06, T * 0.6 + depth * 2), (cx, cy, 0), bevel=0.02)
                if b.full and k.chance(f"vent{r}_{q}", 0.35):
                    for v in range(5):
                        block(b, "metal", (pw * 0.6, 0.02, 0.03),
                              (cx, cy - ph * 0.25 + v * ph * 0.12, T * 0.3 + depth + 0.015))
        gy = k.u("glow_y", 0.2, 0.3)
        block(b, "glow", (W - 0.006, 0.05, T * 0.6 + 0.22), (0, gy, 0))
        block(b, "trim", (W, 0.18, T * 0.6 + 0.2), (0, H - 0.09, 0), bevel=0.02)
        block(b, "trim", (W, 0.14, T * 0.6 + 0.2), (0, 0.07, 0), bevel=0.02)
    elif s == "medieval":
        _wall_stone_plinth(b, c, W, T + 0.1, 0.5)
        block(b, "structure", (W - 0.1, H - 0.7, T * 0.7), (0, 0.5 + (H - 0.7) / 2, 0))
        posts = [-W / 2 + 0.1, W / 2 - 0.1] + ([0.0] if W >= 3 else [])
        for i, x in enumerate(posts):
            beam(b, "trim", (x + c.jit(f"pb{i}", 0.3), 0.5, 0), (x + c.jit(f"pt{i}", 0.3), H - 0.2, 0), 0.18, T,
                 bevel=0.01)
        beam(b, "trim", (-W / 2, 0.57, 0), (W / 2, 0.57, 0), 0.14, T, bevel=0.01)
        beam(b, "trim", (-W / 2, H - 0.1, 0), (W / 2, H - 0.1, 0), 0.2, T, bevel=0.01)
        mid = H * k.u("rail_y", 0.5, 0.6)
        beam(b, "trim", (-W / 2 + 0.1, mid, 0), (W / 2 - 0.1, mid, 0), 0.12, T - 0.02, bevel=0.01)
        if b.lod <= 1:
            xs_sorted = sorted(posts)
            for i, (x0, x1) in enumerate(itertools.pairwise(xs_sorted)):
                if k.chance(f"brace{i}", 0.8):
                    up = k.chance(f"brace_dir{i}", 0.5)
                    ya, yb = (0.6, mid) if up else (mid, H - 0.2)
                    beam(b, "trim", (x0 + 0.1, ya, 0), (x1 - 0.1, yb, 0), 0.1, T - 0.03)
    elif s == "organic":
        n = b.seg(24, 8)
        xs = np.linspace(-W / 2, W / 2, n + 1)
        top = H - 0.4 + 0.3 * np.cos(xs / W * math.pi * k.u("waves", 1.0, 2.0) + k.u("phase", 0, 6.28))
        outline = [(-W / 2, 0.2), (W / 2, 0.2)] + [(x, y) for x, y in zip(xs[::-1], top[::-1], strict=True)]
        b.add("structure", g.extrude(outline, T, hard_angle=30))
        block(b, "trim", (W - 0.006, 0.25, T + 0.1), (0, 0.125, 0), bevel=0.06)
        # roots climbing the front face, and a curled tendril
        for i in range(c.count("roots", 2, 4)):
            x0 = k.u(f"root{i}_x", -W / 2 + 0.3, W / 2 - 0.3)
            top_y = float(np.interp(x0, xs, top)) - k.u(f"root{i}_t", 0.2, 0.8)
            ys = np.linspace(0.15, top_y, b.seg(14, 4) + 1)
            sway = k.u(f"root{i}_s", 0.1, 0.25)
            pts = [(float(np.clip(x0 + sway * math.sin(y * 2.1 + i), -W / 2 + 0.1, W / 2 - 0.1)), float(y),
                    T / 2 + 0.015) for y in ys]
            b.add("trim", g.tube(pts, np.linspace(0.07, 0.025, len(pts)), b.seg(10, 4)))
        if b.lod <= 1:
            cx, cy, rr = k.u("curl_x", -W / 4, W / 4), k.u("curl_y", 1.0, H - 1.2), k.u("curl_r", 0.2, 0.35)
            ang = np.linspace(0.0, 5.3, b.seg(20, 8) + 1)
            pts = [(cx + rr * math.cos(a) * (1 - a / 9), cy + rr * math.sin(a) * (1 - a / 9), T / 2 + 0.01)
                   for a in ang]
            b.add("trim", g.tube(pts, np.linspace(0.045, 0.015, len(pts)), b.seg(10, 4)))
    else:  # natural: dry-stone wall around a hidden core
        Hn = min(H, 1.4)
        block(b, "rock", (W, Hn - 0.1, T * 0.6), (0, (Hn - 0.1) / 2, 0))
        courses = max(3, int(Hn / 0.3))
        y = 0.0
        for r in range(courses):
            ch = (Hn - 0.05) / courses
            x = -W / 2
            i = 0
            while x < W / 2 - 0.05:
                sw = min(k.u(f"sw{r}_{i}", 0.3, 0.55), W / 2 - x)
                inner = x > -W / 2 + 1e-6 and x + sw < W / 2 - 1e-6  # end stones stay square to the grid
                for side in (-1, 1):
                    stone = g.cube_sphere((sw / 2, ch / 2, T * 0.3), 2 if b.lod else 3,
                                          _rock_noise(c, f"st{r}_{i}_{side}", 0.25))
                    b.add("rock", stone, at=(x + sw / 2, y + ch / 2, side * T * 0.18),
                          rot=g.rotation(y=c.jit(f"sr{r}_{i}", 60.0)) if inner else None)
                x += sw
                i += 1
            y += ch
        caps = c.count("capstones", 3, 6)
        for i in range(caps if b.lod <= 1 else 0):
            cx = -W / 2 + (i + 0.5) * W / caps
            block(b, "rock", (W / caps * 0.7, 0.12, T * 0.7), (cx, Hn, 0), ry=c.jit(f"cap{i}", 60.0))


def _rock_noise(c: Ctx, key: str, amp: float):  # type: ignore[no-untyped-def]
    off = np.array([c.k.u(key + "x", -50, 50), c.k.u(key + "y", -50, 50), c.k.u(key + "z", -50, 50)])

    def disp(d: np.ndarray) -> np.ndarray:
        return np.clip(1.0 - amp * 0.5 + amp * 0.5 * c.vn(d * 1.5 + off, 1.0, 3), 0.55, 1.0)

    return disp


def _wall_stone_plinth(b: Builder, c: Ctx, W: float, T: float, h: float) -> None:
    block(b, "stone", (W, h, T * 0.8), (0, h / 2, 0))
    if b.lod > 1:
        return
    rows = 2
    for r in range(rows):
        x = -W / 2
        i = 0
        while x < W / 2 - 0.02:
            sw = min(c.k.u(f"ps{r}_{i}", 0.25, 0.45), W / 2 - x)
            sh = h / rows
            block(b, "stone", (sw - 0.02, sh - 0.02, T), (x + sw / 2, sh * (r + 0.5), c.jit(f"pz{r}_{i}", 0.2)),
                  bevel=0.02)
            x += sw
            i += 1


def _wall_openings(b: Builder, c: Ctx, W: float, H: float, T: float, mat: str) -> None:
    """A plastered wall with a window (or a door), the opening framed, sill below."""
    k = c.k
    door = k.chance("door", 0.35)
    ow = min(W - 0.9, k.u("open_w", 0.8, 1.2))
    y0 = 0.35 if door else k.u("sill", 0.9, 1.1)
    y1 = min(H - 0.6, y0 + (k.u("door_h", 2.0, 2.3) if door else k.u("win_h", 1.1, 1.5)))
    ox = k.u("open_x", -1.0, 1.0) * max(0.0, (W - ow) / 2 - 0.45)
    left, right = ox - ow / 2, ox + ow / 2
    top = H - 0.22  # the cornice caps the wall; nothing shares its end faces
    block(b, mat, (left + W / 2, top - 0.35, T), ((left - W / 2) / 2, 0.35 + (top - 0.35) / 2, 0))
    block(b, mat, (W / 2 - right, top - 0.35, T), ((right + W / 2) / 2, 0.35 + (top - 0.35) / 2, 0))
    block(b, mat, (ow, top - y1, T), (ox, y1 + (top - y1) / 2, 0))
    if y0 > 0.35:
        block(b, mat, (ow, y0 - 0.35, T), (ox, 0.35 + (y0 - 0.35) / 2, 0))
        block(b, "trim", (ow + 0.16, 0.06, T + 0.1), (ox, y0 - 0.03, 0.05), bevel=0.008)
    f = 0.07
    for x in (left + f / 2, right - f / 2):
        block(b, "wood", (f, y1 - y0, 0.1), (x, (y0 + y1) / 2, 0))
    block(b, "wood", (ow, f, 0.1), (ox, y1 - f / 2, 0))
    if door:
        block(b, "wood", (ow - 2 * f, y1 - y0 - f, 0.05), (ox, y0 + (y1 - y0 - f) / 2, -0.02), bevel=0.005)
        if b.full:
            rod(b, "metal", (ox + ow / 2 - 0.15, 1.1, 0.005), (ox + ow / 2 - 0.15, 1.1, 0.08), 0.015, 8)
    else:
        block(b, "wood", (f * 0.6, y1 - y0, 0.06), (ox, (y0 + y1) / 2, 0))
        block(b, "wood", (ow, f * 0.6, 0.06), (ox, (y0 + y1) / 2, 0))
        if b.lod <= 1 and c.k.chance("shutters", 0.5):
            for sx in (-1, 1):
                block(b, "accent", (ow / 2, y1 - y0, 0.035), (ox + sx * (ow * 0.75), (y0 + y1) / 2, T / 2 + 0.03),
                      bevel=0.006)


def floor(b: Builder, c: Ctx) -> None:
    W = 2 * c.grid
    k = c.k
    s = c.s
    if s == "architectural":
        block(b, "structure", (W, 0.08, W), (0, 0.04, 0))
        n = round(W / k.choice("slab", (0.5, 0.5, 1.0 / 1.5)))
        step = W / n
        for i in range(n):
            for j in range(n):
                dh = k.u(f"sh{i}_{j}", -0.004, 0.004) * (1 + 2 * c.wear)
                block(b, "trim", (step - 0.012, 0.04 + dh, step - 0.012),
                      (-W / 2 + step * (i + 0.5), 0.08 + (0.04 + dh) / 2, -W / 2 + step * (j + 0.5)), bevel=0.006)
    elif s == "industrial":
        block(b, "trim", (W, 0.05, 0.06), (0, 0.025, -W / 2 + 0.03))
        block(b, "trim", (W, 0.05, 0.06), (0, 0.025, W / 2 - 0.03))
        block(b, "trim", (0.06, 0.05, W - 0.12), (-W / 2 + 0.03, 0.025, 0))
        block(b, "trim", (0.06, 0.05, W - 0.12), (W / 2 - 0.03, 0.025, 0))
        bars = int((W - 0.12) / (0.04 if b.lod == 0 else 0.08 if b.lod == 1 else 0.2))
        for i in range(bars):
            x = -W / 2 + 0.06 + (i + 0.5) * (W - 0.12) / bars
            block(b, "metal", (0.006 if b.lod == 0 else 0.012, 0.045, W - 0.12), (x, 0.0275, 0))
        cross = 4 if b.lod < 2 else 1
        for j in range(cross):
            z = -W / 2 + 0.06 + (j + 0.5) * (W - 0.12) / cross
            block(b, "metal", (W - 0.12, 0.015, 0.01), (0, 0.0425, z))
    elif s == "scifi":
        block(b, "structure", (W, 0.12, W), (0, 0.06, 0), bevel=0.02)
        m = 2
        step = W / m
        for i in range(m):
            for j in range(m):
                block(b, "accent" if k.chance(f"fa{i}{j}", 0.25) else "trim", (step - 0.14, 0.03, step - 0.14),
                      (-W / 2 + step * (i + 0.5), 0.13, -W / 2 + step * (j + 0.5)), bevel=0.01)
        if k.chance("floor_glow", 0.7):
            block(b, "glow", (W - 0.02, 0.01, 0.04), (0, 0.12, 0))
            block(b, "glow", (0.04, 0.008, W - 0.02), (0, 0.121, 0))
    elif s == "medieval":
        block(b, "structure", (W, 0.06, W), (0, 0.03, 0))
        cw, cd = k.u("cob_w", 0.2, 0.28), k.u("cob_d", 0.14, 0.2)
        rows = int(W / cd)
        for r in range(rows):
            z = -W / 2 + cd * (r + 0.5) * W / (rows * cd)
            cols = int(W / cw)
            off = 0.5 if r % 2 else 0.0
            for q in range(cols + (1 if off else 0)):
                x0 = -W / 2 + (q - off) * W / cols
                x1 = min(W / 2, x0 + W / cols)
                x0 = max(-W / 2, x0)
                if x1 - x0 < 0.05:
                    continue
                hgt = 0.06 + k.u(f"ch{r}_{q}", 0.0, 0.025)
                inner = x0 > -W / 2 and x1 < W / 2 and 0 < r < rows - 1  # border cobbles stay square
                block(b, "stone", (x1 - x0 - 0.02, hgt, W / rows - 0.02), ((x0 + x1) / 2, 0.06 + hgt / 2 - 0.02, z),
                      bevel=0.02, ry=c.jit(f"cr{r}_{q}", 60.0) if inner else 0.0)
    elif s == "organic":
        block(b, "ground", (W, 0.06, W), (0, 0.03, 0), bevel=0.0)
        n = max(3, int(W / 0.5))
        rad = W / n / 2
        for i in range(n):
            for j in range(n + 1):
                x = -W / 2 + (i + 0.5 + (0.5 if j % 2 else 0.0)) * (W / n)
                z = -W / 2 + j * (W / n) * 0.87 + rad * 0.5
                rr = rad * k.u(f"pr{i}_{j}", 0.75, 0.92)
                if abs(x) + rr > W / 2 or abs(z) + rr > W / 2:
                    continue
                hgt = k.u(f"ph{i}_{j}", 0.03, 0.06)
                b.add("accent", g.cylinder(rr, hgt, 6 if b.lod > 0 else 12, bevel=b.bevel(0.015)), at=(x, 0.05, z))
    else:  # natural ground patch: noisy top pinned flat at the borders so tiles meet
        base_h = 0.12
        block(b, "ground", (W, base_h, W), (0, base_h / 2, 0))
        res = (24, 12, 6)[min(b.lod, 2)]

        def height(x: np.ndarray, z: np.ndarray) -> np.ndarray:
            edge = np.clip(np.minimum(W / 2 - np.abs(x), W / 2 - np.abs(z)) / 0.3, 0.0, 1.0)
            pts = np.stack([x.ravel(), np.zeros(x.size), z.ravel()], axis=1)
            bump = (c.vn(pts + k.u("gn", 0, 99), 0.9, 3).reshape(x.shape) * 0.5 + 0.5) * 0.08
            return base_h + 0.001 + bump * edge

        b.add("ground", g.heightfield(W, W, res, res, height))
        for i in range(c.count("pebbles", 2, 6) if b.lod <= 1 else 0):
            rr = k.u(f"pb{i}", 0.06, 0.16)
            px, pz = k.u(f"px{i}", -W / 2 + 0.3, W / 2 - 0.3), k.u(f"pz{i}", -W / 2 + 0.3, W / 2 - 0.3)
            b.add("rock", g.cube_sphere((rr, rr * 0.6, rr * 0.8), 3, _rock_noise(c, f"pbn{i}", 0.3)),
                  at=(px, base_h + rr * 0.2, pz), rot=g.rotation(y=k.u(f"pr{i}", 0, 360)))


def railing(b: Builder, c: Ctx) -> None:
    W = 2 * c.grid
    k = c.k
    s = c.s
    H = k.u("rail_h", 0.95, 1.1)
    n_posts = max(2, round(W / k.choice("post_gap", (1.0, 1.0, 0.66))) + 1)
    xs = np.linspace(-W / 2 + 0.05, W / 2 - 0.05, n_posts)
    if s in ("medieval", "natural"):
        for i, x in enumerate(xs):
            top = H + c.jit(f"ph{i}", 3.0)
            lean = c.jit(f"pl{i}", 1.0) if 0 < i < n_posts - 1 else 0.0  # end posts stay on the module edge
            beam(b, "wood", (x, 0, 0), (x + lean, top, c.jit(f"pz{i}", 1.0)), 0.1, 0.1, bevel=0.01)
            if b.full:
                b.add("wood", g.lathe([(0.0, 0.0), (0.06, 0.0), (0.0, 0.07)], 4),
                      at=(x + lean, top, c.jit(f"pz{i}", 1.0)), rot=g.rotation(y=45.0))
        rails = 2 if s == "medieval" else k.i("rails", 2, 3)
        for r in range(rails):
            y = H * (0.35 + 0.5 * r / max(1, rails - 1))
            for i in range(n_posts - 1):
                if c.wear > 0.6 and k.chance(f"broken{r}{i}", (c.wear - 0.6)):
                    beam(b, "wood", (xs[i], y, 0.07), (xs[i] + 0.4 * (xs[i + 1] - xs[i]), y - 0.3, 0.07), 0.07, 0.04)
                    continue
                beam(b, "wood", (xs[i], y + c.jit(f"ry{r}{i}", 1.0), 0.07),
                     (xs[i + 1], y + c.jit(f"ry{r}{i + 1}", 1.0), 0.07), 0.09, 0.04, bevel=0.005)
    elif s == "industrial":
        for x in xs:
            rod(b, "accent", (x, 0, 0), (x, H, 0), 0.024, 12)
        rod(b, "accent", (xs[0], H, 0), (xs[-1], H, 0), 0.024, 12)
        rod(b, "accent", (xs[0], H * 0.5, 0), (xs[-1], H * 0.5, 0), 0.02, 12)
        block(b, "metal", (W - 0.1, 0.1, 0.008), (0, 0.07, 0.03))
        for x in xs:
            block(b, "metal", (0.1, 0.01, 0.1), (x, 0.005, 0), bevel=0.002)
    elif s == "scifi":
        block(b, "trim", (W, 0.12, 0.12), (0, 0.06, 0), bevel=0.02)
        block(b, "trim", (W, 0.06, 0.1), (0, H, 0), bevel=0.02)
        block(b, "glow", (W, 0.015, 0.06), (0, H - 0.035, 0))
        for x in xs:
            block(b, "structure", (0.06, H - 0.12, 0.08), (x, 0.06 + (H - 0.12) / 2, 0), bevel=0.01)
        block(b, "accent", (W - 0.2, H * 0.55, 0.02), (0, 0.12 + H * 0.3, 0), bevel=0.005)
    else:  # architectural / organic: balustrade
        block(b, "trim", (W, 0.14, 0.22), (0, 0.07, 0), bevel=0.01)
        block(b, "trim", (W, 0.1, 0.26), (0, H - 0.05, 0), bevel=0.015)
        n_bal = int(W / 0.2) if b.lod < 2 else 0
        prof = [(0.0, 0.0), (0.05, 0.0), (0.05, 0.05), (0.035, 0.12), (0.06, (H - 0.24) * 0.45),
                (0.03, (H - 0.24) * 0.75), (0.045, H - 0.29), (0.05, H - 0.24), (0.0, H - 0.24)]
        bal = g.lathe(prof, b.seg(12, 6))
        for i in range(n_bal):
            x = -W / 2 + (i + 0.5) * W / n_bal
            b.add("structure", bal, at=(x, 0.14, 0))
        if b.lod == 2:
            block(b, "structure", (W - 0.1, H - 0.24, 0.08), (0, 0.14 + (H - 0.24) / 2, 0))


def column(b: Builder, c: Ctx) -> None:
    k = c.k
    H = k.u("col_h", 2.8, 3.6)
    r = k.u("col_r", 0.17, 0.24)
    if c.s == "organic":
        n = b.seg(20, 6)
        ys = np.linspace(0.0, H, 12)
        twist = k.u("twist", 0.5, 1.5)
        pts = [(0.12 * math.sin(y * twist), y, 0.12 * math.cos(y * twist * 0.7)) for y in ys]
        radii = [r * (1.25 - 0.35 * math.sin(y / H * math.pi)) for y in ys]
        b.add("structure", g.tube(pts, radii, n))
        b.add("trim", g.cube_sphere((r * 1.6, r * 0.8, r * 1.6), 4 if b.full else 2), at=(0, H, 0))
        b.add("trim", g.lathe([(0.0, 0.0), (r * 1.8, 0.0), (r * 1.5, 0.12), (0.0, 0.14)], n))
        return
    block(b, "trim", (r * 3, 0.2, r * 3), (0, 0.1, 0), bevel=0.01)
    base = g.lathe([(0.0, 0.0), (r * 1.3, 0.0), (r * 1.3, 0.06), (r * 1.15, 0.1), (r * 1.2, 0.14), (r * 1.05, 0.2),
                    (0.0, 0.2)], b.seg(32, 8))
    b.add("trim", base, at=(0, 0.2, 0))
    shaft_h = H - 0.7
    if b.full and k.chance("fluted", 0.7):
        flutes = 16
        star: list[tuple[float, float]] = []
        for i in range(flutes * 4):
            a = 2 * math.pi * i / (flutes * 4)
            rr = r * (1.0 - 0.06 * max(0.0, math.sin(a * flutes)))
            star.append((rr * math.cos(a), rr * math.sin(a)))
        shaft = g.extrude(star, shaft_h, hard_angle=30)
        b.add("structure", shaft, at=(0, 0.4 + shaft_h / 2, 0), rot=g.rotation(x=90.0))
    else:
        b.add("structure", g.cylinder(r, shaft_h, b.seg(32, 8), radius_top=r * 0.9), at=(0, 0.4, 0))
    cap = g.lathe([(0.0, 0.0), (r * 0.95, 0.0), (r * 1.1, 0.08), (r * 1.45, 0.2), (r * 1.45, 0.2),
                   (0.0, 0.2)], b.seg(32, 8))
    b.add("trim", cap, at=(0, 0.4 + shaft_h, 0))
    block(b, "trim", (r * 3.2, 0.1, r * 3.2), (0, 0.4 + shaft_h + 0.25, 0), bevel=0.01)
