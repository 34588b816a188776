"""Humming made by the tests: a voice-like tone singing known tunes at known tempi.

Each note is a harmonic tone (a falling spectrum with a formant bump) whose pitch glides into the note
and wobbles with vibrato; a little noise sits under everything and a breath (band-passed noise) fills
the gap before some notes. `phone` is the same through a 300-3400 Hz band-pass at 8 kHz and back.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import soundfile as sf
from scipy.signal import butter, resample_poly, sosfilt

SR = 22050


@dataclass(frozen=True)
class Tune:
    name: str
    notes: tuple[tuple[int | None, float], ...]  # (MIDI pitch or None for a rest, beats)
    key: str
    mode: str


# Known tunes (the opening phrases), written in beats.
TUNES = (
    Tune("ode_to_joy", ((64, 1), (64, 1), (65, 1), (67, 1), (67, 1), (65, 1), (64, 1), (62, 1),
                        (60, 1), (60, 1), (62, 1), (64, 1), (64, 1.5), (62, 0.5), (62, 2),
                        (64, 1), (64, 1), (65, 1), (67, 1), (67, 1), (65, 1), (64, 1), (62, 1),
                        (60, 1), (60, 1), (62, 1), (64, 1), (62, 1.5), (60, 0.5), (60, 2)), "C", "major"),
    Tune("twinkle", ((62, 1), (62, 1), (69, 1), (69, 1), (71, 1), (71, 1), (69, 2),
                     (67, 1), (67, 1), (66, 1), (66, 1), (64, 1), (64, 1), (62, 2),
                     (69, 1), (69, 1), (67, 1), (67, 1), (66, 1), (66, 1), (64, 2)), "D", "major"),
    Tune("frere_jacques", ((65, 1), (67, 1), (69, 1), (65, 1), (65, 1), (67, 1), (69, 1), (65, 1),
                           (69, 1), (70, 1), (72, 2), (69, 1), (70, 1), (72, 2),
                           (72, 0.5), (74, 0.5), (72, 0.5), (70, 0.5), (69, 1), (65, 1),
                           (72, 0.5), (74, 0.5), (72, 0.5), (70, 0.5), (69, 1), (65, 1)), "F", "major"),
    Tune("greensleeves", ((57, 1), (60, 2), (62, 1), (64, 1.5), (65, 0.5), (64, 1), (62, 2), (59, 1),
                          (55, 1.5), (57, 0.5), (59, 1), (60, 2), (57, 1), (57, 1.5), (56, 0.5), (57, 1),
                          (59, 2), (56, 1), (52, 2), (57, 1)), "A", "minor"),
    Tune("minor_walk", ((62, 1), (65, 1), (69, 1), (65, 1), (64, 0.5), (62, 0.5), (61, 1), (62, 2),
                        (69, 1), (67, 1), (65, 1), (64, 1), (65, 0.5), (64, 0.5), (62, 1), (62, 2)), "D", "minor"),
)


def schedule(tune: Tune, bpm: float, lead_s: float = 0.4) -> list[tuple[float, float, int]]:
    """(onset s, offset s, pitch) of each sung note: a note sounds for 88 % of its length (a breath after)."""
    beat = 60.0 / bpm
    t = lead_s
    out = []
    for pitch, beats in tune.notes:
        if pitch is not None:
            out.append((t, t + beats * beat * 0.88, pitch))
        t += beats * beat
    return out


def hum(tune: Tune, bpm: float, seed: int = 0, transpose: int = 0, noise_db: float = -40.0) -> np.ndarray:
    """The tune sung by a voice-like tone at `bpm`, mono float32 at SR."""
    rng = np.random.default_rng(seed)
    notes = schedule(tune, bpm)
    total = notes[-1][1] + 0.5
    y = np.zeros(int(total * SR) + 1)
    for k, (on, off, pitch) in enumerate(notes):
        n = int((off - on) * SR)
        t = np.arange(n) / SR
        f0 = 440.0 * 2 ** ((pitch + transpose - 69) / 12)
        scoop = 2 ** (-0.6 * np.exp(-t / 0.03) / 12)  # slide up into the note (60 cents, 30 ms)
        vib = 2 ** (0.35 * np.sin(2 * np.pi * 5.5 * t + rng.uniform(0, 6.28)) * np.clip(t / 0.25, 0, 1) / 12)
        f = f0 * scoop * vib * (1 + 0.002 * rng.standard_normal())
        phase = 2 * np.pi * np.cumsum(f) / SR
        tone = np.zeros(n)
        for h in range(1, 11):
            formant = 1.0 + 1.5 * np.exp(-((h * f0 - 700.0) / 350.0) ** 2)
            tone += formant / h ** 1.2 * np.sin(h * phase)
        env = np.minimum(1.0, np.minimum(t / 0.04, (n / SR - t) / 0.06)).clip(0, 1)
        level = 0.25 * (0.8 + 0.2 * rng.random())
        i0 = int(on * SR)
        y[i0:i0 + n] += level * env * tone / 3.0
        if k % 3 == 2 and on > 0.3:  # a breath before this note
            b = int(0.12 * SR)
            breath = sosfilt(butter(2, [1200, 4000], "bandpass", fs=SR, output="sos"), rng.standard_normal(b))
            y[i0 - b - 200:i0 - 200] += 0.02 * breath * np.hanning(b)
    y += 10 ** (noise_db / 20) * rng.standard_normal(len(y))
    return y.astype(np.float32)


def phone(y: np.ndarray) -> np.ndarray:
    """Through a phone: band-passed 300-3400 Hz at 8 kHz, then back to SR."""
    low = resample_poly(y, 8000, SR)
    low = sosfilt(butter(4, [300, 3400], "bandpass", fs=8000, output="sos"), low)
    return resample_poly(low, SR, 8000).astype(np.float32)


def encode(y: np.ndarray, fmt: str = "WAV", sr: int = SR) -> bytes:
    """Audio file bytes (WAV, FLAC or OGG through soundfile)."""
    buf = io.BytesIO()
    sf.write(buf, y, sr, format=fmt)
    return buf.getvalue()


def encode_pyav(y: np.ndarray, fmt: str, codec: str, sr: int = SR) -> bytes:
    """Audio file bytes through FFmpeg (PyAV): "mp3"/"mp3" or "ipod"/"aac" (an M4A)."""
    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format=fmt) as c:
        stream = c.add_stream(codec, rate=sr)
        assert isinstance(stream, av.AudioStream)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(y.astype(np.float32)[None, :], format="flt", layout="mono")
        frame.sample_rate = sr
        for p in stream.encode(frame):
            c.mux(p)
        for p in stream.encode(None):
            c.mux(p)
    return buf.getvalue()
