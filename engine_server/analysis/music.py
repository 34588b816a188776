"""Read latent-like fields back from the music: tempo, key and mode, loudness, brightness, note density,
instrumentation — from the WAV (what a listener hears) and from the MIDI (what was played).

Audio (librosa 0.11, pyloudnorm): tempo from `librosa.beat.beat_track`, key and mode from the mean
`chroma_cqt` correlated with the Krumhansl–Kessler profiles (media.md §2), integrated loudness
(ITU-R BS.1770 via pyloudnorm), spectral centroid (brightness, Hz), onsets per second, and the
loudness range of 0.4 s windows. MIDI (mido + `analysis.music_metrics`): the first tempo and meter
events, the KK key over all pitched notes, pitched notes and distinct onsets per second, mean velocity,
and the share of pitched notes played by synthesizer programs (General MIDI 80-103 plus synth bass,
synth strings and synth brass). Definitions in docs/COHERENCE.md.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from engine_server.analysis.music_metrics import (
    KK_MAJOR,
    KK_MINOR,
    PITCH_NAMES,
    NoteEvent,
    estimate_key,
    pitch_class_histogram,
)

ANALYSIS_RATE = 22050
MAX_AUDIO_S = 120.0
FINGERPRINT_S = 8.0  # the longest clip the video decoder makes
FINGERPRINT_HOP = 512  # ~43 frames per second at 22.05 kHz
FINGERPRINT_BANDS = 32
# General MIDI programs (0-based) that are synthesizers: synth bass 38-39, synth strings 50-51,
# synth brass 62-63, synth lead / pad / effects 80-103.
SYNTH_PROGRAMS = frozenset({38, 39, 50, 51, 62, 63, *range(80, 104)})


def key_from_chroma(chroma: np.ndarray) -> tuple[str, str, float, float]:
    """(key, mode, r, clarity) of a 12-bin chroma vector against the 24 KK profiles."""
    v = np.asarray(chroma, dtype=np.float64)
    if v.sum() <= 0 or np.allclose(v, v[0]):
        return "C", "major", 0.0, 0.0
    ranked = sorted(
        ((float(np.corrcoef(v, np.roll(p, t))[0, 1]), PITCH_NAMES[t], m)
         for t in range(12) for m, p in (("major", KK_MAJOR), ("minor", KK_MINOR))),
        key=lambda x: -x[0],
    )
    return ranked[0][1], ranked[0][2], ranked[0][0], ranked[0][0] - ranked[1][0]


def mode_score(chroma: np.ndarray) -> float:
    """Major (+1) .. minor (-1): best major r minus best minor r, scaled and clipped."""
    v = np.asarray(chroma, dtype=np.float64)
    if v.sum() <= 0 or np.allclose(v, v[0]):
        return 0.0
    best = {m: max(float(np.corrcoef(v, np.roll(p, t))[0, 1]) for t in range(12))
            for m, p in (("major", KK_MAJOR), ("minor", KK_MINOR))}
    return float(np.clip((best["major"] - best["minor"]) / 0.2, -1.0, 1.0))


def fingerprint(mono: np.ndarray, sr: int = ANALYSIS_RATE, seconds: float = FINGERPRINT_S) -> list[list[float]]:
    """The first `seconds` as spectral flux: the rise of a 32-band log-mel spectrogram (dB) between frames
    (~23 ms apart), bands x frames, one decimal.

    Enough to tell whether two files carry the same music from their start (the clip's soundtrack is
    the pack's mix from its first sample), too coarse to rebuild anything from. Flux, not level, so
    that two pieces with a similar spectrum or swell still differ: only their note onsets are compared.
    """
    import librosa

    y = np.asarray(mono, dtype=np.float32)[: int(seconds * sr)]
    if len(y) < FINGERPRINT_HOP * 8:
        return []
    mel = librosa.feature.melspectrogram(y=y, sr=sr, n_mels=FINGERPRINT_BANDS, hop_length=FINGERPRINT_HOP,
                                         n_fft=2048, fmax=8000.0)
    flux = np.maximum(np.diff(10.0 * np.log10(np.maximum(mel, 1e-10)), axis=1), 0.0)
    return [[round(float(v), 1) for v in band] for band in flux]


def fingerprint_similarity(a: list[list[float]], b: list[list[float]]) -> float | None:
    """Pearson r of two fingerprints over their common start, each band's mean removed; None if too short.

    The same music reads ~0.95-1 (through AAC at 192 kbit/s too); unrelated music ~0 +- 0.1.
    """
    if not a or not b:
        return None
    n = min(len(a[0]), len(b[0]))
    if n < 20:
        return None
    x = np.asarray(a, dtype=np.float64)[:, :n]
    y = np.asarray(b, dtype=np.float64)[:, :n]
    x = (x - x.mean(axis=1, keepdims=True)).ravel()
    y = (y - y.mean(axis=1, keepdims=True)).ravel()
    denom = float(np.sqrt((x * x).sum() * (y * y).sum()))
    return float((x * y).sum() / denom) if denom > 1e-12 else 0.0


def analyse_audio(path: Path | str) -> dict[str, Any]:
    """Tempo, key and mode, loudness, brightness, onset rate and loudness range of a WAV file."""
    import librosa
    import pyloudnorm
    import soundfile

    data, rate = soundfile.read(str(path), dtype="float32", always_2d=True, frames=int(MAX_AUDIO_S * 48000 * 4))
    data = data[: int(MAX_AUDIO_S * rate)]
    duration = len(data) / rate
    lufs = float(pyloudnorm.Meter(rate).integrated_loudness(data)) if duration >= 0.4 else float("-inf")
    mono = librosa.resample(data.mean(axis=1), orig_sr=rate, target_sr=ANALYSIS_RATE, res_type="soxr_hq")
    sr = ANALYSIS_RATE
    onset_env = librosa.onset.onset_strength(y=mono, sr=sr)
    tempo, _beats = librosa.beat.beat_track(onset_envelope=onset_env, sr=sr)
    onsets = librosa.onset.onset_detect(onset_envelope=onset_env, sr=sr)
    centroid = librosa.feature.spectral_centroid(y=mono, sr=sr)[0]
    rms = librosa.feature.rms(y=mono, frame_length=int(0.4 * sr), hop_length=int(0.1 * sr))[0]
    chroma = librosa.feature.chroma_cqt(y=mono, sr=sr).mean(axis=1)
    key, mode, r, clarity = key_from_chroma(chroma)
    loud = 20 * np.log10(np.maximum(rms[rms > 1e-4], 1e-9)) if (rms > 1e-4).any() else np.zeros(1)
    weights = rms / max(float(rms.sum()), 1e-12)
    cent = float((centroid[: len(weights)] * weights[: len(centroid)]).sum()) if len(centroid) else 0.0
    return {
        "duration_s": round(duration, 3),
        "tempo_bpm": round(float(np.atleast_1d(tempo)[0]), 2),
        "key": key,
        "mode": mode,
        "key_r": round(r, 4),
        "key_clarity": round(clarity, 4),
        "mode_score": round(mode_score(chroma), 4),
        "lufs": round(lufs, 2) if math.isfinite(lufs) else None,
        "spectral_centroid_hz": round(cent, 1),
        "onset_rate": round(len(onsets) / max(duration, 1e-9), 3),
        "loudness_range_db": round(float(np.percentile(loud, 95) - np.percentile(loud, 10)), 2),
        "fingerprint": fingerprint(mono, sr),
    }


def _midi_notes(midi: Any) -> tuple[list[NoteEvent], list[int], float, str | None, list[tuple[int, float]]]:
    """(notes in beats, program per pitched note, first tempo, first meter, tempo map as (tick, bpm))."""
    tpb = float(midi.ticks_per_beat)
    notes: list[NoteEvent] = []
    programs: list[int] = []
    tempo_map: list[tuple[int, float]] = []
    meter: str | None = None
    for track in midi.tracks:
        tick = 0
        program = dict.fromkeys(range(16), 0)
        open_notes: dict[tuple[int, int], list[tuple[int, int, int]]] = {}
        for msg in track:
            tick += msg.time
            if msg.type == "set_tempo":
                tempo_map.append((tick, 60_000_000.0 / msg.tempo))
            elif msg.type == "time_signature" and meter is None:
                meter = f"{msg.numerator}/{msg.denominator}"
            elif msg.type == "program_change":
                program[msg.channel] = msg.program
            elif msg.type == "note_on" and msg.velocity > 0:
                open_notes.setdefault((msg.channel, msg.note), []).append((tick, msg.velocity, program[msg.channel]))
            elif msg.type in ("note_off", "note_on"):
                started = open_notes.get((msg.channel, msg.note))
                if started:
                    t0, vel, prog = started.pop(0)
                    notes.append(NoteEvent(t0 / tpb, (tick - t0) / tpb, msg.note, vel, msg.channel == 9))
                    programs.append(-1 if msg.channel == 9 else prog)
    tempo_map.sort()
    first = tempo_map[0][1] if tempo_map else 120.0
    return notes, programs, first, meter, tempo_map


def _seconds(beat: float, tempo_map: list[tuple[int, float]], tpb: float) -> float:
    """Beat position to seconds through a tempo map (ticks, bpm)."""
    if not tempo_map:
        return beat * 0.5
    t, last_beat, bpm = 0.0, 0.0, tempo_map[0][1]
    for tick, new_bpm in tempo_map[1:]:
        b = tick / tpb
        if b >= beat:
            break
        t += (b - last_beat) * 60.0 / bpm
        last_beat, bpm = b, new_bpm
    return t + (beat - last_beat) * 60.0 / bpm


def analyse_midi(path: Path | str) -> dict[str, Any]:
    """Tempo, meter, key and mode, note density, velocity and synth share of a MIDI file."""
    import mido

    midi = mido.MidiFile(str(path))
    notes, programs, tempo, meter, tempo_map = _midi_notes(midi)
    tpb = float(midi.ticks_per_beat)
    pitched = [n for n in notes if not n.drum]
    end_beat = max((n.onset + n.duration for n in notes), default=0.0)
    duration = _seconds(end_beat, tempo_map, tpb)
    est = estimate_key(pitched)
    onsets = {round(n.onset, 3) for n in notes}
    synth = [p in SYNTH_PROGRAMS for p in programs if p >= 0]
    return {
        "duration_s": round(duration, 3),
        "tempo_bpm": round(tempo, 3),
        "meter": meter or "4/4",
        "key": est.key,
        "mode": est.mode,
        "key_r": round(est.r, 4),
        "mode_score": round(mode_score(pitch_class_histogram(pitched, weight="duration")), 4),
        "mean_pitch": round(float(np.mean([n.pitch for n in pitched])) if pitched else 0.0, 2),
        "notes": len(pitched),
        "drum_hits": len(notes) - len(pitched),
        "note_density": round(len(pitched) / max(duration, 1e-9), 3),
        "onset_density": round(len(onsets) / max(duration, 1e-9), 3),
        "drum_density": round((len(notes) - len(pitched)) / max(duration, 1e-9), 3),
        "mean_velocity": round(float(np.mean([n.velocity for n in notes])) if notes else 0.0, 2),
        "synth_share": round(float(np.mean(synth)) if synth else 0.0, 4),
        "programs": sorted({p for p in programs if p >= 0}),
    }


def analyse_music(wav: Path | str | None, midi: Path | str | None) -> dict[str, Any]:
    """Both readings, plus the fields the coherence index uses (MIDI's exact values where present)."""
    if wav is None and midi is None:
        raise ValueError("no music file to analyse")
    out: dict[str, Any] = {}
    a = analyse_audio(wav) if wav is not None else None
    m = analyse_midi(midi) if midi is not None else None
    if a is not None:
        out["audio"] = a
    if m is not None:
        out["midi"] = m
    src = m if m is not None else a
    assert src is not None
    out["tempo_bpm"] = src["tempo_bpm"]
    out["mode"] = src["mode"]
    out["key"] = src["key"]
    out["mode_score"] = src["mode_score"]
    if a is not None:
        out["spectral_centroid_hz"] = a["spectral_centroid_hz"]
        out["lufs"] = a["lufs"]
        out["fingerprint"] = a["fingerprint"]
    out["note_density"] = m["onset_density"] if m is not None else a["onset_rate"]  # type: ignore[index]
    if m is not None:
        out["synth_share"] = m["synth_share"]
    return out
