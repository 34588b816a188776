"""A video file as an edit: its cuts found with PySceneDetect, motion and colour per shot, dialogue.

One pass over the packets checks the file before any decoding (a video stream, a known frame rate,
constant frame timing, a length a cue can have); then one decoding pass (PyAV) feeds every frame, at
192 px wide, to PySceneDetect's `AdaptiveDetector` (HSV differences against the average of the frames
around, so fast motion is not a cut; `min_scene_len` a quarter of a second, so a flash frame is not a
shot) and measures, per frame, the mean OKLab colour and the
lightness difference from the previous frame at 64 px (the motion energy). Per shot: mean motion
(pairs across a cut left out), mean lightness, chroma and warmth, and a five-colour OKLab palette
(`analysis.palette.kmeans_oklab`). The sound, where there is any, goes to `dialogue.dialogue_spans`.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from engine_server.errors import InvalidArgument, clip
from engine_server.oklab import oklab_to_hex, srgb8_to_oklab
from engine_server.readers.edit.dialogue import RATE as SPEECH_RATE
from engine_server.readers.edit.dialogue import dialogue_spans
from engine_server.readers.edit.timeline import MAX_EDIT_S, Edit, Shot, check, exact_rate

DETECT_WIDTH = 192
MOTION_SIZE = (64, 36)
PALETTE_EVERY_S = 0.25  # one palette sample frame per quarter second of a shot
ADAPTIVE_THRESHOLD = 3.0  # AdaptiveDetector's defaults: a frame's change >= 3x its neighbours'
MIN_CONTENT = 15.0  # ... and >= 15 in ContentDetector's units
MIN_SHOT_S = 0.25


@contextmanager
def _open(source: bytes | Path, name: str) -> Iterator[Any]:
    import av

    try:
        container = av.open(io.BytesIO(source) if isinstance(source, bytes) else str(source), mode="r")
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise InvalidArgument(
            f"{name} could not be read as a video file ({clip(str(exc), 160)}). Is the file complete? "
            "Motif reads MP4, MOV, MKV and the other formats FFmpeg reads, or an OTIO, EDL or FCPXML.") from exc
    try:
        yield container
    finally:
        container.close()


def _probe(container: Any, name: str) -> tuple[Fraction, int, float]:
    """(exact rate, frame count, first frame time) from the packets alone; refuses VFR and long files."""
    import av

    if not container.streams.video:
        raise InvalidArgument(f"{name} has no video stream; give a video file, or an OTIO, EDL or FCPXML timeline.")
    stream = container.streams.video[0]
    declared = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else (
        container.duration / 1e6 if container.duration else 0.0)
    if declared > MAX_EDIT_S * 1.5:
        raise InvalidArgument(
            f"{name} lasts {declared / 60:.0f} minutes; a cue can last at most {MAX_EDIT_S / 60:g} minutes. "
            "Score a long timeline reel by reel.")
    pts: list[int] = []
    try:
        for packet in container.demux(stream):
            if packet.pts is not None and packet.size:
                pts.append(packet.pts)
    except av.error.FFmpegError as exc:
        raise InvalidArgument(f"{name} is damaged ({clip(str(exc), 160)}); export it again.") from exc
    if not pts:
        raise InvalidArgument(f"{name} has no video frames.")
    tb = stream.time_base
    times = np.array(sorted(pts), dtype=np.float64) * float(tb)
    step = np.diff(times)
    frame_s = float(np.median(step)) if len(step) else 1.0
    if len(step) and (np.abs(step - frame_s) > 0.25 * frame_s).mean() > 0.01:
        raise InvalidArgument(
            f"{name} has a variable frame rate (frame durations from {step.min() * 1000:.1f} to "
            f"{step.max() * 1000:.1f} ms): cut frames would be ambiguous. Conform it to a constant rate "
            "(e.g. `ffmpeg -i in.mp4 -fps_mode cfr -r 24 out.mp4`, at the edit's rate) and try again.")
    rate = exact_rate(stream.average_rate or stream.guessed_rate or stream.base_rate, name)
    return rate, len(pts), float(times[0])


def read_video(source: bytes | Path, file_name: str, sha256: str) -> Edit:
    """An Edit from a video file (bytes or a path). Raises InvalidArgument before any work when unusable."""
    name = f"The video {file_name!r}"
    with _open(source, name) as container:
        rate, n_packets, _ = _probe(container, name)
        start_tc = _start_timecode(container)
    check_len = Edit("video", file_name, sha256, rate, 0, n_packets, (Shot(0, n_packets), Shot(n_packets, n_packets)))
    check(check_len)  # length limits before decoding (the cut check comes after detection)
    with _open(source, name) as container:
        frames = _decode(container, name, rate)
    with _open(source, name) as container:
        mono = _soundtrack(container)
    n = frames.count
    start_frame, drop = _tc_frames(start_tc, rate) if start_tc else (0, rate.denominator == 1001 and rate > 25)
    shots = _shots(frames, rate)
    duration = float(n / rate)
    dialogue = tuple(dialogue_spans(mono, duration)) if mono is not None else ()
    shots = tuple(_with_speech(s, dialogue, rate) for s in shots)
    h, w = frames.size
    edit = Edit("video", file_name, sha256, rate, start_frame, n, shots, (), dialogue, mono is not None, True,
                (w, h), drop, notes=(f"cuts found by PySceneDetect AdaptiveDetector (ratio {ADAPTIVE_THRESHOLD:g}, "
                                     f"min content {MIN_CONTENT:g})",))
    return check(edit)


class _Frames:
    """Per-frame measures gathered in the decoding pass."""

    def __init__(self) -> None:
        self.count = 0
        self.cuts: list[int] = []
        self.motion: list[float] = []  # |L_t - L_{t-1}| mean, 0 for the first frame
        self.lab: list[np.ndarray] = []  # mean OKLab per frame
        self.chroma: list[float] = []
        self.samples: dict[int, np.ndarray] = {}  # frame -> small OKLab pixels, for palettes
        self.size = (0, 0)


def _decode(container: Any, name: str, rate: Fraction) -> _Frames:
    import av
    import cv2
    from scenedetect import AdaptiveDetector, FrameTimecode

    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    detector = AdaptiveDetector(adaptive_threshold=ADAPTIVE_THRESHOLD, min_content_val=MIN_CONTENT,
                                min_scene_len=max(2, round(MIN_SHOT_S * float(rate))))
    out = _Frames()
    prev: np.ndarray | None = None
    every = max(1, round(PALETTE_EVERY_S * float(rate)))
    try:
        for frame in container.decode(stream):
            i = out.count
            if i == 0:
                out.size = (frame.height, frame.width)
            h = max(2, round(frame.height * DETECT_WIDTH / frame.width) // 2 * 2)
            bgr = frame.reformat(width=DETECT_WIDTH, height=h, format="bgr24").to_ndarray()
            for tc in detector.process_frame(FrameTimecode(i, rate), bgr):
                if tc.frame_num > 0:
                    out.cuts.append(int(tc.frame_num))
            small = cv2.resize(bgr, MOTION_SIZE, interpolation=cv2.INTER_AREA)
            lab = srgb8_to_oklab(small[..., ::-1].astype(np.float32))
            lum = lab[..., 0]
            out.motion.append(float(np.abs(lum - prev).mean()) if prev is not None else 0.0)
            prev = lum
            out.lab.append(lab.reshape(-1, 3).mean(axis=0))
            out.chroma.append(float(np.hypot(lab[..., 1], lab[..., 2]).mean()))
            if i % every == 0:
                out.samples[i] = lab[::3, ::3].reshape(-1, 3)
            out.count += 1
    except av.error.FFmpegError as exc:
        raise InvalidArgument(f"{name} is damaged at frame {out.count} ({clip(str(exc), 160)}); export it again.") \
            from exc
    if out.count == 0:
        raise InvalidArgument(f"{name} has no frames that could be decoded.")
    post = getattr(detector, "post_process", None)
    if post is not None:
        for tc in post(FrameTimecode(out.count - 1, rate)) or []:
            if 0 < tc.frame_num < out.count:
                out.cuts.append(int(tc.frame_num))
    out.cuts = sorted(set(out.cuts))
    return out


def _shots(f: _Frames, rate: Fraction) -> tuple[Shot, ...]:
    from engine_server.analysis.palette import kmeans_oklab

    bounds = [0, *f.cuts, f.count]
    lab = np.array(f.lab)
    shots = []
    for a, b in itertools.pairwise(bounds):
        motion = float(np.mean(f.motion[a + 1 : b])) if b - a > 1 else 0.0
        mean = lab[a:b].mean(axis=0)
        warmth = float(np.clip((0.35 * mean[1] + 0.65 * mean[2]) / 0.08, -1.0, 1.0))
        pix = [f.samples[i] for i in range(a, b) if i in f.samples] or [lab[a:b]]
        centres, share = kmeans_oklab(np.concatenate(pix), 5)
        palette = tuple((oklab_to_hex(c), round(float(s), 4)) for c, s in zip(centres, share, strict=True))
        shots.append(Shot(a, b, "", round(motion, 5), round(float(mean[0]), 4),
                          round(float(np.mean(f.chroma[a:b])), 4), round(warmth, 4), palette))
    return tuple(shots)


def _with_speech(shot: Shot, dialogue: tuple[tuple[float, float], ...], rate: Fraction) -> Shot:
    from dataclasses import replace

    t0, t1 = float(shot.start / rate), float(shot.end / rate)
    inside = sum(max(0.0, min(t1, b) - max(t0, a)) for a, b in dialogue)
    return replace(shot, speech=round(inside / max(t1 - t0, 1e-9), 3))


def _soundtrack(container: Any) -> np.ndarray | None:
    """The first audio stream as mono float32 at 16 kHz (None without sound)."""
    import av

    if not container.streams.audio:
        return None
    stream = container.streams.audio[0]
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SPEECH_RATE)
    chunks: list[np.ndarray] = []
    try:
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    except av.error.FFmpegError:
        return None  # a damaged soundtrack: score the picture without dialogue detection
    return np.concatenate(chunks).astype(np.float32) if chunks else None


def _start_timecode(container: Any) -> str | None:
    for meta in (container.streams.video[0].metadata, container.metadata,
                 *(s.metadata for s in container.streams if s.type == "data")):
        tc = meta.get("timecode") if meta else None
        if tc:
            return str(tc)
    return None


def _tc_frames(tc: str, rate: Fraction) -> tuple[int, bool]:
    """(frame count, drop-frame) of a container's start timecode ("01:00:00:00", or ";" for drop-frame)."""
    import opentimelineio as otio

    drop = ";" in tc and rate.denominator == 1001
    try:
        return round(otio.opentime.from_timecode(tc, float(rate)).value), drop
    except (ValueError, TypeError):
        return 0, drop
