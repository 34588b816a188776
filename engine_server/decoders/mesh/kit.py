"""Plan a kit (which pieces, in what order) and build each piece's LODs within the triangle budget.

The style fixes the vocabulary: a wall module and a floor tile first (they define the grid), then the
style's core props, then its optional props in an order the seed decides.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from engine_server.decoders.mesh.assembly import Builder, LodMesh, assemble
from engine_server.decoders.mesh.materials import MaterialSpec
from engine_server.decoders.mesh.noise import Knobs, ValueNoise3, derive_seed
from engine_server.decoders.mesh.recipes import RECIPES, Recipe
from engine_server.decoders.mesh.recipes.common import Ctx
from engine_server.decoders.mesh.styles import STYLES, Style
from engine_server.errors import DecoderFailed
from engine_server.latent import Latent

LOD_COUNT = 3
TRIANGLE_BUDGET = 20_000  # per asset at LOD0


@dataclass(frozen=True)
class KitItem:
    index: int
    recipe: Recipe

    @property
    def name(self) -> str:
        return self.recipe.label


def plan_kit(latent: Latent, seed: int, n_assets: int) -> tuple[Style, list[KitItem]]:
    style = STYLES[latent.geometry_style]
    order = Knobs(seed, style.name, "kit")
    extras = sorted(style.extras, key=lambda a: order.u(a))
    chosen = ["wall", "floor", *style.core, *extras][:n_assets]
    return style, [KitItem(i, RECIPES[a]) for i, a in enumerate(chosen)]


def build_asset(item: KitItem, style: Style, latent: Latent, seed: int,
                materials: dict[str, MaterialSpec]) -> list[LodMesh]:
    """All LODs of one piece. Should LOD0 exceed the budget, it is rebuilt with less detail (lower density)."""
    density = latent.density
    for attempt in range(4):
        ctx = Ctx(
            style=style,
            k=Knobs(seed, style.name, item.recipe.archetype),
            vn=ValueNoise3(derive_seed(seed, style.name, item.recipe.archetype, "shape")),
            wear=latent.wear,
            density=density,
            grid=style.grid,
        )
        builders = []
        for lod in range(LOD_COUNT):
            b = Builder(lod)
            item.recipe.build(b, ctx)
            builders.append(b)
        for prev, cur in itertools.pairwise(builders):
            cur.cull_to(prev.n_tris // 2)  # each LOD at most half the one before
        if builders[0].n_tris <= TRIANGLE_BUDGET:
            tile = {role: m.tile_m for role, m in materials.items()}
            grain = frozenset(role for role, m in materials.items() if m.grain)
            return assemble(builders, tile, grain)
        density = max(0.0, density - 0.35 * (attempt + 1))
    raise DecoderFailed(f"The {item.name} recipe exceeds {TRIANGLE_BUDGET} triangles even at its lowest density.")
