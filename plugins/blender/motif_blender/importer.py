"""Native import of a downloaded pack into Blender (main thread only).

Everything lands in a collection named after the pack: the kit's GLBs via Blender's glTF importer
laid out on the kit's grid, a sun, the concept image as a reference empty facing the camera; the
world gets the latent's sky; the soundtrack and the clip become strips in the sequencer. The
import is transactional: it builds into a temporary collection and, on any failure (or Cancel),
removes every datablock and strip it made, so nothing half-imported stays behind.

`PackImport.steps()` yields after each asset, so the UI timer can run the import a slice at a time
and keep Blender responsive.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bpy

from .kit import packinfo
from .props import collection_name

# bpy.data collections whose new members an aborted import removes (objects first: they use the rest).
_TRACKED = ("objects", "meshes", "materials", "images", "textures", "node_groups", "lights", "cameras",
            "worlds", "sounds", "movieclips", "actions", "collections", "armatures")
GLB_TYPES = ("model/gltf-binary", "model/gltf+json")
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")
VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".exr", ".webp")
PROP_PREFIX = "motif_"
_LOD = re.compile(r"(?:^|[._-])lod([1-9][0-9]*)$", re.IGNORECASE)  # LOD1+ node names (MSFT_lod kits)
_DUP = re.compile(r"^(.*)\.[0-9]{3}$")  # Blender's name.001 suffix


class ImportFailed(Exception):
    """The pack could not be imported; nothing of it is left in the file."""


@dataclass
class ImportResult:
    collection: Any = None
    objects: list[Any] = field(default_factory=list)
    strips: list[str] = field(default_factory=list)
    world: Any = None
    skipped: list[str] = field(default_factory=list)


def _strips(se: Any) -> Any:
    """Blender 5.0 renamed `sequences` to `strips`; 4.2-4.4 still have the old name."""
    return se.strips if hasattr(se, "strips") else se.sequences


def _strips_all(se: Any) -> Any:
    return se.strips_all if hasattr(se, "strips_all") else se.sequences_all


def sequencer_scene(scene: Any, window: Any | None) -> Any:
    """The scene the sequencer edits: Blender 5.0's workspace.sequencer_scene where set."""
    workspace = getattr(window, "workspace", None) if window is not None else None
    if workspace is None:
        workspace = getattr(bpy.context, "workspace", None)
    seq_scene = getattr(workspace, "sequencer_scene", None) if workspace is not None else None
    return seq_scene or scene


def _set_props(target: Any, values: Mapping[str, Any]) -> None:
    for key, value in values.items():
        if isinstance(value, int) and not isinstance(value, bool) and not -(2**31) <= value < 2**31:
            value = str(value)  # ID properties hold 32-bit ints
        target[PROP_PREFIX + key] = value


