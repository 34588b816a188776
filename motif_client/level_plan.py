"""Host-free plan of a pack's import into a game engine's content browser and level (Unreal first).

Everything an engine importer decides without the engine: asset names and folders, which files to
import (LOD0 and LOD1+ of every GLB as plain GLBs, each embedded texture once, the music and stems,
the concept image), each texture's colour space and compression, one material instance per glTF
material with its parameters on a documented master material, the metadata tags every asset
carries, and where the kit stands in the level (engine units, +Z up, left-handed: Unreal's frame).
The plugin then only turns this plan into engine calls (plugins/unreal/…/importer.py).

Conventions (Unreal): glTF metres, +Y up, right-handed -> centimetres, +Z up, left-handed:
(x, y, z) -> (100 x, 100 z, 100 y). A kit piece's origin is its bottom centre in both.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import struct
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import glb
from .packinfo import assets_by_role, kit_info, kit_items, layout_kit, short_prompt

CM_PER_M = 100.0
DEFAULT_ROOT = "/Game/Motif"
MASTER_MATERIAL = "M_MotifMaster"  # created once under the destination root

# The master material's parameters (a studio's own master material must have these names).
PARAM_BASE_COLOR = "BaseColor"  # texture, sRGB
PARAM_ORM = "ORM"  # texture, linear: R occlusion, G roughness, B metallic
PARAM_NORMAL = "Normal"  # texture, tangent-space normal map (green up)
PARAM_EMISSIVE = "Emissive"  # texture, sRGB
PARAM_BASE_COLOR_FACTOR = "BaseColorFactor"  # vector, multiplies BaseColor
PARAM_EMISSIVE_COLOR = "EmissiveColor"  # vector, multiplies Emissive (glTF emissiveFactor x strength)
PARAM_METALLIC = "MetallicFactor"  # scalar, multiplies ORM.B
PARAM_ROUGHNESS = "RoughnessFactor"  # scalar, multiplies ORM.G

# Texture role -> (sRGB, compression): colour data is sRGB; ORM is linear data packed in channels
# (mask compression keeps the channels apart); normal maps use normal-map compression.
TEXTURE_SETTINGS: dict[str, tuple[bool, str]] = {
    "color": (True, "default"),
    "orm": (False, "masks"),
    "normal": (False, "normalmap"),
    "image": (True, "default"),
}
TAG_PREFIX = "Motif."
NOT_IMPORTED = ("video", "midi")  # roles with no engine asset here (the closing message lists them)
_NAME_OK = re.compile(r"[^A-Za-z0-9_]+")
_ROOT_OK = re.compile(r"^/Game(/[A-Za-z0-9_]+)*$")


def asset_name(prefix: str, raw: str, limit: int = 60) -> str:
    """An engine-safe asset name: prefix + the raw name with anything but [A-Za-z0-9_] as '_'."""
    body = _NAME_OK.sub("_", raw).strip("_") or "asset"
    return f"{prefix}{body}"[:limit]


def root_problem(root: str) -> str | None:
    """Why `root` cannot hold packs (a content path such as /Game/Motif), or None."""
    if not _ROOT_OK.match(root.rstrip("/") or "/"):
        return (f"The destination {root!r} is not a content folder: use a path such as {DEFAULT_ROOT} "
                "(it starts with /Game; letters, digits and _ only).")
    return None


def pack_folder(root: str, pack_id: str) -> str:
    return f"{root.rstrip('/')}/{asset_name('', pack_id)}"


def gltf_to_engine(v: Sequence[float]) -> tuple[float, float, float]:
    """A glTF point (metres, +Y up, right-handed) in engine units (cm, +Z up, left-handed)."""
    x, y, z = (float(c) for c in v[:3])
    return (x * CM_PER_M, z * CM_PER_M, y * CM_PER_M)


def zup_to_engine(v: Sequence[float]) -> tuple[float, float, float]:
    """A point of packinfo's +Z-up right-handed layout (metres; x, -z_gltf, y_gltf) in engine units."""
    x, y, z = (float(c) for c in v[:3])
    return (x * CM_PER_M, -y * CM_PER_M, z * CM_PER_M)


# ------------------------------------------------------------------ the plan


