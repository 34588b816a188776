"""Render each part to its own stereo stem with FluidSynth and the General MIDI SoundFont, at 48 kHz.

One synthesiser per stem (never `start()`ed: no audio device), fed the part's MIDI events at their
exact sample positions and rendered straight to 32-bit float with `fluid_synth_write_float`, so
nothing is quantised to 16 bits before the 24-bit files. Stems render in parallel threads (the C
library releases the GIL); each synth is independent, so thread timing cannot change a sample.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine_server.decoders.music.midi import Event
from engine_server.decoders.music.score import PPQ
from engine_server.decoders.music.tempo import TempoMap
from engine_server.errors import FailedPrecondition

SAMPLE_RATE = 48000
BLOCK = 4096  # frames rendered per call between events
_keeper_lock = threading.Lock()
_keeper: object | None = None  # a synth that keeps the SoundFont's samples cached in this process
_write_float: Callable[..., int] | None = None


@dataclass(frozen=True)
class StemJob:
    name: str
    channel: int
    bank: int
    program: int
    events: Sequence[Event]
    chorus: bool = True  # run FluidSynth's chorus unit (parts that send nothing to it skip its cost)


def _fluidsynth() -> object:
    try:
        import fluidsynth
    except (ImportError, OSError) as exc:  # pragma: no cover - environment problem
        raise FailedPrecondition(f"FluidSynth is not usable here ({exc}); install libfluidsynth3.") from exc
    return fluidsynth


def _writer() -> Callable[..., int]:
    global _write_float
    if _write_float is None:
        fs = _fluidsynth()
        fn = fs._fl.fluid_synth_write_float  # type: ignore[attr-defined]
        fn.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                       ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
        fn.restype = ctypes.c_int
        _write_float = fn
    return _write_float


def warm(soundfont: Path) -> None:
    """Load the SoundFont once per process; later synths share FluidSynth's sample cache."""
    global _keeper
    with _keeper_lock:
        if _keeper is None:
            fs = _fluidsynth()
            synth = fs.Synth(samplerate=float(SAMPLE_RATE))  # type: ignore[attr-defined]
            if synth.sfload(str(soundfont)) < 0:
                raise FailedPrecondition(f"Cannot load the SoundFont {soundfont}.")
            _keeper = synth


def sample_of(tick: int, tempo: float | TempoMap) -> int:
    if isinstance(tempo, TempoMap):
        return round(tempo.seconds(tick / PPQ) * SAMPLE_RATE)
    return round(tick / PPQ * 60.0 / tempo * SAMPLE_RATE)


def render_stem(job: StemJob, tempo_bpm: float | TempoMap, n_frames: int, soundfont: Path,
                reverb: tuple[float, float, float, float], stop: threading.Event | None = None) -> np.ndarray:
    """[n_frames, 2] float32 audio of one part."""
    fs = _fluidsynth()
    write = _writer()
    settings = {} if job.chorus else {"synth.chorus.active": 0}
    synth = fs.Synth(gain=0.4, samplerate=float(SAMPLE_RATE), **settings)  # type: ignore[attr-defined]
    try:
        sfid = synth.sfload(str(soundfont))
        if sfid < 0:
            raise FailedPrecondition(f"Cannot load the SoundFont {soundfont}.")
        room, damp, width, level = reverb
        synth.set_reverb(roomsize=room, damping=damp, width=width, level=level)
        buf = np.zeros(2 * n_frames, dtype=np.float32)
        ptr = buf.ctypes.data
        handle = synth.synth
        pos = 0

        def advance(to: int) -> None:
            nonlocal pos
            to = min(to, n_frames)
            while pos < to:
                n = min(BLOCK, to - pos)
                write(handle, n, ptr, 2 * pos, 2, ptr, 2 * pos + 1, 2)
                pos += n
                if stop is not None and stop.is_set():
                    raise InterruptedError

        for e in job.events:
            advance(sample_of(e.tick, tempo_bpm))
            if e.kind == "program":
                synth.program_select(job.channel, sfid, job.bank, e.a)
            elif e.kind == "cc":
                synth.cc(job.channel, e.a, e.b)
            elif e.kind == "on":
                synth.noteon(job.channel, e.a, e.b)
            else:
                synth.noteoff(job.channel, e.a)
        advance(n_frames)
        return buf.reshape(-1, 2)
    finally:
        synth.delete()


def render_stems(jobs: Sequence[StemJob], tempo_bpm: float | TempoMap, n_frames: int, soundfont: Path,
                 reverb: tuple[float, float, float, float], on_done: Callable[[str], None] | None = None,
                 stop: threading.Event | None = None) -> dict[str, np.ndarray]:
    """All stems, rendered two (or more, on bigger machines) at a time; results in job order."""
    warm(soundfont)
    stop = stop or threading.Event()
    workers = max(1, min(len(jobs), os.cpu_count() or 1, 4))
    out: dict[str, np.ndarray] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {job.name: pool.submit(render_stem, job, tempo_bpm, n_frames, soundfont, reverb, stop)
                   for job in jobs}
        try:
            for job in jobs:
                out[job.name] = futures[job.name].result()
                if on_done is not None:
                    on_done(job.name)  # may raise Cancelled: the other stems stop at their next block
        except BaseException:
            stop.set()
            raise
    return out
