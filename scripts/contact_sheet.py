"""Render a contact sheet of decoded assets with real Blender (bpy), for people to look at.

    .venv/bin/python scripts/contact_sheet.py --kind kit --prompt "abandoned cyberpunk marketplace at dusk with rain" \
        --prompt "sunlit medieval village square" --seed 7 --out out/contact_kit.png

`--kind kit`: one row per prompt, one tile per kit piece (GLB imported with bpy.ops.import_scene.gltf,
Cycles on the CPU, a neutral ground, light from the latent's time of day). Other decoders can add their
own kinds to KINDS; `--kind image` is a sheet of concept images (drafts), labelled with the subjects and
environment each prompt picked. Latents come from the encoder; `--style` builds a hand-made
latent per geometry style instead (tests.latent_factory), for use before the encoder is available.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from engine_server.decoders.base import DecodeContext, DecodeRequest  # noqa: E402
from engine_server.latent import Latent  # noqa: E402

DEMO_PALETTES = {
    "scifi": ["#14121f", "#2b2f4a", "#ff2e88", "#00e5ff", "#f5a623", "#7d86a8"],
    "industrial": ["#2e2b28", "#5b5750", "#a39e93", "#c8581d", "#e8c547"],
    "medieval": ["#3b2a1d", "#7a5a3a", "#c9b28f", "#8c2f2a", "#4e6b3a", "#d9cbb0"],
    "architectural": ["#e8e2d6", "#b9ad99", "#6f6a61", "#35506b", "#a6503a"],
    "organic": ["#1f3b2c", "#4f7d5c", "#c7d9b7", "#e0a96d", "#7b4b94"],
    "natural": ["#3d3a2a", "#6b7a3c", "#a8a78a", "#5b4636", "#c9c2a4"],
}


def latent_for(prompt: str | None, style: str | None, seed: int) -> tuple[str, Latent]:
    if prompt is not None:
        try:
            from engine_server.encoder import get_encoder
        except ImportError as exc:  # pragma: no cover - depends on the encoder landing
            raise SystemExit(f"The encoder is not available ({exc}); use --style to render hand-made latents.") from exc
        return prompt, get_encoder().encode(prompt, seed)
    from tests.latent_factory import make_latent

    assert style is not None
    weather = {"scifi": ("rain", 0.7, "dusk"), "industrial": ("fog", 0.4, "morning"),
               "medieval": ("clear", 0.0, "afternoon"), "architectural": ("clear", 0.0, "noon"),
               "organic": ("clear", 0.0, "dawn"), "natural": ("cloudy", 0.3, "afternoon")}[style]
    lat = make_latent(geometry_style=style, palette=DEMO_PALETTES[style], weather=weather[0],
                      weather_intensity=weather[1], time_of_day=weather[2], wear=0.5, density=0.6,
                      metalness=0.6 if style in ("scifi", "industrial") else 0.2)
    return f"[{style}]", lat


def _reset(bpy: Any) -> None:
    bpy.ops.wm.read_factory_settings(use_empty=True)


def _setup_render(bpy: Any, size: int, samples: int) -> Any:
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = samples
    scene.cycles.use_denoising = True  # OIDN on the CPU: removes emissive fireflies at low sample counts
    scene.cycles.denoiser = "OPENIMAGEDENOISE"
    scene.cycles.max_bounces = 4
    scene.render.resolution_x = size
    scene.render.resolution_y = size
    scene.render.film_transparent = False
    scene.view_settings.view_transform = "AgX"
    scene.render.image_settings.file_format = "PNG"
    return scene


def _light(bpy: Any, latent: Latent) -> None:
    tod = latent.time_of_day
    elev = {"dawn": 12, "morning": 35, "noon": 65, "afternoon": 40, "dusk": 8, "night": 30}[tod]
    # a contact sheet is for judging shapes: night keeps its mood (blue moonlight) but stays readable
    sun_strength = {"dawn": 2.0, "morning": 3.5, "noon": 4.5, "afternoon": 3.5, "dusk": 1.5, "night": 0.8}[tod]
    warm = {"dawn": (1.0, 0.75, 0.55), "dusk": (1.0, 0.6, 0.45), "night": (0.5, 0.6, 1.0)}.get(tod, (1.0, 0.96, 0.9))
    data = bpy.data.lights.new("sun", "SUN")
    data.energy = sun_strength
    data.color = warm
    data.angle = math.radians(4)
    sun = bpy.data.objects.new("sun", data)
    sun.rotation_euler = (math.radians(90 - elev), 0.0, math.radians(35))
    bpy.context.scene.collection.objects.link(sun)
    world = bpy.data.worlds.new("world")
    world.use_nodes = True
    bg = world.node_tree.nodes["Background"]
    skies = {"night": (0.05, 0.06, 0.1), "dusk": (0.25, 0.16, 0.2), "dawn": (0.35, 0.3, 0.32)}
    sky = skies.get(tod, (0.45, 0.5, 0.6))
    bg.inputs[0].default_value = (*sky, 1.0)
    bg.inputs[1].default_value = 0.8 if tod != "night" else 3.0
    bpy.context.scene.world = world


def _ground(bpy: Any) -> None:
    bpy.ops.mesh.primitive_plane_add(size=60, location=(0, 0, 0))
    plane = bpy.context.active_object
    mat = bpy.data.materials.new("ground")
    mat.use_nodes = True
    bsdf = mat.node_tree.nodes["Principled BSDF"]
    bsdf.inputs["Base Color"].default_value = (0.18, 0.18, 0.18, 1.0)
    bsdf.inputs["Roughness"].default_value = 0.8
    plane.data.materials.append(mat)


def _frame(bpy: Any, objs: list[Any]) -> None:
    from mathutils import Vector

    pts = [o.matrix_world @ Vector(c) for o in objs for c in o.bound_box]
    lo = Vector((min(p.x for p in pts), min(p.y for p in pts), min(p.z for p in pts)))
    hi = Vector((max(p.x for p in pts), max(p.y for p in pts), max(p.z for p in pts)))
    centre = (lo + hi) / 2
    radius = max((hi - lo).length / 2, 0.3)
    cam_data = bpy.data.cameras.new("cam")
    cam_data.lens = 50
    fov = 2 * math.atan(36 / 2 / cam_data.lens)
    dist = radius / math.sin(fov / 2) * 1.02
    direction = Vector((0.75, -1.0, 0.55)).normalized()  # front is -Y in Blender (glTF +Z)
    cam = bpy.data.objects.new("cam", cam_data)
    cam.location = centre + direction * dist
    cam.rotation_euler = (-direction).to_track_quat("-Z", "Y").to_euler()
    bpy.context.scene.collection.objects.link(cam)
    bpy.context.scene.camera = cam
    cam_data.clip_end = dist * 10


def render_glb(bpy: Any, glb: Path, latent: Latent, out_png: Path, size: int, samples: int) -> None:
    _reset(bpy)
    scene = _setup_render(bpy, size, samples)
    bpy.ops.import_scene.gltf(filepath=str(glb))
    # Blender puts the MSFT_lod levels (nodes outside the glTF scene) in an "Orphan Nodes" collection
    lods = {o.name for c in bpy.data.collections if c.name.startswith("Orphan Nodes") for o in c.objects}
    for o in scene.objects:
        o.hide_render = o.name in lods
    objs = [o for o in scene.objects if o.type == "MESH" and o.name not in lods]
    _ground(bpy)
    _light(bpy, latent)
    _frame(bpy, objs)
    scene.render.filepath = str(out_png)
    bpy.ops.render.render(write_still=True)


def _label(img: Image.Image, text: str) -> None:
    d = ImageDraw.Draw(img)
    d.rectangle((0, img.height - 16, img.width, img.height), fill=(0, 0, 0))
    d.text((4, img.height - 14), text, fill=(235, 235, 235))


def decoded(args: argparse.Namespace, decoder: Any, quality: str,
            options: dict[str, Any]) -> Iterator[tuple[str, Latent, Path, list[Any]]]:
    """Each `--prompt` then `--style` decoded by `decoder` into a temporary folder (gone after the
    caller's turn): (title, latent, folder, assets), with the time it took printed."""
    jobs: list[tuple[str | None, str | None]] = [(p, None) for p in args.prompt] + [(None, s) for s in args.style]
    for prompt, style in jobs:
        title, latent = latent_for(prompt, style, args.seed)
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp)
            t0 = time.perf_counter()
            assets = decoder.decode(DecodeRequest(latent, args.seed, quality=quality, options=options),
                                    DecodeContext(out, lambda f, m: None, lambda: False))
            print(f"{title}: {decoder.name} decoded in {time.perf_counter() - t0:.1f} s", flush=True)
            yield title, latent, out, assets


