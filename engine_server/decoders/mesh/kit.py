"""Plan a kit (which pieces, in what order) and build each piece's LODs within the triangle budget.

The style fixes the vocabulary: a wall module and a floor tile first (they define the grid), then the
style's core props, then its optional props in an order the seed decides. A v2 latent (one that names
subjects or an environment) puts the prompt's subjects right after the wall and floor, hero first, and
fills the rest from the environment's and then the style's pieces, skipping a fill piece whose place a
subject already takes (a named pine stands in for the style's leafy tree).
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


# pieces an environment brings to the kit before the style's own (after the prompt's subjects)
ENVIRONMENT_FILL: dict[str, tuple[str, ...]] = {
    "open": (),
    "underwater": ("coral", "kelp", "rock"),
    "snow": ("pine", "rock", "log"),
    "desert": ("cactus", "rock", "palm"),
    "forest": ("pine", "bush", "log"),
    "interior": ("table", "chest", "barrel"),
    "space": ("console", "pipe_run", "container"),
}
MACHINE_INTERIOR = ("console", "pipe_run", "wall_panel")
# a subject takes the place of a fill piece of the same kind
SLOT: dict[str, str] = {"pine": "tree", "palm": "tree", "oak": "tree", "birch": "tree", "cliff": "rock",
                        "rock_arch": "rock", "fence": "railing", "lantern": "lamp_post", "table": "bench"}


@dataclass(frozen=True)
class KitItem:
    index: int
    recipe: Recipe
    source: str = ""  # v2 kits: "prompt" | "pin" | "environment" | "style"
    words: str = ""  # the prompt's words that picked it (source "prompt")
    hero: bool = False

    @property
    def name(self) -> str:
        return self.recipe.label

    def picked_by(self) -> dict[str, object]:
        """The kit.json record of why this piece is in the kit (v2 kits)."""
        out: dict[str, object] = {"source": self.source}
        if self.words:
            out["words"] = self.words
        return out


def plan_kit(latent: Latent, seed: int, n_assets: int) -> tuple[Style, list[KitItem]]:
    style = STYLES[latent.geometry_style]
    order = Knobs(seed, style.name, "kit")
    extras = sorted(style.extras, key=lambda a: order.u(a))
    if latent.version == 1:  # exactly the kits made before subjects existed
        chosen = ["wall", "floor", *style.core, *extras][:n_assets]
        return style, [KitItem(i, RECIPES[a]) for i, a in enumerate(chosen)]
    items: list[tuple[str, str, str]] = [("wall", "style", ""), ("floor", "style", "")]
    for name, words in latent.subjects:
        if len(items) < n_assets and name not in ("wall", "floor"):
            items.append((name, "prompt" if words else "pin", words))
    taken = {a for a, _, _ in items} | {SLOT.get(a, a) for a, _, _ in items}
    env_fill = ENVIRONMENT_FILL[latent.environment]
    if latent.environment == "interior" and style.name in ("scifi", "industrial"):
        env_fill = MACHINE_INTERIOR  # a reactor room is consoles and pipes, not tavern tables
    fill = [(a, "environment") for a in env_fill]
    fill += [(a, "style") for a in (*style.core, *extras)]
    for name, source in fill:
        if len(items) >= n_assets:
            break
        if name not in taken and SLOT.get(name, name) not in taken:
            items.append((name, source, ""))
            taken |= {name, SLOT.get(name, name)}
    hero = next((i for i, (_, src, _) in enumerate(items) if src in ("prompt", "pin")), -1)
    return style, [KitItem(i, RECIPES[a], src, words, i == hero) for i, (a, src, words) in enumerate(items)]


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
