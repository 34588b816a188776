"""Transcribed notes to a motif: tempo from the onsets, key from the pitches, rhythm in beats.

Tempo: every candidate between 50 and 200 BPM (0.1 % apart) is scored by how well the onsets line up
with its eighth-note grid (the length of the mean phase vector, Rayleigh's statistic), weighted by a
log-normal preference around 110 BPM that settles the octave (a tune of quarter notes at 100 BPM is also
eighths at 50 and halves at 200); the winner is refined by a least-squares fit of the onsets to their
grid slots. Key: Krumhansl–Kessler on the duration-weighted pitch classes, as the analysers do
(engine_server/analysis/music_metrics.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine_server.analysis.music_metrics import NoteEvent, estimate_key
from engine_server.readers.hum.transcribe import HeardNote

MIN_BPM, MAX_BPM = 50.0, 200.0
PREFERRED_BPM = 110.0
PREFERENCE_OCTAVES = 0.6
GRID = 0.5  # rhythm quantised to eighths (the grid the tempo was found on; a hum is rarely finer)
MAX_MOTIF_BEATS = 64.0


@dataclass(frozen=True)
class Tempo:
    bpm: float
    fit: float  # 0..1: how well the onsets sit on the eighth grid
    phase_s: float  # time of the grid's first beat


def estimate_tempo(onsets: Sequence[float]) -> Tempo:
    """The tempo the onsets were sung at (see the module's sentence)."""
    t = np.asarray(onsets, dtype=np.float64)
    if len(t) < 3:
        return Tempo(PREFERRED_BPM, 0.0, float(t[0]) if len(t) else 0.0)
    bpms = MIN_BPM * (MAX_BPM / MIN_BPM) ** np.linspace(0, 1, 1388)
    periods = 30.0 / bpms  # eighth notes
    vec = np.exp(2j * np.pi * t[None, :] / periods[:, None]).mean(axis=1)
    fit = np.abs(vec)
    prior = np.exp(-0.5 * (np.log2(bpms / PREFERRED_BPM) / PREFERENCE_OCTAVES) ** 2)
    best = int(np.argmax(fit ** 4 * prior))
    period = periods[best]
    phase = (np.angle(vec[best]) / (2 * np.pi)) * period
    slots = np.round((t - phase) / period)
    if len(set(slots.tolist())) >= 2:  # refine: onsets = a + period * slot
        period, phase = np.polyfit(slots, t, 1)
    bpm = float(np.clip(30.0 / period, MIN_BPM, MAX_BPM))
    first_slot = np.round((t[0] - phase) / period)
    return Tempo(round(bpm, 2), round(float(fit[best]), 4), float(phase + first_slot * period))


def estimate_hum_key(notes: Sequence[HeardNote]) -> tuple[str, str, float, float]:
    """(key, mode, r, clarity) of the sung pitches (durations as weights)."""
    est = estimate_key(NoteEvent(n.start_s, n.end_s - n.start_s, n.midi) for n in notes)
    return est.key, est.mode, round(est.r, 4), round(est.clarity, 4)


def quantise(notes: Sequence[HeardNote], tempo: Tempo) -> list[dict[str, float | int | None]]:
    """The notes as `{pitch, beats}` on the eighth grid the tempo was fitted to, from the first note: each
    lasts to the next onset (humming breathes between notes) unless it stops a beat or more early, when a
    rest follows."""
    beat = 60.0 / tempo.bpm
    slots = [round((n.start_s - tempo.phase_s) / beat / GRID) for n in notes]
    on = [(k - slots[0]) * GRID for k in slots]
    out: list[dict[str, float | int | None]] = []
    for i, n in enumerate(notes):
        sung = max(GRID * 2, round((n.end_s - n.start_s) / beat / GRID) * GRID)
        if i + 1 < len(notes):
            gap = on[i + 1] - on[i]
            if gap <= 0:
                continue  # two onsets on one slot: the first wins
            if gap - sung >= 1.0:
                out.append({"pitch": n.midi, "beats": sung})
                out.append({"pitch": None, "beats": gap - sung})
            else:
                out.append({"pitch": n.midi, "beats": gap})
        else:
            out.append({"pitch": n.midi, "beats": min(sung, 4.0)})
    kept: list[dict[str, float | int | None]] = []
    total = 0.0
    for item in out:  # the motif's length is bounded (and each note at most 16 beats)
        beats = min(float(item["beats"] or 0.0), 16.0)
        if total + beats > MAX_MOTIF_BEATS:
            break
        kept.append({"pitch": item["pitch"], "beats": beats})
        total += beats
    return kept


def intervals(pitches: Sequence[int]) -> list[int]:
    """Successive intervals in semitones: a tune's shape, whatever its key."""
    return [b - a for a, b in itertools.pairwise(pitches)]
