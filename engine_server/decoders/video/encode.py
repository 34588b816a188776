"""PyAV muxing: H.264 MP4 for everyone, optionally ProRes or DNxHR in a MOV for an edit.

x264 runs with one thread and without macroblock-tree rate control, so the same frames always give
the same bytes (frame threading makes rate control depend on timing; mbtree on the heap's contents).
The MP4 puts its index first (+faststart) so it plays while downloading; yuv420p keeps every player happy.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

AUDIO_RATE = 48_000
# x264's macroblock-tree rate control, with its assembly on, makes the bitstream depend on what the
# process's heap held before: the same frames gave different bytes in two fresh processes once other
# work (Cycles, the mesh decoder) had run. Without mbtree, output repeats across processes.
X264_PARAMS = "mbtree=0"
INTERMEDIATES = {
    # name: (codec, pix_fmt, options, extension, media type)
    "prores": ("prores_ks", "yuv422p10le", {"profile": "3", "vendor": "apl0"}, "mov", "video/quicktime"),
    "dnxhr": ("dnxhd", "yuv422p", {"profile": "dnxhr_hq"}, "mov", "video/quicktime"),
}


def load_music(path: Path, seconds: float) -> np.ndarray:
    """The pack's music as (2, n) float32 at 48 kHz, trimmed or padded to the clip, faded out."""
    import soundfile as sf

    data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    if rate != AUDIO_RATE:  # linear resample: the music decoder writes 48 kHz, this is a fallback
        n_out = round(len(data) * AUDIO_RATE / rate)
        t_in = np.arange(len(data)) / rate
        t_out = np.arange(n_out) / AUDIO_RATE
        data = np.stack([np.interp(t_out, t_in, data[:, c]) for c in range(data.shape[1])], 1).astype(np.float32)
    if data.shape[1] == 1:
        data = np.repeat(data, 2, axis=1)
    data = data[:, :2]
    n = round(seconds * AUDIO_RATE)
    if len(data) < n:  # loop: the music decoder's loops are seamless
        reps = int(np.ceil(n / max(len(data), 1)))
        data = np.tile(data, (reps, 1))
    data = data[:n].copy()
    fade = min(n, int(0.5 * AUDIO_RATE))
    data[n - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)[:, None]
    return np.ascontiguousarray(data.T)


class Writer:
    """Writes frames to one container; `close()` flushes and adds the audio."""

    def __init__(self, path: Path, width: int, height: int, fps: int, kind: str = "h264",
                 audio: np.ndarray | None = None) -> None:
        import av

        self.path = path
        self.audio = audio
        if kind == "h264":
            self.container = av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})
            self.stream: Any = self.container.add_stream("libx264", rate=fps)
            self.stream.pix_fmt = "yuv420p"
            self.stream.codec_context.options = {
                "crf": "18", "preset": "veryfast", "tune": "film", "threads": "1", "profile": "high",
                "x264-params": X264_PARAMS,
            }
            audio_codec, audio_fmt = "aac", "fltp"
        else:
            codec, pix_fmt, options, _, _ = INTERMEDIATES[kind]
            self.container = av.open(str(path), "w", format="mov")
            self.stream = self.container.add_stream(codec, rate=fps)
            self.stream.pix_fmt = pix_fmt
            self.stream.codec_context.options = {**options, "threads": "1"}
            audio_codec, audio_fmt = "pcm_s24le", "s32"
        self.stream.width, self.stream.height = width, height
        self.stream.codec_context.thread_count = 1
        self.stream.codec_context.color_range = 1  # MPEG (limited) range
        self.audio_stream: Any = None
        if audio is not None:
            self.audio_stream = self.container.add_stream(audio_codec, rate=AUDIO_RATE, layout="stereo")
            if audio_codec == "aac":
                self.audio_stream.bit_rate = 192_000
        self._audio_fmt = audio_fmt
        self._pts = 0

    def add(self, rgb: np.ndarray) -> None:
        import av

        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        frame.pts = self._pts
        self._pts += 1
        for packet in self.stream.encode(frame):
            self.container.mux(packet)

    def _audio_frames(self) -> Iterator[Any]:
        import av

        assert self.audio is not None
        block = 1024
        n = self.audio.shape[1]
        for start in range(0, n, block):
            chunk = self.audio[:, start : start + block]
            if self._audio_fmt == "s32":
                inter = (np.clip(chunk.T, -1.0, 1.0) * (2**31 - 256)).astype(np.int32).reshape(1, -1)
                frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(inter), format="s32", layout="stereo")
            else:
                frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format="fltp", layout="stereo")
            frame.sample_rate = AUDIO_RATE
            frame.pts = start
            yield frame

    def close(self) -> None:
        for packet in self.stream.encode():
            self.container.mux(packet)
        if self.audio_stream is not None:
            for frame in self._audio_frames():
                for packet in self.audio_stream.encode(frame):
                    self.container.mux(packet)
            for packet in self.audio_stream.encode():
                self.container.mux(packet)
        self.container.close()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.container.close()
        self.path.unlink(missing_ok=True)