def kit_rows(args: argparse.Namespace) -> list[list[Image.Image]]:
    import bpy

    from engine_server.decoders.mesh import MeshDecoder

    rows = []
    options = {"texture_size": args.texture_size, "assets": args.assets}
    for title, latent, out, assets in decoded(args, MeshDecoder(), "draft", options):
        tiles = []
        head = Image.new("RGB", (args.size, args.size), (24, 24, 28))
        d = ImageDraw.Draw(head)
        y = 8
        lines = [*_wrap(f"{title}  seed {args.seed}", 30), f"style {latent.geometry_style}",
                 f"{latent.time_of_day}, {latent.weather}", f"wear {latent.wear:.2f} density {latent.density:.2f}"]
        for line in lines:
            d.text((8, y), line, fill=(230, 230, 230))
            y += 14
        for i, s in enumerate(latent.palette):
            d.rectangle((8 + i * 28, y + 8, 32 + i * 28, y + 32), fill=s.color)
        tiles.append(head)
        for a in assets:
            if a.role != "mesh":
                continue
            png = out / (Path(a.path).stem + ".png")
            render_glb(bpy, out / a.path, latent, png, args.size, args.samples)
            img = Image.open(png).convert("RGB")
            _label(img, f"{a.meta['name']}  {a.meta['triangles'][0]} tris  "
                        f"{a.meta['footprint_m'][0]:.1f}x{a.meta['footprint_m'][1]:.1f}x{a.meta['height_m']:.1f} m")
            tiles.append(img)
        rows.append(tiles)
    return rows