class PackImport:
    """One pack's import, run as a sequence of small steps."""

    def __init__(self, scene: Any, pack_dir: Path, manifest: Mapping[str, Any], window: Any | None = None,
                 set_world: bool = True) -> None:
        self.scene = scene
        self.pack_dir = Path(pack_dir)
        self.manifest = dict(manifest)
        self.window = window
        self.set_world = set_world
        self.result = ImportResult()
        self.roles = packinfo.assets_by_role(self.manifest)
        self._before: dict[str, set[int]] = {}
        self._strips_made: list[tuple[Any, str]] = []
        self._seq_editor_made: list[Any] = []
        self._old_world = scene.world
        self._finished = False
        self._measured: dict[str, tuple[float, float]] = {}
        self._roots: dict[str, list[Any]] = {}

    # ------------------------------------------------------------ driving

    def total_steps(self) -> int:
        return len(self._meshes()) + 5

    def run(self) -> ImportResult:
        """The whole import at once (scripts, tests, benchmarks)."""
        for _ in self.steps():
            pass
        return self.result

    def steps(self) -> Iterator[tuple[float, str]]:
        """Yield (fraction, message) after each step; raise ImportFailed after cleaning up."""
        try:
            yield from self._steps()
        except ImportFailed:
            self.abort()
            raise
        except Exception as exc:
            self.abort()
            raise ImportFailed(f"Importing pack {self.manifest.get('pack_id', '')[:8]} failed: "
                               f"{type(exc).__name__}: {exc}. Nothing was imported.") from exc

    def abort(self) -> None:
        """Remove everything this import made (also used for Cancel during an import)."""
        if self._finished:
            return
        self._finished = True
        for seq_scene, name in reversed(self._strips_made):
            se = seq_scene.sequence_editor
            strip = _strips_all(se).get(name) if se else None
            if strip is not None:
                _strips(se).remove(strip)
        for seq_scene in self._seq_editor_made:
            if seq_scene.sequence_editor and not len(_strips_all(seq_scene.sequence_editor)):
                seq_scene.sequence_editor_clear()
        if self.scene.world is not self._old_world:
            self.scene.world = self._old_world
        for attr in _TRACKED:
            before = self._before.get(attr)
            if before is None:
                continue
            datablocks = getattr(bpy.data, attr)
            for idb in [d for d in datablocks if d.as_pointer() not in before]:
                datablocks.remove(idb)
        self.result = ImportResult()

    # ------------------------------------------------------------ the steps

    def _meshes(self) -> list[dict[str, Any]]:
        return [a for a in self.roles.get("mesh", [])
                if a.get("media_type") in GLB_TYPES or str(a["path"]).lower().endswith((".glb", ".gltf"))]

    def _file(self, asset: Mapping[str, Any]) -> Path:
        p = self.pack_dir / str(asset["path"])
        if not p.is_file():
            raise ImportFailed(f"The pack is missing {asset['path']} (expected in {self.pack_dir}). "
                               "Re-import it to download it again.")
        return p

    def _steps(self) -> Iterator[tuple[float, str]]:
        total = self.total_steps()
        done = 0
        self._before = {attr: {d.as_pointer() for d in getattr(bpy.data, attr)} for attr in _TRACKED}
        pack_id = str(self.manifest.get("pack_id", ""))
        col = bpy.data.collections.new(f"Motif (importing) {pack_id[:8]}")
        self.scene.collection.children.link(col)
        self.result.collection = col

        for asset in self._meshes():
            self._import_glb(col, asset)
            done += 1
            yield done / total, f"Imported {asset['path']}"

        self._layout()
        done += 1
        yield done / total, "Laid out the kit"

        latent = self.manifest.get("latent") or {}
        if latent and self.set_world:
            self._world(col, latent)
        done += 1
        yield done / total, "World light"

        images = [a for a in self.roles.get("image", []) if str(a["path"]).lower().endswith(IMAGE_SUFFIXES)]
        if images:
            self._reference_image(col, images[0])
        done += 1
        yield done / total, "Concept image"

        self._sequencer()
        done += 1
        yield done / total, "Sequencer strips"

        self._finish(col)
        done += 1
        yield 1.0, f"Imported into {col.name}"

    def _import_glb(self, col: Any, asset: Mapping[str, Any]) -> None:
        path = self._file(asset)
        objects_before = {o.as_pointer() for o in bpy.data.objects}
        collections_before = {c.as_pointer() for c in bpy.data.collections}
        override = self._override()
        with bpy.context.temp_override(**override):
            result = bpy.ops.import_scene.gltf(filepath=str(path), import_shading="NORMALS")
        if "FINISHED" not in result:
            raise ImportFailed(f"Blender's glTF importer could not read {asset['path']}.")
        new = [o for o in bpy.data.objects if o.as_pointer() not in objects_before]
        if not new:
            raise ImportFailed(f"{asset['path']} holds no objects.")
        for o in new:  # gather into our collection whatever the importer's collection settings
            for c in list(o.users_collection):
                c.objects.unlink(o)
            col.objects.link(o)
            o.select_set(False)
            _set_props(o, {"pack_id": self.manifest.get("pack_id", ""), "role": "mesh", "asset": asset["path"]})
            lod = _LOD.search(o.name)
            if lod:  # the importer has no MSFT_lod support: lower LODs arrive as overlapping objects
                o[PROP_PREFIX + "lod"] = int(lod.group(1))
                o.hide_set(True)
                o.hide_render = True
        for c in [c for c in bpy.data.collections if c.as_pointer() not in collections_before]:
            if c is not col and not len(c.all_objects):
                bpy.data.collections.remove(c)
        roots = [o for o in new if o.parent is None]
        self._roots[str(asset["path"])] = roots
        self._measured[str(asset["path"])] = _footprint(new)
        self.result.objects += new

    def _override(self) -> dict[str, Any]:
        view_layer = self.scene.view_layers[0]
        if self.window is not None and self.window.scene == self.scene:
            view_layer = self.window.view_layer
        override: dict[str, Any] = {"scene": self.scene, "view_layer": view_layer}
        if self.window is not None:
            override["window"] = self.window
        return override

    def _layout(self) -> None:
        if not self._roots:
            return
        self._share_materials()
        kit_json = None
        kits = [a for a in self.roles.get("kit", []) if str(a["path"]).endswith(".json")]
        if kits:
            try:
                kit_json = json.loads(self._file(kits[0]).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ImportFailed(f"The kit description {kits[0]['path']} is unreadable: {exc}.") from exc
        grid, meta = packinfo.kit_info(self.manifest, kit_json if isinstance(kit_json, Mapping) else None)
        meta = {p: m for p, m in meta.items() if p in self._roots}
        items = packinfo.kit_items(meta, self._measured)
        spots = packinfo.layout_kit(items, grid)
        for path, roots in self._roots.items():
            x, y, z = spots.get(path, (0.0, 0.0, 0.0))
            for o in roots:
                o.location = (o.location[0] + x, o.location[1] + y, o.location[2] + z)
        self._kit_extent = packinfo.kit_extent(items, spots)
        self._kit_grid = grid

    def _share_materials(self) -> None:
        """Kit pieces share materials, but each GLB brings its own copy ("steel", "steel.001", …).
        Copies made by this import whose node images hold the same bytes become one material."""
        before = self._before.get("materials", set())
        made = [m for m in bpy.data.materials if m.as_pointer() not in before]
        keep: dict[tuple[str, str], Any] = {}
        for mat in sorted(made, key=lambda m: m.name):
            base = _DUP.match(mat.name)
            key = (base.group(1) if base else mat.name, _material_digest(mat))
            if key[1] and key in keep:
                mat.user_remap(keep[key])
                bpy.data.materials.remove(mat)
            else:
                keep.setdefault(key, mat)
        images_before = self._before.get("images", set())
        for img in [i for i in bpy.data.images if i.as_pointer() not in images_before and i.users == 0]:
            bpy.data.images.remove(img)

    def _world(self, col: Any, latent: Mapping[str, Any]) -> None:
        light = packinfo.world_light(latent)
        pack_id = str(self.manifest.get("pack_id", ""))
        world = bpy.data.worlds.new(f"Motif World [{pack_id[:8]}]")
        tree = world.node_tree
        if tree is None:  # Blender < 5 made node trees on demand
            world.use_nodes = True
            tree = world.node_tree
        bg = next((n for n in tree.nodes if n.type == "BACKGROUND"), None)
        if bg is None:
            bg = tree.nodes.new("ShaderNodeBackground")
            out = next((n for n in tree.nodes if n.type == "OUTPUT_WORLD"), None) or tree.nodes.new(
                "ShaderNodeOutputWorld")
            tree.links.new(bg.outputs["Background"], out.inputs["Surface"])
        bg.inputs["Color"].default_value = (*light.sky, 1.0)
        bg.inputs["Strength"].default_value = light.strength
        world.color = light.sky  # Workbench and the viewport use this
        _set_props(world, {"pack_id": pack_id})
        self.scene.world = world
        self.result.world = world

        sun_data = bpy.data.lights.new(f"Motif Sun [{pack_id[:8]}]", type="SUN")
        sun_data.color = light.sun_color
        sun_data.energy = light.sun_energy
        sun = bpy.data.objects.new(sun_data.name, sun_data)
        elevation = math.radians(light.sun_elevation_deg)
        azimuth = math.radians(light.sun_azimuth_deg)
        # A sun points along its local -Z: tilt from straight down by (90° - elevation), turn by azimuth.
        sun.rotation_euler = (math.pi / 2 - elevation, 0.0, azimuth)
        sun.location = (0.0, 0.0, 10.0)
        _set_props(sun, {"pack_id": pack_id, "role": "light"})
        col.objects.link(sun)
        self.result.objects.append(sun)

    def _reference_image(self, col: Any, asset: Mapping[str, Any]) -> None:
        path = self._file(asset)
        img = bpy.data.images.load(str(path), check_existing=False)
        img.name = f"Motif Concept [{str(self.manifest.get('pack_id', ''))[:8]}]"
        img.pack()  # the reference stays with the .blend even if the pack folder goes
        empty = bpy.data.objects.new(img.name, None)
        empty.empty_display_type = "IMAGE"
        empty.data = img
        empty.empty_image_offset = (-0.5, -0.5)
        width, depth = getattr(self, "_kit_extent", (6.0, 6.0))
        size = max(width, depth, 4.0)
        empty.empty_display_size = size
        cam = self.scene.camera
        if cam is not None:
            # Same orientation as the camera: the image plane's normal points back at it.
            mw = cam.matrix_world
            forward = -mw.col[2].xyz.normalized()
            distance = max(size * 1.5, 5.0)
            empty.location = mw.translation + forward * distance
            empty.rotation_euler = mw.to_euler()
        else:
            # No camera: stand it up behind the kit, facing the front view (-Y).
            empty.location = (0.0, depth / 2.0 + 1.0 + size * 0.05, size * 0.5)
            empty.rotation_euler = (math.pi / 2, 0.0, 0.0)
        empty.show_empty_image_orthographic = True
        empty.show_empty_image_perspective = True
        empty.use_empty_image_alpha = True
        empty.color[3] = 0.85
        _set_props(empty, {"pack_id": self.manifest.get("pack_id", ""), "role": "image", "asset": asset["path"]})
        col.objects.link(empty)
        self.result.objects.append(empty)

    def _sequencer(self) -> None:
        music = [a for a in self.roles.get("music", []) if str(a["path"]).lower().endswith(AUDIO_SUFFIXES)]
        video = [a for a in self.roles.get("video", []) if str(a["path"]).lower().endswith(VIDEO_SUFFIXES)]
        stems = [a for a in self.roles.get("stem", []) if str(a["path"]).lower().endswith(AUDIO_SUFFIXES)]
        if not (music or video or stems):
            return
        seq_scene = sequencer_scene(self.scene, self.window)
        if seq_scene.sequence_editor is None:
            seq_scene.sequence_editor_create()
            self._seq_editor_made.append(seq_scene)
        se = seq_scene.sequence_editor
        channel = max((s.channel for s in _strips_all(se)), default=0) + 1
        start = seq_scene.frame_start
        pack_id = str(self.manifest.get("pack_id", ""))
        props = {"pack_id": pack_id}
        for asset in music[:1]:
            strip = _strips(se).new_sound(f"Motif Music [{pack_id[:8]}]", str(self._file(asset)), channel, start)
            self._made_strip(seq_scene, strip, {**props, "role": "music", "asset": asset["path"]})
            channel += 1
        for asset in video[:1]:
            strip = _strips(se).new_movie(f"Motif Clip [{pack_id[:8]}]", str(self._file(asset)), channel, start,
                                          fit_method="FIT")
            self._made_strip(seq_scene, strip, {**props, "role": "video", "asset": asset["path"]})
            channel += 1
        for asset in stems:
            name = f"Motif Stem {Path(str(asset['path'])).stem[:24]} [{pack_id[:8]}]"
            strip = _strips(se).new_sound(name, str(self._file(asset)), channel, start)
            strip.mute = True  # stems are for mixing; the full mix plays
            self._made_strip(seq_scene, strip, {**props, "role": "stem", "asset": asset["path"]})
            channel += 1

    def _made_strip(self, seq_scene: Any, strip: Any, props: Mapping[str, Any]) -> None:
        self._strips_made.append((seq_scene, strip.name))
        _set_props(strip, props)
        self.result.strips.append(strip.name)

    def _finish(self, col: Any) -> None:
        m = self.manifest
        request = m.get("request", {})
        col.name = collection_name(m)
        _set_props(col, {
            "pack_id": str(m.get("pack_id", "")),
            "prompt": str(request.get("prompt", "")),
            "seed": int(m.get("seed", 0)),
            "decoders": ",".join(packinfo.pack_decoders(m)),
            "quality": str(request.get("quality", "draft")),
            "pack_dir": str(self.pack_dir),
            "replay": str(m.get("replay", {}).get("command", "")),
            "engine": str(m.get("engine", {}).get("version", "")),
        })
        known = {"mesh", "kit", "image", "music", "video", "stem", "provenance"}  # provenance: metadata only
        self.result.skipped = sorted({a.get("role", "") for a in m.get("assets", [])} - known)
        self._finished = True


def _material_digest(mat: Any) -> str:
    """sha256 over the material's node types and its images' pixels as packed by the importer."""
    tree = mat.node_tree
    if tree is None:
        return ""
    digest = hashlib.sha256()
    for node in sorted(tree.nodes, key=lambda n: n.name):
        digest.update(node.bl_idname.encode())
        image = getattr(node, "image", None)
        if image is not None:
            if image.packed_file is None:
                return ""  # not comparable cheaply: keep it separate
            digest.update(image.packed_file.data)
    for node in tree.nodes:
        for socket in node.inputs:
            value = getattr(socket, "default_value", None)
            if isinstance(value, (int, float)):
                digest.update(f"{node.name}.{socket.identifier}={value:.6g}".encode())
    return digest.hexdigest()


def _footprint(objects: list[Any]) -> tuple[float, float]:
    """World-space X/Y extent of the meshes among `objects` (Blender is Z up after import)."""
    xs: list[float] = []
    ys: list[float] = []
    for o in objects:
        if o.type != "MESH":
            continue
        mw = o.matrix_world
        for corner in o.bound_box:
            v = mw @ _vec(corner)
            xs.append(v[0])
            ys.append(v[1])
    if not xs:
        return (1.0, 1.0)
    return (max(xs) - min(xs), max(ys) - min(ys))


def _vec(c: Any) -> Any:
    from mathutils import Vector

    return Vector((c[0], c[1], c[2]))
