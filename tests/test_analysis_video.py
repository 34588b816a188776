"""Known-answer tests for the clip analyser (engine_server.analysis.video): synthetic H.264 clips written
with PyAV whose camera motion is known exactly (pan, tilt, zoom, shake, locked off)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest
from scipy import ndimage

from engine_server.analysis import video as va

W, H, FPS, FRAMES = 320, 180, 24, 24


def _texture(seed: int = 0) -> np.ndarray:
    """A smooth random texture larger than the frame, values 0..1."""
    t = ndimage.gaussian_filter(np.random.default_rng(seed).random((H * 2, W * 2)), 3)
    return (t - t.min()) / (t.max() - t.min())


def _write(path: Path, frame_at: Callable[[int], np.ndarray]) -> Path:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.options = {"crf": "16", "preset": "veryfast"}
        for i in range(FRAMES):
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame_at(i), format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def _colourise(t: np.ndarray) -> np.ndarray:
    return np.stack([t * 200 + 30, t * 120 + 60, 255 - t * 200], -1).clip(0, 255).astype(np.uint8)


def _moving(dx: float, dy: float) -> Callable[[int], np.ndarray]:
    tex = _texture()

    def frame(i: int) -> np.ndarray:
        # content moves by (dx, dy) pixels per frame
        moved = ndimage.shift(tex, (dy * i, dx * i), order=1, mode="wrap")
        return _colourise(moved[H // 2: H // 2 + H, W // 2: W // 2 + W])

    return frame


def test_pan_speed_is_recovered(tmp_path: Path) -> None:
    got = va.analyse_video(_write(tmp_path / "pan.mp4", _moving(3.0, 0.0)))
    expected = 3.0 * FPS / W  # frame widths per second
    assert got["motion_energy"] == pytest.approx(expected, rel=0.05)
    assert got["camera_energy"] == pytest.approx(expected, rel=0.05)  # a pan is all camera
    assert got["scene_motion"] < 0.1 * expected  # sub-pixel matching noise only
    assert got["pan_speed"] == pytest.approx(expected, rel=0.05)
    assert got["vertical_speed"] < 0.1 * expected
    assert got["camera_motion"] == "orbit"
    assert got["fps"] == pytest.approx(FPS)
    assert got["frames"] == FRAMES
    assert got["duration_s"] == pytest.approx(1.0)


def test_slow_subpixel_pan_and_tilt(tmp_path: Path) -> None:
    got = va.analyse_video(_write(tmp_path / "slow.mp4", _moving(0.0, 1.2)))
    expected = 1.2 * FPS / W
    assert got["motion_energy"] == pytest.approx(expected, rel=0.08)
    assert got["vertical_speed"] == pytest.approx(expected, rel=0.08)
    assert got["camera_motion"] == "crane"


def test_locked_off_camera_reads_static(tmp_path: Path) -> None:
    got = va.analyse_video(_write(tmp_path / "still.mp4", _moving(0.0, 0.0)))
    assert got["motion_energy"] < 0.01
    assert got["camera_energy"] < 0.003
    assert got["pan_speed"] < 0.002
    assert got["camera_motion"] == "static"
    # and its colours are the texture's: a blue-to-orange ramp, no green cast
    assert got["palette"][0]["share"] > 0.1
    assert got["frame_change"] < 0.005


def test_zoom_reads_as_dolly(tmp_path: Path) -> None:
    tex = _texture(1)

    def frame(i: int) -> np.ndarray:
        s = 1.0 + 0.012 * i  # 1.2 % larger per frame, about the centre
        cy, cx = tex.shape[0] / 2, tex.shape[1] / 2
        yy, xx = np.mgrid[0:H, 0:W].astype(np.float64)
        src_y = cy + (yy - H / 2) / s
        src_x = cx + (xx - W / 2) / s
        return _colourise(ndimage.map_coordinates(tex, [src_y, src_x], order=1))

    got = va.analyse_video(_write(tmp_path / "zoom.mp4", frame))
    assert got["camera_motion"] == "dolly"
    assert got["zoom_rate"] == pytest.approx(2 * 0.012 * FPS, rel=0.25)  # divergence = 2 x scale rate
    assert got["pan_speed"] < 0.02


def test_shake_reads_as_handheld(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    offsets = np.cumsum(rng.normal(0.0, 1.5, size=(FRAMES, 2)), axis=0)  # a random walk: no steady move
    tex = _texture(2)

    def frame(i: int) -> np.ndarray:
        moved = ndimage.shift(tex, (offsets[i, 1], offsets[i, 0]), order=1, mode="wrap")
        return _colourise(moved[H // 2: H // 2 + H, W // 2: W // 2 + W])

    got = va.analyse_video(_write(tmp_path / "shake.mp4", frame))
    assert got["camera_motion"] == "handheld"
    assert got["shake"] > got["pan_speed"] * 0.5


def test_block_flow_direction_and_weights() -> None:
    tex = _texture(3)[:90, :160]
    moved = ndimage.shift(tex, (0.0, 2.0), order=1, mode="wrap")  # content moves +2 px in x
    _centres, flow, weight = va.block_flow(tex, moved)
    good = weight > 0
    assert good.mean() > 0.9
    assert np.median(flow[good, 0]) == pytest.approx(2.0, abs=0.05)
    assert np.median(np.abs(flow[good, 1])) < 0.05
    flat = np.full((90, 160), 0.5)
    assert va.block_flow(flat, flat)[2].sum() == 0  # no texture, no trusted block
