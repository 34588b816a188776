"""What every recipe gets (style, named random knobs, shape noise, wear, density) and small helpers
for the parts that recur across recipes: beams between points, posts, plank runs, bolts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine_server.decoders.mesh import geometry as g
from engine_server.decoders.mesh.assembly import Builder
from engine_server.decoders.mesh.noise import Knobs, ValueNoise3
from engine_server.decoders.mesh.styles import Style


@dataclass(frozen=True)
class Ctx:
    style: Style
    k: Knobs  # named, order-free random choices: the seed's say in the shape
    vn: ValueNoise3  # smooth shape noise (dents, rocks, trunks)
    wear: float  # 0..1: sag, tilt and missing pieces on old kits
    density: float  # 0..1: how many details and parts
    grid: float  # modular snap in metres

    @property
    def s(self) -> str:
        return self.style.name

    @property
    def hand(self) -> bool:
        """Hand-made look: slightly crooked parts (medieval, natural, organic)."""
        return self.style.jitter > 0.02

    def jit(self, key: str, scale: float = 1.0) -> float:
        """A small signed offset (metres) for hand-made parts; zero for machined styles."""
        return self.k.u(key, -1.0, 1.0) * self.style.jitter * scale

    def count(self, key: str, lo: int, hi: int) -> int:
        """A count that grows with the latent's density and varies with the seed."""
        span = hi - lo
        base = lo + span * (0.25 + 0.6 * self.density)
        return max(lo, min(hi, round(base + self.k.u(key, -0.5, 0.5) * span * 0.4)))


def beam(b: Builder, mat: str, p0: g.Floats, p1: g.Floats, w: float, d: float | None = None,
         bevel: float = 0.0, twist: float = 0.0) -> None:
    """A square-section beam from p0 to p1 (w x d section)."""
    a = np.asarray(p0, dtype=np.float64)
    c = np.asarray(p1, dtype=np.float64)
    length = float(np.linalg.norm(c - a))
    if length < 1e-6:
        return
    rot = g.align_y_to(c - a) @ g.rotation(y=twist)
    b.add(mat, g.box((w, length, d if d is not None else w), b.bevel(bevel)), at=(a + c) / 2, rot=rot)


def rod(b: Builder, mat: str, p0: g.Floats, p1: g.Floats, r: float, seg: int = 12) -> None:
    """A round bar from p0 to p1 (pipes, poles, rungs)."""
    a = np.asarray(p0, dtype=np.float64)
    c = np.asarray(p1, dtype=np.float64)
    length = float(np.linalg.norm(c - a))
    if length < 1e-6:
        return
    b.add(mat, g.cylinder(r, length, b.seg(seg)), at=a, rot=g.align_y_to(c - a))


def block(b: Builder, mat: str, size: g.Floats, at: g.Floats, bevel: float = 0.0,
          ry: float = 0.0, rx: float = 0.0, rz: float = 0.0) -> None:
    """A box placed by its centre."""
    rot = g.rotation(rx, ry, rz) if (rx or ry or rz) else None
    b.add(mat, g.box(size, b.bevel(bevel)), at=at, rot=rot)


def bolts(b: Builder, mat: str, points: Sequence[g.Floats], normal_axis: int, r: float = 0.012) -> None:
    """Bolt heads (LOD0 only) at points, facing +/- the given axis (0 x, 2 z; sign from the point)."""
    if not b.full:
        return
    for p in points:
        rot = g.rotation(z=-90.0) if normal_axis == 0 else g.rotation(x=90.0)
        if normal_axis == 0 and p[0] < 0:
            rot = g.rotation(z=90.0)
        if normal_axis == 2 and p[2] < 0:
            rot = g.rotation(x=-90.0)
        b.add(mat, g.cylinder(r, r * 0.8, 6, bevel=r * 0.3), at=p, rot=rot)


def curve(p0: g.Floats, p1: g.Floats, p2: g.Floats, n: int) -> np.ndarray:
    """Quadratic Bezier through control points, n+1 samples (arms, stalks, branches)."""
    t = np.linspace(0.0, 1.0, n + 1)[:, None]
    a, c, e = (np.asarray(p, dtype=np.float64) for p in (p0, p1, p2))
    return (1 - t) ** 2 * a + 2 * (1 - t) * t * c + t**2 * e


def arc_profile(width: float, rise: float, n: int, drop: float = 0.0) -> list[tuple[float, float]]:
    """Points of a shallow arch (for awnings and canopies): x from -width/2 to width/2."""
    xs = np.linspace(-width / 2, width / 2, n + 1)
    ys = rise * (1 - (2 * xs / width) ** 2) - drop * (xs / width + 0.5)
    return [(float(x), float(y)) for x, y in zip(xs, ys, strict=True)]


def glyph_strokes(k: Knobs, key: str, w: float, h: float) -> list[tuple[float, float, float, float]]:
    """Strokes (x0, y0, x1, y1) of one made-up sign character in a w x h cell: segments picked by
    the seed from a 7-segment-like set plus diagonals, so signs read as lettering without any font."""
    segs = [
        (0, 1, 1, 1), (0, 0.5, 1, 0.5), (0, 0, 1, 0), (0, 0, 0, 1), (1, 0, 1, 1), (0.5, 0, 0.5, 1),
        (0, 0, 1, 1), (0, 1, 1, 0), (0, 0.5, 0, 1), (1, 0, 1, 0.5),
    ]
    chosen = [s for i, s in enumerate(segs) if k.chance(f"{key}_s{i}", 0.35)]
    if len(chosen) < 2:
        chosen = [segs[k.i(key + "_a", 0, 5)], segs[k.i(key + "_b", 0, 9)]]
    return [(x0 * w, y0 * h, x1 * w, y1 * h) for x0, y0, x1, y1 in dict.fromkeys(chosen)]


def lantern(b: Builder, c: Ctx, at: g.Floats, size: float, frame: str = "metal", glow: str = "glow") -> None:
    """A small lantern: glowing core, four corner bars, cap and base (used by lamps and stalls)."""
    x, y, z = at
    core = size * 0.62
    b.add(glow, g.box((core, size * 0.9, core), 0.0), at=(x, y + size * 0.55, z))
    b.add(frame, g.box((size, size * 0.1, size), b.bevel(0.004)), at=(x, y + size * 0.05, z))
    cap = g.lathe([(0.0, 0.0), (size * 0.75, 0.0), (0.0, size * 0.45)], 4)
    b.add(frame, cap, at=(x, y + size * 0.98, z), rot=g.rotation(y=45.0))
    if b.lod <= 1:
        for sx in (-1, 1):
            for sz in (-1, 1):
                beam(b, frame, (x + sx * size * 0.42, y + size * 0.1, z + sz * size * 0.42),
                     (x + sx * size * 0.42, y + size, z + sz * size * 0.42), size * 0.07)
