"""Test media for score to picture, made here with PyAV: edits with hard cuts at known frames.

Each shot is a flat colour with a soft striped texture drifting at its own speed (motion 0 = locked
off, 1 = fast), so the cut frames, the colour and the motion of every shot are known exactly. A
speech-like voice (a glottal pulse train through three formant resonators, in syllables and words) can
be laid under the picture to test dialogue detection without any recorded voice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

AUDIO_RATE = 48000


@dataclass(frozen=True)
class ShotSpec:
    frames: int
    colour: tuple[int, int, int]  # sRGB 0..255
    motion: float = 0.2  # 0..1: how fast the texture drifts


def cut_frames(shots: Sequence[ShotSpec]) -> list[int]:
    """The frames where shots 2.. start (the cuts, from the first frame)."""
    return [int(x) for x in np.cumsum([s.frames for s in shots])[:-1]]


def _frame(shot: ShotSpec, i: int, size: tuple[int, int], seed: int) -> np.ndarray:
    w, h = size
    x = np.arange(w)[None, :]
    y = np.arange(h)[:, None]
    speed = 0.5 + 11.0 * shot.motion  # pixels per frame
    phase = i * speed
    tex = np.sin((x + phase) * 2 * np.pi / 48.0 + seed) * np.cos((y + 0.6 * phase) * 2 * np.pi / 36.0)
    base = np.array(shot.colour, dtype=np.float32)
    amp = 18.0 + 14.0 * shot.motion
    img = base[None, None, :] + amp * tex[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)


def speech_like(seconds: float, rate: int = AUDIO_RATE, seed: int = 0) -> np.ndarray:
    """A voice-like signal: syllables (~4.5 per second) grouped in words, 110-140 Hz pitch with vibrato,
    vowels from three formants; silent between words."""
    from scipy import signal

    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    f0 = 120 + 12 * np.sin(2 * np.pi * 0.7 * t) + 4 * np.sin(2 * np.pi * 5.5 * t)
    phase = np.cumsum(f0 / rate)
    pulses = (np.diff(np.floor(phase), prepend=0) > 0).astype(np.float64)
    env = np.zeros(n)
    pos = 0.0
    vowels = [(700, 1200, 2600), (400, 2000, 2700), (300, 900, 2300), (550, 1700, 2500)]
    formant_track = np.zeros((n, 3))
    while pos < seconds:
        for _ in range(int(rng.integers(2, 6))):  # a word of 2-5 syllables
            length = float(rng.uniform(0.12, 0.2))
            a, b = int(pos * rate), int(min(pos + length, seconds) * rate)
            if a >= n:
                break
            k = np.arange(b - a)
            env[a:b] = np.sin(np.pi * k / max(b - a, 1)) ** 0.6
            formant_track[a:b] = vowels[int(rng.integers(len(vowels)))]
            pos += length + float(rng.uniform(0.03, 0.07))
        pos += float(rng.uniform(0.25, 0.45))  # between words
    out = np.zeros(n)
    src = pulses + 0.02 * rng.standard_normal(n)
    for j, bw in enumerate((80.0, 100.0, 140.0)):
        # time-varying formant: filter per vowel segment value (piecewise constant)
        freqs = formant_track[:, j]
        y = np.zeros(n)
        for f in np.unique(freqs[freqs > 0]):
            r = np.exp(-np.pi * bw / rate)
            theta = 2 * np.pi * f / rate
            mask = freqs == f
            y += signal.lfilter([1 - r], [1, -2 * r * np.cos(theta), r * r], src * mask)
        out += y * (1.0 if j == 0 else 0.7 if j == 1 else 0.4)
    out *= env
    return (0.5 * out / (np.abs(out).max() + 1e-9)).astype(np.float32)


def make_edit(path: Path, rate: Fraction, shots: Sequence[ShotSpec], size: tuple[int, int] = (320, 180),
              audio: np.ndarray | None = None, timecode: str | None = None, seed: int = 0) -> Path:
    """Write an H.264 MP4 (constant `rate`) of `shots`, with an optional mono soundtrack at 48 kHz."""
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=rate)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = 1 / rate
        stream.options = {"preset": "ultrafast", "crf": "20", "g": "48"}
        if timecode:
            stream.metadata["timecode"] = timecode
        astream = None
        if audio is not None:
            astream = out.add_stream("aac", rate=AUDIO_RATE, layout="mono")
        i = 0
        for k, shot in enumerate(shots):
            for j in range(shot.frames):
                frame = av.VideoFrame.from_ndarray(_frame(shot, j, size, seed + k), format="rgb24")
                frame.pts = i
                frame.time_base = 1 / rate
                for packet in stream.encode(frame):
                    out.mux(packet)
                i += 1
        for packet in stream.encode():
            out.mux(packet)
        if astream is not None and audio is not None:
            block = 1024
            for a in range(0, len(audio), block):
                chunk = audio[a : a + block].astype(np.float32)[None, :]
                af = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
                af.sample_rate = AUDIO_RATE
                af.pts = a
                af.time_base = Fraction(1, AUDIO_RATE)
                for packet in astream.encode(af):
                    out.mux(packet)
            for packet in astream.encode():
                out.mux(packet)
    return path
