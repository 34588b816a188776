"""Known-answer tests for the kit analyser (engine_server.analysis.kit): GLB files written with pygltflib
whose geometry (box, pyramid, sphere, node transforms) and materials (textures, factors) are known."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pygltflib as gl
import pytest
from PIL import Image

from engine_server.analysis import kit as ka
from engine_server.analysis.image import delta_e00


def _de(a: object, b: object) -> float:
    return float(delta_e00(np.asarray(a, dtype=float), np.asarray(b, dtype=float)))


def _box(w: float, h: float, d: float) -> tuple[np.ndarray, np.ndarray]:
    """Vertices and triangles of a box standing on y = 0, centred in x and z (faces not shared)."""
    x, z = w / 2, d / 2
    c = np.array([[-x, 0, -z], [x, 0, -z], [x, h, -z], [-x, h, -z], [-x, 0, z], [x, 0, z], [x, h, z], [-x, h, z]])
    quads = [(4, 5, 6, 7), (1, 0, 3, 2), (0, 4, 7, 3), (5, 1, 2, 6), (3, 7, 6, 2), (0, 1, 5, 4)]
    return c.astype(np.float32), np.array([t for a, b, cc, dd in quads for t in ((a, b, cc), (a, cc, dd))])


def _pyramid(base: float, h: float) -> tuple[np.ndarray, np.ndarray]:
    b = base / 2
    v = np.array([[-b, 0, -b], [b, 0, -b], [b, 0, b], [-b, 0, b], [0, h, 0]], dtype=np.float32)
    return v, np.array([(0, 2, 1), (0, 3, 2), (0, 1, 4), (1, 2, 4), (2, 3, 4), (3, 0, 4)])


def _sphere(r: float, n: int = 48) -> tuple[np.ndarray, np.ndarray]:
    th, ph = np.meshgrid(np.linspace(0, np.pi, n), np.linspace(0, 2 * np.pi, 2 * n), indexing="ij")
    v = np.stack([r * np.sin(th) * np.cos(ph), r + r * np.cos(th), r * np.sin(th) * np.sin(ph)], -1).reshape(-1, 3)
    idx = np.arange(n * 2 * n).reshape(n, 2 * n)
    a, b, c, d = idx[:-1, :-1], idx[1:, :-1], idx[1:, 1:], idx[:-1, 1:]
    tris = np.concatenate([np.stack([a, b, c], -1).reshape(-1, 3), np.stack([a, c, d], -1).reshape(-1, 3)])
    return v.astype(np.float32), tris


def _png(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb.astype(np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def write_glb(path: Path, meshes: list[tuple[np.ndarray, np.ndarray, int]], materials: list[dict],
              node_scale: float | None = None, node_translation: list[float] | None = None) -> Path:
    """A GLB with one node per (vertices, triangles, material index) and the given materials.

    A material dict may hold "texture" (RGB uint8 base colour), "orm" (RGB uint8), "factor" (RGBA),
    "metallic", "roughness", "emissive" (RGB factor).
    """
    chunks: list[bytes] = []
    views: list[gl.BufferView] = []
    accessors: list[gl.Accessor] = []

    def add(data: bytes, target: int | None) -> int:
        offset = sum(len(c) for c in chunks)
        chunks.append(data + b"\x00" * ((-len(data)) % 4))
        views.append(gl.BufferView(buffer=0, byteOffset=offset, byteLength=len(data), target=target))
        return len(views) - 1

    images, textures, gl_materials = [], [], []
    for m in materials:
        pbr = gl.PbrMetallicRoughness(baseColorFactor=m.get("factor", [1.0, 1.0, 1.0, 1.0]),
                                      metallicFactor=m.get("metallic", 1.0), roughnessFactor=m.get("roughness", 1.0))
        if "texture" in m:
            images.append(gl.Image(bufferView=add(_png(m["texture"]), None), mimeType="image/png"))
            textures.append(gl.Texture(source=len(images) - 1))
            pbr.baseColorTexture = gl.TextureInfo(index=len(textures) - 1)
        if "orm" in m:
            images.append(gl.Image(bufferView=add(_png(m["orm"]), None), mimeType="image/png"))
            textures.append(gl.Texture(source=len(images) - 1))
            pbr.metallicRoughnessTexture = gl.TextureInfo(index=len(textures) - 1)
        mat = gl.Material(pbrMetallicRoughness=pbr)
        if "emissive" in m:
            mat.emissiveFactor = m["emissive"]
        gl_materials.append(mat)
    nodes, gl_meshes = [], []
    for verts, tris, mat_index in meshes:
        pos = add(verts.astype(np.float32).tobytes(), 34962)
        accessors.append(gl.Accessor(bufferView=pos, componentType=5126, count=len(verts), type="VEC3",
                                     min=verts.min(0).tolist(), max=verts.max(0).tolist()))
        idx = add(tris.astype(np.uint32).ravel().tobytes(), 34963)
        accessors.append(gl.Accessor(bufferView=idx, componentType=5125, count=tris.size, type="SCALAR"))
        gl_meshes.append(gl.Mesh(primitives=[gl.Primitive(attributes=gl.Attributes(POSITION=len(accessors) - 2),
                                                          indices=len(accessors) - 1, material=mat_index)]))
        node = gl.Node(mesh=len(gl_meshes) - 1)
        if node_scale is not None:
            node.scale = [node_scale] * 3
        if node_translation is not None:
            node.translation = node_translation
        nodes.append(node)
    blob = b"".join(chunks)
    gltf = gl.GLTF2(asset=gl.Asset(version="2.0"), scene=0, scenes=[gl.Scene(nodes=list(range(len(nodes))))],
                    nodes=nodes, meshes=gl_meshes, materials=gl_materials, textures=textures, images=images,
                    accessors=accessors, bufferViews=views, buffers=[gl.Buffer(byteLength=len(blob))])
    gltf.set_binary_blob(blob)
    path.write_bytes(b"".join(gltf.save_to_bytes()))
    return path


def _two_colour(size: int = 64) -> np.ndarray:
    tex = np.zeros((size, size, 3), dtype=np.uint8)
    tex[:, : size // 2] = [200, 40, 40]
    tex[:, size // 2:] = [40, 60, 200]
    return tex


def test_box_geometry_and_texture_palette(tmp_path: Path) -> None:
    v, t = _box(1.0, 2.0, 0.5)
    path = write_glb(tmp_path / "box.glb", [(v, t, 0)], [{"texture": _two_colour(), "metallic": 0.8,
                                                          "roughness": 0.3}])
    asset = ka.analyse_glb(path)
    assert asset["height_m"] == pytest.approx(2.0)
    assert asset["footprint_m2"] == pytest.approx(0.5)
    assert asset["triangles"] == 12
    assert asset["straightness"] == pytest.approx(1.0)
    assert asset["silhouette_fill"] == pytest.approx(1.0, abs=0.01)
    kit = ka.analyse_kit([path])
    assert kit["metalness"] == pytest.approx(0.8) and kit["roughness"] == pytest.approx(0.3)
    assert kit["emissive_share"] == 0.0
    pal = kit["palette"]
    assert len(pal) == 2
    assert sorted(p["hex"] for p in pal) == ["#283cc8", "#c82828"]
    assert [p["share"] for p in pal] == pytest.approx([0.5, 0.5], abs=0.01)


def test_pyramid_and_sphere_shape_cues(tmp_path: Path) -> None:
    grey = [{"factor": [0.5, 0.5, 0.5, 1.0]}]
    pyr = ka.analyse_glb(write_glb(tmp_path / "pyr.glb", [(*_pyramid(2.0, 1.0), 0)], grey))
    assert pyr["silhouette_fill"] == pytest.approx(0.5, abs=0.04)  # a triangle in its bounding box
    slant = math.sqrt(1.0 + 1.0) * 2.0 / 2.0 * 4  # four sides: base 2 x slant height sqrt(2), halved
    assert pyr["straightness"] == pytest.approx(4.0 / (4.0 + slant), abs=1e-6)  # only the base is axis-aligned
    sph = ka.analyse_glb(write_glb(tmp_path / "sph.glb", [(*_sphere(1.0), 0)], grey))
    assert sph["silhouette_fill"] == pytest.approx(math.pi / 4, abs=0.04)
    assert sph["straightness"] < 0.15
    assert sph["height_m"] == pytest.approx(2.0, abs=1e-3)


def test_node_transforms_and_factors(tmp_path: Path) -> None:
    v, t = _box(1.0, 1.0, 1.0)
    orm = np.zeros((8, 8, 3), dtype=np.uint8)
    orm[..., 1] = 128  # roughness ~0.5
    orm[..., 2] = 255  # fully metallic
    path = write_glb(tmp_path / "scaled.glb", [(v, t, 0)],
                     [{"factor": [0.2, 0.4, 0.8, 1.0], "orm": orm, "metallic": 0.5, "emissive": [1.0, 0.5, 0.0]}],
                     node_scale=3.0, node_translation=[10.0, 5.0, 0.0])
    asset = ka.analyse_glb(path)
    assert asset["height_m"] == pytest.approx(3.0)
    assert asset["footprint_m2"] == pytest.approx(9.0)
    kit = ka.analyse_kit([path])
    assert kit["metalness"] == pytest.approx(0.5)
    assert kit["roughness"] == pytest.approx(128 / 255, abs=1e-3)
    assert kit["emissive_share"] == 1.0
    # an untextured material's colour is its factor, which glTF defines in linear light
    import colour

    expected = colour.XYZ_to_Lab(colour.RGB_to_XYZ(np.array([0.2, 0.4, 0.8]), colour.RGB_COLOURSPACES["sRGB"]))
    assert float(_de(expected, kit["palette"][0]["lab"])) < 0.5


def test_kit_palette_weights_materials_by_area(tmp_path: Path) -> None:
    big_v, big_t = _box(4.0, 4.0, 4.0)  # 96 m2 of red
    small_v, small_t = _box(1.0, 1.0, 1.0)  # 6 m2 of blue
    red = np.full((16, 16, 3), [220, 30, 30], dtype=np.uint8)
    blue = np.full((16, 16, 3), [30, 30, 220], dtype=np.uint8)
    a = write_glb(tmp_path / "a.glb", [(big_v, big_t, 0)], [{"texture": red}])
    b = write_glb(tmp_path / "b.glb", [(small_v, small_t, 0)], [{"texture": blue}])
    kit = ka.analyse_kit([a, b])
    assert kit["assets"] == 2
    assert kit["palette"][0]["hex"] == "#dc1e1e"
    assert kit["palette"][0]["share"] == pytest.approx(96 / 102, abs=0.01)
    assert kit["height_m"] == pytest.approx(2.5)  # median of 4 and 1
    assert kit["max_height_m"] == pytest.approx(4.0)
