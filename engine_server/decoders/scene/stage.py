"""The Blender stage: the pack's kit dressed into a set, with ground, backdrop, sky, sun and
practical lights, rendered by Cycles on the CPU into linear passes that post.py finishes.

One stage is built per job (scene building costs ~1 s; each render then only moves the camera,
with persistent data so Cycles keeps its BVH). Renders come back as numpy arrays read from
uncompressed EXRs that the compositor writes: beauty (denoised), planar depth, mist (radial
distance) and, when a light flickers, that light group's own contribution.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine_server.decoders.scene.camera import SENSOR_W, Camera, Framing
from engine_server.decoders.scene.exr import read_exr
from engine_server.decoders.scene.layout import KitPiece, SetLayout
from engine_server.decoders.scene.look import Look
from engine_server.errors import DecoderFailed

MIST_DEPTH = 4000.0  # metres mapped to mist = 1 (anything farther is sky)
URBAN = ("architectural", "industrial", "scifi", "medieval")
_LOD = re.compile(r"_lod\d+(\.\d+)?$")

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class RenderSettings:
    samples: int
    denoise: bool = True
    adaptive_threshold: float = 0.03
    bands: int = 1
    denoise_quality: str = "BALANCED"  # OIDN: FAST | BALANCED | HIGH
    normal_maps: bool = True  # drafts skip them: ~15 % of the shading cost, invisible at draft size


@dataclass
class Passes:
    rgb: np.ndarray  # (h, w, 3) linear scene-referred
    depth: np.ndarray  # (h, w) planar distance along the view axis, metres (sky: huge)
    dist: np.ndarray  # (h, w) radial distance, metres, anti-aliased (sky: MIST_DEPTH)
    flicker: np.ndarray | None  # (h, w, 3) contribution of the flickering light group


_BLENDER_SCRIPTS = re.compile(r"[/\\]bpy[/\\]\d+\.\d+[/\\]scripts")


@dataclass(frozen=True)
class Canopy:
    """A forest's overhead: leaf masses (centre, radii in metres) and trunks (foot, radius, height)."""

    leaves: tuple[tuple[tuple[float, float, float], tuple[float, float, float]], ...]
    trunks: tuple[tuple[tuple[float, float], float, float], ...]


def canopy_plan(environment: str, framing: Framing, sun: np.ndarray, rng: np.random.Generator) -> Canopy:
    """Forest only: leaf masses hung along the frame's top edge, more up the sun's line over the set (their
    shadows dapple the ground in view), and trunks at the frame's sides beyond the set. Other places: none."""
    if environment != "forest":
        return Canopy((), ())
    cam = framing.camera
    pos = np.asarray(cam.position)
    w, h = 1600, 900
    leaves: list[tuple[tuple[float, float, float], tuple[float, float, float]]] = []
    for k in range(6):  # across the top edge, near to far
        u = (k + float(rng.uniform(-0.3, 0.3))) / 5 * 1.2 - 0.1
        d = float(rng.uniform(7.0, 16.0))
        edge = pos + cam.rays(np.array([u * w]), np.array([0.0]), w, h)[0] * d
        r = d * cam.tan_half_h(framing.aspect) * float(rng.uniform(0.35, 0.55))
        leaves.append(((float(edge[0]), float(edge[1]), float(edge[2] + 0.1 * r)), (r * 1.4, r * 1.2, r * 0.6)))
    s = sun / np.linalg.norm(sun)
    lift = max(float(s[2]), 0.2)  # a low sun's shadows stretch far: keep the casters near
    for _ in range(5):  # up the sun's line from ground points in view, high over the set
        gx, gy = framing.ground_point(float(rng.uniform(0.1, 0.9)), float(rng.uniform(0.5, 1.1)) * framing.back_depth)
        z = float(rng.uniform(10.0, 14.0))
        c = np.array([gx, gy, 0.0]) + s / lift * z
        r = float(rng.uniform(2.5, 4.0))
        leaves.append(((float(c[0]), float(c[1]), max(float(c[2]), z)), (r * 1.3, r * 1.3, r * 0.5)))
    trunks = []
    for k, u in enumerate((-0.02, 0.06, 0.94, 1.02)):
        d = framing.back_depth * float(rng.uniform(1.1, 1.6)) + 2.0 * (k % 2)
        x, y = framing.ground_point(u, d)
        trunks.append(((x, y), float(rng.uniform(0.3, 0.5)), float(rng.uniform(14.0, 20.0))))
    return Canopy(tuple(leaves), tuple(trunks))


def _bpy() -> Any:
    """The bpy module. A worker spawned by a process that had imported bpy inherits its sys.path,
    which starts with Blender's scripts/modules: there a pure-Python `bpy` package (that needs
    `_bpy`, which exists only inside the Blender executable) would shadow the real module."""
    if "bpy" not in sys.modules:
        sys.path[:] = [p for p in sys.path if not _BLENDER_SCRIPTS.search(p)]
    import bpy

    return bpy


def reset() -> None:
    """An empty Blender session (the worker process is reused between jobs)."""
    bpy = _bpy()
    bpy.ops.wm.read_factory_settings(use_empty=True)


_renderer_warm = False


def warm_up_renderer() -> None:
    """Pay the renderer's one-off start-up in an idle worker instead of in the user's first job.

    The first Cycles render in a process costs ~0.6 s more than the next (devices, kernels,
    OpenImageDenoise), on top of importing bpy (~0.8 s). A 16 px, 1-sample render with the denoiser
    pays both for ~0.1 s; the session is reset afterwards, so no setting reaches a job.
    """
    global _renderer_warm
    if _renderer_warm:
        return
    bpy = _bpy()
    reset()
    scene = bpy.context.scene
    camera = bpy.data.objects.new("warm-up camera", bpy.data.cameras.new("warm-up camera"))
    scene.collection.objects.link(camera)
    scene.camera = camera
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = 1
    scene.cycles.use_denoising = True
    scene.cycles.denoiser = "OPENIMAGEDENOISE"
    scene.render.resolution_x = scene.render.resolution_y = 16
    scene.render.resolution_percentage = 100
    bpy.ops.render.render(write_still=False)
    reset()
    _renderer_warm = True


