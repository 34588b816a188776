"""Shape vocabularies: what a kit of each geometry style contains and how its parts are shaped.

The latent's `geometry_style` picks one of these; the seed orders the optional pieces and varies every
proportion inside the recipes. Textures are chosen per material role (`kinds`): the same recipe makes
a painted-steel stall in `scifi` and a timber one in `medieval`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Style:
    name: str
    grid: float  # modular snap, metres (stated in the manifest)
    wall_height_cells: int
    bevel: float  # default chamfer on hard-surface parts, metres
    round_segments: int  # LOD0 segments around round parts
    jitter: float  # how far hand-made / natural parts stray from true (fraction of size)
    kinds: Mapping[str, str] = field(default_factory=dict)  # material role -> texture kind
    core: tuple[str, ...] = ()  # props always in the kit, after the wall and floor modules
    extras: tuple[str, ...] = ()  # further props, in an order the seed decides

    @property
    def max_assets(self) -> int:
        return 2 + len(self.core) + len(self.extras)


_BASE_KINDS = {
    "structure": "concrete",
    "trim": "painted_metal",
    "metal": "bare_metal",
    "wood": "wood",
    "cloth": "fabric",
    "accent": "painted_metal",
    "glow": "emissive",
    "stone": "stone",
    "rock": "rock",
    "foliage": "foliage",
    "bark": "bark",
    "ground": "ground",
}

STYLES: dict[str, Style] = {
    s.name: s
    for s in (
        Style("architectural", 1.0, 3, 0.015, 24, 0.0,
              {**_BASE_KINDS, "structure": "plaster", "trim": "stone", "accent": "painted_metal"},
              core=("column", "bench", "lamp_post", "planter"),
              extras=("awning", "sign", "railing", "crate")),
        Style("industrial", 2.0, 2, 0.01, 16, 0.01,
              {**_BASE_KINDS, "structure": "concrete", "trim": "painted_metal"},
              core=("crate", "barrel", "lamp_post", "stall"),
              extras=("railing", "sign", "awning", "bench")),
        Style("scifi", 2.0, 2, 0.03, 24, 0.0,
              {**_BASE_KINDS, "structure": "painted_metal", "trim": "bare_metal", "accent": "plastic"},
              core=("stall", "crate", "sign", "lamp_post"),
              extras=("awning", "barrel", "bench", "railing")),
        Style("medieval", 1.0, 3, 0.01, 12, 0.025,
              {**_BASE_KINDS, "structure": "plaster", "trim": "wood", "metal": "bare_metal"},
              core=("stall", "barrel", "crate", "lamp_post"),
              extras=("sign", "bench", "awning", "railing")),
        Style("organic", 1.0, 3, 0.04, 24, 0.06,
              {**_BASE_KINDS, "structure": "ceramic", "trim": "bark", "accent": "ceramic"},
              core=("planter", "lamp_post", "bench", "rock"),
              extras=("tree", "column", "awning", "barrel")),
        Style("natural", 1.0, 2, 0.0, 12, 0.12,
              {**_BASE_KINDS, "structure": "stone", "trim": "bark", "wood": "bark"},
              core=("rock", "tree", "log", "lamp_post"),
              extras=("railing", "bench", "planter", "crate")),
    )
}

MAX_ASSETS = min(s.max_assets for s in STYLES.values())