@dataclass(frozen=True)
class TexturePlan:
    name: str  # asset name (T_…)
    file: Path  # the PNG to import (named as the asset)
    role: str  # color | orm | normal | image
    srgb: bool
    compression: str  # default | masks | normalmap
    sha256: str
    source: str  # the pack asset it came from


@dataclass(frozen=True)
class MaterialPlan:
    name: str  # asset name (MI_…)
    source_name: str  # the glTF material name (the mesh slot name)
    textures: Mapping[str, str]  # parameter -> texture asset name
    vectors: Mapping[str, tuple[float, float, float, float]]
    scalars: Mapping[str, float]


@dataclass(frozen=True)
class MeshPlan:
    name: str  # asset name (SM_…)
    source: str  # the pack path (mesh/crate.glb)
    lod_files: tuple[Path, ...]  # LOD0 first; plain GLBs without MSFT_lod
    screen_sizes: tuple[float, ...]  # per LOD (from MSFT_screencoverage), empty if not stated
    slots: tuple[str, ...]  # glTF material names in slot order
    materials: Mapping[str, str]  # slot (glTF material name) -> material instance asset name
    offset: tuple[float, float, float]  # engine units from the kit's anchor


@dataclass(frozen=True)
class SoundPlan:
    name: str  # asset name (SW_…)
    file: Path
    role: str  # music | stem
    source: str
    looping: bool = True


@dataclass
class PackPlan:
    pack_id: str
    folder: str  # /Game/Motif/<pack id>
    title: str
    meshes: list[MeshPlan] = field(default_factory=list)
    textures: list[TexturePlan] = field(default_factory=list)
    materials: list[MaterialPlan] = field(default_factory=list)
    sounds: list[SoundPlan] = field(default_factory=list)
    images: list[TexturePlan] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    grid_cm: float = 100.0
    extent_cm: tuple[float, float] = (400.0, 400.0)

    @property
    def steps(self) -> int:
        """Import steps, for a progress bar."""
        return len(self.textures) + len(self.materials) + len(self.meshes) + len(self.sounds) + len(self.images)

    def subfolder(self, kind: str) -> str:
        return f"{self.folder}/{kind}"


def pack_tags(manifest: Mapping[str, Any]) -> dict[str, str]:
    """Metadata every imported asset carries: pack id, prompt, seed, provenance (and how to replay)."""
    request = manifest.get("request", {})
    engine = manifest.get("engine", {})
    tags = {
        "PackId": str(manifest.get("pack_id", "")),
        "Prompt": str(request.get("prompt") or ""),
        "Seed": str(manifest.get("seed", "")),
        "Provenance": json.dumps(manifest.get("provenance", {}), sort_keys=True, separators=(",", ":")),
        "Engine": f"{engine.get('name', 'motif')} {engine.get('version', '')}".strip(),
    }
    replay = manifest.get("replay")
    if isinstance(replay, Mapping) and replay.get("command"):
        tags["Replay"] = str(replay["command"])
    return {TAG_PREFIX + k: v for k, v in tags.items()}


def asset_tags(base: Mapping[str, str], role: str, source: str) -> dict[str, str]:
    return {**base, TAG_PREFIX + "Role": role, TAG_PREFIX + "Source": source}