def _wrap(text: str, width: int) -> list[str]:
    words, lines, cur = text.split(), [], ""
    for w in words:
        if len(cur) + len(w) + 1 > width and cur:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}".strip()
    return lines + ([cur] if cur else [])


def image_rows(args: argparse.Namespace) -> list[list[Image.Image]]:
    """`--kind image`: the concept image (draft) of each prompt, four to a row, labelled with what the
    prompt picked (subjects, hero first, and the environment) so an art director can judge fidelity."""
    from engine_server.decoders.image import ImageDecoder

    tiles = []
    options = {"width": args.image_width, "height": args.image_width * 9 // 16}
    for title, latent, out, assets in decoded(args, ImageDecoder(), "draft", options):
        img = Image.open(out / assets[0].path).convert("RGB")
        subjects = ", ".join(n for n, _ in latent.subjects) or "(style kit)"
        _label(img, f"{title[:44]} | {subjects} | {latent.environment}")
        tiles.append(img)
    return [tiles[i:i + args.columns] for i in range(0, len(tiles), args.columns)]


KINDS: dict[str, Callable[[argparse.Namespace], list[list[Image.Image]]]] = {"kit": kit_rows, "image": image_rows}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kind", choices=sorted(KINDS), default="kit")
    ap.add_argument("--prompt", action="append", default=[], help="a prompt (repeatable); needs the encoder")
    ap.add_argument("--style", action="append", default=[], help="hand-made latent of this geometry style")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--assets", type=int, default=6)
    ap.add_argument("--texture-size", type=int, default=1024)
    ap.add_argument("--size", type=int, default=256, help="tile size in pixels")
    ap.add_argument("--samples", type=int, default=16)
    ap.add_argument("--image-width", type=int, default=480, help="concept image width (--kind image)")
    ap.add_argument("--columns", type=int, default=4, help="images per row (--kind image)")
    ap.add_argument("--out", type=Path, default=REPO / "out" / "contact_kit.png")
    args = ap.parse_args(argv)
    if not args.prompt and not args.style:
        ap.error("give at least one --prompt or --style")
    t0 = time.perf_counter()
    rows = KINDS[args.kind](args)
    cols = max(len(r) for r in rows)
    tw = round(args.size * rows[0][0].width / rows[0][0].height)  # square kit tiles, 16:9 concept images
    sheet = Image.new("RGB", (cols * tw, len(rows) * args.size), (16, 16, 16))
    for y, row in enumerate(rows):
        for x, tile in enumerate(row):
            sheet.paste(tile.resize((tw, args.size)), (x * tw, y * args.size))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out)
    print(f"wrote {args.out} ({sheet.width}x{sheet.height}) in {time.perf_counter() - t0:.1f} s")
    np.asarray(sheet)  # touch: fail loudly here rather than in a viewer


if __name__ == "__main__":
    main()
