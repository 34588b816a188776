"""The clip: decoded back with PyAV (frames, size, rate, audio), deterministic bytes, moves by mood."""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from engine_server.analysis.palette import picture_distance
from engine_server.decoders.base import Asset, DecodeContext, DecodeRequest
from engine_server.decoders.music import MusicDecoder
from engine_server.decoders.scene.camera import Camera, make_move
from engine_server.decoders.video import VideoDecoder, keyframe_times, plan_keyframes
from engine_server.errors import InvalidArgument
from tests.latent_factory import make_latent

NIGHT_RAIN = dict(geometry_style="scifi", time_of_day="night", weather="rain", weather_intensity=0.7,
                  camera_motion="handheld", arousal=0.9, tension=0.6,
                  palette=["#0b0c10", "#1f2833", "#c5c6c7", "#66fcf1", "#45a29e"])
CALM_SNOW = dict(geometry_style="medieval", time_of_day="morning", weather="snow", weather_intensity=0.6,
                 camera_motion="static", arousal=0.2,
                 palette=["#22333b", "#eae0d5", "#c6ac8f", "#5e503f", "#0a0908"])


def decode(tmp: Path, latent_kw: dict[str, Any], options: dict[str, Any], seed: int = 3, quality: str = "draft",
           upstream: dict[str, list[Asset]] | None = None) -> list[Asset]:
    ctx = DecodeContext(tmp, lambda f, m: None, lambda: False, upstream)
    req = DecodeRequest(make_latent(**latent_kw), seed=seed, quality=quality, options=options)
    dec = VideoDecoder()
    dec.validate(req)
    return dec.decode(req, ctx)


def probe(path: Path) -> dict[str, Any]:
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
        info = {
            "codec": v.codec_context.name, "pix_fmt": v.codec_context.pix_fmt,
            "size": (v.codec_context.width, v.codec_context.height), "rate": v.average_rate,
            "frames": frames, "audio": [(a.codec_context.name, a.rate, a.channels) for a in c.streams.audio],
        }
    with av.open(str(path)) as c:
        info["audio_s"] = sum(f.samples for f in c.decode(audio=0)) / 48_000 if c.streams.audio else 0.0
    return info


