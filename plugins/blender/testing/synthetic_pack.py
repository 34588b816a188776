"""Write a complete pack (every role the importer knows) with real file formats, for tests and
benchmarks of the Blender importer that must not wait for the engine's decoders.

    python plugins/blender/testing/synthetic_pack.py OUT_DIR [--meshes 5] [--broken]

Runs with the real bpy (GLBs are exported by Blender's own glTF exporter with PBR textures), the
stdlib `wave` module (48 kHz WAV mix and stems) and PyAV (H.264 MP4). `--broken` makes the last
GLB unreadable, to test that a failed import leaves nothing behind. Not shipped in the extension.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import struct
import sys
import wave
from pathlib import Path
from typing import Any

LATENT: dict[str, Any] = {
    "palette": [
        {"color": "#1b1f3a", "weight": 0.3}, {"color": "#53354a", "weight": 0.2},
        {"color": "#a64942", "weight": 0.2}, {"color": "#ff7844", "weight": 0.15},
        {"color": "#ffe9c5", "weight": 0.15},
    ],
    "brightness": 0.4, "contrast": 0.6, "saturation": 0.6, "warmth": 0.4, "time_of_day": "dusk",
    "weather": "rain", "weather_intensity": 0.5, "valence": -0.2, "arousal": 0.4, "tension": 0.5,
    "tempo_bpm": 92.0, "meter": "4/4", "key": "D", "mode": "minor", "ensemble": "synthwave",
    "instruments": {"synth_pad": 0.8, "bass": 0.6, "drums": 0.4}, "roughness": 0.6, "metalness": 0.4,
    "wear": 0.5, "geometry_style": "scifi", "density": 0.5, "camera_motion": "dolly",
    "embedding": [0.05103103630798288] * 384, "seed": 7,
}
FOOTPRINTS = [(2.0, 0.4, 3.0), (1.0, 1.0, 1.0), (0.6, 0.6, 1.2), (3.0, 2.0, 2.5), (0.4, 0.4, 4.0),
              (1.5, 0.8, 0.9), (2.2, 2.2, 0.3), (0.8, 1.6, 1.1)]
NAMES = ["wall", "crate", "barrel", "stall", "lamp_post", "bench", "floor", "sign"]


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _texture(name: str, size: int, rgb: tuple[float, float, float], out: Path) -> Any:
    import bpy

    img = bpy.data.images.new(name, size, size, alpha=False)
    px = []
    for y in range(size):
        for x in range(size):
            check = 0.8 + 0.2 * (((x // 8) + (y // 8)) % 2)
            px += [rgb[0] * check, rgb[1] * check, rgb[2] * check, 1.0]
    img.pixels[:] = px
    img.filepath_raw = str(out)
    img.file_format = "PNG"
    img.save()
    return img


def write_glb(path: Path, name: str, size: tuple[float, float, float], rgb: tuple[float, float, float],
              tmp: Path) -> None:
    """One kit piece: a box with origin at bottom centre, base colour + metallic-roughness textures."""
    import bpy

    bpy.ops.wm.read_factory_settings(use_empty=True)
    w, d, h = size
    bpy.ops.mesh.primitive_cube_add(size=1.0, location=(0, 0, 0.5))
    ob = bpy.context.object
    ob.name = name
    ob.scale = (w, d, h)
    ob.location = (0, 0, h / 2)
    bpy.ops.object.transform_apply(location=True, scale=True)
    mat = bpy.data.materials.new(f"{name}_mat")
    tree = mat.node_tree
    if tree is None:
        mat.use_nodes = True
        tree = mat.node_tree
    bsdf = next(n for n in tree.nodes if n.type == "BSDF_PRINCIPLED")
    base = tree.nodes.new("ShaderNodeTexImage")
    base.image = _texture(f"{name}_base", 32, rgb, tmp / f"{name}_base.png")
    tree.links.new(base.outputs["Color"], bsdf.inputs["Base Color"])
    orm = tree.nodes.new("ShaderNodeTexImage")
    orm.image = _texture(f"{name}_orm", 16, (1.0, 0.6, 0.3), tmp / f"{name}_orm.png")
    orm.image.colorspace_settings.name = "Non-Color"
    sep = tree.nodes.new("ShaderNodeSeparateColor")
    tree.links.new(orm.outputs["Color"], sep.inputs["Color"])
    tree.links.new(sep.outputs["Green"], bsdf.inputs["Roughness"])
    tree.links.new(sep.outputs["Blue"], bsdf.inputs["Metallic"])
    ob.data.materials.append(mat)
    path.parent.mkdir(parents=True, exist_ok=True)
    bpy.ops.export_scene.gltf(filepath=str(path), export_format="GLB", use_selection=False)


def write_wav(path: Path, seconds: float, freq: float, rate: int = 48000) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    n = int(seconds * rate)
    frames = b"".join(
        struct.pack("<hh", *(2 * [int(8000 * math.sin(2 * math.pi * freq * i / rate))])) for i in range(n)
    )
    with wave.open(str(path), "wb") as wf:
        wf.setnchannels(2)
        wf.setsampwidth(2)
        wf.setframerate(rate)
        wf.writeframes(frames)


def write_mp4(path: Path, frames: int = 48, fps: int = 24, w: int = 320, h: int = 180) -> bool:
    try:
        import av
        import numpy as np
    except ImportError:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        for i in range(frames):
            img = np.zeros((h, w, 3), dtype=np.uint8)
            img[..., 0] = (i * 5) % 255
            img[..., 2] = 120
            img[:, (i * 6) % w, :] = 255
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return True


def write_png(path: Path, w: int = 256, h: int = 144) -> None:
    import bpy

    path.parent.mkdir(parents=True, exist_ok=True)
    img = bpy.data.images.new("concept", w, h, alpha=False)
    px = []
    for y in range(h):
        for x in range(w):
            px += [x / w, 0.3, y / h, 1.0]
    img.pixels[:] = px
    img.filepath_raw = str(path)
    img.file_format = "PNG"
    img.save()


def build(out: Path, meshes: int = 5, broken: bool = False, prompt: str = "synthetic test pack") -> dict[str, Any]:
    """Write the pack into `out` (pack.json last, as the client does) and return its manifest."""
    import bpy

    out.mkdir(parents=True, exist_ok=True)
    tmp = out / ".tex"
    tmp.mkdir(exist_ok=True)
    assets: list[dict[str, Any]] = []

    def add(role: str, rel: str, media_type: str, meta: dict[str, Any] | None = None) -> None:
        p = out / rel
        entry: dict[str, Any] = {"role": role, "path": rel, "media_type": media_type, "bytes": p.stat().st_size,
                                 "sha256": _sha(p)}
        if meta:
            entry["meta"] = meta
        assets.append(entry)

    grid = 1.0
    for i in range(meshes):
        name = NAMES[i % len(NAMES)] + ("" if i < len(NAMES) else f"_{i}")
        size = FOOTPRINTS[i % len(FOOTPRINTS)]
        rel = f"mesh/{name}.glb"
        write_glb(out / rel, name, size, (0.2 + 0.1 * i % 0.8, 0.4, 0.7 - 0.05 * i), tmp)
        if broken and i == meshes - 1:
            (out / rel).write_bytes(b"glTF" + b"\x00" * 64)  # a header and nothing valid after it
        add("mesh", rel, "model/gltf-binary", {"footprint": [size[0], size[1]], "height": size[2], "grid": grid})
    (out / "mesh").mkdir(parents=True, exist_ok=True)
    kit = {"grid": grid, "assets": [{"path": a["path"], "footprint": a["meta"]["footprint"]} for a in assets]}
    (out / "mesh" / "kit.json").write_text(json.dumps(kit, indent=1))
    add("kit", "mesh/kit.json", "application/json")
    bpy.ops.wm.read_factory_settings(use_empty=True)
    write_png(out / "image" / "concept.png")
    add("image", "image/concept.png", "image/png")
    write_wav(out / "music" / "score.wav", 2.0, 220.0)
    add("music", "music/score.wav", "audio/wav")
    for part, f in (("bass", 110.0), ("pad", 330.0)):
        write_wav(out / "music" / "stems" / f"{part}.wav", 2.0, f)
        add("stem", f"music/stems/{part}.wav", "audio/wav")
    if write_mp4(out / "video" / "clip.mp4"):
        add("video", "video/clip.mp4", "video/mp4")
    for p in tmp.iterdir():
        p.unlink()
    tmp.rmdir()
    decoders = ["mesh", "image", "music", "video"]
    request = {"prompt": prompt, "pins": {}, "decoders": decoders, "quality": "draft", "options": {}}
    pack_id = hashlib.sha256(json.dumps([request, [a["sha256"] for a in assets]]).encode()).hexdigest()[:24]
    manifest = {
        "schema": "motif.pack/1", "pack_id": pack_id, "engine": {"name": "motif", "version": "synthetic"},
        "models": {}, "request": request, "seed": 7, "latent": LATENT, "assets": assets,
        "provenance": {"machine_generated": True}, "replay": {"command": "synthetic"},
    }
    (out / "pack.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
    bpy.ops.wm.read_factory_settings(use_empty=True)
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--meshes", type=int, default=5)
    ap.add_argument("--broken", action="store_true")
    args = ap.parse_args(argv)
    m = build(args.out, args.meshes, args.broken)
    print(json.dumps({"pack_id": m["pack_id"], "assets": len(m["assets"])}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
