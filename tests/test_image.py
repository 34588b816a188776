"""The concept image: read back with Pillow, judged against the latent's palette and the pack's kit."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw

from engine_server.analysis.palette import picture_distance
from engine_server.decoders.base import Asset, DecodeContext, DecodeRequest
from engine_server.decoders.image import ImageDecoder
from engine_server.decoders.mesh import MeshDecoder
from engine_server.errors import InvalidArgument
from tests.latent_factory import make_latent

SMALL = {"width": 320, "height": 180}

DUSK_MARKET = dict(geometry_style="industrial", time_of_day="dusk", weather="rain", weather_intensity=0.6,
                   palette=["#1d2d44", "#3e5c76", "#748cab", "#f0ebd8", "#e07a5f"])
NOON_COURT = dict(geometry_style="architectural", time_of_day="noon", weather="clear",
                  palette=["#f4f1de", "#e07a5f", "#3d405b", "#81b29a", "#f2cc8f"])
FOREST = dict(geometry_style="natural", time_of_day="morning", weather="fog", weather_intensity=0.5,
              palette=["#283618", "#606c38", "#fefae0", "#dda15e", "#bc6c25"])


def decode(tmp: Path, latent_kw: dict[str, Any], options: dict[str, Any] | None = None, quality: str = "draft",
           seed: int = 7, upstream: dict[str, list[Asset]] | None = None) -> tuple[Path, Asset, list[str]]:
    msgs: list[str] = []
    ctx = DecodeContext(tmp, lambda f, m: msgs.append(m), lambda: False, upstream)
    req = DecodeRequest(make_latent(**latent_kw), seed=seed, quality=quality, options=options or {})
    dec = ImageDecoder()
    dec.validate(req)
    [asset] = dec.decode(req, ctx)
    return tmp / asset.path, asset, msgs


def test_default_size_png_reads_back_with_meta_and_progress(tmp_path: Path) -> None:
    path, asset, msgs = decode(tmp_path, DUSK_MARKET)
    with Image.open(path) as im:
        assert im.format == "PNG" and im.size == (1920, 1080) and im.mode == "RGB"
        assert "machine-generated" in im.text["Source"]
        pixels = np.asarray(im)
    assert pixels.std() > 12, "the picture is flat"
    assert asset.meta["width"] == 1920 and asset.meta["light"]["weather"] == "rain"
    assert sum(asset.meta["kit"]["pieces"].values()) >= 10
    assert any("band" in m for m in msgs) and any("grading" in m for m in msgs)
    # no scratch files left next to the asset
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["concept.png"]


def test_same_request_and_seed_give_the_same_bytes(tmp_path: Path) -> None:
    a, _, _ = decode(tmp_path / "a", NOON_COURT, SMALL)
    b, _, _ = decode(tmp_path / "b", NOON_COURT, SMALL)
    c, _, _ = decode(tmp_path / "c", NOON_COURT, SMALL, seed=8)
    digest = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (a, b, c)]
    assert digest[0] == digest[1]
    assert digest[0] != digest[2]


def test_the_workers_renderer_warm_up_leaves_no_trace_in_the_next_picture(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers render a tiny scene when they start (so the first job is faster); that must not change a byte."""
    from engine_server.decoders import registry
    from engine_server.decoders.scene import stage

    a, _, _ = decode(tmp_path / "a", DUSK_MARKET, SMALL)
    monkeypatch.setattr(stage, "_renderer_warm", False)
    assert registry.warm_up() == registry.names()  # every decoder warms up without an error
    assert stage._renderer_warm
    b, _, _ = decode(tmp_path / "b", DUSK_MARKET, SMALL)
    assert hashlib.sha256(a.read_bytes()).hexdigest() == hashlib.sha256(b.read_bytes()).hexdigest()


