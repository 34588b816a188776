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
  the wall gaps where its skyline is low;
- indoors (look.enclosure) the set is a room or a corridor: wall modules line the back and both sides of a
  shell the stage closes with a ceiling, and everything stands inside it;
- a kit with things that float (a boat, a ship, a dock) gets water: a quay of floor tiles in the foreground,
  water from a shoreline back to the horizon, the floating pieces in it at their draught, the rest on land;
- an outdoor hero that is not a building keeps the wall row far back and sparse, so it is not crowded out.

Pure Python + numpy; positions are Blender world metres (Z up, camera looking along +Y).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from engine_server.decoders.scene.camera import Framing
from engine_server.sketch import GRID_COLS, Sketch
from engine_server.vocabulary import SUBJECTS

HERO_ORDER = ("stall", "tree", "column", "awning", "planter", "bench", "rock", "sign", "lamp_post", "barrel", "crate",
              "log", "railing")
SMALL = ("crate", "barrel", "planter", "rock", "log", "bench", "sign")
FACE_CAMERA = ("stall", "bench", "sign", "awning", "lamp_post", "railing")
GROVE = ("tree", "pine", "palm", "oak", "birch", "kelp", "coral", "cactus", "bush", "mushroom", "crystal")
MAX_TILES = 500
# pieces that float, and how deep each sits below the water line (metres; a dock's deck stands ~0.45 m above it)
AFLOAT = {"boat": 0.18, "ship_hull": 0.6, "dock": 0.45}
WATER_LEVEL = 0.02  # just over the ground plane, which the water hides
FLOCK = (*GROVE, "gravestone", "broken_column", "tent")  # subjects that come in numbers: a few copies of each


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
    room: tuple[float, float, float] | None = None  # enclosed sets: half width, back wall y, ceiling height
    water: tuple[float, float] | None = None  # sets with water: shoreline y (water beyond it), water level z


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


def _is_building(piece: KitPiece) -> bool:
    subject = SUBJECTS.get(piece.archetype)
    return subject is not None and subject.category in ("architecture", "structure")


def near_ground(framing: Framing, v: float = -0.85) -> float:
    """Forward distance of the nearest ground seen at screen height v (NDC, -1 = the frame's bottom edge)."""
    cam = framing.camera
    down = math.atan(-v * cam.tan_half_h(framing.aspect)) - math.radians(cam.pitch)
    return cam.position[2] / math.tan(down) if down > 0.01 else framing.back_depth


