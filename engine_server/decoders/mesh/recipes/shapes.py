"""Shapes the subject recipes share: roofs, rings, lofted hulls, masonry arches, flames, rough blobs.

Each returns or adds closed parts (outward normals), like the primitives in geometry.py."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from engine_server.decoders.mesh import geometry as g
from engine_server.decoders.mesh.assembly import Builder
from engine_server.decoders.mesh.recipes.common import Ctx, block


def gable(b: Builder, mat: str, width: float, depth: float, rise: float, at: g.Floats, ry: float = 0.0) -> None:
    """A solid gable roof: ridge along x (`width`), eaves `depth` apart along z, `rise` high, base at `at`."""
    tri = [(-depth / 2, 0.0), (depth / 2, 0.0), (0.0, rise)]
    b.add(mat, g.extrude(tri, width), at=at, rot=g.rotation(y=90.0 + ry))


def pyramid(radius: float, height: float, sides: int = 4, concave: float = 0.0) -> g.Part:
    """A pyramid (sides=4, corners on the diagonals so its faces are axis-aligned) or cone; `concave`
    sags the faces like a temple roof."""
    prof = [(0.0, 0.0), (radius, 0.0)]
    if concave:
        prof += [(radius * 0.9, height * 0.06), (radius * 0.45, height * (0.55 - concave * 0.3))]
    prof += [(0.0, height)]
    part = g.lathe(prof, sides, hard_angle=20)
    return part.transformed(g.rotation(y=45.0)) if sides == 4 else part


def ring(r_in: float, r_out: float, height: float, segments: int) -> g.Part:
    """A thick ring (well curb, basin rim, wheel tyre lying flat): rectangle section revolved."""
    return g.lathe([(r_in, 0.0), (r_out, 0.0), (r_out, height), (r_in, height), (r_in, 0.0)], segments, hard_angle=30)


def loft(sections: np.ndarray) -> g.Part:
    """Closed surface through closed section loops (n stations x m+1 points, last == first); the end
    sections should be collapsed to a line or point so the surface is closed. Oriented outward."""
    part = g.grid_surface(sections)
    p0, p1, p2 = (part.pos[part.tri[:, k]] for k in range(3))
    if float(np.einsum("ij,ij->i", p0, np.cross(p1, p2)).sum()) < 0:  # signed volume: flip if inside out
        part = g.grid_surface(sections, flip=True)
    return part


def hull(length: float, beam_w: float, depth: float, n_st: int, n_sec: int, well: float = 0.2,
         sheer: float = 0.15) -> g.Part:
    """A boat hull along x: U sections that taper to stem and stern, sheer rising at the ends, and an
    open well `well` deep inside the gunwales (0 for a decked hull)."""
    xs = np.linspace(-length / 2, length / 2, n_st + 1)
    t = 2 * xs / length
    half = beam_w / 2 * np.clip(1 - np.abs(t) ** 2.2, 0.0, 1.0) ** 0.6
    top = depth + sheer * t**2
    deep = depth * (0.55 + 0.45 * np.clip(1 - np.abs(t) ** 3, 0, 1))
    secs = []
    th = np.linspace(0.0, math.pi, n_sec + 1)
    for i in range(len(xs)):
        w, y0, d = half[i], top[i], deep[i]
        pts = [(xs[i], y0 - d * math.sin(a) ** 0.6 if 0 < a < math.pi else y0, w * math.cos(a)) for a in th]
        inner = w * 0.82
        floor = y0 - (well if w > 1e-6 else 0.0)
        pts += [(xs[i], floor, -inner), (xs[i], floor, inner), (xs[i], y0, w)]
        secs.append(pts)
    grid = np.asarray(secs, dtype=np.float64)
    grid[:, :, 1] -= grid[:, :, 1].min()
    return loft(grid)


def arch(b: Builder, mat: str, span: float, thickness: float, depth: float, at: g.Floats, blocks: int,
         ry: float = 0.0) -> None:
    """A semicircular masonry arch of `blocks` voussoirs springing at `at` (its centre), spanning x."""
    r = span / 2 + thickness / 2
    rot_y = g.rotation(y=ry)
    for i in range(blocks):
        a = math.pi * (i + 0.5) / blocks
        centre = np.array([r * math.cos(a), r * math.sin(a), 0.0])
        arc_len = math.pi * r / blocks
        part = g.box((thickness, arc_len * 0.96, depth), b.bevel(0.01))
        rot = rot_y @ g.rotation(z=math.degrees(a))
        b.add(mat, part, at=np.asarray(at) + rot_y @ centre, rot=rot)


def flames(b: Builder, at: g.Floats, height: float, width: float) -> None:
    """A flame: a glowing teardrop (the renderer lights it with a point light)."""
    def disp(d: np.ndarray) -> np.ndarray:
        return 1.0 + 0.6 * np.clip(d[:, 1], 0, 1) ** 2

    part = g.cube_sphere((width, height * 0.5, width), 3 if b.full else 2, disp)
    b.add("glow", part, at=(at[0], at[1] + height * 0.4, at[2]))


def blob(c: Ctx, key: str, amp: float, freq: float = 1.4) -> Callable[[np.ndarray], np.ndarray]:
    """Seeded lumpy displacement for cube-spheres (foliage clumps, coral heads, rocks)."""
    off = np.array([c.k.u(key + "x", -60, 60), c.k.u(key + "y", -60, 60), c.k.u(key + "z", -60, 60)])

    def disp(d: np.ndarray) -> np.ndarray:
        return 1.0 + amp * c.vn(d * freq + off, 1.0, 3)

    return disp


def plank_row(b: Builder, c: Ctx, mat: str, length: float, width: float, count: int, y: float, z0: float,
              gap: float = 0.012, thick: float = 0.05) -> None:
    """Deck planks along x, side by side along z from z0, top at y."""
    for i in range(count):
        z = z0 + (i + 0.5) * width / count
        block(b, mat, (length + c.jit(f"pl{i}", 3.0), thick, width / count - gap), (c.jit(f"po{i}"), y - thick / 2, z),
              bevel=0.004, ry=c.jit(f"pa{i}", 30.0))