def test_dominant_colours_sit_near_the_latent_palette(tmp_path: Path) -> None:
    """Coherence (CIEDE2000, engine_server.analysis.palette.picture_distance): each render sits within
    18 of its own palette, closer to it than to the other renders' palettes on average, and the
    renders are told apart (own palette nearest) in most cases."""
    looks = [DUSK_MARKET, NOON_COURT, FOREST]
    pics = []
    for i, kw in enumerate(looks):
        path, _, _ = decode(tmp_path / str(i), kw, SMALL)
        pics.append(np.asarray(Image.open(path).convert("RGB")))
    nearest_is_own = 0
    for i, pic in enumerate(pics):
        own = picture_distance(pic, looks[i]["palette"])
        others = [picture_distance(pic, looks[j]["palette"]) for j in range(len(looks)) if j != i]
        print(f"render {i}: own palette {own:.1f}, others {[round(o, 1) for o in others]}")
        assert own <= 18.0, f"render {i}: {own:.1f} from its palette"
        assert own < float(np.mean(others)), f"render {i}: own {own:.1f} vs others {others}"
        nearest_is_own += own < min(others)
    assert nearest_is_own >= 2


def test_the_image_stages_the_packs_own_kit(tmp_path: Path) -> None:
    mesh_ctx = DecodeContext(tmp_path, lambda f, m: None, lambda: False)
    latent = make_latent(**NOON_COURT)
    mesh_assets = MeshDecoder().decode(DecodeRequest(latent, seed=7, options={"texture_size": 512}), mesh_ctx)
    path, asset, _ = decode(tmp_path, NOON_COURT, SMALL, upstream={"mesh": mesh_assets})
    kit_names = {Path(a.path).stem for a in mesh_assets if a.role == "mesh"}
    staged = asset.meta["kit"]["pieces"]
    assert asset.meta["kit"]["from_pack"] is True
    assert set(staged) <= kit_names
    assert len(set(staged)) >= min(5, len(kit_names)), f"only {sorted(staged)} of {sorted(kit_names)} staged"
    kit = json.loads((tmp_path / "mesh" / "kit.json").read_text())
    assert {a["name"] for a in kit["kit"]["assets"]} == kit_names
    assert Image.open(path).size == (320, 180)


def _sketch(horizon: float, block_left: bool) -> str:
    w, h = 320, 180
    img = Image.new("RGB", (w, h), (235, 170, 110))
    d = ImageDraw.Draw(img)
    hy = round((1 - horizon) * h)
    d.rectangle([0, hy, w, h], fill=(40, 60, 70))
    x0 = 30 if block_left else 220
    d.rectangle([x0, hy - 80, x0 + 70, hy + 20], fill=(60, 30, 90))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


def test_a_sketch_steers_horizon_and_layout_and_is_recorded(tmp_path: Path) -> None:
    _low, a_low, _ = decode(tmp_path / "low", NOON_COURT, {**SMALL, "sketch": _sketch(0.3, block_left=True)})
    _high, a_high, _ = decode(tmp_path / "high", NOON_COURT, {**SMALL, "sketch": _sketch(0.6, block_left=False)})
    for asset, horizon in ((a_low, 0.3), (a_high, 0.6)):
        rec = asset.meta["sketch"]
        assert abs(rec["horizon"] - horizon) < 0.05
        assert abs(asset.meta["camera"]["horizon"] - rec["horizon"]) < 1e-3
        assert len(rec["palette"]) >= 3 and rec["chromatic"] is True
    assert a_low.meta["camera"]["hero_u"] < 0.5 < a_high.meta["camera"]["hero_u"]
    assert a_low.meta["camera"]["pitch_deg"] > a_high.meta["camera"]["pitch_deg"]  # low horizon: look up


@pytest.mark.parametrize(
    "options, words",
    [
        ({"width": 10}, "between 64 and 4096"),
        ({"height": "tall"}, "whole number"),
        ({"width": 4096, "height": 4096}, "MP limit"),
        ({"colour": "red"}, "Unknown image option"),
        ({"sketch": "bm90IGFuIGltYWdl"}, "could not be read"),
    ],
)
def test_bad_options_are_refused_before_any_work(options: dict[str, Any], words: str) -> None:
    with pytest.raises(InvalidArgument, match=words):
        ImageDecoder().validate(DecodeRequest(make_latent(), seed=1, options=options))