def plan_pack(pack_dir: Path, manifest: Mapping[str, Any], work_dir: Path, root: str = DEFAULT_ROOT) -> PackPlan:
    """Read the pack's files and write what the engine will import into `work_dir`: per GLB one plain
    GLB per LOD, each embedded texture once (by content), links to the audio and image files.

    ValueError with a sentence when a file is not what the pack says (nothing is imported then)."""
    pack_dir, work_dir = Path(pack_dir), Path(work_dir)
    pack_id = str(manifest.get("pack_id", ""))
    plan = PackPlan(pack_id=pack_id, folder=pack_folder(root, pack_id), title=short_prompt(manifest, 40),
                    tags=pack_tags(manifest))
    roles = assets_by_role(manifest)
    plan.skipped = [f"{role}: {a['path']}" for role in NOT_IMPORTED for a in roles.get(role, [])]
    textures: dict[str, TexturePlan] = {}  # by content sha256
    materials: dict[str, MaterialPlan] = {}  # by glTF material name (shared across the kit)
    kit_json = _kit_json(pack_dir, roles)
    grid_m, meta = kit_info(manifest, kit_json)
    plan.grid_cm = (grid_m or 1.0) * CM_PER_M
    items = kit_items(meta, {})
    spots = layout_kit(items, grid_m)
    if items:
        xs = [spots[i.path][0] + s * i.width / 2 for i in items for s in (-1, 1)]
        ys = [spots[i.path][1] + s * i.depth / 2 for i in items for s in (-1, 1)]
        plan.extent_cm = ((max(xs) - min(xs)) * CM_PER_M, (max(ys) - min(ys)) * CM_PER_M)
    for asset in sorted(roles.get("mesh", []), key=lambda a: str(a["path"])):
        source = str(asset["path"])
        path = pack_dir / source
        try:
            model = glb.read(path)
        except (OSError, ValueError) as exc:
            raise ValueError(f"{source} cannot be read as a GLB: {exc}") from None
        stem = Path(source).stem
        name = asset_name("SM_", stem)
        lod_files = []
        for level, part in enumerate(glb.split_lods(model)):
            lod_name = f"{name}.glb" if level == 0 else f"{name}_LOD{level}.glb"
            lod_files.append(glb.write(part, work_dir / "meshes" / lod_name))
        roles_of = glb.image_roles(model.doc)
        by_index: dict[int, str] = {}
        for img in glb.embedded_images(model):
            role = roles_of.get(img.index, "color")
            digest = hashlib.sha256(img.data).hexdigest()
            tex = textures.get(digest)
            if tex is None:
                tname = _unique(asset_name("T_", img.name), {t.name for t in textures.values()})
                ext = ".png" if img.mime_type in ("image/png", "") else ".jpg"
                file = work_dir / "textures" / f"{tname}{ext}"
                file.parent.mkdir(parents=True, exist_ok=True)
                file.write_bytes(img.data)
                srgb, compression = TEXTURE_SETTINGS[role]
                tex = TexturePlan(tname, file, role, srgb, compression, digest, source)
                textures[digest] = tex
            by_index[img.index] = tex.name
        slots = glb.material_slots(model.doc)
        for m in glb.materials(model.doc):
            if m.name not in materials:
                materials[m.name] = _material_plan(m, by_index,
                                                   {mp.name for mp in materials.values()})
        offset = zup_to_engine(spots[source]) if source in spots else (0.0, 0.0, 0.0)
        coverage = glb.screen_coverage(model.doc)
        plan.meshes.append(MeshPlan(
            name=name, source=source, lod_files=tuple(lod_files),
            screen_sizes=tuple(coverage[: len(lod_files)]) if len(coverage) >= len(lod_files) else (),
            slots=tuple(slots), materials={s: materials[s].name for s in slots if s in materials}, offset=offset))
    plan.textures = list(textures.values())
    plan.materials = list(materials.values())
    for role in ("music", "stem"):
        for asset in sorted(roles.get(role, []), key=lambda a: str(a["path"])):
            source = str(asset["path"])
            stem = Path(source).stem
            name = asset_name("SW_", stem if role == "stem" else f"{stem}_loop")
            plan.sounds.append(SoundPlan(name, _link(pack_dir / source, work_dir / "audio" / f"{name}.wav"),
                                         role, source))
    for asset in sorted(roles.get("image", []), key=lambda a: str(a["path"])):
        source = str(asset["path"])
        name = asset_name("T_", f"{Path(source).stem}_image")
        file = _link(pack_dir / source, work_dir / "images" / f"{name}{Path(source).suffix.lower()}")
        srgb, compression = TEXTURE_SETTINGS["image"]
        plan.images.append(TexturePlan(name, file, "image", srgb, compression, "", source))
    return plan


