"""The `mesh` decoder: a kit of modular, game-ready GLB assets that belong to one place.

The latent's subjects (the prompt's nouns) pick the pieces, the environment adds its own and
weathers the materials; the shape vocabulary (geometry_style) fills the rest of the kit; detail
(density), age (wear), finish (roughness, metalness), weather and palette shape every piece; the
seed varies every proportion and the order of the
optional pieces. Pipeline per kit: plan pieces -> build each piece's LODs (recipes -> parts ->
assembly) -> synthesise each material's textures once (threads; numpy and PNG encoding release the
GIL) -> write one GLB per piece (pygltflib) -> kit.json. See docs/MESH.md.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine_server.decoders.base import (
    Asset,
    DecodeContext,
    DecodeRequest,
    OutputSpec,
    option,
    option_defaults,
    option_names,
    reject_unknown_options,
)
from engine_server.decoders.mesh.assembly import LodMesh
from engine_server.decoders.mesh.gltf import SCREEN_COVERAGE, write_glb, xmp_packet
from engine_server.decoders.mesh.kit import LOD_COUNT, TRIANGLE_BUDGET, KitItem, build_asset, plan_kit
from engine_server.decoders.mesh.materials import MaterialSpec, kit_materials
from engine_server.decoders.mesh.styles import MAX_ASSETS, STYLES
from engine_server.decoders.mesh.textures import synthesize
from engine_server.errors import InvalidArgument, quote

TEXTURE_SIZES = (512, 1024, 2048)
MIN_ASSETS = 5


@dataclass(frozen=True)
class MeshOptionSpec:
    """Options of the mesh decoder (what Describe publishes)."""

    texture_size: int = option(1024, "texture width and height in pixels (one of the listed sizes)",
                               choices=TEXTURE_SIZES, lo=min(TEXTURE_SIZES), hi=max(TEXTURE_SIZES))
    assets: int = option(6, "how many kit pieces to build", lo=MIN_ASSETS, hi=MAX_ASSETS)


DEFAULT_OPTIONS: dict[str, Any] = option_defaults(MeshOptionSpec)
GLB_TYPE = "model/gltf-binary"


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(c * 255):02x}" for c in rgb)


def role_areas(built: list[list[LodMesh]]) -> dict[str, float]:
    """Surface (m^2, LOD0) per material role over the whole kit."""
    out: dict[str, float] = {}
    for lods in built:
        for p in lods[0].primitives:
            tri = p.pos[p.idx.astype(np.int64).reshape(-1, 3)].astype(np.float64)
            area = 0.5 * float(np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1).sum())
            out[p.material] = out.get(p.material, 0.0) + area
    return out


def asset_meta(item: KitItem, lods: list[LodMesh], style_name: str, grid: float, texture_size: int,
               materials: dict[str, MaterialSpec]) -> dict[str, Any]:
    """The kit-manifest entry of one piece (also stored in its GLB's scene extras)."""
    lo, hi = lods[0].bounds()
    size = hi - lo
    meta: dict[str, Any] = {
        "name": item.name,
        "archetype": item.recipe.archetype,
        "style": style_name,
        "footprint_m": [round(float(size[0]), 4), round(float(size[2]), 4)],
        "height_m": round(float(size[1]), 4),
        "grid_snap_m": grid,
        "modular": item.recipe.modular,
        "triangles": [lod.n_tris for lod in lods],
        "lod": {"method": "MSFT_lod", "screen_coverage": list(SCREEN_COVERAGE[: len(lods)])},
        "materials": [materials[p.material].name for p in lods[0].primitives],
        "texture_size": texture_size,
        "units": "m",
        "up": "+Y",
        "origin": "bottom centre",
    }
    if item.source:  # v2 kits say which recipe each piece is and what picked it
        meta["recipe"] = item.recipe.archetype
        meta["picked_by"] = item.picked_by()
        if item.hero:
            meta["hero"] = True
    if item.recipe.modular:
        meta["grid_cells"] = [max(1, round(float(size[0]) / grid)), max(1, round(float(size[2]) / grid))]
    return meta


class MeshDecoder:
    name = "mesh"
    summary = "3D kit: 5+ modular game-ready GLB assets (PBR metallic-roughness, LODs) sharing one palette"
    reads = frozenset({
        "palette", "geometry_style", "density", "wear", "roughness", "metalness", "weather",
        "weather_intensity", "time_of_day", "subjects", "environment",
    })
    writes = (
        OutputSpec("mesh", GLB_TYPE, "one binary glTF per kit piece: LOD0-2 (MSFT_lod), embedded PNG textures"),
        OutputSpec("kit", "application/json", "kit manifest: grid, sizes, triangle counts, materials per piece"),
    )
    after: tuple[str, ...] = ()
    placeholder = False
    diagnostic = False
    option_spec = MeshOptionSpec

    def options(self, request: DecodeRequest) -> dict[str, Any]:
        """Defaults overlaid with the request's options (whole-number floats from JSON become ints)."""
        opts = {**DEFAULT_OPTIONS, **request.options}
        for key, value in opts.items():
            if isinstance(value, float) and value.is_integer():
                opts[key] = int(value)
        return opts

    def validate(self, request: DecodeRequest) -> None:
        reject_unknown_options("mesh", request.options, option_names(MeshOptionSpec))
        opts = self.options(request)
        size = opts["texture_size"]
        if isinstance(size, bool) or size not in TEXTURE_SIZES:
            raise InvalidArgument(
                f"mesh texture_size must be one of {', '.join(map(str, TEXTURE_SIZES))} pixels; got {quote(size)}."
            )
        count = opts["assets"]
        if isinstance(count, bool) or not isinstance(count, int) or not MIN_ASSETS <= count <= MAX_ASSETS:
            raise InvalidArgument(
                f"mesh assets must be a whole number from {MIN_ASSETS} to {MAX_ASSETS}; got {quote(count)}."
            )
        if request.latent.geometry_style not in STYLES:  # pragma: no cover - the latent validates choices
            raise InvalidArgument(f"No mesh vocabulary for geometry_style {request.latent.geometry_style!r}.")

    def estimate_seconds(self, request: DecodeRequest) -> float:
        opts = self.options(request)
        per_material = {512: 0.08, 1024: 0.3, 2048: 1.2}.get(opts["texture_size"], 0.3)
        return 0.25 * int(opts["assets"]) + 7 * per_material

    def decode(self, request: DecodeRequest, ctx: DecodeContext) -> list[Asset]:
        self.validate(request)
        opts = self.options(request)
        size = int(opts["texture_size"])
        latent = request.latent
        style, items = plan_kit(latent, request.seed, int(opts["assets"]))
        materials = kit_materials(latent, style)
        n = len(items)
        steps = 2 * n + 1

        built: list[list[LodMesh]] = []
        for i, item in enumerate(items):
            built.append(build_asset(item, style, latent, request.seed, materials))
            ctx.progress((i + 1) / steps, f"mesh: shaped {item.name} ({i + 1}/{n})")

        roles = sorted({p.material for lods in built for lod in lods for p in lod.primitives})
        if latent.version == 2:  # the prompt's subjects decide which surfaces are big: colour by area
            materials = kit_materials(latent, style, role_areas(built))

        def texture(role: str) -> dict[str, bytes]:
            return synthesize(materials[role], size, request.seed).png()

        with ThreadPoolExecutor(max_workers=2) as pool:
            pngs = dict(zip(roles, pool.map(texture, roles), strict=True))
        ctx.progress((n + 1) / steps, f"mesh: textured {len(roles)} materials at {size} px")

        assets: list[Asset] = []
        metas = []
        # digest of the fields this decoder reads, so unrelated edits (tempo, say) leave the bytes alone
        read = {k: v for k, v in latent.to_dict().items() if k in self.reads}
        latent_sha = hashlib.sha256(json.dumps(read, sort_keys=True).encode()).hexdigest()
        xmp = xmp_packet(request.seed, latent_sha)
        for i, (item, lods) in enumerate(zip(items, built, strict=True)):
            meta = asset_meta(item, lods, style.name, style.grid, size, materials)
            glb = write_glb(item.name, lods, materials, pngs, size, meta, xmp)
            rel = f"mesh/{item.name}.glb"
            ctx.path(rel).write_bytes(glb)
            assets.append(Asset("mesh", rel, GLB_TYPE, meta))
            metas.append(meta)
            ctx.progress((n + 2 + i) / steps, f"mesh: wrote {item.name}.glb ({i + 1}/{n})")

        kit = {
            "kit": {
                "style": style.name,
                "grid_snap_m": style.grid,
                "units": "m",
                "up": "+Y",
                "origin": "bottom centre of each asset's bounds",
                "lod": {"method": "MSFT_lod", "levels": LOD_COUNT, "screen_coverage": list(SCREEN_COVERAGE)},
                "triangle_budget_lod0": TRIANGLE_BUDGET,
                "texture_size": size,
                "assets": metas,
                "materials": [
                    {
                        "name": materials[r].name,
                        "role": r,
                        "kind": materials[r].kind,
                        "base_color": _hex(materials[r].color),
                        "roughness": round(materials[r].roughness, 4),
                        "metallic": materials[r].metallic,
                        "emissive_strength": materials[r].emissive_strength,
                    }
                    for r in roles
                ],
            }
        }
        ctx.path("mesh/kit.json").write_text(json.dumps(kit, indent=1, sort_keys=True))
        assets.append(Asset("kit", "mesh/kit.json", "application/json", {"assets": [m["name"] for m in metas]}))
        return assets
