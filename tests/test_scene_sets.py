"""The set fits the place the prompt names (issue 18): an interior is a room with walls and a ceiling, a
space station's hardware stands in a corridor seen down its length, boats and docks float on water, and an
outdoor hero that is not a building is framed large, with the wall row kept back. Layouts are checked in
world terms; one tiny render checks with Blender's own depth pass that a room shows no sky."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from engine_server.decoders.scene.camera import Framing, choose_framing
from engine_server.decoders.scene.layout import AFLOAT, KitPiece, SetLayout, plan_layout
from engine_server.decoders.scene.look import make_look
from engine_server.latent import Latent
from tests.latent_factory import make_latent

WALL = KitPiece("wall_module", "wall", "", (3.0, 0.4), 3.0, True)
FLOOR = KitPiece("floor_tile", "floor", "", (2.0, 2.0), 0.1, True)


def _plan(latent: Latent, pieces: list[KitPiece], seed: int = 3) -> tuple[Framing, SetLayout]:
    hero = next(p for p in pieces if p.hero)
    framing = choose_framing(latent, 16 / 9, 3.0, np.random.default_rng(seed), None, None, hero.height)
    look = make_look(latent)
    layout = plan_layout(pieces, framing, np.random.default_rng(seed + 1), None, look.environment, look.enclosure)
    return framing, layout


def _screen_height(framing: Framing, x: float, y: float, z0: float, z1: float) -> float:
    """Fraction of the frame's height that a vertical segment at (x, y) from z0 to z1 covers."""
    _, py, _ = framing.camera.project(np.array([[x, y, z0], [x, y, z1]]), 1600, 900)
    return float(abs(py[0] - py[1]) / 900)


def test_an_interior_is_a_room_with_the_kit_inside_it() -> None:
    lat = make_latent(geometry_style="medieval", environment="interior", subjects=["table", "barrel"],
                      weather="rain", weather_intensity=0.8)
    look = make_look(lat)
    assert look.enclosure == "room" and not look.precipitation and not look.lightning
    pieces = [WALL, FLOOR, KitPiece("table", "table", "", (1.8, 0.8), 1.0, hero=True),
              KitPiece("barrel", "barrel", "", (0.6, 0.6), 0.9)]
    _, layout = _plan(lat, pieces)
    assert layout.room is not None and layout.water is None
    half_w, back, ceiling = layout.room
    assert ceiling > WALL.height  # a ceiling over the wall modules
    walls = [p for p in layout.placements if p.role == "wall"]
    # wall modules across the back and down both sides
    assert any(abs(p.y - back) < 1.0 and p.rot == 0.0 for p in walls)
    assert any(p.x < -half_w + 0.1 for p in walls) and any(p.x > half_w - 0.1 for p in walls)
    for p in layout.placements:
        if p.role not in ("wall", "floor"):
            assert abs(p.x) < half_w, p


def test_a_space_station_is_a_corridor_seen_down_its_length() -> None:
    lat = make_latent(geometry_style="scifi", environment="space", subjects=["console"], tension=0.9)
    look = make_look(lat)
    assert look.enclosure == "corridor" and look.stars and look.practical == 1.0
    framing, layout = _plan(lat, [WALL, FLOOR, KitPiece("console", "console", "", (1.7, 0.8), 1.6, hero=True)])
    assert framing.horizon == 0.5 and framing.camera.roll == 0.0  # the vanishing point at the frame's centre
    assert layout.room is not None
    half_w, back, _ = layout.room
    assert back > 4 * half_w  # long and narrow
    # walls line both sides, none closes the end (the stage puts a window there)
    walls = [p for p in layout.placements if p.role == "wall"]
    assert walls and all(abs(abs(p.x) - half_w) < 0.5 for p in walls)
    # space with no station hardware (an asteroid, say) stays outdoors under the stars
    rocks = make_latent(geometry_style="scifi", environment="space", subjects=["rock"])
    assert make_look(rocks).enclosure == ""


def test_boats_and_docks_float_on_water_and_the_boat_reads() -> None:
    lat = make_latent(geometry_style="industrial", environment="open", subjects=["boat", "dock"])
    assert make_look(lat).enclosure == ""
    boat = KitPiece("boat", "boat", "", (3.6, 1.8), 0.66, hero=True)
    pieces = [WALL, FLOOR, boat, KitPiece("dock", "dock", "", (4.7, 1.9), 1.2),
              KitPiece("crate", "crate", "", (0.8, 0.75), 0.7), KitPiece("barrel", "barrel", "", (0.6, 0.6), 1.0)]
    framing, layout = _plan(lat, pieces)
    assert layout.water is not None and layout.room is None
    shore, level = layout.water
    by_role = {p.piece: p for p in layout.placements if p.role in ("hero", "subject")}
    for name in ("boat", "dock"):
        p = by_role[name]
        assert p.y > shore and p.z < level, p  # in the water, sunk to its draught
    for p in layout.placements:
        if p.role == "floor":
            assert p.y < shore + 1.0  # the quay ends at the shoreline
        elif p.piece not in AFLOAT:
            assert p.y < shore and p.role != "wall", p  # crates on the quay; no wall row across the water
    # the hero spans a good share of the frame's width
    hero = layout.hero
    assert hero is not None and hero.piece == "boat"
    px, _, _ = framing.camera.project(np.array([[hero.x - 1.8, hero.y, 0.0], [hero.x + 1.8, hero.y, 0.0]]), 1600, 900)
    assert abs(px[1] - px[0]) / 1600 > 0.25
    # without boats the same kit has no water
    _, dry = _plan(make_latent(geometry_style="industrial", subjects=["crate"]),
                   [WALL, FLOOR, KitPiece("crate", "crate", "", (0.8, 0.75), 0.7, hero=True)])
    assert dry.water is None


