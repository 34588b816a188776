"""Set dressing: where the kit's pieces stand in the shot.

The camera is placed first (camera.choose_framing); pieces are then placed in *screen terms*
(across the frame, at a depth), which is how a set dresser works to a lens:

- wall modules make a back row across the frame (with gaps that let the skyline through) and a side
  return on the side away from the hero, which gives depth and a leading line;
- floor tiles pave the set on the kit's grid;
- the hero (the biggest free-standing prop) stands on a vertical third;
- lamp posts punctuate the depth; small props cluster near the hero and the walls, with one
  foreground piece cropped by the frame edge;
- a sketch moves all of this: clusters go where its masses are, the hero to its heaviest column,
  the wall gaps where its skyline is low.

Pure Python + numpy; positions are Blender world metres (Z up, camera looking along +Y).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine_server.decoders.scene.camera import Framing
from engine_server.sketch import GRID_COLS, Sketch

HERO_ORDER = ("stall", "tree", "column", "awning", "planter", "bench", "rock", "sign", "lamp_post", "barrel", "crate",
              "log", "railing")
SMALL = ("crate", "barrel", "planter", "rock", "log", "bench", "sign")
FACE_CAMERA = ("stall", "bench", "sign", "awning", "lamp_post", "railing")
GROVE = ("tree", "pine", "palm", "oak", "birch", "kelp", "coral", "cactus", "bush", "mushroom", "crystal")
MAX_TILES = 500


@dataclass(frozen=True)
class KitPiece:
    name: str
    archetype: str
    path: str  # absolute GLB path
    footprint: tuple[float, float]  # metres along Blender X and Y
    height: float
    modular: bool = False
    hero: bool = False  # the subject the prompt names first (latent v2 kits)

    @property
    def radius(self) -> float:
        return 0.5 * math.hypot(*self.footprint)


@dataclass(frozen=True)
class Placement:
    piece: str
    x: float
    y: float
    z: float
    rot: float  # degrees about Z
    role: str  # wall | floor | hero | subject | lamp | prop | foreground | railing


@dataclass(frozen=True)
class SetLayout:
    placements: tuple[Placement, ...]
    floor_top: float
    hero: Placement | None
    skyline: tuple[float, ...]  # backdrop heights per screen column, 0..1 (relative)
    extent: tuple[float, float, float, float]  # x0, y0, x1, y1 of the dressed set


def _pick(pieces: Sequence[KitPiece], archetype: str) -> KitPiece | None:
    return next((p for p in pieces if p.archetype == archetype), None)


def hero_piece_of(pieces: Sequence[KitPiece]) -> KitPiece | None:
    """The prompt's hero when the kit names one, else the biggest free-standing piece of the most
    hero-worthy archetype in the kit."""
    named = next((p for p in pieces if p.hero), None)
    if named is not None:
        return named
    free_pieces = [p for p in pieces if p.archetype not in ("wall", "floor")]
    for arch in HERO_ORDER:
        cands = [p for p in free_pieces if p.archetype == arch]
        if cands:
            return max(cands, key=lambda p: p.footprint[0] * p.footprint[1] * p.height)
    return None


def hero_height(pieces: Sequence[KitPiece]) -> float:
    hero = hero_piece_of(pieces)
    return hero.height if hero is not None else 0.0


def plan_layout(pieces: Sequence[KitPiece], framing: Framing, rng: np.random.Generator,
                sketch: Sketch | None = None) -> SetLayout:
    cam = framing.camera
    back = framing.back_depth
    placed: list[Placement] = []
    discs: list[tuple[float, float, float]] = []  # occupied (x, y, r)

    def free(x: float, y: float, r: float) -> bool:
        return all(math.hypot(x - a, y - b) >= r + c for a, b, c in discs)

    def put(piece: KitPiece, x: float, y: float, z: float, rot: float, role: str, block: bool = True) -> Placement:
        p = Placement(piece.name, float(x), float(y), float(z), float(rot) % 360.0, role)
        placed.append(p)
        if block:
            discs.append((x, y, piece.radius * 0.85))
        return p

    weights = sketch.column_weights() if sketch is not None else None

    def sample_u(bias: float | None = None) -> float:
        if weights is not None and weights.max() > 1.5 / GRID_COLS:
            col = int(rng.choice(GRID_COLS, p=weights))
            return float((col + rng.random()) / GRID_COLS)
        if bias is not None and rng.random() < 0.6:
            return float(np.clip(bias + rng.normal(0.0, 0.12), 0.05, 0.95))
        return float(rng.uniform(0.08, 0.92))

    # Floor first: its top is where everything else stands.
    floor = _pick(pieces, "floor")
    floor_top = 0.0
    x_half_back = back * cam.tan_half_w * 1.25
    if floor is not None:
        floor_top = floor.height
        tx, ty = max(floor.footprint[0], 0.5), max(floor.footprint[1], 0.5)
        y0 = 0.5
        rows = math.ceil((back + 1.5 - y0) / ty)
        tiles: list[tuple[float, float]] = []
        for j in range(rows):
            y = y0 + (j + 0.5) * ty
            half = min(x_half_back, y * cam.tan_half_w * 1.3 + 2 * tx)
            n = math.ceil(half / tx)
            tiles += [((i + 0.5) * tx, y) for i in range(-n, n)]
        if len(tiles) > MAX_TILES:  # keep the nearest tiles (the far ones hide under the wall row anyway)
            tiles = sorted(tiles, key=lambda t: (t[1], abs(t[0])))[:MAX_TILES]
        for x, y in tiles:
            put(floor, x, y, 0.0, 0.0, "floor", block=False)

    # Back wall row across the frame; gaps where a sketch's skyline is low (or a seeded few).
    wall = _pick(pieces, "wall")
    hero_u = framing.hero_u
    if weights is not None and weights.max() > 1.5 / GRID_COLS:
        hero_u = float((int(np.argmax(weights)) + 0.5) / GRID_COLS)
    skyline = _skyline(rng, sketch)
    if wall is not None:
        ww = max(wall.footprint[0], 0.5)
        n = math.ceil(2 * x_half_back / ww) + 1
        gap_every = int(rng.integers(3, 6))
        gap_at = int(rng.integers(0, gap_every))
        for i in range(n):
            x = (i - (n - 1) / 2) * ww
            u = 0.5 + x / (2 * back * cam.tan_half_w)
            col = int(np.clip(u * GRID_COLS, 0, GRID_COLS - 1))
            gap = (i % gap_every == gap_at) if sketch is None else (sketch.skyline[col] < 0.05 and 0 < u < 1)
            if gap and abs(u - hero_u) > 0.12:
                continue
            put(wall, x, back + wall.footprint[1] / 2, floor_top, 0.0, "wall")
        # Side return on the side away from the hero, running toward the camera.
        side = -1.0 if hero_u > 0.5 else 1.0
        depth_from = back - ww / 2
        k = 0
        while depth_from - k * ww > back * 0.6 and k < 2:
            y = depth_from - k * ww
            x = side * (y * cam.tan_half_w * 0.78)
            put(wall, x, y, floor_top, 90.0 if side > 0 else 270.0, "wall")
            k += 1

    # Hero on its third.
    free_pieces = [p for p in pieces if p.archetype not in ("wall", "floor")]
    hero_piece = hero_piece_of(pieces)
    hero = None
    if hero_piece is not None:
        # close enough to read, far enough that it stays under ~45 % of the frame height
        tan_h = cam.tan_half_h(framing.aspect)
        top_room = 0.7 * (1.0 - framing.horizon) * 2 * tan_h
        hd = max(hero_piece.height / (0.45 * 2 * tan_h), max(hero_piece.height - cam.position[2], 0.0) / top_room)
        hd = float(np.clip(hd, back * 0.45, back * 0.75))
        hx, hy = framing.ground_point(hero_u, hd)
        hero = put(hero_piece, hx, hy, floor_top, float(rng.uniform(-20, 20)), "hero")

    # Latent v2 kits: the prompt's other subjects stand in the middle ground, trees in groups.
    if any(p.hero for p in pieces):
        others = [p for p in free_pieces if p is not hero_piece and p.archetype not in SMALL
                  and p.archetype not in ("lamp_post", "railing")]
        for j, piece in enumerate(others):
            count = 3 if piece.archetype in GROVE else 1
            side_u = (1 - hero_u) if j % 2 == 0 else hero_u
            for _ in range(count):
                for _try in range(16):
                    u = float(np.clip(side_u + rng.normal(0.0, 0.18), 0.06, 0.94))
                    d = back * float(rng.uniform(0.5, 0.92))
                    x, y = framing.ground_point(u, d)
                    if free(x, y, piece.radius * 0.8):
                        put(piece, x, y, floor_top, float(rng.uniform(-25, 25)), "subject")
                        break

    # Lamp posts punctuate depth, away from the hero.
    lamp = _pick(free_pieces, "lamp_post")
    if lamp is not None and lamp is not hero_piece:
        away = 0.12 if hero_u > 0.5 else 0.88  # lamps frame the picture from the edges, away from the hero
        for u, d in ((away + rng.uniform(-0.04, 0.04), 0.62), (hero_u + (0.2 if hero_u < 0.5 else -0.2), 0.9),
                     (1 - away + rng.uniform(-0.04, 0.04), 0.95)):
            x, y = framing.ground_point(float(np.clip(u, 0.06, 0.94)), back * d)
            if free(x, y, lamp.radius):
                put(lamp, x, y, floor_top, float(rng.uniform(-10, 10)), "lamp")

    # Railing: a modular run in the foreground on the side away from the hero.
    railing = _pick(free_pieces, "railing")
    if railing is not None and railing is not hero_piece:
        side_u = 0.1 if hero_u > 0.5 else 0.9
        y = back * 0.5
        rw = max(railing.footprint[0], 0.5)
        base_x, _ = framing.ground_point(side_u, y)
        for k in range(2):
            x = base_x + (k - 1) * rw
            if free(x, y, railing.radius * 0.5):
                put(railing, x, y, floor_top, 0.0, "railing", block=False)
        discs.append((base_x, y, rw * 1.2))

    # Small props: a cluster at the hero, one near the back wall, one cropped foreground piece.
    smalls = [p for p in free_pieces if p.archetype in SMALL and p is not hero_piece] or [
        p for p in free_pieces if p is not hero_piece and p.archetype not in ("lamp_post", "railing")
    ]
    if smalls:
        anchors: list[tuple[float, float, int]] = []
        if hero is not None:
            anchors.append((hero_u, 0.55, 4))
        anchors.append((sample_u(1 - hero_u), 0.85, 3))
        anchors.append((sample_u(), 0.65, 2))
        for au, ad, count in anchors:
            cx, cy = framing.ground_point(float(np.clip(au, 0.05, 0.95)), back * ad)
            for _ in range(count):
                piece = smalls[int(rng.integers(0, len(smalls)))]
                for _try in range(12):
                    ang = rng.uniform(0, 2 * math.pi)
                    dist = rng.uniform(1.0, 3.0) * max(1.0, piece.radius * 1.5)
                    x, y = cx + math.cos(ang) * dist, cy + math.sin(ang) * dist * 0.7
                    if y < back * 0.25 or y > back - 0.6:
                        continue
                    if free(x, y, piece.radius):
                        facing = piece.archetype in FACE_CAMERA
                        rot = float(rng.uniform(-25, 25)) if facing else float(rng.uniform(0, 360))
                        put(piece, x, y, floor_top, rot, "prop")
                        break
        # Foreground: a piece cut by the frame edge on the side away from the hero.
        fg = max(smalls, key=lambda p: p.height)
        fu = 0.04 if hero_u > 0.5 else 0.96
        fx, fy = framing.ground_point(fu, max(3.2, back * 0.24))
        if free(fx, fy, fg.radius):
            put(fg, fx, fy, floor_top, float(rng.uniform(0, 360)), "foreground")

    xs = [p.x for p in placed] or [0.0]
    ys = [p.y for p in placed] or [back]
    return SetLayout(tuple(placed), floor_top, hero, skyline, (min(xs), min(ys), max(xs), max(ys)))


def _skyline(rng: np.random.Generator, sketch: Sketch | None, n: int = 24) -> tuple[float, ...]:
    """Relative heights of the distant backdrop across the frame (0..1)."""
    if sketch is not None and max(sketch.skyline) > 0.05:
        src = np.asarray(sketch.skyline)
        u = (np.arange(n) + 0.5) / n * len(src) - 0.5
        vals = np.interp(u, np.arange(len(src)), src)
        return tuple(float(v) for v in np.clip(0.25 + vals, 0.1, 1.0))
    base = rng.uniform(0.3, 0.7, n)
    towers = rng.random(n) < 0.18
    vals = np.where(towers, np.minimum(1.0, base + rng.uniform(0.3, 0.5, n)), base)
    return tuple(float(v) for v in vals)
