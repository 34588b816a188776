"""The mesh decoder end to end on hand-made latents (one per geometry style): files, budgets, scale,
origin, grid, LODs, normals, UVs, the Khronos validator, real Blender import, determinism, and the
seed/palette separation. Readers are the real ones: pygltflib, node gltf-validator, bpy."""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine_server.decoders.base import DecodeContext, DecodeRequest
from engine_server.decoders.mesh import MeshDecoder, validator
from engine_server.decoders.mesh.coherence import glb_base_colour_images, kit_distance
from engine_server.decoders.mesh.kit import TRIANGLE_BUDGET
from engine_server.decoders.mesh.styles import STYLES
from engine_server.errors import Cancelled
from tests.latent_factory import make_latent
from tests.test_mesh_support import blender_check, decode_kit, glb_files, positions, read_glb

GLB_LIMIT = 5 * 1024 * 1024
COHERENCE_LIMIT = 10.0  # mean CIEDE2000, see docs/MESH.md

STYLE_LATENTS: dict[str, dict[str, Any]] = {
    "scifi": dict(palette=["#14121f", "#2b2f4a", "#ff2e88", "#00e5ff", "#f5a623", "#7d86a8"], weather="rain",
                  weather_intensity=0.8, time_of_day="dusk", wear=0.7, density=0.8, metalness=0.7),
    "industrial": dict(palette=["#2e2b28", "#5b5750", "#a39e93", "#c8581d", "#e8c547"], weather="fog",
                       weather_intensity=0.5, time_of_day="morning", wear=0.9, density=1.0, metalness=0.5),
    "medieval": dict(palette=["#3b2a1d", "#7a5a3a", "#c9b28f", "#8c2f2a", "#4e6b3a", "#d9cbb0"], weather="snow",
                     weather_intensity=0.4, time_of_day="night", wear=0.5, density=0.6),
    "architectural": dict(palette=["#e8e2d6", "#b9ad99", "#6f6a61", "#35506b", "#a6503a"], weather="clear",
                          time_of_day="noon", wear=0.1, density=0.3, roughness=0.2),
    "organic": dict(palette=["#1f3b2c", "#4f7d5c", "#c7d9b7", "#e0a96d", "#7b4b94"], weather="dust",
                    weather_intensity=0.6, time_of_day="dawn", wear=0.3, density=0.9),
    "natural": dict(palette=["#3d3a2a", "#6b7a3c", "#a8a78a", "#5b4636", "#c9c2a4"], weather="storm",
                    weather_intensity=1.0, time_of_day="afternoon", wear=1.0, density=0.0),
}


def style_latent(style: str, **changes: Any) -> Any:
    return make_latent(geometry_style=style, **{**STYLE_LATENTS[style], **changes})


@pytest.fixture(scope="module")
def full_kit(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Any], list[tuple[float, str]]]:
    """The issue's example at the default options: cyberpunk-like market at dusk in the rain, 1K textures."""
    out = tmp_path_factory.mktemp("full") / "stage"
    out.mkdir()
    assets, events = decode_kit(style_latent("scifi"), 2024, out)
    return out, assets, events


@pytest.fixture(scope="module")
def style_kits(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, list[Any]]]:
    """Every style with every piece of its vocabulary (512 px textures to keep the suite quick)."""
    kits = {}
    for style in STYLES:
        out = tmp_path_factory.mktemp(style)
        assets, _ = decode_kit(style_latent(style), 11, out, texture_size=512, assets=STYLES[style].max_assets)
        kits[style] = (out, assets)
    return kits


def _all_glbs(style_kits: dict[str, tuple[Path, list[Any]]]) -> list[tuple[Path, Any]]:
    return [(out / a.path, a) for out, assets in style_kits.values() for a in assets if a.role == "mesh"]


