"""Host-free reading and rewriting of binary glTF (GLB) files, for hosts whose importers need help.

A Motif kit GLB keeps its LODs in the `MSFT_lod` extension (docs/MESH.md): LOD0 is the scene's node,
LOD1+ are nodes outside the scene. Importers that do not know the extension (Unreal's Interchange,
for one) see LOD0 only, or worse, every LOD as a separate mesh. `split_lods` writes one plain GLB per
LOD level, each holding only that level's nodes and meshes, so a host can import LOD0 and add the
others as LODs of the same asset. `materials` and `image_roles` say what each material samples and
how each embedded image is used (colour, packed ORM, normal map), so a host can give textures the
right colour space and compression and build its own material instances.

Plain Python (json + struct), no numpy, no host module: every plugin can vendor it.
"""

from __future__ import annotations

import copy
import json
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAGIC = b"glTF"
JSON_CHUNK = 0x4E4F534A
BIN_CHUNK = 0x004E4942
LOD_EXTENSION = "MSFT_lod"
COVERAGE_KEY = "MSFT_screencoverage"


@dataclass
class Glb:
    """A GLB as its JSON document and its binary chunk (the embedded buffer)."""

    doc: dict[str, Any]
    binary: bytes = b""


@dataclass(frozen=True)
class MaterialInfo:
    """What one glTF material asks for (metallic-roughness), with image indices into doc["images"]."""

    name: str
    base_color: int | None = None
    orm: int | None = None  # metallicRoughness (G roughness, B metallic), with occlusion in R when it is the same image
    occlusion: int | None = None  # only when occlusion is a separate image
    normal: int | None = None
    emissive: int | None = None
    base_color_factor: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)
    metallic: float = 1.0
    roughness: float = 1.0
    emissive_factor: tuple[float, float, float] = (0.0, 0.0, 0.0)
    emissive_strength: float = 1.0
    normal_scale: float = 1.0
    extras: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EmbeddedImage:
    index: int
    name: str
    mime_type: str
    data: bytes


def read(path: Path) -> Glb:
    """Parse a GLB file; ValueError with a sentence if it is not one."""
    return parse(Path(path).read_bytes(), str(path))


