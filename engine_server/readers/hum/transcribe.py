"""Hummed audio to notes: basic-pitch's ONNX model served by onnxruntime, reduced to one voice.

The model is the one the basic-pitch 0.4.0 wheel ships (`basic_pitch/saved_models/icassp_2022/nmp.onnx`,
Bittner et al., ICASSP 2022). basic-pitch's own Python imports resampy (which needs the removed
`pkg_resources`) and probes TensorFlow, CoreML and TFLite at import, so only its model file is used: the
thin windowing (`basic_pitch/inference.py`: `window_audio_file`, `run_inference`, `unwrap_output`) and
the note decoding (`basic_pitch/note_creation.py`: `get_infered_onsets`, `output_to_notes_polyphonic`
without the "melodia trick", `model_frames_to_time`) are re-implemented here from that source (Apache-2.0),
then reduced to a single line, because a hum is one voice: a note overlapped by a stronger one is dropped
or cut, and each note's pitch is the median of the model's 1/3-semitone contour over the note, so pitch
bends and vibrato fold into one steady pitch.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.signal import argrelmax

from engine_server.errors import InvalidArgument

# basic_pitch/constants.py
SAMPLE_RATE = 22050
FFT_HOP = 256
ANNOTATIONS_FPS = SAMPLE_RATE // FFT_HOP  # 86 frames a second
AUDIO_N_SAMPLES = SAMPLE_RATE * 2 - FFT_HOP  # the model's 2 s window
ANNOT_N_FRAMES = ANNOTATIONS_FPS * 2
N_OVERLAP_FRAMES = 30
OVERLAP_LEN = N_OVERLAP_FRAMES * FFT_HOP
HOP_SIZE = AUDIO_N_SAMPLES - OVERLAP_LEN
MIDI_OFFSET = 21  # the model's first bin is A0
CONTOUR_BINS_PER_SEMITONE = 3
# basic-pitch's CLI defaults (onset 0.5, frame 0.3, min note 127.7 ms = 11 frames, energy tolerance 11)
ONSET_THRESHOLD = 0.5
FRAME_THRESHOLD = 0.3
MIN_NOTE_FRAMES = 11
ENERGY_TOL = 11
# A voice: roughly E2..C6; the model's notes outside are harmonics or noise.
MIN_PITCH, MAX_PITCH = 40, 84
# Same-pitch notes closer than this (23 ms) are one note: a sung repeat has at least a consonant between.
JOIN_GAP_FRAMES = 2
# The voice's level this far (dB) under the note's median marks a gap between two notes of one pitch.
GAP_DB = 15.0
MODEL_VERSION = "basic-pitch-0.4.0-icassp_2022-nmp.onnx"


@dataclass(frozen=True)
class HeardNote:
    """One transcribed note: times in seconds, the folded pitch (MIDI, fractional) and its confidence."""

    start_s: float
    end_s: float
    pitch: float
    amplitude: float

    @property
    def midi(self) -> int:
        return round(self.pitch)


def model_path() -> Path:
    """The ONNX model inside the installed basic-pitch wheel (found without importing the package)."""
    spec = importlib.util.find_spec("basic_pitch")
    if spec is None or not spec.submodule_search_locations:
        raise InvalidArgument("Humming needs basic-pitch's model, which is not installed here: run `make setup`.")
    path = Path(next(iter(spec.submodule_search_locations))) / "saved_models" / "icassp_2022" / "nmp.onnx"
    if not path.is_file():
        raise InvalidArgument(f"basic-pitch's ONNX model is missing ({path}): run `make setup`.")
    return path


@functools.cache
def _session() -> object:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    opts.log_severity_level = 3
    return ort.InferenceSession(str(model_path()), opts, providers=["CPUExecutionProvider"])


def posteriorgrams(audio: np.ndarray) -> dict[str, np.ndarray]:
    """The model's note, onset (n_frames, 88) and contour (n_frames, 264) activations for 22.05 kHz mono audio."""
    session = _session()
    n = audio.shape[0]
    padded = np.concatenate([np.zeros(OVERLAP_LEN // 2, np.float32), audio.astype(np.float32)])
    starts = range(0, padded.shape[0], HOP_SIZE)
    windows = np.zeros((len(starts), AUDIO_N_SAMPLES, 1), np.float32)
    for i, s in enumerate(starts):
        w = padded[s:s + AUDIO_N_SAMPLES]
        windows[i, :len(w), 0] = w
    outs: dict[str, list[np.ndarray]] = {"note": [], "onset": [], "contour": []}
    names = ["StatefulPartitionedCall:1", "StatefulPartitionedCall:2", "StatefulPartitionedCall:0"]
    for b in range(0, len(windows), 8):
        res = session.run(names, {"serving_default_input_2:0": windows[b:b + 8]})  # type: ignore[attr-defined]
        for k, v in zip(("note", "onset", "contour"), res, strict=True):
            outs[k].append(v)
    n_frames = int(np.floor(n * (ANNOTATIONS_FPS / SAMPLE_RATE)))
    half = N_OVERLAP_FRAMES // 2
    result = {}
    for k, parts in outs.items():
        arr = np.concatenate(parts)[:, half:-half, :]
        result[k] = arr.reshape(-1, arr.shape[2])[:n_frames]
    return result


def frame_times(n_frames: int) -> np.ndarray:
    """basic-pitch's `model_frames_to_time`: frame index to seconds, with its per-window offset."""
    idx = np.arange(n_frames)
    original = idx * FFT_HOP / SAMPLE_RATE
    window_offset = (FFT_HOP / SAMPLE_RATE) * (ANNOT_N_FRAMES - AUDIO_N_SAMPLES / FFT_HOP) + 0.0018
    return np.asarray(original - window_offset * np.floor(idx / ANNOT_N_FRAMES))


def note_events(frames: np.ndarray, onsets: np.ndarray) -> list[tuple[int, int, int, float]]:
    """basic-pitch's `output_to_notes_polyphonic` (no melodia trick): (start, end, bin, amplitude) in frames."""
    frames = frames.copy()
    onsets = onsets.copy()
    lo, hi = MIN_PITCH - MIDI_OFFSET, MAX_PITCH - MIDI_OFFSET + 1
    onsets[:, :lo] = onsets[:, hi:] = 0
    frames[:, :lo] = frames[:, hi:] = 0
    n_frames = frames.shape[0]
    peaks = np.zeros(onsets.shape)
    idx = argrelmax(onsets, axis=0)
    peaks[idx] = onsets[idx]
    t_idx, f_idx = np.where(peaks >= ONSET_THRESHOLD)
    remaining = frames.copy()
    events = []
    for start, f in zip(t_idx[::-1], f_idx[::-1], strict=True):
        if start >= n_frames - 1:
            continue
        i, k = start + 1, 0
        while i < n_frames - 1 and k < ENERGY_TOL:
            k = k + 1 if remaining[i, f] < FRAME_THRESHOLD else 0
            i += 1
        i -= k
        if i - start <= 1:  # (basic-pitch drops notes under MIN_NOTE_FRAMES here; see `transcribe`)
            continue
        remaining[start:i, max(f - 1, 0):f + 2] = 0
        events.append((int(start), int(i), int(f), float(np.mean(frames[start:i, f]))))
    return events


def monophonic(events: list[tuple[int, int, int, float]]) -> list[tuple[int, int, int, float]]:
    """One voice. Strongest notes first (amplitude x length): a weaker note lying mostly (over half its length)
    under one kept is a harmonic or a slide, and is dropped. Then where two kept notes overlap, the earlier
    one ends where the later one starts: an onset is sharper evidence than an offset, which the decoding's
    energy tolerance stretches by up to 11 frames."""
    kept: list[tuple[int, int, int, float]] = []
    for s, e, f, a in sorted(events, key=lambda ev: -(ev[3] * (ev[1] - ev[0]))):
        covered = sum(max(0, min(e, ke) - max(s, ks)) for ks, ke, _, _ in kept)
        if covered * 2 <= e - s:
            kept.append((s, e, f, a))
    kept.sort()
    out: list[tuple[int, int, int, float]] = []
    for i, (s, e, f, a) in enumerate(kept):
        if i + 1 < len(kept):
            e = min(e, kept[i + 1][0])
        if out:
            s = max(s, out[-1][1])
        if e > s:
            out.append((s, e, f, a))
    return out


def join_split(events: list[tuple[int, int, int, float]]) -> list[tuple[int, int, int, float]]:
    """A note the decoding split in two (same pitch, touching: a vibrato swell read as an onset) made whole."""
    out: list[tuple[int, int, int, float]] = []
    for ev in events:
        if out and ev[2] == out[-1][2] and ev[0] - out[-1][1] <= JOIN_GAP_FRAMES:
            s, e, f, a = out[-1]
            out[-1] = (s, ev[1], f, (a * (e - s) + ev[3] * (ev[1] - ev[0])) / (ev[1] - s))
        else:
            out.append(ev)
    return out


def steady_pitch(contour: np.ndarray, start: int, end: int, f: int) -> float:
    """The note's pitch from the contour (three bins a semitone) near its bin: the median over the note of
    each frame's peak, so vibrato and slides fold into one value."""
    centre = f * CONTOUR_BINS_PER_SEMITONE + 1
    lo, hi = max(centre - 4, 0), min(centre + 5, contour.shape[1])
    seg = contour[start:end, lo:hi]
    if seg.size == 0:
        return float(f + MIDI_OFFSET)
    peak = lo + np.argmax(seg, axis=1)
    cents = (peak - 1) / CONTOUR_BINS_PER_SEMITONE
    return float(np.median(cents) + MIDI_OFFSET)


def split_at_gaps(events: list[tuple[int, int, int, float]], audio: np.ndarray) -> list[tuple[int, int, int, float]]:
    """Notes split where the voice itself stops: the model's activation bridges the short silence between
    two sung notes of one pitch, the audio's level (RMS per model frame) does not."""
    n = len(audio) // FFT_HOP + 1
    padded = np.pad(audio.astype(np.float64), (FFT_HOP, FFT_HOP + n * FFT_HOP - len(audio)))
    frames = np.lib.stride_tricks.sliding_window_view(padded, 2 * FFT_HOP)[::FFT_HOP][:n]
    level = 10 * np.log10(np.mean(frames ** 2, axis=1) + 1e-12)
    out = []
    for s, e, f, a in events:
        seg = level[s:min(e, n)]
        if len(seg) == 0:
            out.append((s, e, f, a))
            continue
        quiet = seg < np.median(seg) - GAP_DB
        cuts = [k for k in range(1, len(seg) - 1) if quiet[k] and not quiet[k - 1]]
        bounds = [0]
        for k in cuts:
            end = k
            while end < len(seg) and quiet[end]:
                end += 1
            bounds += [k, end]
        bounds.append(e - s)
        for a0, b0 in zip(bounds[::2], bounds[1::2], strict=True):
            if b0 - a0 > MIN_NOTE_FRAMES // 2:
                out.append((s + a0, s + b0, f, a))
    return out


def transcribe(audio: np.ndarray) -> list[HeardNote]:
    """22.05 kHz mono float audio to the sung line's notes, in time order."""
    out = posteriorgrams(audio)
    times = frame_times(out["note"].shape[0] + 1)
    notes = []
    # Vibrato makes the onset activation peak several times in one note, and the later peaks claim the note's
    # frames first, leaving the true onset a stub: short notes are only dropped once the stubs are joined.
    line = split_at_gaps(join_split(monophonic(note_events(out["note"], out["onset"]))), audio)
    for s, e, f, a in line:
        if e - s <= MIN_NOTE_FRAMES:
            continue
        pitch = steady_pitch(out["contour"], s, e, f)
        if abs(pitch - (f + MIDI_OFFSET)) > 0.7:  # the contour disagrees: trust the note bin
            pitch = float(f + MIDI_OFFSET)
        notes.append(HeardNote(round(float(times[s]), 4), round(float(times[e]), 4), round(pitch, 3), round(a, 3)))
    return notes