def coarse(frame: np.ndarray, block: int = 16) -> np.ndarray:
    """Block means: what is left of a frame once grain and particles average out."""
    h, w = (frame.shape[0] // block) * block, (frame.shape[1] // block) * block
    return frame[:h, :w].reshape(h // block, block, w // block, block, 3).mean(axis=(1, 3))


def test_default_clip_with_music_reads_back_with_pyav(tmp_path: Path) -> None:
    """The one default-size test: 6 s, 24 fps, 1280x720 H.264 yuv420p, the pack's music as AAC."""
    latent = make_latent(**NIGHT_RAIN)
    music = MusicDecoder().decode(DecodeRequest(latent, seed=3, options={"bars": 4}),
                                  DecodeContext(tmp_path, lambda f, m: None, lambda: False))
    assets = decode(tmp_path, NIGHT_RAIN, {}, upstream={"music": music})
    [clip] = [a for a in assets if a.role == "video"]
    info = probe(tmp_path / clip.path)
    assert info["codec"] == "h264" and info["pix_fmt"] == "yuv420p"
    assert info["size"] == (1280, 720) and info["rate"] == 24
    assert len(info["frames"]) == 144 == clip.meta["frames"]
    assert info["audio"] == [("aac", 48_000, 2)]
    assert abs(info["audio_s"] - 6.0) < 0.1
    assert clip.meta["effects"]["precipitation"] == "rain"
    frames = info["frames"]
    # the camera moves: the picture itself changes, not just grain and rain
    assert np.abs(coarse(frames[0]) - coarse(frames[-1])).mean() > 4.0
    # coherence: frames' dominant colours sit near the latent palette (same measure as the image)
    dists = [picture_distance(frames[i], NIGHT_RAIN["palette"]) for i in (0, 72, 143)]
    assert max(dists) <= 18.0, dists


def test_same_request_gives_the_same_bytes_and_no_music_means_no_audio(tmp_path: Path) -> None:
    opts = {"width": 256, "height": 144, "duration_s": 4}
    a = decode(tmp_path / "a", CALM_SNOW, opts)
    b = decode(tmp_path / "b", CALM_SNOW, opts)
    pa, pb = (tmp_path / "a" / a[0].path), (tmp_path / "b" / b[0].path)
    assert hashlib.sha256(pa.read_bytes()).digest() == hashlib.sha256(pb.read_bytes()).digest()
    info = probe(pa)
    assert len(info["frames"]) == 96 and info["size"] == (256, 144) and info["audio"] == []
    assert a[0].meta["camera_move"]["kind"] == "static" and a[0].meta["effects"]["precipitation"] == "snow"
    # static camera, falling snow: fine detail changes (flakes, grain), the picture does not move
    f = info["frames"]
    assert np.abs(f[0].astype(int) - f[48].astype(int)).mean() > 0.3
    assert np.abs(coarse(f[0]) - coarse(f[48])).mean() < 3.0


def test_prores_intermediate_for_resolve(tmp_path: Path) -> None:
    assets = decode(tmp_path, {**CALM_SNOW, "camera_motion": "orbit"},
                    {"width": 192, "height": 108, "duration_s": 4, "intermediate": "prores"})
    master = next(a for a in assets if a.role == "video_master")
    assert master.path.endswith(".mov") and master.media_type == "video/quicktime"
    info = probe(tmp_path / master.path)
    assert info["codec"] == "prores" and info["pix_fmt"].startswith("yuv422p10")
    assert len(info["frames"]) == 96 and info["size"] == (192, 108)
    clip = next(a for a in assets if a.role == "video")
    assert len(clip.meta["keyframes"]) == 4


def test_calm_moves_slowly_and_tense_moves_further() -> None:
    base = Camera((0.0, 0.0, 1.6), 0.0, 2.0, 0.0, 35.0)
    rng = np.random.default_rng(0)
    for kind in ("dolly", "crane", "orbit", "handheld"):
        calm = make_move(kind, base, (0.0, 8.0, 1.2), 0.1, rng)
        tense = make_move(kind, base, (0.0, 8.0, 1.2), 0.9, rng)

        def travel(m: Any) -> float:
            cams = [m.at(t) for t in np.linspace(0, 1, 25)]
            return float(sum(np.linalg.norm(np.subtract(a.position, b.position)) + abs(a.yaw - b.yaw) * 0.1
                             for a, b in itertools.pairwise(cams)))

        assert travel(tense) > 1.8 * travel(calm), kind
    assert make_move("static", base, (0, 8, 1), 0.9, rng).at(0.3) == base


def test_keyframes_cover_every_frame_they_serve() -> None:
    base = Camera((0.0, 0.0, 1.6), 0.0, 2.0, 0.0, 35.0)
    move = make_move("dolly", base, (0.0, 8.0, 1.2), 0.9, np.random.default_rng(1))
    cams = [move.at(i / 143) for i in range(144)]
    key_t = keyframe_times("dolly")
    plan = plan_keyframes(cams, key_t, [move.at(t) for t in key_t], 1280, 720, 3.0)
    assert plan.assign == sorted(plan.assign) and set(plan.assign) == {0, 1, 2}
    assert all(1.0 <= o <= 1.6 for o in plan.overscan)
    assert sum(b is not None for b in plan.blend) == 16  # two switches, 8 cross-faded frames each


@pytest.mark.parametrize(
    "options, words",
    [
        ({"duration_s": 3}, "between 4 and 8"),
        ({"duration_s": 9.5}, "between 4 and 8"),
        ({"width": 641}, "even number"),
        ({"intermediate": "h265"}, "one of none, prores, dnxhr"),
        ({"fps": 30}, "Unknown video option"),
    ],
)
def test_bad_options_are_refused_before_any_work(options: dict[str, Any], words: str) -> None:
    with pytest.raises(InvalidArgument, match=words):
        VideoDecoder().validate(DecodeRequest(make_latent(), seed=1, options=options))
