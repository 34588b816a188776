"""A hummed file to mono samples at the model's rate, refused with a sentence when it cannot be one.

soundfile (libsndfile) reads WAV, FLAC and OGG; PyAV (FFmpeg) reads MP3 and M4A/AAC and anything else
soundfile cannot. Both are already the engine's decoders (analysis, video), so no new audio stack.
"""

from __future__ import annotations

import io
from math import gcd

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from engine_server.errors import InvalidArgument

RATE = 22050  # basic-pitch's rate
MAX_HUM_BYTES = 15 << 20  # fits a gRPC message with the rest of the request
MAX_HUM_S = 60.0  # a hummed idea, not a song: four bars at 40 BPM are 24 s
MIN_HUM_S = 1.0
MIN_RATE, MAX_RATE = 8000, 192000
MAX_CHANNELS = 8
SILENCE_DB = -50.0  # the loudest 5 % of 23 ms frames under this is silence


def _check_layout(name: str, rate: float, channels: int, seconds: float) -> None:
    if not MIN_RATE <= rate <= MAX_RATE:
        raise InvalidArgument(f"The hum {name!r} is sampled at {rate:g} Hz; give audio between {MIN_RATE} and "
                              f"{MAX_RATE} Hz.")
    if not 1 <= channels <= MAX_CHANNELS:
        raise InvalidArgument(f"The hum {name!r} has {channels} channels; give mono or stereo audio.")
    if seconds > MAX_HUM_S:
        raise InvalidArgument(f"The hum {name!r} lasts {seconds:.0f} s; the limit is {MAX_HUM_S:.0f} s: "
                              "trim it to the idea (a few bars).")
    if seconds < MIN_HUM_S:
        raise InvalidArgument(f"The hum {name!r} lasts {seconds:.2f} s; hum at least {MIN_HUM_S:.0f} s of melody.")


def _soundfile(data: bytes, name: str) -> tuple[np.ndarray, int] | None:
    try:
        info = sf.info(io.BytesIO(data))
    except (sf.LibsndfileError, RuntimeError, TypeError):
        return None
    _check_layout(name, info.samplerate, info.channels, info.frames / max(info.samplerate, 1))
    try:
        y, sr = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise InvalidArgument(f"The hum {name!r} could not be decoded ({exc}).") from None
    return y.mean(axis=1), int(sr)


def _pyav(data: bytes, name: str) -> tuple[np.ndarray, int]:
    import av

    try:
        container = av.open(io.BytesIO(data), "r")
    except (av.error.FFmpegError, ValueError, OSError):
        raise InvalidArgument(f"{name!r} is not an audio file this engine can read: give WAV, FLAC, OGG, MP3 "
                              "or M4A.") from None
    with container:
        if not container.streams.audio:
            raise InvalidArgument(f"{name!r} has no audio stream: give WAV, FLAC, OGG, MP3 or M4A.")
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate or 0
        channels = stream.codec_context.channels or 0
        seconds = float(container.duration / 1e6) if container.duration else 0.0
        if seconds:
            _check_layout(name, rate, channels, seconds)
        elif not MIN_RATE <= rate <= MAX_RATE or not 1 <= channels <= MAX_CHANNELS:
            _check_layout(name, rate, channels, MIN_HUM_S)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
        chunks = []
        total = 0
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    arr = out.to_ndarray().reshape(-1)
                    chunks.append(arr)
                    total += len(arr)
                if total > (MAX_HUM_S + 1) * RATE:
                    _check_layout(name, rate, channels, total / RATE)
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except (av.error.FFmpegError, ValueError) as exc:
            raise InvalidArgument(f"The hum {name!r} could not be decoded ({exc}).") from None
    y = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    _check_layout(name, rate, channels, len(y) / RATE)
    return y.astype(np.float32), RATE


def decode(data: bytes, name: str) -> np.ndarray:
    """The hum as mono float32 at 22.05 kHz (InvalidArgument: too big, too long, not audio, silent)."""
    if len(data) == 0:
        raise InvalidArgument(f"The hum {name!r} is empty.")
    if len(data) > MAX_HUM_BYTES:
        raise InvalidArgument(f"The hum {name!r} is {len(data) / 1e6:.1f} MB; the limit is {MAX_HUM_BYTES >> 20} MB.")
    read = _soundfile(data, name)
    y, sr = read if read is not None else _pyav(data, name)
    if sr != RATE:
        g = gcd(int(sr), RATE)
        y = resample_poly(y, RATE // g, int(sr) // g).astype(np.float32)
    if not np.all(np.isfinite(y)):
        raise InvalidArgument(f"The hum {name!r} holds samples that are not numbers.")
    n = len(y) // 512
    if n == 0:
        raise InvalidArgument(f"The hum {name!r} is too short to hear a melody in.")
    level = 10 * np.log10(np.mean(y[:n * 512].reshape(n, 512).astype(np.float64) ** 2, axis=1) + 1e-12)
    if float(np.percentile(level, 95)) < SILENCE_DB:
        raise InvalidArgument(f"The hum {name!r} is silent (its loudest moments are under {SILENCE_DB:.0f} dBFS): "
                              "check the microphone and hum again.")
    return y