# ------------------------------------------------------------------------------------ files, budgets
def test_kit_has_the_pieces_of_a_place(full_kit: Any) -> None:
    out, assets, _ = full_kit
    meshes = [a for a in assets if a.role == "mesh"]
    assert len(meshes) == 6
    names = [a.meta["name"] for a in meshes]
    assert len(set(names)) == len(names)
    assert {"wall", "floor", "stall", "sign", "lamp_post", "crate"} == {a.meta["archetype"] for a in meshes}
    kit = [a for a in assets if a.role == "kit"]
    assert len(kit) == 1 and kit[0].path == "mesh/kit.json"
    manifest = json.loads((out / "mesh/kit.json").read_text())["kit"]
    assert manifest["grid_snap_m"] == STYLES["scifi"].grid
    assert [m["name"] for m in manifest["assets"]] == names
    for a in meshes:
        for key in ("footprint_m", "height_m", "grid_snap_m", "triangles", "materials", "lod"):
            assert key in a.meta
        assert a.path == f"mesh/{a.meta['name']}.glb" and a.media_type == "model/gltf-binary"


def test_budgets_lods_and_textures(full_kit: Any) -> None:
    out, assets, _ = full_kit
    for a in assets:
        if a.role != "mesh":
            continue
        path = out / a.path
        assert path.stat().st_size <= GLB_LIMIT, f"{a.path}: {path.stat().st_size / 1e6:.2f} MB"
        tris = a.meta["triangles"]
        assert len(tris) >= 2 and tris[0] <= TRIANGLE_BUDGET
        assert all(lo <= hi // 2 for hi, lo in itertools.pairwise(tris)), tris
        g = read_glb(path)
        assert g["gltf"].nodes[0].extensions["MSFT_lod"]["ids"] == list(range(1, len(tris)))
        assert g["gltf"].scenes[0].nodes == [0]
        for im in g["images"]:
            assert im["mime"] == "image/png" and im["size"] == (1024, 1024)
        for mat in g["gltf"].materials:
            pbr = mat.pbrMetallicRoughness
            assert pbr.baseColorTexture is not None and pbr.metallicRoughnessTexture is not None
            assert mat.normalTexture is not None
            assert mat.occlusionTexture.index == pbr.metallicRoughnessTexture.index  # packed ORM
    glow = [m for m in json.loads((out / "mesh/kit.json").read_text())["kit"]["materials"] if m["role"] == "glow"]
    assert glow and glow[0]["emissive_strength"] > 1.0  # neon at dusk


def test_origin_scale_and_grid(style_kits: Any) -> None:
    for path, a in _all_glbs(style_kits):
        g = read_glb(path)
        pts = np.concatenate([p["pos"] for p in g["lods"][0]])
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        assert lo[1] == pytest.approx(0.0, abs=1e-4), path.name
        assert (lo[0] + hi[0]) / 2 == pytest.approx(0.0, abs=1e-4)
        assert (lo[2] + hi[2]) / 2 == pytest.approx(0.0, abs=1e-4)
        size = hi - lo
        assert a.meta["footprint_m"] == pytest.approx([size[0], size[2]], abs=1e-3)
        assert a.meta["height_m"] == pytest.approx(size[1], abs=1e-3)
        assert 0.05 < size[1] < 6.0 and 0.1 < size[0] < 6.0, f"{path.name}: implausible size {size}"
        if a.meta["modular"]:
            grid = a.meta["grid_snap_m"]
            cells = size[0] / grid
            assert abs(cells - round(cells)) * grid < 0.002, f"{path.name} is {size[0]:.4f} m wide on a {grid} m grid"
            if a.meta["archetype"] == "floor":
                assert abs(size[2] / grid - round(size[2] / grid)) * grid < 0.002


def test_normals_tangents_and_winding(style_kits: Any) -> None:
    for path, _ in _all_glbs(style_kits):
        for lod in read_glb(path)["lods"]:
            for p in lod:
                n, t, idx = p["nrm"], p["tan"], p["idx"].astype(np.int64)
                assert np.allclose(np.linalg.norm(n, axis=1), 1.0, atol=1e-4)
                assert np.allclose(np.linalg.norm(t[:, :3], axis=1), 1.0, atol=1e-4)
                assert np.abs(np.einsum("ij,ij->i", n, t[:, :3])).max() < 1e-3
                assert set(np.unique(t[:, 3])) <= {-1.0, 1.0}
                a, b, c = (p["pos"][idx[:, k]].astype(np.float64) for k in range(3))
                geo = np.cross(b - a, c - a)
                agree = np.einsum("ij,ij->i", geo, n[idx].sum(axis=1)) > 0
                assert agree.all(), f"{path.name}: {int((~agree).sum())} triangles face away from their normals"
                assert p["uv1"].min() >= 0.0 and p["uv1"].max() <= 1.0


def test_lightmap_uvs_do_not_overlap(style_kits: Any) -> None:
    from tests.test_mesh_unit import _uv_overlap

    for style in ("architectural", "medieval"):
        out, assets = style_kits[style]
        for a in assets[:3]:
            if a.role != "mesh":
                continue
            prims = read_glb(out / a.path)["lods"][0]
            uv = np.concatenate([p["uv1"] for p in prims])
            offs = np.cumsum([0] + [len(p["uv1"]) for p in prims[:-1]])
            tri = np.concatenate([p["idx"].astype(np.int64) + o for p, o in zip(prims, offs, strict=True)])
            assert _uv_overlap(uv, tri) < 0.005, a.path


# ------------------------------------------------------------------------------------- real readers
def test_khronos_validator_finds_no_errors(full_kit: Any, style_kits: Any) -> None:
    if not validator.available():
        pytest.fail("node and node_modules/gltf-validator are needed (npm install)")
    out, assets, _ = full_kit
    items = [(out / a.path, a) for a in assets if a.role == "mesh"] + _all_glbs(style_kits)
    reports = validator.validate([p for p, _ in items])
    for (path, a), r in zip(items, reports, strict=True):
        serious = [m for m in r.messages if m["severity"] in ("error", "warning")]
        assert r.errors == 0 and r.warnings == 0, f"{path.name}: {serious[:5]}"
        assert r.triangles == sum(a.meta["triangles"])
        assert set(r.codes("info")) <= {"UNSUPPORTED_EXTENSION", "UNUSED_OBJECT"}


def test_blender_imports_every_piece(style_kits: Any) -> None:
    items = _all_glbs(style_kits)
    reports = blender_check([p for p, _ in items])
    for path, a in items:
        r = reports[str(path)]
        n_lods = len(a.meta["triangles"])
        assert r["mesh_objects"] == n_lods, r
        assert r["scene_objects"] == [a.meta["name"]]  # LOD0 in the scene; LOD1.. aside (MSFT_lod)
        assert r["lod_objects"] == [f"{a.meta['name']}_lod{i}" for i in range(1, n_lods)]
        assert len(r["materials"]) == len(a.meta["materials"])
        for m in r["materials"]:
            assert m["principled"], m
            for key in ("Base Color", "Roughness", "Metallic", "Normal"):
                assert m[key] is not None, f"{path.name}: {m['name']} has no image on {key}"
                assert m[key + " size"] == [512, 512]
        expect = [a.meta["footprint_m"][0], a.meta["height_m"], a.meta["footprint_m"][1]]
        for got, want in zip(r["dimensions_gltf"], expect, strict=True):
            assert got == pytest.approx(want, rel=0.01, abs=1e-3), f"{path.name}: {r['dimensions_gltf']} vs {expect}"


# ------------------------------------------------------------------------------ determinism, control
def _digests(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.rglob("*"))
            if p.is_file()}