def plan_layout(pieces: Sequence[KitPiece], framing: Framing, rng: np.random.Generator,
                sketch: Sketch | None = None, environment: str = "open", enclosure: str = "") -> SetLayout:
    cam = framing.camera
    back = framing.back_depth
    placed: list[Placement] = []
    discs: list[tuple[float, float, float]] = []  # occupied (x, y, r)
    hero_piece = hero_piece_of(pieces)
    room: tuple[float, float, float] | None = None
    if enclosure:
        wall_h = max((p.height for p in pieces if p.archetype == "wall"), default=3.0)
        half_w = 2.4 if enclosure == "corridor" else max(0.62 * back * cam.tan_half_w, 3.5)
        room = (half_w, back, max(wall_h, 2.6) + 0.6 if enclosure == "corridor" else max(wall_h + 1.2, 3.8))
    afloat = (room is None and environment not in ("underwater", "space")
              and any(p.archetype in AFLOAT for p in pieces))
    shore = 0.0  # water beyond this y when afloat

    def free(x: float, y: float, r: float, piece: KitPiece | None = None) -> bool:
        """Nothing there yet, and (with water) floating pieces in the water and the rest on land."""
        if afloat and piece is not None and (
                (y - r < shore + 0.3) if piece.archetype in AFLOAT else (y + r > shore - 0.2)):
            return False
        return all(math.hypot(x - a, y - b) >= r + c for a, b, c in discs)

    def ground_point(u: float, depth: float, r: float = 0.0) -> tuple[float, float]:
        """framing.ground_point, kept inside the room's walls when the set is enclosed."""
        x, y = framing.ground_point(u, depth)
        if room is not None:
            lim = max(room[0] - r - 0.15, 0.0)
            x = float(np.clip(x, -lim, lim))
        return x, y

    def stand(piece: KitPiece, floor_top: float) -> float:
        """Height of a piece's origin: on the floor, or sunk to its draught in the water."""
        return WATER_LEVEL - AFLOAT[piece.archetype] if afloat and piece.archetype in AFLOAT else floor_top

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

    hero_u = framing.hero_u
    if weights is not None and weights.max() > 1.5 / GRID_COLS:
        hero_u = float((int(np.argmax(weights)) + 0.5) / GRID_COLS)
    hd = back * 0.6
    if hero_piece is not None:
        # close enough to read (its height within ~45 % of the frame's, its length within ~40 % of the
        # width), far enough that its top stays inside the frame, its foot above the frame's bottom edge
        tan_h = cam.tan_half_h(framing.aspect)
        top_room = 0.7 * (1.0 - framing.horizon) * 2 * tan_h
        size = max(hero_piece.height, 0.6 * max(hero_piece.footprint))
        hd = max(size / (0.45 * 2 * tan_h), max(hero_piece.height - cam.position[2], 0.0) / top_room)
        hd = float(np.clip(hd, max(near_ground(framing) + 0.5 * hero_piece.radius, back * 0.3), back * 0.75))
        if afloat:  # the shoreline runs just in front of a floating hero, or just behind one on land
            shore = hd - hero_piece.radius - 0.8 if hero_piece.archetype in AFLOAT else \
                min(hd + hero_piece.radius + 1.0, back * 0.7)
    elif afloat:
        shore = back * 0.4

    # Floor first: its top is where everything else stands (with water, only the quay before the shore).
    floor = _pick(pieces, "floor")
    floor_top = 0.0
    x_half_back = room[0] if room is not None else back * cam.tan_half_w * 1.25
    if floor is not None:
        floor_top = floor.height
        tx, ty = max(floor.footprint[0], 0.5), max(floor.footprint[1], 0.5)
        y0 = 0.5
        rows = math.ceil(((shore if afloat else back + 1.5) - y0) / ty)
        tiles: list[tuple[float, float]] = []
        for j in range(rows):
            y = y0 + (j + 0.5) * ty
            half = x_half_back if room is not None else min(x_half_back, y * cam.tan_half_w * 1.3 + 2 * tx)
            n = math.ceil(half / tx)
            tiles += [((i + 0.5) * tx, y) for i in range(-n, n)]
        if len(tiles) > MAX_TILES:  # keep the nearest tiles (the far ones hide under the wall row anyway)
            tiles = sorted(tiles, key=lambda t: (t[1], abs(t[0])))[:MAX_TILES]
        for x, y in tiles:
            put(floor, x, y, 0.0, 0.0, "floor", block=False)

    # Back wall row across the frame; gaps where a sketch's skyline is low (or a seeded few).
    wall = _pick(pieces, "wall")
    skyline = _skyline(rng, sketch)
    if wall is not None and room is not None:
        _line_room(wall, room, enclosure, floor_top, cam.tan_half_w, put)
    elif wall is not None and not afloat:
        # an outdoor hero that is not a building: the row stands farther back, with more gaps
        far = hero_piece is not None and hero_piece.hero and not _is_building(hero_piece)
        row_y = back * (2.0 if far else 1.0)
        ww = max(wall.footprint[0], 0.5)
        n = math.ceil(2 * x_half_back * row_y / back / ww) + 1
        gap_every = 2 if far else int(rng.integers(3, 6))
        gap_at = int(rng.integers(0, gap_every))
        for i in range(n):
            x = (i - (n - 1) / 2) * ww
            u = 0.5 + x / (2 * row_y * cam.tan_half_w)
            col = int(np.clip(u * GRID_COLS, 0, GRID_COLS - 1))
            gap = (i % gap_every == gap_at) if sketch is None else (sketch.skyline[col] < 0.05 and 0 < u < 1)
            if gap and (far or abs(u - hero_u) > 0.12):
                continue
            put(wall, x, row_y + wall.footprint[1] / 2, floor_top, 0.0, "wall")
        # Side return on the side away from the hero, running toward the camera.
        side = -1.0 if hero_u > 0.5 else 1.0
        depth_from = back - ww / 2
        k = 0
        while depth_from - k * ww > back * 0.6 and k < 2 and not far:
            y = depth_from - k * ww
            x = side * (y * cam.tan_half_w * 0.78)
            put(wall, x, y, floor_top, 90.0 if side > 0 else 270.0, "wall")
            k += 1

    # Hero on its third.
    free_pieces = [p for p in pieces if p.archetype not in ("wall", "floor")]
    hero = None
    if hero_piece is not None:
        hx, hy = ground_point(hero_u, hd, hero_piece.radius)
        hero = put(hero_piece, hx, hy, stand(hero_piece, floor_top), float(rng.uniform(-20, 20)), "hero")

    # Latent v2 kits: the prompt's other subjects stand in the middle ground, trees in groups, and a
    # hero that comes in numbers (tombstones, trees) has a few more of its kind behind it.
    if any(p.hero for p in pieces):
        others = [p for p in free_pieces if p is not hero_piece and p.archetype not in SMALL
                  and p.archetype not in ("lamp_post", "railing")]
        if hero is not None and hero_piece is not None and hero_piece.archetype in FLOCK:
            others.insert(0, hero_piece)
        j = 0
        for piece in others:
            if piece.archetype == "dock" and hero is not None and hero_piece is not None \
                    and hero_piece.archetype in AFLOAT and afloat:
                # the dock runs out from the quay into the water beside the floating hero, toward the centre
                side = 1.0 if hero_u < 0.5 else -1.0
                x = hero.x + side * (hero_piece.radius + 0.5 * piece.footprint[1] + 0.3)
                put(piece, x, shore + 0.5 * piece.footprint[0] - 0.2, stand(piece, floor_top), 90.0, "subject")
                continue
            count = 3 if piece.archetype in FLOCK else 1
            side_u = hero_u if piece is hero_piece else ((1 - hero_u) if j % 2 == 0 else hero_u)
            j += piece is not hero_piece
            for _ in range(count):
                for _try in range(16):
                    u = float(np.clip(side_u + rng.normal(0.0, 0.18), 0.06, 0.94))
                    d = back * float(rng.uniform(0.5, 0.92))
                    x, y = ground_point(u, d, piece.radius)
                    if free(x, y, piece.radius * 0.8, piece):
                        put(piece, x, y, stand(piece, floor_top), float(rng.uniform(-25, 25)), "subject")
                        break

    # Lamp posts punctuate depth, away from the hero.
    lamp = _pick(free_pieces, "lamp_post")
    if lamp is not None and lamp is not hero_piece:
        away = 0.12 if hero_u > 0.5 else 0.88  # lamps frame the picture from the edges, away from the hero
        for u, d in ((away + rng.uniform(-0.04, 0.04), 0.62), (hero_u + (0.2 if hero_u < 0.5 else -0.2), 0.9),
                     (1 - away + rng.uniform(-0.04, 0.04), 0.95)):
            x, y = ground_point(float(np.clip(u, 0.06, 0.94)), back * d, lamp.radius)
            if free(x, y, lamp.radius, lamp):
                put(lamp, x, y, floor_top, float(rng.uniform(-10, 10)), "lamp")

    # Railing: a modular run in the foreground on the side away from the hero.
    railing = _pick(free_pieces, "railing")
    if railing is not None and railing is not hero_piece:
        side_u = 0.1 if hero_u > 0.5 else 0.9
        y = back * 0.5
        rw = max(railing.footprint[0], 0.5)
        base_x, _ = ground_point(side_u, y, rw)
        for k in range(2):
            x = base_x + (k - 1) * rw
            if free(x, y, railing.radius * 0.5, railing):
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
            cx, cy = ground_point(float(np.clip(au, 0.05, 0.95)), back * ad)
            for _ in range(count):
                piece = smalls[int(rng.integers(0, len(smalls)))]
                for _try in range(12):
                    ang = rng.uniform(0, 2 * math.pi)
                    dist = rng.uniform(1.0, 3.0) * max(1.0, piece.radius * 1.5)
                    x, y = cx + math.cos(ang) * dist, cy + math.sin(ang) * dist * 0.7
                    if y < back * 0.25 or y > back - 0.6:
                        continue
                    if room is not None and abs(x) > room[0] - piece.radius - 0.15:
                        continue
                    if free(x, y, piece.radius, piece):
                        facing = piece.archetype in FACE_CAMERA
                        rot = float(rng.uniform(-25, 25)) if facing else float(rng.uniform(0, 360))
                        put(piece, x, y, stand(piece, floor_top), rot, "prop")
                        break
        # Foreground: a piece cut by the frame edge on the side away from the hero.
        fg = max(smalls, key=lambda p: p.height)
        fu = 0.04 if hero_u > 0.5 else 0.96
        fx, fy = ground_point(fu, max(3.2, back * 0.24), fg.radius)
        if free(fx, fy, fg.radius, fg):
            put(fg, fx, fy, floor_top, float(rng.uniform(0, 360)), "foreground")

    xs = [p.x for p in placed] or [0.0]
    ys = [p.y for p in placed] or [back]
    return SetLayout(tuple(placed), floor_top, hero, skyline, (min(xs), min(ys), max(xs), max(ys)), room,
                     (shore, WATER_LEVEL) if afloat else None)


def _line_room(wall: KitPiece, room: tuple[float, float, float], enclosure: str, floor_top: float,
               tan_half_w: float, put: Callable[..., Placement]) -> None:
    """Wall modules along both side walls of a room or corridor (from the back to where the frame's edge
    leaves them) and, in a room, across its back (a corridor's end is a window, left to the stage)."""
    half_w, back, _ = room
    ww = max(wall.footprint[0], 0.5)
    t = wall.footprint[1]
    if enclosure == "room":
        n = math.ceil(2 * half_w / ww)
        for i in range(n):
            put(wall, (i - (n - 1) / 2) * ww, back + t / 2, floor_top, 0.0, "wall")
    near = max(1.0, 0.8 * half_w / tan_half_w)
    y = back - ww / 2
    while y + ww / 2 > near:
        for side in (-1.0, 1.0):
            put(wall, side * (half_w + t / 2), y, floor_top, 90.0 if side > 0 else 270.0, "wall")
        y -= ww


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
