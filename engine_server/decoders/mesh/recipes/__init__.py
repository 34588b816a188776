"""Asset recipes: one function per archetype, each a grammar of parts shaped by the style.

A recipe draws every variation from named knobs (`c.k.u("leg_h", ...)`), so LOD1 and LOD2 rebuild the
same object with fewer segments and without the small parts (`b.full`, `b.lod <= 1`), never a different
one. Geometry never reads the palette: recolouring a kit keeps its shapes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from engine_server.decoders.mesh.assembly import Builder
from engine_server.decoders.mesh.recipes import market, nature, props, structure
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
    )
}

__all__ = ["RECIPES", "Builder", "Ctx", "Recipe"]