def test_same_latent_and_seed_give_the_same_bytes(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        out.mkdir()
        decode_kit(style_latent("medieval"), 77, out, texture_size=512, assets=5)
    assert _digests(a) == _digests(b)
    assert len(_digests(a)) == 6


def test_seed_changes_shapes_but_keeps_the_palette(tmp_path: Path) -> None:
    lat = style_latent("industrial")
    pal = [s.rgb() for s in lat.palette]
    kits = {}
    for seed in (5, 6):
        out = tmp_path / str(seed)
        out.mkdir()
        assets, _ = decode_kit(lat, seed, out, texture_size=512, assets=5)
        kits[seed] = (out, assets)
    changed = sum(positions(kits[5][0] / a.path) != positions(kits[6][0] / b.path)
                  for a, b in zip(kits[5][1], kits[6][1], strict=True) if a.role == "mesh")
    assert changed >= 4
    for out, assets in kits.values():
        assert kit_distance(glb_base_colour_images(glb_files(out, assets)), pal) < COHERENCE_LIMIT
    mats = [json.loads((out / "mesh/kit.json").read_text())["kit"]["materials"] for out, _ in kits.values()]
    first, second = ({m["name"]: m["base_color"] for m in ms} for ms in mats)
    common = first.keys() & second.keys()
    assert len(common) >= 3 and all(first[k] == second[k] for k in common)
    assert set(first.values()) | set(second.values()) <= {s.color for s in lat.palette}


def test_palette_changes_colours_but_keeps_shapes(tmp_path: Path) -> None:
    old = style_latent("scifi")
    new_pal = ["#0f2a1d", "#2e5e3e", "#9bd16f", "#f2e8cf", "#bc4749"]
    new = style_latent("scifi", palette=new_pal)
    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    a_old, _ = decode_kit(old, 9, tmp_path / "old", texture_size=512, assets=5)
    a_new, _ = decode_kit(new, 9, tmp_path / "new", texture_size=512, assets=5)
    for a, b in zip(a_old, a_new, strict=True):
        if a.role == "mesh":
            assert positions(tmp_path / "old" / a.path) == positions(tmp_path / "new" / b.path)
    imgs = glb_base_colour_images(glb_files(tmp_path / "new", a_new))
    rgb_new = [tuple(int(h[i:i + 2], 16) / 255 for i in (1, 3, 5)) for h in new_pal]
    on = kit_distance(imgs, rgb_new)
    off = kit_distance(imgs, [s.rgb() for s in old.palette])
    assert on < COHERENCE_LIMIT < off


def test_fields_it_does_not_read_change_nothing(tmp_path: Path) -> None:
    lat = style_latent("organic")
    other = lat.with_fields({"tempo_bpm": 171.0, "ensemble": "jazz", "key": "F#", "valence": -0.9,
                             "camera_motion": "orbit", "embedding": [0.0] * 383 + [1.0]})
    assert set(MeshDecoder.reads).isdisjoint({"tempo_bpm", "ensemble", "key", "valence", "camera_motion", "embedding"})
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    decode_kit(lat, 3, tmp_path / "a", texture_size=512, assets=5)
    decode_kit(other, 3, tmp_path / "b", texture_size=512, assets=5)
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")


def test_progress_per_asset_and_only_out_dir(full_kit: Any) -> None:
    out, assets, events = full_kit
    fractions = [f for f, _ in events]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    for a in assets:
        if a.role == "mesh":
            assert any(a.meta["name"] in m and "wrote" in m for _, m in events)
    assert sorted(p.name for p in out.parent.iterdir()) == ["stage"]
    assert {p.relative_to(out).parts[0] for p in out.rglob("*") if p.is_file()} == {"mesh"}


def test_cancellation_stops_the_decoder(tmp_path: Path) -> None:
    calls = {"n": 0}

    def cancelled() -> bool:
        calls["n"] += 1
        return calls["n"] > 2

    ctx = DecodeContext(tmp_path, lambda f, m: None, cancelled)
    with pytest.raises(Cancelled):
        MeshDecoder().decode(DecodeRequest(style_latent("natural"), 1, options={"texture_size": 512}), ctx)


def test_kits_stay_on_palette(style_kits: Any) -> None:
    for style, (out, assets) in style_kits.items():
        pal = [s.rgb() for s in style_latent(style).palette]
        figure = kit_distance(glb_base_colour_images(glb_files(out, assets)), pal)
        print(f"{style}: mean CIEDE2000 to palette {figure:.2f}")
        assert figure < COHERENCE_LIMIT, style