class Stage:
    """Builds the scene once; `render(camera, ...)` renders it from any camera."""

    def __init__(self, pieces: Sequence[KitPiece], layout: SetLayout, look: Look, framing: Framing, style: str,
                 seed: int, workdir: Path, progress: Progress | None = None) -> None:
        self.look = look
        self.framing = framing
        self.style = style
        self.seed = seed
        self.workdir = workdir
        self.rng = np.random.default_rng(seed ^ 0x5CE9E)
        self._progress = progress or (lambda f, m: None)
        self.has_flicker = False
        reset()
        bpy = _bpy()
        self.scene = bpy.context.scene
        self.scene.render.engine = "CYCLES"
        self.set_coll = bpy.data.collections.new("motif_set")
        self.scene.collection.children.link(self.set_coll)
        self._protos: dict[str, list[Any]] = {}
        self._wall_height = max((p.height for p in pieces if p.archetype == "wall"), default=3.0) + layout.floor_top
        self._emissive_centres: dict[str, list[tuple[float, float, float]]] = {}
        for i, piece in enumerate(pieces):
            self._import(piece)
            self._progress((i + 1) / (len(pieces) + 3), f"staging {piece.name}")
        self._dress(layout, {p.name: p for p in pieces})
        self._ground()
        self._backdrop(layout)
        if look.environment == "forest":
            self._canopy()
        if layout.room is not None:
            self._shell(layout.room)
        if layout.water is not None:
            self._water(*layout.water)
        self._progress((len(pieces) + 2) / (len(pieces) + 3), "lighting")
        self._world()
        self._sun()
        self._camera_object()
        self._compositor_ready = False

    # ------------------------------------------------------------------ kit

    def _import(self, piece: KitPiece) -> None:
        bpy = _bpy()
        logging.getLogger("glTFImporter").setLevel(logging.WARNING)
        before = set(bpy.data.objects)
        try:
            with quiet_stdout():
                result = bpy.ops.import_scene.gltf(filepath=piece.path)
        except Exception as exc:  # the importer raises RuntimeError on a damaged file
            raise DecoderFailed(f"The kit piece {piece.name} could not be read by the renderer: {exc}") from exc
        if "FINISHED" not in result:
            raise DecoderFailed(f"The kit piece {piece.name} could not be imported into the renderer.")
        new = [o for o in bpy.data.objects if o not in before]
        for o in new:  # flatten any hierarchy so instances can copy world matrices directly
            if o.parent is not None:
                mw = o.matrix_world.copy()
                o.parent = None
                o.matrix_world = mw
        keep = []
        for o in new:
            if o.type != "MESH" or _LOD.search(o.name):
                data = o.data if o.type == "MESH" else None
                bpy.data.objects.remove(o, do_unlink=True)
                if data is not None and data.users == 0:
                    bpy.data.meshes.remove(data)
            else:
                keep.append(o)
        for o in keep:
            for coll in list(o.users_collection):
                coll.objects.unlink(o)
        for coll in list(bpy.data.collections):  # the importer's own collections are empty now
            if coll is not self.set_coll and not coll.objects and not coll.children:
                bpy.data.collections.remove(coll)
        self._protos[piece.name] = keep
        self._emissive_centres[piece.name] = [c for o in keep for c in self._emissive_parts(o)]
        self._tune_materials(keep)

    def _emissive_parts(self, obj: Any) -> list[tuple[float, float, float]]:
        """Area-weighted centres (world) of the faces whose material glows: where lamps go."""
        mesh = obj.data
        glow = {i for i, m in enumerate(mesh.materials) if m is not None and _emission_strength(m) > 0}
        if not glow:
            return []
        n = len(mesh.polygons)
        mi = np.zeros(n, dtype=np.int32)
        mesh.polygons.foreach_get("material_index", mi)
        ctr = np.zeros(n * 3, dtype=np.float32)
        mesh.polygons.foreach_get("center", ctr)
        area = np.zeros(n, dtype=np.float32)
        mesh.polygons.foreach_get("area", area)
        sel = np.isin(mi, list(glow))
        if not sel.any():
            return []
        c = ctr.reshape(-1, 3)[sel]
        a = area[sel][:, None]
        local = (c * a).sum(0) / max(float(a.sum()), 1e-9)
        mw = np.array(obj.matrix_world)
        world = mw[:3, :3] @ local + mw[:3, 3]
        return [(float(world[0]), float(world[1]), float(world[2]))]

    def _tune_materials(self, objs: Sequence[Any]) -> None:
        """Practical lights glow harder when the scene is dark."""
        boost = 1.0 + 4.0 * self.look.practical
        seen: set[str] = set()
        if not hasattr(self, "_normal_links"):
            self._normal_links: list[tuple[Any, Any, Any]] = []
        for o in objs:
            for m in o.data.materials:
                if m is None or m.name in seen:
                    continue
                seen.add(m.name)
                # glowing parts are seen, not sampled as lights: point lights carry their light
                m.cycles.emission_sampling = "NONE"
                for n in m.node_tree.nodes:
                    if n.bl_idname == "ShaderNodeNormalMap":
                        self._normal_links += [(m, n, link.to_socket) for link in n.outputs["Normal"].links]
                p = _principled(m)
                if p is not None and _emission_strength(m) > 0:
                    p.inputs["Emission Strength"].default_value = _emission_strength(m) * boost
                elif self.look.frost > 0:
                    self._frost(m)

    def _dress(self, layout: SetLayout, pieces: dict[str, KitPiece]) -> None:
        from mathutils import Matrix

        bpy = _bpy()
        look = self.look
        flicker_pick: int | None = None
        lamp_places = [i for i, p in enumerate(layout.placements) if self._emissive_centres.get(p.piece)]
        if look.flicker and lamp_places:
            flicker_pick = lamp_places[int(self.rng.integers(0, len(lamp_places)))]
        if look.flicker and flicker_pick is not None:
            self.scene.view_layers[0].lightgroups.add(name="flicker")
            self.has_flicker = True
        for i, pl in enumerate(layout.placements):
            protos = self._protos.get(pl.piece, [])
            tr = Matrix.Translation((pl.x, pl.y, pl.z)) @ Matrix.Rotation(math.radians(pl.rot), 4, "Z")
            for proto in protos:
                inst = proto.copy()
                inst.matrix_world = tr @ proto.matrix_world
                self.set_coll.objects.link(inst)
                if i == flicker_pick:
                    inst.lightgroup = "flicker"
            if look.practical > 0.05:
                arch = pieces[pl.piece].archetype if pl.piece in pieces else ""
                for c in self._emissive_centres.get(pl.piece, []):
                    world = tr @ _vec(c)
                    colour = look.lamp_color if arch in ("lamp_post", "stall", "awning") else look.accents[0]
                    power = (30.0 + 120.0 * look.practical) * (1.0 if arch == "lamp_post" else 0.4)
                    light = self._point_light(f"practical_{i}", world, colour, power)
                    if i == flicker_pick:
                        light.lightgroup = "flicker"
        bpy.context.view_layer.update()

    def _point_light(self, name: str, at: Any, colour: Sequence[float], power: float) -> Any:
        bpy = _bpy()
        data = bpy.data.lights.new(name, "POINT")
        data.energy = power
        data.color = tuple(colour)
        data.shadow_soft_size = 0.15
        obj = bpy.data.objects.new(name, data)
        obj.location = (at[0], at[1], at[2] - 0.05)
        self.set_coll.objects.link(obj)
        return obj

    # ------------------------------------------------------------------ environment

    def _ground(self) -> None:
        bpy = _bpy()
        look = self.look
        mesh = bpy.data.meshes.new("ground")
        s = 1500.0
        mesh.from_pydata([(-s, -s, 0), (s, -s, 0), (s, s, 0), (-s, s, 0)], [], [(0, 1, 2, 3)])
        obj = bpy.data.objects.new("ground", mesh)
        self.set_coll.objects.link(obj)
        mat = bpy.data.materials.new("motif_ground")
        nt = mat.node_tree
        p = _principled(mat)
        assert p is not None
        coord = nt.nodes.new("ShaderNodeTexCoord")
        noise = nt.nodes.new("ShaderNodeTexNoise")
        noise.inputs["Scale"].default_value = 0.08
        noise.inputs["Detail"].default_value = 6.0
        nt.links.new(coord.outputs["Object"], noise.inputs["Vector"])
        ramp = nt.nodes.new("ShaderNodeValToRGB")
        ramp.color_ramp.elements[0].color = (*look.ground_color, 1.0)
        ramp.color_ramp.elements[1].color = (*[c * 0.8 + 0.2 * a for c, a in zip(look.ground_color, look.ground_alt,
                                                                                   strict=True)], 1.0)
        nt.links.new(noise.outputs["Fac"], ramp.inputs["Fac"])
        base = ramp.outputs["Color"]
        rough_val = look.ground_roughness
        if look.snow_cover > 0.05:
            snow_mix = nt.nodes.new("ShaderNodeMix")
            snow_mix.data_type = "RGBA"
            snow_mix.inputs["Factor"].default_value = min(0.95, 0.4 + 0.6 * look.snow_cover)
            nt.links.new(base, snow_mix.inputs["A"])
            snow_mix.inputs["B"].default_value = (0.82, 0.85, 0.9, 1.0)
            base = snow_mix.outputs["Result"]
            rough_val = 0.7
        nt.links.new(base, p.inputs["Base Color"])
        if look.caustics > 0:
            self._caustics(nt, p, coord)
        if look.wetness > 0.05:
            # puddles: a low-frequency mask where the ground turns to a near mirror
            puddle = nt.nodes.new("ShaderNodeTexNoise")
            puddle.inputs["Scale"].default_value = 0.25
            nt.links.new(coord.outputs["Object"], puddle.inputs["Vector"])
            pr = nt.nodes.new("ShaderNodeMapRange")
            lo = 0.62 - 0.2 * look.wetness
            pr.inputs["From Min"].default_value = lo
            pr.inputs["From Max"].default_value = lo + 0.06
            pr.inputs["To Min"].default_value = rough_val
            pr.inputs["To Max"].default_value = 0.04
            nt.links.new(puddle.outputs["Fac"], pr.inputs["Value"])
            nt.links.new(pr.outputs["Result"], p.inputs["Roughness"])
        else:
            p.inputs["Roughness"].default_value = rough_val
        obj.data.materials.append(mat)

    def _caustics(self, nt: Any, p: Any, coord: Any) -> None:
        """Rippling light under water: the bright edges of a warped Voronoi pattern, emitted in the sun's
        colour on the ground (cheap: no caustic photons, and it repeats exactly from the seed)."""
        look = self.look
        warp = nt.nodes.new("ShaderNodeTexNoise")
        warp.inputs["Scale"].default_value = 0.35
        nt.links.new(coord.outputs["Object"], warp.inputs["Vector"])
        mix = nt.nodes.new("ShaderNodeMix")
        mix.data_type = "VECTOR"
        mix.inputs["Factor"].default_value = 0.35
        nt.links.new(coord.outputs["Object"], mix.inputs[4])
        nt.links.new(warp.outputs["Color"], mix.inputs[5])
        vor = nt.nodes.new("ShaderNodeTexVoronoi")
        vor.feature = "DISTANCE_TO_EDGE"
        vor.inputs["Scale"].default_value = 0.9
        nt.links.new(mix.outputs[1], vor.inputs["Vector"])
        edge = nt.nodes.new("ShaderNodeMapRange")
        edge.inputs["From Min"].default_value = 0.0
        edge.inputs["From Max"].default_value = 0.08
        edge.inputs["To Min"].default_value = 1.0
        edge.inputs["To Max"].default_value = 0.0
        nt.links.new(vor.outputs["Distance"], edge.inputs["Value"])
        p.inputs["Emission Color"].default_value = (*look.sun_color, 1.0)
        strength = _math(nt, "MULTIPLY", edge.outputs["Result"], 0.25 * look.caustics * max(look.sun_strength, 0.5))
        nt.links.new(strength, p.inputs["Emission Strength"])

    def _frost(self, m: Any) -> None:
        """Snow settles where surfaces face up: base colour toward snow white, rougher, by the world normal."""
        p = _principled(m)
        if p is None:
            return
        nt = m.node_tree
        geo = nt.nodes.new("ShaderNodeNewGeometry")
        sep = nt.nodes.new("ShaderNodeSeparateXYZ")
        nt.links.new(geo.outputs["Normal"], sep.inputs[0])
        up = nt.nodes.new("ShaderNodeMapRange")
        up.inputs["From Min"].default_value = 0.55
        up.inputs["From Max"].default_value = 0.8
        up.inputs["To Max"].default_value = self.look.frost
        nt.links.new(sep.outputs["Z"], up.inputs["Value"])
        mix = nt.nodes.new("ShaderNodeMix")
        mix.data_type = "RGBA"
        nt.links.new(up.outputs["Result"], mix.inputs["Factor"])
        src = p.inputs["Base Color"]
        if src.links:
            nt.links.new(src.links[0].from_socket, mix.inputs["A"])
        else:
            mix.inputs["A"].default_value = src.default_value
        mix.inputs["B"].default_value = (0.85, 0.88, 0.93, 1.0)
        nt.links.new(mix.outputs["Result"], src)

    def _backdrop(self, layout: SetLayout) -> None:
        """Distant skyline (towns) or hills (nature) that read through the fog as depth."""
        bpy = _bpy()
        look = self.look
        if look.environment == "interior" or look.enclosure:
            return  # a room or a corridor: no skyline or hills beyond the set
        fr = self.framing
        cam = fr.camera
        rng = self.rng
        row_y = max((p.y for p in layout.placements if p.role == "wall"), default=0.0)
        # beyond the wall row; across open water, a town or hills on the far shore
        far0 = max(fr.back_depth, row_y) + (18.0 if layout.water is None else 90.0)
        sky = layout.skyline
        urban = self.style in URBAN and look.environment not in ("underwater", "desert", "forest", "snow")
        mat = self._building_material() if urban else self._hill_material()
        cube = bpy.data.meshes.new("unit_box")
        cube.from_pydata(
            [(-0.5, -0.5, 0), (0.5, -0.5, 0), (0.5, 0.5, 0), (-0.5, 0.5, 0),
             (-0.5, -0.5, 1), (0.5, -0.5, 1), (0.5, 0.5, 1), (-0.5, 0.5, 1)],
            [], [(0, 3, 2, 1), (4, 5, 6, 7), (0, 1, 5, 4), (1, 2, 6, 5), (2, 3, 7, 6), (3, 0, 4, 7)],
        )
        cube.materials.append(mat)
        if not urban:
            sphere = self._hill_mesh(mat)
            for row, dist in enumerate((far0 + 40, far0 + 140)):
                n = 7
                for i in range(n):
                    u = (i + rng.uniform(-0.3, 0.3)) / (n - 1)
                    x, y = fr.ground_point(u * 1.3 - 0.15, dist)
                    h = (6 + 22 * sky[int(u * (len(sky) - 1)) if 0 <= u <= 1 else 0]) * (1.0 + row)
                    o = bpy.data.objects.new(f"hill_{row}_{i}", sphere)
                    o.location = (x, y, -h * 0.35)
                    o.scale = (rng.uniform(30, 60) * (1 + row), rng.uniform(20, 40), h)
                    self.set_coll.objects.link(o)
            return
        # Heights are set by angle, so the skyline peeks over the wall row however far it stands:
        # the wall top's elevation plus up to a quarter of the frame (towers more, in sci-fi).
        eye = cam.position[2]
        vfov = 2 * math.atan(cam.tan_half_h(fr.aspect))
        # without a wall row (open water before a town, say) the skyline stays low over the horizon; a row
        # pushed back (behind an outdoor hero that is not a building) keeps it low as well
        wall_ang = math.atan(max(self._wall_height - eye, 0.5) / row_y) if row_y > 0 else 0.0
        reach = {"scifi": 0.3, "architectural": 0.18, "industrial": 0.13, "medieval": 0.1}[self.style]
        if row_y > fr.back_depth * 1.3 or row_y == 0.0:
            reach *= 0.5
        for row, dist in enumerate((far0, far0 + 45.0, far0 + 110.0)):
            half = dist * cam.tan_half_w * 1.3
            x = -half
            k = 0
            while x < half:
                w = float(rng.uniform(7, 16) * (1 + 0.5 * row))
                u = 0.5 + (x + w / 2) / (2 * half / 1.3)
                rel = sky[int(np.clip(u, 0, 0.999) * len(sky))]
                ang = wall_ang * (1.0 - 0.2 * row) + vfov * (0.015 + reach * rel * float(rng.uniform(0.75, 1.15))) * (
                    1.0 - 0.25 * row)
                h = max(4.0, eye + dist * math.tan(ang))
                gx, gy = fr.ground_point(0.5, dist)
                o = bpy.data.objects.new(f"bld_{row}_{k}", cube)
                o.location = (gx + x + w / 2, gy + float(rng.uniform(-6, 6)), 0.0)
                o.scale = (w * 0.92, float(rng.uniform(8, 18)), h)
                self.set_coll.objects.link(o)
                if look.practical > 0.3 and row < 2 and rng.random() < 0.35:
                    self._sign_panel(f"sign_{row}_{k}", (gx + x + w / 2, gy - 9.5, h * float(rng.uniform(0.35, 0.8))),
                                     w * 0.5, look.accents[int(rng.integers(0, len(look.accents)))])
                x += w
                k += 1

    def _canopy(self) -> None:
        """Leaf masses overhead and trunks at the sides (`canopy_plan`), in the look's foliage green."""
        bpy = _bpy()
        look = self.look
        plan = canopy_plan(look.environment, self.framing, self.sun_direction(), self.rng)
        green = np.asarray(look.hill_color if look.hill_color is not None else self._toward("#1f3a22", 0.6))
        leaf = self._surface("motif_leaves", [float(c) * 0.8 for c in green], 0.85)
        bark = self._surface("motif_bark", [c * 0.5 for c in self._toward("#4a3626", 0.4)], 0.9)
        blob = bpy.data.meshes.new("leaf_mass")
        rings, segs = 5, 9  # low-poly: the fog and the shade hide the facets
        verts = [(0.0, 0.0, -1.0)] + [
            (math.sin(math.pi * i / rings) * math.cos(2 * math.pi * j / segs),
             math.sin(math.pi * i / rings) * math.sin(2 * math.pi * j / segs), -math.cos(math.pi * i / rings))
            for i in range(1, rings) for j in range(segs)] + [(0.0, 0.0, 1.0)]
        top = len(verts) - 1
        faces: list[tuple[int, ...]] = [(0, 1 + (j + 1) % segs, 1 + j) for j in range(segs)]
        for i in range(rings - 2):
            for j in range(segs):
                a, b = 1 + i * segs + j, 1 + i * segs + (j + 1) % segs
                faces.append((a, b, b + segs, a + segs))
        last = 1 + (rings - 2) * segs
        faces += [(last + j, last + (j + 1) % segs, top) for j in range(segs)]
        blob.from_pydata(verts, [], faces)
        blob.materials.append(leaf)
        for i, (c, r) in enumerate(plan.leaves):
            o = bpy.data.objects.new(f"canopy_{i}", blob)
            o.location = c
            o.scale = r
            o.rotation_euler = (0.0, 0.0, float(self.rng.uniform(0.0, math.pi)))
            self.set_coll.objects.link(o)
        for i, ((x, y), rad, hgt) in enumerate(plan.trunks):
            self._box(f"trunk_{i}", (x, y, hgt / 2), (2 * rad, 2 * rad, hgt), bark)

    def _toward(self, anchor_hex: str, amount: float) -> tuple[float, float, float]:
        """An anchor colour moved toward its nearest palette colour: the set's surfaces keep the pack's palette."""
        from engine_server.decoders.scene.look import tint
        from engine_server.oklab import hex_to_srgb, linear_to_oklab, srgb_to_linear

        a = srgb_to_linear(np.array(hex_to_srgb(anchor_hex), dtype=np.float32))
        la = linear_to_oklab(a)
        pal = [np.asarray(c, dtype=np.float32) for c in self.look.palette_lin]
        near = min(pal, key=lambda c: float(np.linalg.norm(linear_to_oklab(c) - la)))
        c = tint(a, near, amount)
        return (float(c[0]), float(c[1]), float(c[2]))

    def _quads(self, name: str, quads: Sequence[Sequence[tuple[float, float, float]]], mat: Any) -> Any:
        bpy = _bpy()
        verts = [v for q in quads for v in q]
        faces = [tuple(range(4 * i, 4 * i + 4)) for i in range(len(quads))]
        mesh = bpy.data.meshes.new(name)
        mesh.from_pydata(verts, [], faces)
        mesh.materials.append(mat)
        obj = bpy.data.objects.new(name, mesh)
        self.set_coll.objects.link(obj)
        return obj

    def _surface(self, name: str, base: Sequence[float], rough: float, metallic: float = 0.0,
                 seams: tuple[float, float] | None = None) -> Any:
        """A shell material: the base colour with a little noise; `seams` (cell width, height in metres)
        draws dark panel joints on any face, for sci-fi bulkheads."""
        bpy = _bpy()
        mat = bpy.data.materials.new(name)
        nt = mat.node_tree
        p = _principled(mat)
        assert p is not None
        p.inputs["Roughness"].default_value = rough
        p.inputs["Metallic"].default_value = metallic
        geo = nt.nodes.new("ShaderNodeNewGeometry")
        noise = nt.nodes.new("ShaderNodeTexNoise")
        noise.inputs["Scale"].default_value = 0.6
        nt.links.new(geo.outputs["Position"], noise.inputs["Vector"])
        ramp = nt.nodes.new("ShaderNodeValToRGB")
        ramp.color_ramp.elements[0].color = (*[c * 0.8 for c in base], 1.0)
        ramp.color_ramp.elements[1].color = (*[min(1.0, c * 1.15) for c in base], 1.0)
        nt.links.new(noise.outputs["Fac"], ramp.inputs["Fac"])
        colour = ramp.outputs["Color"]
        if seams is not None:
            sp = nt.nodes.new("ShaderNodeSeparateXYZ")
            sn = nt.nodes.new("ShaderNodeSeparateXYZ")
            nt.links.new(geo.outputs["Position"], sp.inputs[0])
            nt.links.new(geo.outputs["Normal"], sn.inputs[0])
            # walls run along x or y, the ceiling is flat: pick the two coordinates that lie in the face
            nx, nz = _math(nt, "ABSOLUTE", sn.outputs["X"]), _math(nt, "ABSOLUTE", sn.outputs["Z"])
            u = _math(nt, "ADD", _math(nt, "MULTIPLY", sp.outputs["Y"], nx),
                      _math(nt, "MULTIPLY", sp.outputs["X"], _math(nt, "SUBTRACT", 1.0, nx)))
            v = _math(nt, "ADD", _math(nt, "MULTIPLY", sp.outputs["Y"], nz),
                      _math(nt, "MULTIPLY", sp.outputs["Z"], _math(nt, "SUBTRACT", 1.0, nz)))
            ju = _math(nt, "LESS_THAN", _math(nt, "FRACT", _math(nt, "DIVIDE", u, seams[0])), 0.035)
            jv = _math(nt, "LESS_THAN", _math(nt, "FRACT", _math(nt, "DIVIDE", v, seams[1])), 0.04)
            joint = _math(nt, "MAXIMUM", ju, jv)
            mix = nt.nodes.new("ShaderNodeMix")
            mix.data_type = "RGBA"
            nt.links.new(joint, mix.inputs["Factor"])
            nt.links.new(colour, mix.inputs["A"])
            mix.inputs["B"].default_value = (*[c * 0.25 for c in base], 1.0)
            colour = mix.outputs["Result"]
        nt.links.new(colour, p.inputs["Base Color"])
        return mat

    def _glow(self, name: str, colour: Sequence[float], strength: float) -> Any:
        bpy = _bpy()
        mat = bpy.data.materials.new(name)
        mat.cycles.emission_sampling = "NONE"  # seen, not sampled: the lights beside them carry the light
        p = _principled(mat)
        assert p is not None
        p.inputs["Base Color"].default_value = (0.02, 0.02, 0.02, 1.0)
        p.inputs["Emission Color"].default_value = (*colour, 1.0)
        p.inputs["Emission Strength"].default_value = strength
        return mat

    def _shell(self, room: tuple[float, float, float]) -> None:
        """Walls, ceiling and lights that close the set into a room (ceiling beams and warm lamps) or a
        sci-fi corridor (panelled, strip lights, a window onto space at its end)."""
        bpy = _bpy()
        look = self.look
        half_w, back, ceil = room
        corridor = look.enclosure == "corridor"
        panels = corridor or self.style in ("scifi", "industrial")
        x0, x1 = -half_w - 0.5, half_w + 0.5
        y0, y1 = -3.0, back + 0.6
        if panels:
            wall_mat = self._surface("shell_wall", self._toward("#5d6472", 0.35), 0.45, 0.4, (1.6, 1.2))
            ceil_mat = self._surface("shell_ceiling", self._toward("#3e434e", 0.35), 0.5, 0.4, (1.2, 2.0))
        else:
            wall_mat = self._surface("shell_wall", self._toward("#8a7458", 0.4), 0.9)
            ceil_mat = self._surface("shell_ceiling", self._toward("#3a2a1e", 0.4), 0.85)
        quads: list[list[tuple[float, float, float]]] = [
            [(x0, y0, 0.0), (x0, y1, 0.0), (x0, y1, ceil), (x0, y0, ceil)],  # left
            [(x1, y1, 0.0), (x1, y0, 0.0), (x1, y0, ceil), (x1, y1, ceil)],  # right
            [(x1, y0, 0.0), (x0, y0, 0.0), (x0, y0, ceil), (x1, y0, ceil)],  # behind the camera
        ]
        if corridor:  # the end wall around a window onto space
            wx0, wx1, wz0, wz1 = -0.6 * half_w, 0.6 * half_w, 0.32 * ceil, 0.86 * ceil
            quads += [[(x0, y1, 0.0), (x1, y1, 0.0), (x1, y1, wz0), (x0, y1, wz0)],
                      [(x0, y1, wz1), (x1, y1, wz1), (x1, y1, ceil), (x0, y1, ceil)],
                      [(x0, y1, wz0), (wx0, y1, wz0), (wx0, y1, wz1), (x0, y1, wz1)],
                      [(wx1, y1, wz0), (x1, y1, wz0), (x1, y1, wz1), (wx1, y1, wz1)]]
        else:
            quads.append([(x0, y1, 0.0), (x1, y1, 0.0), (x1, y1, ceil), (x0, y1, ceil)])
        self._quads("shell_walls", quads, wall_mat)
        self._quads("shell_ceiling", [[(x0, y0, ceil), (x1, y0, ceil), (x1, y1, ceil), (x0, y1, ceil)]], ceil_mat)
        boxes: list[tuple[float, float, float, float, float, float]] = []  # x, y, z centre; size x, y, z
        if panels:  # strip lights along the ceiling, each with an area light that carries its light
            strip = tuple(float(c) for c in tint_light(look))
            glow = self._glow("shell_strips", strip, 6.0)
            strips = (-0.45 * half_w, 0.45 * half_w) if not corridor else (0.0,)
            for k, sx in enumerate(strips):
                self._box(f"strip_{k}", (sx, (y0 + y1) / 2, ceil - 0.03), (0.14, y1 - y0 - 1.0, 0.05), glow)
                data = bpy.data.lights.new(f"strip_light_{k}", "AREA")
                data.shape = "RECTANGLE"
                data.size, data.size_y = 0.3, y1 - y0 - 1.0
                data.energy = 60.0 * (y1 - y0) / len(strips)
                data.color = strip
                obj = bpy.data.objects.new(f"strip_light_{k}", data)
                obj.location = (sx, (y0 + y1) / 2, ceil - 0.1)
                self.set_coll.objects.link(obj)
            return
        beam_mat = self._surface("shell_beams", self._toward("#4a3220", 0.35), 0.8)
        y = 1.0
        while y < back:
            boxes.append((0.0, y, ceil - 0.16, 2 * half_w + 1.0, 0.24, 0.32))
            y += 2.4
        boxes.append((0.0, (y0 + y1) / 2, ceil - 0.36, 0.28, y1 - y0, 0.2))  # the ridge beam
        for k, b in enumerate(boxes):
            self._box(f"beam_{k}", b[:3], b[3:], beam_mat)
        lamp = self._glow("shell_lamps", look.lamp_color, 8.0)
        for k, f in enumerate((0.3, 0.55, 0.8)):
            at = ((-0.45 if k % 2 == 0 else 0.45) * half_w, back * f, ceil - 0.9)
            self._box(f"lamp_{k}", at, (0.22, 0.22, 0.3), lamp)
            self._point_light(f"lamp_light_{k}", (at[0], at[1], at[2] - 0.2), look.lamp_color, 220.0 + 8.0 * back)

    def _box(self, name: str, at: Sequence[float], size: Sequence[float], mat: Any) -> None:
        sx, sy, sz = (0.5 * v for v in size)
        x, y, z = at
        c = [(x + a * sx, y + b * sy, z + d * sz) for d in (-1, 1) for b in (-1, 1) for a in (-1, 1)]
        faces = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
        self._quads(name, [[c[i] for i in f] for f in faces], mat)

    def _water(self, shore: float, level: float) -> None:
        """Open water from the shoreline to the horizon: a flat plane in the palette's water tint that
        mirrors the sky, with gentle ripples from a stretched noise bump (no simulation)."""
        bpy = _bpy()
        mat = bpy.data.materials.new("motif_water")
        nt = mat.node_tree
        p = _principled(mat)
        assert p is not None
        p.inputs["Base Color"].default_value = (*[c * 0.5 for c in self._toward("#1f4f5c", 0.5)], 1.0)
        p.inputs["Roughness"].default_value = 0.04
        p.inputs["IOR"].default_value = 1.33
        coord = nt.nodes.new("ShaderNodeTexCoord")
        stretch = nt.nodes.new("ShaderNodeVectorMath")
        stretch.operation = "MULTIPLY"
        stretch.inputs[1].default_value = (0.35, 1.4, 1.0)  # ripples run across the view
        nt.links.new(coord.outputs["Object"], stretch.inputs[0])
        noise = nt.nodes.new("ShaderNodeTexNoise")
        noise.inputs["Scale"].default_value = 1.2
        noise.inputs["Detail"].default_value = 3.0
        nt.links.new(stretch.outputs["Vector"], noise.inputs["Vector"])
        bump = nt.nodes.new("ShaderNodeBump")
        bump.inputs["Strength"].default_value = 0.25
        bump.inputs["Distance"].default_value = 0.05
        nt.links.new(noise.outputs["Fac"], bump.inputs["Height"])
        nt.links.new(bump.outputs["Normal"], p.inputs["Normal"])
        s = 1500.0
        self._quads("water", [[(-s, shore, level), (s, shore, level), (s, s, level), (-s, s, level)]], mat)

    def _sign_panel(self, name: str, at: Sequence[float], width: float, colour: Sequence[float]) -> None:
        bpy = _bpy()
        h = width * float(self.rng.uniform(0.25, 0.6))
        if self.rng.random() < 0.5:
            width, h = h * 0.6, width * 1.2  # vertical blade sign
        mesh = bpy.data.meshes.new(name)
        mesh.from_pydata([(-width / 2, 0, -h / 2), (width / 2, 0, -h / 2), (width / 2, 0, h / 2),
                          (-width / 2, 0, h / 2)], [], [(0, 1, 2, 3)])
        mat = bpy.data.materials.new(name)
        mat.cycles.emission_sampling = "NONE"
        p = _principled(mat)
        assert p is not None
        p.inputs["Base Color"].default_value = (0.02, 0.02, 0.02, 1)
        p.inputs["Emission Color"].default_value = (*colour, 1.0)
        p.inputs["Emission Strength"].default_value = 2.0 + 6.0 * self.look.practical
        mesh.materials.append(mat)
        o = bpy.data.objects.new(name, mesh)
        o.location = tuple(at)
        self.set_coll.objects.link(o)

    def _building_material(self) -> Any:
        """Facades in the palette's darkest colours with a window grid; windows light up at night."""
        bpy = _bpy()
        look = self.look
        mat = bpy.data.materials.new("motif_backdrop")
        mat.cycles.emission_sampling = "NONE"  # lit windows are seen, not sampled as lights
        nt = mat.node_tree
        p = _principled(mat)
        assert p is not None
        order = np.argsort([sum(c) for c in look.palette_lin])
        dark = np.asarray(look.palette_lin[int(order[0])]) * 0.6 + 0.02
        mid = np.asarray(look.palette_lin[int(order[1])]) * 0.5 + 0.02
        geo = nt.nodes.new("ShaderNodeNewGeometry")
        sep_p = nt.nodes.new("ShaderNodeSeparateXYZ")
        sep_n = nt.nodes.new("ShaderNodeSeparateXYZ")
        nt.links.new(geo.outputs["Position"], sep_p.inputs[0])
        nt.links.new(geo.outputs["Normal"], sep_n.inputs[0])
        # facade coordinate: x on fronts, y on sides
        ax = _math(nt, "ABSOLUTE", sep_n.outputs["Y"])
        ay = _math(nt, "ABSOLUTE", sep_n.outputs["X"])
        u = _math(nt, "ADD", _math(nt, "MULTIPLY", sep_p.outputs["X"], ax),
                  _math(nt, "MULTIPLY", sep_p.outputs["Y"], ay))
        cu = _math(nt, "DIVIDE", u, 1.8)
        cv = _math(nt, "DIVIDE", sep_p.outputs["Z"], 3.2)
        fu = _math(nt, "FRACT", cu)
        fv = _math(nt, "FRACT", cv)
        win_u = _math(nt, "MULTIPLY", _math(nt, "GREATER_THAN", fu, 0.3), _math(nt, "LESS_THAN", fu, 0.7))
        win_v = _math(nt, "MULTIPLY", _math(nt, "GREATER_THAN", fv, 0.35), _math(nt, "LESS_THAN", fv, 0.75))
        vertical = _math(nt, "LESS_THAN", _math(nt, "ABSOLUTE", sep_n.outputs["Z"]), 0.5)
        window = _math(nt, "MULTIPLY", _math(nt, "MULTIPLY", win_u, win_v), vertical)
        cell = nt.nodes.new("ShaderNodeCombineXYZ")
        nt.links.new(_math(nt, "FLOOR", cu), cell.inputs["X"])
        nt.links.new(_math(nt, "FLOOR", cv), cell.inputs["Y"])
        nt.links.new(_math(nt, "FLOOR", _math(nt, "DIVIDE", _math(nt, "ADD", sep_p.outputs["Y"], sep_p.outputs["X"]),
                                                  40.0)), cell.inputs["Z"])
        wn = nt.nodes.new("ShaderNodeTexWhiteNoise")
        wn.noise_dimensions = "3D"
        nt.links.new(cell.outputs["Vector"], wn.inputs["Vector"])
        lit_share = 0.1 + 0.3 * look.practical
        lit = _math(nt, "MULTIPLY", _math(nt, "LESS_THAN", wn.outputs["Value"], lit_share), window)
        base = nt.nodes.new("ShaderNodeMix")
        base.data_type = "RGBA"
        nt.links.new(window, base.inputs["Factor"])
        base.inputs["A"].default_value = (*dark, 1.0)
        base.inputs["B"].default_value = (*(mid * 0.6), 1.0)
        nt.links.new(base.outputs["Result"], p.inputs["Base Color"])
        tintmix = nt.nodes.new("ShaderNodeMix")
        tintmix.data_type = "RGBA"
        nt.links.new(wn.outputs["Color"], tintmix.inputs["Factor"])
        tintmix.inputs["A"].default_value = (*look.lamp_color, 1.0)
        tintmix.inputs["B"].default_value = (*look.accents[min(1, len(look.accents) - 1)], 1.0)
        nt.links.new(tintmix.outputs["Result"], p.inputs["Emission Color"])
        strength = _math(nt, "MULTIPLY", lit, 3.0 * look.practical)
        nt.links.new(strength, p.inputs["Emission Strength"])
        # windows are glass: darker and sharper than the facade
        rough = _math(nt, "SUBTRACT", 0.75, _math(nt, "MULTIPLY", window, 0.6))
        nt.links.new(rough, p.inputs["Roughness"])
        return mat

    def _hill_material(self) -> Any:
        bpy = _bpy()
        look = self.look
        mat = bpy.data.materials.new("motif_hills")
        p = _principled(mat)
        assert p is not None
        greenish = min(range(len(look.palette_lin)),
                       key=lambda i: abs(look.palette_lin[i][1] - max(look.palette_lin[i]))
                       + sum(look.palette_lin[i]) * 0.3)
        c = np.asarray(look.palette_lin[greenish]) * 0.55
        if look.hill_color is not None:
            c = np.asarray(look.hill_color)
        if look.snow_cover > 0.05:
            c = c * (1 - look.snow_cover) + np.array([0.7, 0.72, 0.78]) * look.snow_cover
        p.inputs["Base Color"].default_value = (*c, 1.0)
        p.inputs["Roughness"].default_value = 0.9
        return mat

    def _hill_mesh(self, mat: Any) -> Any:
        bpy = _bpy()
        verts, faces = [], []
        rings, segs = 8, 16
        for i in range(rings + 1):
            el = math.pi / 2 * i / rings
            for j in range(segs):
                az = 2 * math.pi * j / segs
                verts.append((math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)))
        for i in range(rings):
            for j in range(segs):
                a, b = i * segs + j, i * segs + (j + 1) % segs
                faces.append((a, b, b + segs, a + segs))
        mesh = bpy.data.meshes.new("hill")
        mesh.from_pydata(verts, [], faces)
        for poly in mesh.polygons:
            poly.use_smooth = True
        mesh.materials.append(mat)
        return mesh

    def _world(self) -> None:
        """Sky: horizon-to-zenith gradient in the look's colours, a sun glow, clouds when overcast."""
        bpy = _bpy()
        look = self.look
        world = bpy.data.worlds.new("motif_sky")
        self.scene.world = world
        # The default importance map (1024 px, automatic) takes ~5 s to build on two cores; a
        # 256 px map samples this smooth sky just as well.
        world.cycles.sampling_method = "MANUAL"
        world.cycles.sample_map_resolution = 256
        world.mist_settings.start = 0.0
        world.mist_settings.depth = MIST_DEPTH
        world.mist_settings.falloff = "LINEAR"
        nt = world.node_tree
        bg = nt.nodes["Background"]
        coord = nt.nodes.new("ShaderNodeTexCoord")
        sep = nt.nodes.new("ShaderNodeSeparateXYZ")
        nt.links.new(coord.outputs["Generated"], sep.inputs[0])
        mr = nt.nodes.new("ShaderNodeMapRange")
        mr.inputs["From Min"].default_value = -1.0
        mr.inputs["From Max"].default_value = 1.0
        nt.links.new(sep.outputs["Z"], mr.inputs["Value"])
        ramp = nt.nodes.new("ShaderNodeValToRGB")
        els = ramp.color_ramp.elements
        hor = np.asarray(look.sky_horizon)
        zen = np.asarray(look.sky_zenith)
        els[0].position = 0.44
        els[0].color = (*look.sky_ground, 1.0)
        els[1].position = 1.0
        els[1].color = (*zen, 1.0)
        e = els.new(0.5)
        e.color = (*hor, 1.0)
        e = els.new(0.53)
        e.color = (*(hor * 0.5 + zen * 0.5), 1.0)
        e = els.new(0.6)
        e.color = (*(hor * 0.15 + zen * 0.85), 1.0)
        nt.links.new(mr.outputs["Result"], ramp.inputs["Fac"])
        colour = ramp.outputs["Color"]
        sun_dir = self.sun_direction()
        if look.cloud_cover > 0.15:
            # clouds: noise on the sky dome projected to a plane, thresholded by cover
            proj = nt.nodes.new("ShaderNodeVectorMath")
            proj.operation = "DIVIDE"
            nt.links.new(coord.outputs["Generated"], proj.inputs[0])
            zc = nt.nodes.new("ShaderNodeCombineXYZ")
            zmax = _math(nt, "MAXIMUM", sep.outputs["Z"], 0.03)
            nt.links.new(zmax, zc.inputs["X"])
            nt.links.new(zmax, zc.inputs["Y"])
            nt.links.new(zmax, zc.inputs["Z"])
            nt.links.new(zc.outputs["Vector"], proj.inputs[1])
            noise = nt.nodes.new("ShaderNodeTexNoise")
            noise.noise_dimensions = "3D"
            noise.inputs["Scale"].default_value = 1.4
            noise.inputs["Detail"].default_value = 4.0
            noise.inputs["Roughness"].default_value = 0.62
            shift = nt.nodes.new("ShaderNodeVectorMath")  # the seed moves the cloud field
            shift.operation = "ADD"
            shift.inputs[1].default_value = (float(self.seed % 997) / 7.0, float(self.seed % 991) / 11.0, 0.0)
            nt.links.new(proj.outputs["Vector"], shift.inputs[0])
            nt.links.new(shift.outputs["Vector"], noise.inputs["Vector"])
            cr = nt.nodes.new("ShaderNodeMapRange")
            lo = 0.62 - 0.3 * look.cloud_cover
            cr.inputs["From Min"].default_value = lo
            cr.inputs["From Max"].default_value = lo + 0.18
            nt.links.new(noise.outputs["Fac"], cr.inputs["Value"])
            above = _math(nt, "MINIMUM", _math(nt, "MAXIMUM", _math(nt, "MULTIPLY", sep.outputs["Z"], 12.0), 0.0), 1.0)
            fac = _math(nt, "MULTIPLY", _math(nt, "MULTIPLY", cr.outputs["Result"], above), 0.95)
            cmix = nt.nodes.new("ShaderNodeMix")
            cmix.data_type = "RGBA"
            nt.links.new(fac, cmix.inputs["Factor"])
            nt.links.new(colour, cmix.inputs["A"])
            lum = 0.2126 * hor[0] + 0.7152 * hor[1] + 0.0722 * hor[2]
            cloud = hor * 0.5 + lum * 0.5
            if look.weather == "storm":
                cloud = cloud * 0.45
            cmix.inputs["B"].default_value = (*cloud, 1.0)
            colour = cmix.outputs["Result"]
        # sun glow: a broad halo and a tight disc around the sun direction
        dot = nt.nodes.new("ShaderNodeVectorMath")
        dot.operation = "DOT_PRODUCT"
        nt.links.new(coord.outputs["Generated"], dot.inputs[0])
        dot.inputs[1].default_value = tuple(sun_dir)
        halo = _math(nt, "POWER", _math(nt, "MAXIMUM", dot.outputs["Value"], 0.0), 24.0)
        disc = _math(nt, "GREATER_THAN", dot.outputs["Value"], math.cos(math.radians(0.6)))
        clear = 1.0 - 0.85 * look.cloud_cover
        glow = _math(nt, "ADD", _math(nt, "MULTIPLY", halo, 0.9 * clear), _math(nt, "MULTIPLY", disc, 40.0 * clear))
        if look.night:
            glow = _math(nt, "MULTIPLY", glow, 0.15)
        sun_col = nt.nodes.new("ShaderNodeMix")
        sun_col.data_type = "RGBA"
        sun_col.blend_type = "ADD"
        nt.links.new(glow, sun_col.inputs["Factor"])
        nt.links.new(colour, sun_col.inputs["A"])
        sun_col.inputs["B"].default_value = (*look.sun_color, 1.0)
        out = sun_col.outputs["Result"]
        if look.stars:  # space: sharp points where a fine Voronoi's cells are nearest their seeds
            vor = nt.nodes.new("ShaderNodeTexVoronoi")
            vor.inputs["Scale"].default_value = 180.0
            nt.links.new(coord.outputs["Generated"], vor.inputs["Vector"])
            pts = _math(nt, "LESS_THAN", vor.outputs["Distance"], 0.06)
            bright = _math(nt, "MULTIPLY", pts, _math(nt, "MULTIPLY", vor.outputs["Color"], 30.0))
            star_mix = nt.nodes.new("ShaderNodeMix")
            star_mix.data_type = "RGBA"
            star_mix.blend_type = "ADD"
            star_mix.inputs["Factor"].default_value = 1.0
            nt.links.new(out, star_mix.inputs["A"])
            nt.links.new(bright, star_mix.inputs["B"])
            out = star_mix.outputs["Result"]
        nt.links.new(out, bg.inputs["Color"])
        bg.inputs["Strength"].default_value = look.sky_strength

    def sun_direction(self) -> np.ndarray:
        """Unit vector toward the sun. Low suns back-light the set (glow in frame); high suns rake
        across it from the side, which shows form; the moon sits to one side."""
        look = self.look
        side = 1.0 if self.framing.hero_u < 0.5 else -1.0
        if look.time_of_day in ("dawn", "dusk"):
            az = 32.0 * side
        elif look.night:
            az = 70.0 * side
        else:
            az = 105.0 * side  # raking side light: shadows fall across the set, in view
        az += self.framing.camera.yaw
        el = math.radians(look.sun_elevation)
        a = math.radians(az)
        return np.array([math.sin(a) * math.cos(el), math.cos(a) * math.cos(el), math.sin(el)])

    def _sun(self) -> None:
        from mathutils import Vector

        bpy = _bpy()
        look = self.look
        data = bpy.data.lights.new("sun", "SUN")
        data.energy = look.sun_strength
        data.color = look.sun_color
        data.angle = math.radians(look.sun_angle)
        obj = bpy.data.objects.new("sun", data)
        d = self.sun_direction()
        obj.rotation_euler = Vector((-d[0], -d[1], -d[2])).to_track_quat("-Z", "Y").to_euler()
        self.scene.collection.objects.link(obj)

    def _camera_object(self) -> None:
        bpy = _bpy()
        cam = bpy.data.cameras.new("motif_camera")
        cam.sensor_fit = "HORIZONTAL"
        cam.sensor_width = SENSOR_W
        cam.clip_start = 0.05
        cam.clip_end = MIST_DEPTH * 0.9
        obj = bpy.data.objects.new("motif_camera", cam)
        self.scene.collection.objects.link(obj)
        self.scene.camera = obj
        self.cam_obj = obj

    # ------------------------------------------------------------------ render

    def _setup_render(self, width: int, height: int, settings: RenderSettings) -> None:
        scene = self.scene
        r = scene.render
        r.resolution_x, r.resolution_y = width, height
        r.resolution_percentage = 100
        r.use_persistent_data = True
        r.film_transparent = False
        r.threads_mode = "AUTO"
        r.use_sequencer = False
        cy = scene.cycles
        cy.device = "CPU"
        cy.samples = settings.samples
        cy.use_adaptive_sampling = True
        cy.adaptive_threshold = settings.adaptive_threshold
        cy.use_denoising = settings.denoise
        cy.denoiser = "OPENIMAGEDENOISE"
        cy.denoising_input_passes = "RGB_ALBEDO_NORMAL"
        cy.denoising_prefilter = "ACCURATE" if settings.denoise_quality == "HIGH" else "FAST"
        cy.denoising_quality = settings.denoise_quality
        cy.max_bounces = 4
        cy.diffuse_bounces = 2
        cy.glossy_bounces = 2
        cy.transmission_bounces = 2
        cy.transparent_max_bounces = 4
        cy.volume_bounces = 0
        cy.caustics_reflective = False
        cy.caustics_refractive = False
        cy.sample_clamp_indirect = 6.0
        cy.seed = int(self.seed % (2**31 - 1))
        cy.use_animated_seed = False
        # A handful of lights: the light tree costs more than it saves here (measured: -33 % time).
        cy.use_light_tree = False
        self._normal_maps(settings.normal_maps)
        vl = scene.view_layers[0]
        vl.use_pass_z = True
        vl.use_pass_mist = True
        if not self._compositor_ready:
            self._compositor()
            self._compositor_ready = True

    def _normal_maps(self, on: bool) -> None:
        if getattr(self, "_normals_on", True) == on:
            return
        for mat, node, sock in self._normal_links:
            if on:
                mat.node_tree.links.new(node.outputs["Normal"], sock)
            else:
                for link in list(node.outputs["Normal"].links):
                    mat.node_tree.links.remove(link)
        self._normals_on = on

    def _compositor(self) -> None:
        bpy = _bpy()
        scene = self.scene
        ng = bpy.data.node_groups.new("motif_passes", "CompositorNodeTree")
        scene.compositing_node_group = ng
        rl = ng.nodes.new("CompositorNodeRLayers")
        fo = ng.nodes.new("CompositorNodeOutputFile")
        fo.format.media_type = "IMAGE"
        fo.format.file_format = "OPEN_EXR"
        fo.format.exr_codec = "NONE"
        fo.format.color_depth = "32"
        fo.format.color_mode = "RGB"
        fo.file_name = ""
        items = [("Image", "RGBA", "RGB"), ("Depth", "FLOAT", "BW"), ("Mist", "FLOAT", "BW")]
        if self.has_flicker:
            items.append(("Combined_flicker", "RGBA", "RGB"))
        for name, socket, mode in items:
            item = fo.file_output_items.new(socket, name)
            if mode == "BW":
                item.override_node_format = True
                item.format.media_type = "IMAGE"
                item.format.file_format = "OPEN_EXR"
                item.format.exr_codec = "NONE"
                item.format.color_depth = "32"
                item.format.color_mode = "BW"
            ng.links.new(rl.outputs[name], fo.inputs[name])
        self._file_output = fo

    def render(self, cam: Camera, width: int, height: int, settings: RenderSettings,
               progress: Progress | None = None) -> Passes:
        """Render the set from `cam` at width x height; bands are rendered one after another so
        progress is reported and a cancel is honoured between them."""
        bpy = _bpy()
        from mathutils import Matrix

        self._setup_render(width, height, settings)
        self.cam_obj.matrix_world = Matrix(cam.matrix_world())
        self.cam_obj.data.lens = cam.lens
        r = self.scene.render
        bands = max(1, int(settings.bands))
        edges = [round(height * k / bands) for k in range(bands + 1)]
        overlap = 12 if bands > 1 else 0
        out_rows: dict[str, list[np.ndarray]] = {}
        for k in range(bands):
            top, bot = edges[k], edges[k + 1]  # rows from the top of the image
            t0, b0 = max(0, top - overlap), min(height, bot + overlap)
            if bands > 1:
                r.use_border = True
                r.use_crop_to_border = True
                r.border_min_x, r.border_max_x = 0.0, 1.0
                # Blender's border runs from the bottom; nudge inside the row so truncation lands on it
                r.border_min_y = (height - b0 + 0.01) / height
                r.border_max_y = min(1.0, (height - t0 + 0.01) / height)
            else:
                r.use_border = False
            band_dir = self.workdir / f"band{k}"
            shutil.rmtree(band_dir, ignore_errors=True)
            self._file_output.directory = str(band_dir) + "/"
            with quiet_stdout():
                bpy.ops.render.render(write_still=False)
            chans = {name: read_exr(band_dir / f"{name}.exr") for name in
                     ("Image", "Depth", "Mist", *(("Combined_flicker",) if self.has_flicker else ()))}
            shutil.rmtree(band_dir, ignore_errors=True)
            got_rows = next(iter(chans["Image"].values())).shape[0]
            skip = top - t0 if got_rows == b0 - t0 else max(0, got_rows - (bot - top)) // 2
            for name, ch in chans.items():
                arr = _stack(ch)
                out_rows.setdefault(name, []).append(arr[skip : skip + (bot - top)])
            if progress is not None:
                progress((k + 1) / bands, f"rendered band {k + 1}/{bands}")
        full = {name: np.concatenate(parts, axis=0) for name, parts in out_rows.items()}
        rgb = full["Image"][..., :3]
        depth = full["Depth"][..., 0]
        dist = full["Mist"][..., 0] * MIST_DEPTH
        flick = full["Combined_flicker"][..., :3] if "Combined_flicker" in full else None
        if rgb.shape[:2] != (height, width):
            raise DecoderFailed(f"The renderer returned {rgb.shape[1]}x{rgb.shape[0]} instead of {width}x{height}.")
        return Passes(np.ascontiguousarray(rgb), depth, dist, flick)


