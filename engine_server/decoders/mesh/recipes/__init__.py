"""Asset recipes: one function per archetype, each a grammar of parts shaped by the style.

A recipe draws every variation from named knobs (`c.k.u("leg_h", ...)`), so LOD1 and LOD2 rebuild the
same object with fewer segments and without the small parts (`b.full`, `b.lod <= 1`), never a different
one. Geometry never reads the palette: recolouring a kit keeps its shapes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from engine_server.decoders.mesh.assembly import Builder
from engine_server.decoders.mesh.recipes import (
    buildings,
    flora,
    market,
    nature,
    objects,
    props,
    scifi,
    structure,
    vehicles,
)
from engine_server.decoders.mesh.recipes.common import Ctx


@dataclass(frozen=True)
class Recipe:
    archetype: str
    label: str  # asset name in the kit ([a-z0-9_], starts with a letter)
    build: Callable[[Builder, Ctx], None]
    modular: bool = False  # spans whole grid cells and tiles with its neighbours


RECIPES: dict[str, Recipe] = {
    r.archetype: r
    for r in (
        Recipe("wall", "wall_module", structure.wall, modular=True),
        Recipe("floor", "floor_tile", structure.floor, modular=True),
        Recipe("railing", "railing_module", structure.railing, modular=True),
        Recipe("column", "column", structure.column),
        Recipe("crate", "crate", props.crate),
        Recipe("barrel", "barrel", props.barrel),
        Recipe("bench", "bench", props.bench),
        Recipe("planter", "planter", props.planter),
        Recipe("stall", "market_stall", market.stall),
        Recipe("awning", "awning", market.awning),
        Recipe("sign", "sign", market.sign),
        Recipe("lamp_post", "lamp_post", market.lamp_post),
        Recipe("rock", "rock", nature.rock),
        Recipe("tree", "tree", nature.tree),
        Recipe("log", "log", nature.log),
        # the subject vocabulary (engine_server/vocabulary.py): picked by the prompt's nouns
        Recipe("cabin", "cabin", buildings.cabin),
        Recipe("hut", "hut", buildings.hut),
        Recipe("temple", "temple", buildings.temple),
        Recipe("shrine", "shrine", buildings.shrine),
        Recipe("torii", "torii_gate", buildings.torii),
        Recipe("tower", "tower", buildings.tower),
        Recipe("lighthouse", "lighthouse", buildings.lighthouse),
        Recipe("castle_wall", "castle_wall_module", buildings.castle_wall, modular=True),
        Recipe("gate", "gate", buildings.gate),
        Recipe("tent", "tent", buildings.tent),
        Recipe("bridge", "bridge", buildings.bridge),
        Recipe("well", "well", buildings.well),
        Recipe("windmill", "windmill", buildings.windmill),
        Recipe("dock", "dock", buildings.dock),
        Recipe("fountain", "fountain", buildings.fountain),
        Recipe("stairs", "stairs", buildings.stairs),
        Recipe("archway", "archway", buildings.archway),
        Recipe("boat", "boat", vehicles.boat),
        Recipe("ship_hull", "ship_hull", vehicles.ship_hull),
        Recipe("cart", "cart", vehicles.cart),
        Recipe("pine", "pine_tree", flora.pine),
        Recipe("palm", "palm_tree", flora.palm),
        Recipe("oak", "oak_tree", flora.oak),
        Recipe("birch", "birch_tree", flora.birch),
        Recipe("cactus", "cactus", flora.cactus),
        Recipe("bush", "bush", flora.bush),
        Recipe("coral", "coral", flora.coral),
        Recipe("kelp", "kelp", flora.kelp),
        Recipe("mushroom", "mushroom", flora.mushroom),
        Recipe("crystal", "crystal_cluster", flora.crystal),
        Recipe("rock_arch", "rock_arch", flora.rock_arch),
        Recipe("cliff", "cliff", flora.cliff),
        Recipe("statue", "statue", objects.statue),
        Recipe("broken_column", "broken_column", objects.broken_column),
        Recipe("lantern", "lantern", objects.lantern),
        Recipe("brazier", "brazier", objects.brazier),
        Recipe("chest", "chest", objects.chest),
        Recipe("fence", "fence_module", objects.fence, modular=True),
        Recipe("banner", "banner", objects.banner),
        Recipe("obelisk", "obelisk", objects.obelisk),
        Recipe("campfire", "campfire", objects.campfire),
        Recipe("gravestone", "gravestone", objects.gravestone),
        Recipe("table", "table", objects.table),
        Recipe("wall_panel", "wall_panel_module", scifi.wall_panel, modular=True),
        Recipe("door", "door", scifi.door),
        Recipe("console", "console", scifi.console),
        Recipe("pipe_run", "pipe_run", scifi.pipe_run),
        Recipe("antenna", "antenna", scifi.antenna),
        Recipe("container", "shipping_container", scifi.container),
    )
}

__all__ = ["RECIPES", "Builder", "Ctx", "Recipe"]