def test_an_outdoor_hero_that_is_not_a_building_is_framed_large_before_a_distant_wall_row() -> None:
    lat = make_latent(geometry_style="architectural", environment="open", subjects=["gravestone"], tension=0.7)
    stone = KitPiece("gravestone", "gravestone", "", (1.8, 2.1), 0.92, hero=True)
    framing, layout = _plan(lat, [WALL, FLOOR, stone])
    hero = layout.hero
    assert hero is not None
    assert _screen_height(framing, hero.x, hero.y, 0.1, 0.1 + stone.height) > 0.2
    walls = [p for p in layout.placements if p.role == "wall"]
    assert walls and min(p.y for p in walls) > 1.8 * framing.back_depth
    assert sum(p.piece == "gravestone" for p in layout.placements) >= 3  # a graveyard, not one stone
    # a building hero keeps its street of walls close behind it
    hut = KitPiece("hut", "hut", "", (4.2, 4.2), 3.6, hero=True)
    framing2, layout2 = _plan(make_latent(geometry_style="medieval", subjects=["hut"]), [WALL, FLOOR, hut])
    assert min(p.y for p in layout2.placements if p.role == "wall") < 1.2 * framing2.back_depth


@pytest.mark.parametrize("env,subjects", [("interior", ["table"]), ("space", ["console"])])
def test_an_enclosed_set_shows_no_sky(tmp_path: Path, env: str, subjects: list[str]) -> None:
    from engine_server.decoders.base import DecodeContext, DecodeRequest
    from engine_server.decoders.scene import Shoot
    from engine_server.decoders.scene.stage import MIST_DEPTH, RenderSettings

    lat = make_latent(geometry_style="scifi" if env == "space" else "medieval", environment=env, subjects=subjects)
    ctx = DecodeContext(tmp_path, lambda f, m: None, lambda: False)
    shoot = Shoot.build(DecodeRequest(lat, 5, quality="draft"), ctx, 16 / 9, None, (0.0, 1.0), "test")
    try:
        passes = shoot.stage.render(shoot.framing.camera, 96, 54, RenderSettings(samples=1, denoise=False))
    finally:
        shoot.close()
    sky = passes.dist >= MIST_DEPTH * 0.999
    if env == "interior":
        assert not sky.any()  # walls and ceiling all round
    else:  # only the window at the corridor's end looks out, near the frame's centre
        ys, xs = np.nonzero(sky)
        assert 0 < sky.mean() < 0.08
        assert math.hypot(xs.mean() / 96 - 0.5, ys.mean() / 54 - 0.5) < 0.2


def test_a_forest_has_a_canopy_overhead_and_an_open_set_has_none() -> None:
    from engine_server.decoders.scene.stage import canopy_plan

    lat = make_latent(geometry_style="medieval", environment="forest", subjects=["mushroom"])
    framing, _ = _plan(lat, [WALL, FLOOR, KitPiece("mushroom", "mushroom", "", (1.0, 1.0), 1.2, hero=True)])
    sun = np.array([0.7, 0.2, 0.6])
    plan = canopy_plan("forest", framing, sun, np.random.default_rng(1))
    eye = framing.camera.position[2]
    assert len(plan.leaves) >= 5 and plan.trunks
    for (_, _, z), (_, _, rz) in plan.leaves:
        assert z - rz > eye  # every leaf mass hangs over the camera's head, none blocks the set
    # some foliage reaches into the frame's top edge
    centres = np.array([c for c, _ in plan.leaves])
    lows = centres - np.array([[0.0, 0.0, r[2]] for _, r in plan.leaves])
    px, py, depth = framing.camera.project(lows, 1600, 900)
    assert any(0 < x < 1600 and 0 < y < 900 and d > 0 for x, y, d in zip(px, py, depth, strict=True))
    # and some cast their shadow on the ground in view (down the sun's line)
    s = sun / np.linalg.norm(sun)
    feet = centres - s[None, :] * (centres[:, 2:3] / s[2])
    fx, fy, fd = framing.camera.project(feet, 1600, 900)
    assert any(0 < x < 1600 and 0 < y < 900 and d > 0 for x, y, d in zip(fx, fy, fd, strict=True))
    # the same request draws the same canopy; an open set has none
    assert canopy_plan("forest", framing, sun, np.random.default_rng(1)) == plan
    empty = canopy_plan("open", framing, sun, np.random.default_rng(1))
    assert not empty.leaves and not empty.trunks