def parse(data: bytes, label: str = "GLB") -> Glb:
    if len(data) < 20 or data[:4] != MAGIC:
        raise ValueError(f"{label} is not a binary glTF file (no 'glTF' header).")
    version, length = struct.unpack_from("<II", data, 4)
    if version != 2:
        raise ValueError(f"{label} is glTF version {version}; only 2 is supported.")
    if length > len(data):
        raise ValueError(f"{label} is cut short: {len(data)} of {length} bytes.")
    offset = 12
    doc: dict[str, Any] | None = None
    binary = b""
    while offset + 8 <= length:
        size, kind = struct.unpack_from("<II", data, offset)
        chunk = data[offset + 8: offset + 8 + size]
        if len(chunk) != size:
            raise ValueError(f"{label} is cut short inside a chunk.")
        if kind == JSON_CHUNK and doc is None:
            try:
                parsed = json.loads(chunk.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as exc:
                raise ValueError(f"{label} has an unreadable JSON chunk: {exc}.") from None
            if not isinstance(parsed, dict):
                raise ValueError(f"{label} has a JSON chunk that is not an object.")
            doc = parsed
        elif kind == BIN_CHUNK and not binary:
            binary = bytes(chunk)
        offset += 8 + size + (-size % 4)
    if doc is None:
        raise ValueError(f"{label} has no JSON chunk.")
    return Glb(doc, binary)


def dump(glb: Glb) -> bytes:
    """The GLB container: header, JSON chunk (space-padded), BIN chunk (zero-padded) if any."""
    text = json.dumps(glb.doc, separators=(",", ":"), sort_keys=True).encode("utf-8")
    text += b" " * (-len(text) % 4)
    chunks = struct.pack("<II", len(text), JSON_CHUNK) + text
    if glb.binary:
        binary = glb.binary + b"\0" * (-len(glb.binary) % 4)
        chunks += struct.pack("<II", len(binary), BIN_CHUNK) + binary
    return MAGIC + struct.pack("<II", 2, 12 + len(chunks)) + chunks


def write(glb: Glb, path: Path) -> Path:
    """Write atomically (temp file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(dump(glb))
    tmp.replace(path)
    return path


# ------------------------------------------------------------------ LODs


def _scene_roots(doc: Mapping[str, Any]) -> list[int]:
    scenes = doc.get("scenes") or []
    if not scenes:
        return list(range(len(doc.get("nodes", []))))
    scene = scenes[int(doc.get("scene", 0) or 0)] if int(doc.get("scene", 0) or 0) < len(scenes) else scenes[0]
    return [int(n) for n in scene.get("nodes", [])]


def _lod_ids(node: Mapping[str, Any]) -> list[int]:
    ext = (node.get("extensions") or {}).get(LOD_EXTENSION) or {}
    return [int(i) for i in ext.get("ids", [])]


def lod_count(doc: Mapping[str, Any]) -> int:
    """How many LOD levels the scene's nodes carry (1 without MSFT_lod)."""
    nodes = doc.get("nodes", [])
    return 1 + max((len(_lod_ids(nodes[r])) for r in _scene_roots(doc) if r < len(nodes)), default=0)


def screen_coverage(doc: Mapping[str, Any]) -> list[float]:
    """The MSFT_lod screen coverages (one per level) of the first scene node that states them."""
    nodes = doc.get("nodes", [])
    for r in _scene_roots(doc):
        if r < len(nodes):
            cov = (nodes[r].get("extras") or {}).get(COVERAGE_KEY)
            if isinstance(cov, list) and all(isinstance(c, (int, float)) for c in cov):
                return [float(c) for c in cov]
    return []


def split_lods(glb: Glb) -> list[Glb]:
    """One GLB per LOD level (index 0 = LOD0), each a plain glTF with only that level's nodes and
    meshes in its scene. Roots without MSFT_lod appear in every level. The binary chunk is shared
    as it is (unused accessors cost bytes, not correctness)."""
    doc = glb.doc
    nodes = doc.get("nodes", [])
    roots = _scene_roots(doc)
    levels = lod_count(doc)
    out: list[Glb] = []
    for level in range(levels):
        chosen: list[int] = []
        for r in roots:
            ids = _lod_ids(nodes[r]) if r < len(nodes) else []
            chosen.append(r if level == 0 or not ids else ids[min(level, len(ids)) - 1])
        out.append(Glb(_subset(doc, chosen), glb.binary))
    return out


def _subset(doc: Mapping[str, Any], roots: Sequence[int]) -> dict[str, Any]:
    """A copy of `doc` whose only scene holds `roots` (and their children), renumbered; other nodes
    and meshes dropped; MSFT_lod removed."""
    nodes = doc.get("nodes", [])
    keep: list[int] = []
    todo = list(roots)
    while todo:
        n = todo.pop(0)
        if n in keep or n >= len(nodes):
            continue
        keep.append(n)
        todo.extend(int(c) for c in nodes[n].get("children", []))
    node_map = {old: new for new, old in enumerate(keep)}
    mesh_ids = sorted({int(nodes[n]["mesh"]) for n in keep if "mesh" in nodes[n]})
    mesh_map = {old: new for new, old in enumerate(mesh_ids)}
    new = copy.deepcopy({k: v for k, v in doc.items() if k not in ("nodes", "meshes", "scenes", "scene")})
    new_nodes = []
    for old in keep:
        node = copy.deepcopy(nodes[old])
        if "children" in node:
            node["children"] = [node_map[int(c)] for c in node["children"] if int(c) in node_map]
        if "mesh" in node:
            node["mesh"] = mesh_map[int(node["mesh"])]
        exts = node.get("extensions") or {}
        exts.pop(LOD_EXTENSION, None)
        if not exts:
            node.pop("extensions", None)
        extras = node.get("extras") or {}
        extras.pop(COVERAGE_KEY, None)
        if not extras:
            node.pop("extras", None)
        new_nodes.append(node)
    new["nodes"] = new_nodes
    new["meshes"] = [copy.deepcopy(doc["meshes"][m]) for m in mesh_ids]
    scenes = doc.get("scenes") or [{}]
    scene = copy.deepcopy(scenes[0])
    scene["nodes"] = [node_map[r] for r in roots if r in node_map]
    new["scenes"] = [scene]
    new["scene"] = 0
    for key in ("extensionsUsed", "extensionsRequired"):
        if key in new:
            new[key] = [e for e in new[key] if e != LOD_EXTENSION]
            if not new[key]:
                del new[key]
    return new


# ------------------------------------------------------------------ materials and images


def _image_of(doc: Mapping[str, Any], ref: Any) -> int | None:
    if not isinstance(ref, Mapping) or "index" not in ref:
        return None
    textures = doc.get("textures", [])
    t = int(ref["index"])
    if t >= len(textures) or "source" not in textures[t]:
        return None
    return int(textures[t]["source"])


def _floats(value: Any, n: int, default: Sequence[float]) -> tuple[float, ...]:
    if isinstance(value, Sequence) and len(value) >= n:
        try:
            return tuple(float(v) for v in value[:n])
        except (TypeError, ValueError):
            pass
    return tuple(default)


def materials(doc: Mapping[str, Any]) -> list[MaterialInfo]:
    """Every material of the document, in order (unnamed ones are called material_<i>)."""
    out = []
    for i, m in enumerate(doc.get("materials", [])):
        pbr = m.get("pbrMetallicRoughness") or {}
        orm = _image_of(doc, pbr.get("metallicRoughnessTexture"))
        occlusion = _image_of(doc, m.get("occlusionTexture"))
        strength_ext = (m.get("extensions") or {}).get("KHR_materials_emissive_strength") or {}
        strength = strength_ext.get("emissiveStrength", 1.0)
        out.append(MaterialInfo(
            name=str(m.get("name") or f"material_{i}"),
            base_color=_image_of(doc, pbr.get("baseColorTexture")),
            orm=orm if orm is not None else occlusion,
            occlusion=occlusion if occlusion not in (None, orm) else None,
            normal=_image_of(doc, m.get("normalTexture")),
            emissive=_image_of(doc, m.get("emissiveTexture")),
            base_color_factor=_floats(pbr.get("baseColorFactor"), 4, (1.0, 1.0, 1.0, 1.0)),  # type: ignore[arg-type]
            metallic=float(pbr.get("metallicFactor", 1.0)),
            roughness=float(pbr.get("roughnessFactor", 1.0)),
            emissive_factor=_floats(m.get("emissiveFactor"), 3, (0.0, 0.0, 0.0)),  # type: ignore[arg-type]
            emissive_strength=float(strength),
            normal_scale=float((m.get("normalTexture") or {}).get("scale", 1.0)),
            extras=dict(m.get("extras") or {}),
        ))
    return out


def image_roles(doc: Mapping[str, Any]) -> dict[int, str]:
    """How each image is sampled: "normal", "orm" (linear data) or "color" (sRGB). An image used in
    more than one way takes the first of normal, orm, color (data must never be read as sRGB)."""
    roles: dict[int, str] = {}
    rank = {"normal": 0, "orm": 1, "color": 2}
    for m in materials(doc):
        for image, role in ((m.normal, "normal"), (m.orm, "orm"), (m.occlusion, "orm"),
                            (m.base_color, "color"), (m.emissive, "color")):
            if image is not None and (image not in roles or rank[role] < rank[roles[image]]):
                roles[image] = role
    return roles


def material_slots(doc: Mapping[str, Any]) -> list[str]:
    """Material names in the order the scene's meshes use them (what a host's mesh slots are called)."""
    names = [m.name for m in materials(doc)]
    seen: list[str] = []
    nodes = doc.get("nodes", [])
    meshes = doc.get("meshes", [])
    todo = _scene_roots(doc)
    visited: set[int] = set()
    while todo:
        n = todo.pop(0)
        if n in visited or n >= len(nodes):
            continue
        visited.add(n)
        node = nodes[n]
        if "mesh" in node and int(node["mesh"]) < len(meshes):
            for prim in meshes[int(node["mesh"])].get("primitives", []):
                if "material" in prim and int(prim["material"]) < len(names):
                    name = names[int(prim["material"])]
                    if name not in seen:
                        seen.append(name)
        todo.extend(int(c) for c in node.get("children", []))
    return seen


def embedded_images(glb: Glb) -> list[EmbeddedImage]:
    """The images stored in the binary chunk (bufferView images); URI images are skipped."""
    doc = glb.doc
    views = doc.get("bufferViews", [])
    out = []
    for i, img in enumerate(doc.get("images", [])):
        if "bufferView" not in img:
            continue
        view = views[int(img["bufferView"])]
        if int(view.get("buffer", 0)) != 0:
            continue
        start = int(view.get("byteOffset", 0))
        data = glb.binary[start: start + int(view["byteLength"])]
        if len(data) != int(view["byteLength"]):
            raise ValueError(f"image {i} lies outside the GLB's binary chunk.")
        out.append(EmbeddedImage(i, str(img.get("name") or f"image_{i}"), str(img.get("mimeType", "")), data))
    return out
