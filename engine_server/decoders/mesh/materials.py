"""Material specs for a kit: one per role, shared by every asset that uses the role.

The latent decides colour (palette), finish (roughness, metalness), age (wear: dirt, rust, chipped
paint) and weather (wet under rain and storms, dust, snow); the time of day sets how hard the
emissive parts glow. Textures are synthesised once per material per kit (textures.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from engine_server.decoders.mesh.palette import RGB, assign_roles, extremes, swatches
from engine_server.decoders.mesh.styles import Style
from engine_server.latent import Latent

# texture kind -> (base roughness, metallic, tile metres, wood-like grain)
KIND_DEFAULTS: dict[str, tuple[float, float, float, bool]] = {
    "concrete": (0.85, 0.0, 2.0, False),
    "plaster": (0.8, 0.0, 2.0, False),
    "painted_metal": (0.45, 0.0, 2.0, False),
    "bare_metal": (0.38, 1.0, 1.5, False),
    "wood": (0.7, 0.0, 2.0, True),
    "fabric": (0.9, 0.0, 1.5, False),
    "stone": (0.8, 0.0, 2.0, False),
    "plastic": (0.35, 0.0, 2.0, False),
    "ceramic": (0.3, 0.0, 2.0, False),
    "emissive": (0.3, 0.0, 1.0, False),
    "foliage": (0.7, 0.0, 1.0, False),
    "bark": (0.85, 0.0, 2.0, True),
    "ground": (0.9, 0.0, 2.0, False),
    "rock": (0.8, 0.0, 2.0, False),
}

# environment -> minimum (wet, snow, dust); "open" leaves the weather's own
ENVIRONMENT_FINISH: dict[str, tuple[float, float, float]] = {
    "open": (0.0, 0.0, 0.0), "underwater": (0.6, 0.0, 0.0), "snow": (0.0, 0.75, 0.0), "desert": (0.0, 0.0, 0.6),
    "forest": (0.15, 0.0, 0.0), "interior": (0.0, 0.0, 0.0), "space": (0.0, 0.0, 0.0),
}

EMISSIVE_STRENGTH = {"dawn": 2.0, "morning": 1.0, "noon": 1.0, "afternoon": 1.0, "dusk": 4.0, "night": 6.0}


@dataclass(frozen=True)
class MaterialSpec:
    role: str
    name: str  # glTF material name, [a-z0-9_]
    kind: str
    color: RGB  # sRGB 0..1, from the palette
    alt_color: RGB  # second palette colour for variation (stripes, mortar, plank tints)
    dirt_color: RGB
    light_color: RGB
    rust_color: RGB
    roughness: float
    metallic: float
    wear: float
    wet: float
    dust: float
    snow: float
    emissive_strength: float  # 0: not emissive
    tile_m: float
    grain: bool


def _kind_for(style: Style, role: str, metalness: float) -> str:
    kind = style.kinds[role]
    if metalness >= 0.6 and role in ("trim", "accent") and kind == "painted_metal":
        return "bare_metal"
    if metalness <= 0.2 and role == "metal":
        return "painted_metal"
    return kind


def kit_materials(latent: Latent, style: Style, area: Mapping[str, float] | None = None) -> dict[str, MaterialSpec]:
    """Every role the style can use, as a material spec (the assets pick the ones they need). `area`
    (surface per role of the built kit) lets the biggest surfaces take the heaviest palette colours."""
    sw = swatches(latent)
    kinds = {role: _kind_for(style, role, latent.metalness) for role in style.kinds}
    roles = assign_roles(sw, kinds, area)
    ext = extremes(sw)
    wet = latent.weather_intensity if latent.weather in ("rain", "storm") else 0.0
    if latent.weather == "fog":
        wet = 0.3 * latent.weather_intensity
    dust = latent.weather_intensity if latent.weather == "dust" else 0.0
    snow = latent.weather_intensity if latent.weather == "snow" else 0.0
    # the environment weathers every surface: wet under water, frosted in snow, sand-dusted in the desert
    wet = max(wet, ENVIRONMENT_FINISH[latent.environment][0])
    snow = max(snow, ENVIRONMENT_FINISH[latent.environment][1])
    dust = max(dust, ENVIRONMENT_FINISH[latent.environment][2])
    alt_of = {"structure": "trim", "trim": "structure", "cloth": "cloth2", "cloth2": "cloth", "stone": "trim",
              "wood": "trim", "accent": "structure", "ground": "foliage", "foliage": "ground", "bark": "wood",
              "metal": "structure", "glow": "cloth", "rock": "stone"}
    out = {}
    for role, kind_name in style.kinds.items():
        kind = kinds[role]
        rough, metal, tile, grain = KIND_DEFAULTS[kind]
        out[role] = MaterialSpec(
            role=role,
            name=f"{style.name}_{role}_{kind}",
            kind=kind,
            color=sw[roles[role]].rgb,
            alt_color=sw[roles[alt_of.get(role, "trim")]].rgb,
            dirt_color=sw[ext["dirt"]].rgb,
            light_color=sw[ext["light"]].rgb,
            rust_color=sw[ext["rust"]].rgb,
            roughness=min(max(rough + (latent.roughness - 0.5) * 0.5, 0.05), 1.0),
            metallic=metal,
            wear=latent.wear,
            wet=wet if kind != "emissive" else 0.0,
            dust=dust,
            snow=snow,
            emissive_strength=EMISSIVE_STRENGTH[latent.time_of_day] if kind_name == "emissive" else 0.0,
            tile_m=tile,
            grain=grain,
        )
    return out