# ---------------------------------------------------------------------- helpers


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Blender prints per-tile and per-file lines from C; keep them out of the engine's log."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def _stack(ch: dict[str, np.ndarray]) -> np.ndarray:
    keys: list[str]
    if "R" in ch:
        keys = [k for k in ("R", "G", "B", "A") if k in ch]
    elif "V" in ch:
        keys = ["V"]
    elif "Y" in ch:
        keys = ["Y"]
    else:
        keys = sorted(ch)
    return np.stack([ch[k] for k in keys], axis=-1)


def _principled(mat: Any) -> Any:
    for n in mat.node_tree.nodes:
        if n.bl_idname == "ShaderNodeBsdfPrincipled":
            return n
    return None


def _emission_strength(mat: Any) -> float:
    p = _principled(mat)
    if p is None:
        return 0.0
    col = p.inputs["Emission Color"]
    lit = col.is_linked or max(col.default_value[:3]) > 0.0
    return float(p.inputs["Emission Strength"].default_value) if lit else 0.0


def tint_light(look: Look) -> np.ndarray:
    """Strip-light colour: a cool white leaning a little toward the palette's strongest accent."""
    c = np.array([0.85, 0.93, 1.0]) * 0.7 + np.asarray(look.accents[0]) * 0.3
    return c / max(float(c.max()), 1e-6)


def _vec(c: Sequence[float]) -> Any:
    from mathutils import Vector

    return Vector((c[0], c[1], c[2]))


def _math(nt: Any, op: str, a: Any, b: Any = None) -> Any:
    """A Math node on sockets or constants; returns its output socket."""
    node = nt.nodes.new("ShaderNodeMath")
    node.operation = op
    for i, v in enumerate((a, b)):
        if v is None:
            continue
        if isinstance(v, int | float):
            node.inputs[i].default_value = float(v)
        else:
            nt.links.new(v, node.inputs[i])
    return node.outputs[0]