def _material_plan(m: glb.MaterialInfo, textures: Mapping[int, str], taken: set[str]) -> MaterialPlan:
    tex: dict[str, str] = {}
    for param, image in ((PARAM_BASE_COLOR, m.base_color), (PARAM_ORM, m.orm), (PARAM_NORMAL, m.normal),
                         (PARAM_EMISSIVE, m.emissive)):
        if image is not None and image in textures:
            tex[param] = textures[image]
    e = m.emissive_strength
    emissive = (m.emissive_factor[0] * e, m.emissive_factor[1] * e, m.emissive_factor[2] * e, 1.0)
    return MaterialPlan(
        name=_unique(asset_name("MI_", m.name), taken), source_name=m.name, textures=tex,
        vectors={PARAM_BASE_COLOR_FACTOR: m.base_color_factor, PARAM_EMISSIVE_COLOR: emissive},
        scalars={PARAM_METALLIC: m.metallic, PARAM_ROUGHNESS: m.roughness},
    )


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    i = 2
    while f"{name}_{i}" in taken:
        i += 1
    return f"{name}_{i}"


def _kit_json(pack_dir: Path, roles: Mapping[str, list[dict[str, Any]]]) -> dict[str, Any] | None:
    for asset in roles.get("kit", []):
        try:
            data = json.loads((pack_dir / str(asset["path"])).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None
    return None


def _link(src: Path, dst: Path) -> Path:
    """The file under the asset's name (a hard link where possible; importers name assets after files)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists():
        dst.unlink()
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
    return dst


# ------------------------------------------------------------------ placement


def anchor_in_front(location: Sequence[float], yaw_deg: float, distance_cm: float, grid_cm: float,
                    ground_z: float = 0.0) -> tuple[float, float, float]:
    """Where the kit's centre goes: `distance_cm` ahead of the camera along its yaw, on the ground,
    snapped to the kit's grid (so modular pieces line up with others placed the same way)."""
    yaw = math.radians(yaw_deg)
    x = float(location[0]) + math.cos(yaw) * distance_cm
    y = float(location[1]) + math.sin(yaw) * distance_cm
    return snap((x, y, ground_z), grid_cm)


def snap(point: Sequence[float], grid_cm: float) -> tuple[float, float, float]:
    g = grid_cm if grid_cm > 0 else 100.0
    return (round(float(point[0]) / g) * g, round(float(point[1]) / g) * g, float(point[2]))


def placed(plan: PackPlan, anchor: Sequence[float]) -> dict[str, tuple[float, float, float]]:
    """Every mesh's location in the level (engine units): its layout offset from the anchor."""
    ax, ay, az = (float(c) for c in anchor[:3])
    return {m.name: (round(ax + m.offset[0], 4), round(ay + m.offset[1], 4), round(az + m.offset[2], 4))
            for m in plan.meshes}


def view_distance_cm(plan: PackPlan) -> float:
    """How far ahead of the camera the kit's centre goes: half its larger side plus 3 m."""
    return max(plan.extent_cm) / 2.0 + 300.0


def sound_location(anchor: Sequence[float]) -> tuple[float, float, float]:
    """The ambient loop plays from 2 m above the kit's centre."""
    return (float(anchor[0]), float(anchor[1]), float(anchor[2]) + 200.0)


# ------------------------------------------------------------------ the master material's defaults


def tiny_png(rgb: tuple[int, int, int], size: int = 4) -> bytes:
    """A small solid-colour 8-bit RGB PNG (zlib + struct; hosts without Pillow make their own defaults)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\0" + bytes(rgb) * size
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(row * size, 9))
            + chunk(b"IEND", b""))


DEFAULT_TEXTURES = (  # (asset name, role, colour): what a master material parameter shows unset
    ("T_MotifDefault_White", "color", (255, 255, 255)),
    ("T_MotifDefault_Data", "orm", (255, 255, 255)),
    ("T_MotifDefault_Normal", "normal", (128, 128, 255)),
)


def default_textures(work_dir: Path) -> dict[str, TexturePlan]:
    """The master material's default textures, by role, written as PNGs into `work_dir`: white sRGB
    (colour, emissive), white linear (ORM: no occlusion, factors alone), flat normal. Made by the
    plugin so each default's compression matches its sampler exactly."""
    out = {}
    for name, role, rgb in DEFAULT_TEXTURES:
        data = tiny_png(rgb)
        file = Path(work_dir) / f"{name}.png"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(data)
        srgb, compression = TEXTURE_SETTINGS[role]
        out[role] = TexturePlan(name, file, role, srgb, compression, hashlib.sha256(data).hexdigest(), "")
    return out
