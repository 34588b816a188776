"""Unit tests for the mesh decoder's parts: primitives, UVs, tangents, noise, textures, palette,
coherence measure and option validation. Fast: no GLB is written here."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine_server.decoders.base import DecodeContext, DecodeRequest
from engine_server.decoders.mesh import MeshDecoder
from engine_server.decoders.mesh import geometry as g
from engine_server.decoders.mesh.assembly import Builder, assemble
from engine_server.decoders.mesh.coherence import delta_e00, dominant_colours, texture_distance
from engine_server.decoders.mesh.materials import kit_materials
from engine_server.decoders.mesh.noise import Knobs, spectral_pair
from engine_server.decoders.mesh.palette import assign_roles, srgb_to_lab, swatches
from engine_server.decoders.mesh.styles import STYLES
from engine_server.decoders.mesh.textures import normal_map, synthesize
from engine_server.decoders.mesh.uvpack import pack_charts
from engine_server.errors import InvalidArgument
from engine_server.latent import Latent
from tests.latent_factory import NEUTRAL, make_latent


def _closed_and_outward(p: g.Part) -> tuple[float, int, float]:
    """(signed volume, unpaired directed edges after welding, share of triangles agreeing with normals)."""
    a, b, c = (p.pos[p.tri[:, k]] for k in range(3))
    vol = float(np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6)
    keys = np.round(p.pos * 1e5).astype(np.int64)
    _, inv = np.unique(keys, axis=0, return_inverse=True)
    t = inv.ravel()[p.tri]
    edges = {tuple(e) for e in np.concatenate([t[:, [0, 1]], t[:, [1, 2]], t[:, [2, 0]]])}
    unpaired = sum(1 for x, y in edges if (y, x) not in edges)
    geo = np.cross(b - a, c - a)
    agree = float((np.einsum("ij,ij->i", geo, p.nrm[p.tri].sum(axis=1)) > 0).mean())
    return vol, unpaired, agree


@pytest.mark.parametrize("part, volume", [
    (g.box((1.0, 2.0, 3.0)), 6.0),
    (g.box((1.0, 2.0, 3.0), bevel=0.1), None),
    (g.cylinder(0.5, 1.0, 32), math.pi * 0.25),
    (g.cylinder(0.5, 1.0, 16, bevel=0.05), None),
    (g.lathe([(0.0, 0.0), (0.3, 0.0), (0.4, 0.5), (0.2, 0.9), (0.0, 1.0)], 12), None),
    (g.extrude([(0, 0), (1, 0), (1, 1), (0.5, 0.4), (0, 1)], 0.5), 0.5 * 0.7),
    (g.tube([(0, 0, 0), (0, 1, 0), (0.5, 1.5, 0.2)], 0.1, 12), None),
    (g.cube_sphere((1.0, 0.6, 0.8), 6, lambda d: 1 + 0.1 * d[:, 0]), None),
])
def test_primitives_are_closed_with_outward_normals(part: g.Part, volume: float | None) -> None:
    vol, unpaired, agree = _closed_and_outward(part)
    assert unpaired == 0, "surface has holes"
    assert vol > 0, "normals point inward"
    assert agree == 1.0
    assert np.allclose(np.linalg.norm(part.nrm, axis=1), 1.0, atol=1e-6)
    if volume is not None:
        assert vol == pytest.approx(volume, rel=0.03)


def test_thick_polyline_strip_caps_close_the_shell() -> None:
    xs = np.linspace(-1, 1, 40)
    outline, caps = g.thick_polyline(list(zip(xs, 0.1 * np.sin(xs * 6), strict=True)), 0.02)
    vol, unpaired, agree = _closed_and_outward(g.extrude(outline, 0.5, cap_tris=caps))
    assert unpaired == 0 and vol > 0 and agree == 1.0


def test_assembly_origin_tangents_and_lightmap_uvs() -> None:
    b0 = Builder(0)
    b0.add("a", g.box((2.0, 1.0, 0.5), bevel=0.05), at=(3.0, 5.0, -1.0))
    b0.add("b", g.cylinder(0.3, 2.0, 16), at=(4.0, 4.5, -1.0))
    lods = assemble([b0], {"a": 2.0, "b": 1.0})
    lo, hi = lods[0].bounds()
    assert lo[1] == pytest.approx(0.0, abs=1e-6)
    assert (lo[0] + hi[0]) / 2 == pytest.approx(0.0, abs=1e-6)
    assert (lo[2] + hi[2]) / 2 == pytest.approx(0.0, abs=1e-6)
    for p in lods[0].primitives:
        t, n = p.tan[:, :3], p.nrm
        assert np.allclose(np.linalg.norm(t, axis=1), 1.0, atol=1e-5)
        assert np.abs(np.einsum("ij,ij->i", t, n)).max() < 1e-4
        assert set(np.unique(p.tan[:, 3])) <= {-1.0, 1.0}
        assert p.uv1.min() >= 0.0 and p.uv1.max() <= 1.0


def _uv_overlap(uv: np.ndarray, tri: np.ndarray, res: int = 512) -> float:
    """Share of covered lightmap texels covered by more than one triangle (centre sampling)."""
    count = np.zeros((res, res), np.int32)
    for t in tri:
        p = uv[t] * res
        x0, y0 = np.floor(p.min(axis=0)).astype(int)
        x1, y1 = np.ceil(p.max(axis=0)).astype(int)
        xs, ys = np.meshgrid(np.arange(max(x0, 0), min(x1, res)) + 0.5, np.arange(max(y0, 0), min(y1, res)) + 0.5)
        if xs.size == 0:
            continue

        s0, s1, s2 = (_side(p[i], p[(i + 1) % 3], xs, ys) for i in range(3))
        inside = ((s0 > 0) & (s1 > 0) & (s2 > 0)) | ((s0 < 0) & (s1 < 0) & (s2 < 0))
        count[ys[inside].astype(int), xs[inside].astype(int)] += 1
    covered = (count > 0).sum()
    return float((count > 1).sum() / max(covered, 1))


def _side(a: np.ndarray, b: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    return (b[0] - a[0]) * (ys - a[1]) - (b[1] - a[1]) * (xs - a[0])


def test_lightmap_charts_do_not_overlap() -> None:
    b = Builder(0)
    b.add("a", g.box((1.0, 1.0, 1.0), bevel=0.1))
    b.add("a", g.cylinder(0.4, 1.5, 16, bevel=0.03), at=(1.5, 0, 0))
    b.add("a", g.cube_sphere((0.5, 0.4, 0.5), 5), at=(-1.5, 0.5, 0))
    b.add("a", g.tube([(0, 0, 0), (0, 1, 0.3), (0.4, 1.6, 0.3)], 0.08, 10), at=(0, 1.2, 0))
    p = assemble([b], {"a": 2.0})[0].primitives[0]
    assert _uv_overlap(p.uv1, p.idx.reshape(-1, 3)) < 0.002


def test_uv_overlap_checker_can_fail() -> None:
    uv = np.array([[0.1, 0.1], [0.6, 0.1], [0.1, 0.6], [0.2, 0.2], [0.7, 0.2], [0.2, 0.7]])
    assert _uv_overlap(uv, np.array([[0, 1, 2], [3, 4, 5]])) > 0.15  # exact: 0.045 / 0.205


def test_pack_charts_keeps_proportions() -> None:
    uv = np.array([[0, 0], [2, 0], [2, 1], [0, 1], [5, 5], [6, 5], [6, 6], [5, 6]], dtype=float)
    chart = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    out = pack_charts(uv, chart)
    w0 = out[1, 0] - out[0, 0]
    h0 = abs(out[2, 1] - out[1, 1])
    assert w0 == pytest.approx(2 * h0, rel=1e-6)


def test_knobs_are_order_free_and_seeded() -> None:
    a, b = Knobs(1, "crate"), Knobs(1, "crate")
    first = a.u("w", 0, 1)
    b.u("other", 0, 1)
    assert b.u("w", 0, 1) == first
    assert Knobs(2, "crate").u("w", 0, 1) != first
    assert all(3 <= Knobs(7, "x").i(f"k{i}", 3, 5) <= 5 for i in range(200))


def test_spectral_noise_tiles_and_ignores_resolution() -> None:
    f512, _ = spectral_pair(np.random.default_rng(4), 512, beta=1.8, cutoff=32)
    f1k, _ = spectral_pair(np.random.default_rng(4), 1024, beta=1.8, cutoff=32)
    inner = np.abs(np.diff(f512, axis=1)).mean()
    seam = np.abs(f512[:, 0] - f512[:, -1]).mean()
    assert seam < 2 * inner  # the wrap-around step looks like any other step
    assert np.corrcoef(f512.ravel(), f1k[::2, ::2].ravel())[0, 1] > 0.98


def test_normal_map_is_green_up() -> None:
    """A ridge along x: its upper flank (smaller row index) must lean toward +Y (green > 128)."""
    rows = np.arange(64, dtype=np.float32)
    h = np.tile(np.exp(-((rows - 32) / 6) ** 2)[:, None] * 5.0, (1, 64))
    n = normal_map(h, 1.0)
    assert n[26, 10, 1] > 140 and n[38, 10, 1] < 116
    assert abs(int(n[26, 10, 0]) - 128) <= 1


def test_textures_are_deterministic_and_sized() -> None:
    mats = kit_materials(make_latent(geometry_style="industrial", wear=0.8, weather="rain", weather_intensity=0.8),
                         STYLES["industrial"])
    a = synthesize(mats["metal"], 512, 9)
    b = synthesize(mats["metal"], 512, 9)
    assert a.base.shape == (512, 512, 3) and a.orm.shape == (512, 512, 3) and a.normal.shape == (512, 512, 3)
    assert np.array_equal(a.base, b.base) and np.array_equal(a.orm, b.orm)
    assert not np.array_equal(a.base, synthesize(mats["metal"], 512, 10).base)


def test_2k_textures_are_power_of_two_pngs() -> None:
    from io import BytesIO

    from PIL import Image

    spec = kit_materials(make_latent(geometry_style="scifi"), STYLES["scifi"])["glow"]
    pngs = synthesize(spec, 2048, 1).png()
    for data in pngs.values():
        with Image.open(BytesIO(data)) as img:
            assert img.format == "PNG" and img.size == (2048, 2048) and img.mode == "RGB"


def test_whole_number_floats_are_accepted_as_counts() -> None:
    MeshDecoder().validate(_request(assets=6.0, texture_size=512.0))


def test_rain_darkens_and_glosses_surfaces() -> None:
    dry = kit_materials(make_latent(weather="clear"), STYLES["architectural"])["structure"]
    wet = kit_materials(make_latent(weather="rain", weather_intensity=1.0), STYLES["architectural"])["structure"]
    td, tw = synthesize(dry, 512, 1), synthesize(wet, 512, 1)
    assert tw.base.mean() < td.base.mean() - 5
    assert tw.orm[..., 1].mean() < td.orm[..., 1].mean() - 40  # roughness channel


def test_palette_roles_follow_materials_not_the_seed() -> None:
    pal = ["#3b2a1d", "#7a5a3a", "#c9b28f", "#8c2f2a", "#4e6b3a", "#d9cbb0"]
    lat = make_latent(palette=pal, geometry_style="medieval")
    sw = swatches(lat)
    kinds = dict(STYLES["medieval"].kinds)
    roles = assign_roles(sw, kinds)
    assert pal[roles["wood"]] in ("#7a5a3a", "#3b2a1d")  # browns, not the red or the green
    assert pal[roles["foliage"]] == "#4e6b3a"
    m1 = kit_materials(lat.with_fields({"seed": 1}), STYLES["medieval"])
    m2 = kit_materials(lat.with_fields({"seed": 2}), STYLES["medieval"])
    assert m1 == m2


# ------------------------------------------------------------------------------------------ coherence
def test_ciede2000_matches_sharma_fixture() -> None:
    assert float(delta_e00(np.array([50, 2.6772, -79.7751]), np.array([50, 0, -82.7485]))) == pytest.approx(
        2.0425, abs=1e-4)


def test_our_lab_matches_colour_science() -> None:
    from engine_server.decoders.mesh.coherence import srgb_to_lab as cs_lab

    rgb = np.array([[0.9, 0.2, 0.1], [0.1, 0.5, 0.8], [0.5, 0.5, 0.5]])
    assert np.allclose(srgb_to_lab(rgb), cs_lab(rgb), atol=0.05)


def test_texture_distance_separates_on_and_off_palette() -> None:
    pal = [(0.8, 0.1, 0.1), (0.1, 0.1, 0.8), (0.9, 0.9, 0.9)]
    on = np.zeros((64, 64, 3), np.uint8)
    on[:32] = (204, 26, 26)
    on[32:] = (26, 26, 204)
    off = np.zeros((64, 64, 3), np.uint8)
    off[:] = (20, 200, 40)  # green: not in the palette
    assert texture_distance(on, pal) < 1.0
    assert texture_distance(off, pal) > 30.0
    doms = dominant_colours(on)
    assert len(doms) == 2 and abs(doms[0][1] - 0.5) < 0.01


# ---------------------------------------------------------------------------------- options, inputs
def _request(**options: object) -> DecodeRequest:
    return DecodeRequest(make_latent(), 1, options=options)


@pytest.mark.parametrize("options, message", [
    ({"texture_size": 1000}, "texture_size"),
    ({"texture_size": True}, "texture_size"),
    ({"texture_size": 4096}, "texture_size"),
    ({"assets": 4}, "assets"),
    ({"assets": 99}, "assets"),
    ({"assets": 5.5}, "assets"),
    ({"colour": "red"}, "Unknown mesh option"),
])
def test_bad_options_are_rejected_before_any_work(tmp_path: object, options: dict, message: str) -> None:
    from pathlib import Path

    out = Path(str(tmp_path)) / "stage"
    out.mkdir()
    with pytest.raises(InvalidArgument, match=message):
        MeshDecoder().validate(_request(**options))
    with pytest.raises(InvalidArgument, match=message):
        MeshDecoder().decode(_request(**options), DecodeContext(out, lambda f, m: None, lambda: False))
    assert list(out.iterdir()) == []


def test_out_of_range_latent_fields_are_rejected_with_a_clear_message() -> None:
    with pytest.raises(InvalidArgument, match="wear must be between 0 and 1"):
        Latent.from_dict({**NEUTRAL, "wear": 1.5})
    with pytest.raises(InvalidArgument, match="geometry_style must be one of"):
        Latent.from_dict({**NEUTRAL, "geometry_style": "gothic"})


def test_registry_lists_mesh() -> None:
    from engine_server.decoders import registry

    d = registry.get("mesh")
    assert isinstance(d, MeshDecoder)
    assert "mesh" in registry.DEFAULT_DECODERS
    assert d.after == () and d.placeholder is False
    assert {"palette", "geometry_style", "wear"} <= d.reads
