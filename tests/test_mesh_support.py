"""Helpers shared by the mesh tests (decode a kit, read GLBs back, check them in real Blender), plus
tests of the checkers themselves: a checker that cannot fail proves nothing.

Run as a script, this file is the Blender probe: `python tests/test_mesh_support.py FILE.glb ...` imports
each GLB with bpy.ops.import_scene.gltf into an empty scene and prints one JSON line per file. The
tests call it in a subprocess so bpy never shares a process with pytest.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # when run as a script
    sys.path.insert(0, str(REPO))


# ------------------------------------------------------------------------------------ decode helpers
def decode_kit(latent: Any, seed: int, out: Path, **options: Any) -> tuple[list[Any], list[tuple[float, str]]]:
    """Run the mesh decoder into `out`; returns its assets and the progress events."""
    from engine_server.decoders.base import DecodeContext, DecodeRequest
    from engine_server.decoders.mesh import MeshDecoder

    events: list[tuple[float, str]] = []
    ctx = DecodeContext(out, lambda f, m: events.append((f, m)), lambda: False)
    assets = MeshDecoder().decode(DecodeRequest(latent, seed, options=options), ctx)
    return assets, events


def glb_files(out: Path, assets: Sequence[Any]) -> list[Path]:
    return [out / a.path for a in assets if a.role == "mesh"]


def read_glb(path: Path) -> dict[str, Any]:
    """What the tests check in a GLB, read with pygltflib: per-LOD positions, normals, tangents, UVs,
    indices, plus images (size, mime) and the scene's motif extras."""
    import io

    import pygltflib
    from PIL import Image

    gltf = pygltflib.GLTF2().load_binary(str(path))
    blob = gltf.binary_blob()
    dtypes = {5126: np.float32, 5123: np.uint16, 5125: np.uint32}
    widths = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}

    def acc(i: int) -> np.ndarray:
        a = gltf.accessors[i]
        v = gltf.bufferViews[a.bufferView]
        start = (v.byteOffset or 0) + (a.byteOffset or 0)
        arr = np.frombuffer(blob, dtype=dtypes[a.componentType], count=a.count * widths[a.type], offset=start)
        return arr.reshape(a.count, widths[a.type]) if widths[a.type] > 1 else arr

    lods = []
    for mesh in gltf.meshes:
        prims = []
        for p in mesh.primitives:
            at = p.attributes
            prims.append({
                "material": gltf.materials[p.material].name,
                "pos": acc(at.POSITION), "nrm": acc(at.NORMAL), "tan": acc(at.TANGENT),
                "uv0": acc(at.TEXCOORD_0), "uv1": acc(at.TEXCOORD_1), "idx": acc(p.indices).reshape(-1, 3),
            })
        lods.append(prims)
    images = []
    for im in gltf.images:
        v = gltf.bufferViews[im.bufferView]
        data = blob[(v.byteOffset or 0):(v.byteOffset or 0) + v.byteLength]
        with Image.open(io.BytesIO(data)) as img:
            images.append({"name": im.name, "mime": im.mimeType, "size": img.size, "mode": img.mode})
    return {"gltf": gltf, "lods": lods, "images": images, "extras": gltf.scenes[0].extras.get("motif", {})}


def positions(path: Path) -> bytes:
    """All LOD0 positions of a GLB as bytes (shape identity, independent of textures)."""
    g = read_glb(path)
    return b"".join(p["pos"].tobytes() for p in g["lods"][0])


# ------------------------------------------------------------------------------------ Blender probe
def blender_check(paths: Sequence[Path], timeout: float = 600.0) -> dict[str, dict[str, Any]]:
    """Import every GLB into real Blender (subprocess) and report objects, materials and dimensions."""
    proc = subprocess.run([sys.executable, __file__, *map(str, paths)], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO, check=False)
    out = {}
    for line in proc.stdout.splitlines():
        if line.startswith("MESHCHECK "):
            r = json.loads(line[len("MESHCHECK "):])
            out[r["path"]] = r
    assert len(out) == len(paths), f"Blender probe failed (rc {proc.returncode}): {proc.stderr[-3000:]}"
    return out


def _upstream_image(socket: Any, depth: int = 0) -> Any:
    """The image texture feeding a socket, through Separate Color / Normal Map / mix nodes."""
    if depth > 6 or not socket.is_linked:
        return None
    node = socket.links[0].from_node
    if node.type == "TEX_IMAGE":
        return node.image
    for inp in node.inputs:
        img = _upstream_image(inp, depth + 1)
        if img is not None:
            return img
    return None


def _probe(paths: Sequence[str]) -> None:  # pragma: no cover - runs inside the Blender subprocess
    import bpy

    for path in paths:
        bpy.ops.wm.read_factory_settings(use_empty=True)
        bpy.ops.import_scene.gltf(filepath=path)
        scene = bpy.context.scene
        orphans = {o.name for c in bpy.data.collections if c.name.startswith("Orphan") for o in c.objects}
        meshes = [o for o in scene.objects if o.type == "MESH"]
        main = [o for o in meshes if o.name not in orphans]
        report: dict[str, Any] = {"path": path, "mesh_objects": len(meshes), "scene_objects": [o.name for o in main],
                                  "lod_objects": sorted(orphans), "materials": []}
        if main:
            obj = main[0]
            d = obj.dimensions
            report["dimensions_gltf"] = [d.x, d.z, d.y]  # Blender Z-up -> glTF Y-up
            for slot in obj.material_slots:
                mat = slot.material
                bsdf = next((n for n in mat.node_tree.nodes if n.type == "BSDF_PRINCIPLED"), None) if mat else None
                entry = {"name": mat.name if mat else None, "principled": bsdf is not None}
                if bsdf is not None:
                    for key in ("Base Color", "Roughness", "Metallic", "Normal"):
                        img = _upstream_image(bsdf.inputs[key])
                        entry[key] = img.name if img is not None else None
                        entry[key + " size"] = list(img.size) if img is not None else None
                report["materials"].append(entry)
        print("MESHCHECK " + json.dumps(report), flush=True)


# ----------------------------------------------------------------------------- tests of the checkers
def test_validator_reports_errors_on_a_broken_glb(tmp_path: Path) -> None:
    """The Khronos validator wrapper must see a truncated file as an error (else 0 errors means nothing)."""
    from engine_server.decoders.mesh import validator
    from tests.latent_factory import make_latent

    if not validator.available():
        pytest.fail("node and node_modules/gltf-validator are needed (npm install)")
    assets, _ = decode_kit(make_latent(geometry_style="industrial"), 3, tmp_path, texture_size=512, assets=5)
    good = glb_files(tmp_path, assets)[0]
    broken = tmp_path / "broken.glb"
    broken.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    reports = validator.validate([good, broken])
    assert reports[0].errors == 0, reports[0].messages[:5]
    assert reports[1].errors > 0
    assert reports[0].triangles and reports[0].triangles > 0


def test_read_glb_sees_what_was_written(tmp_path: Path) -> None:
    from tests.latent_factory import make_latent

    assets, _ = decode_kit(make_latent(geometry_style="medieval"), 5, tmp_path, texture_size=512, assets=5)
    for a in assets:
        if a.role != "mesh":
            continue
        g = read_glb(tmp_path / a.path)
        assert [sum(len(p["idx"]) for p in lod) for lod in g["lods"]] == a.meta["triangles"]
        assert g["extras"]["name"] == a.meta["name"]


if __name__ == "__main__":
    _probe(sys.argv[1:])
