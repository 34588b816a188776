"""Objective, weight-free music metrics computed from notes (definitions in docs/MUSIC.md, media.md §2).

They judge a score the way a listener's ear roughly would, without a neural model:
- pitch-class entropy H (bits): how many pitch classes are in play; tonal music sits well below log2(12);
- groove similarity GS: how alike the bars' onset patterns are (1 = identical rhythm in every bar);
- chord irregularity CPI: unique chord trigrams / chord trigrams (lower = more repetitive harmony);
- melody fit: the share of melody notes in the current chord and in the key's scale;
- key: Krumhansl–Kessler profile correlation (24 keys).
Every function takes plain `NoteEvent`s (onsets and durations in quarter-note beats), so the same code
scores Motif's own MIDI, a reference corpus or a shuffled control.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

PITCH_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
NATURAL_MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)
# Krumhansl & Kessler (1982) probe-tone profiles, tonic first.
KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
# Chord vocabulary for estimation: triads (sevenths fold onto their triad, which keeps labels stable).
CHORD_QUALITIES: dict[str, tuple[int, ...]] = {
    "": (0, 4, 7),
    "m": (0, 3, 7),
    "dim": (0, 3, 6),
    "aug": (0, 4, 8),
    "sus4": (0, 5, 7),
}
MAX_ENTROPY_BITS = math.log2(12)


@dataclass(frozen=True)
class NoteEvent:
    """One note: onset and duration in quarter-note beats; `drum` notes have no pitch class."""

    onset: float
    duration: float
    pitch: int
    velocity: int = 80
    drum: bool = False


@dataclass(frozen=True)
class KeyEstimate:
    key: str
    mode: str  # "major" | "minor"
    r: float  # Pearson correlation with the best profile
    clarity: float  # r_best - r_second (how unambiguous the key is)


# ----------------------------------------------------------------------------------------------
# Pitch classes


def pitched(notes: Iterable[NoteEvent]) -> list[NoteEvent]:
    return [n for n in notes if not n.drum]


def pitch_class_histogram(notes: Iterable[NoteEvent], weight: str = "count") -> np.ndarray:
    """12-bin histogram of pitched notes, counted once each ("count") or by duration ("duration")."""
    hist = np.zeros(12)
    for n in pitched(notes):
        hist[n.pitch % 12] += 1.0 if weight == "count" else max(n.duration, 0.0)
    return hist


def entropy_bits(hist: np.ndarray) -> float:
    """Shannon entropy (bits) of a histogram; 0 for an empty one."""
    total = float(hist.sum())
    if total <= 0:
        return 0.0
    p = hist[hist > 0] / total
    return float(-(p * np.log2(p)).sum() + 0.0)


def pitch_class_entropy(notes: Iterable[NoteEvent]) -> float:
    """Entropy of the whole piece's pitch-class histogram (note counts), in bits (max log2 12)."""
    return entropy_bits(pitch_class_histogram(notes))


def bar_count(notes: Sequence[NoteEvent], beats_per_bar: float) -> int:
    if not notes:
        return 0
    return math.floor(max(n.onset for n in notes) / beats_per_bar + 1e-9) + 1


def windowed_pitch_class_entropy(
    notes: Sequence[NoteEvent], beats_per_bar: float, window_bars: Sequence[int] = (1, 4)
) -> float:
    """MusDr's H: entropy of sliding windows of 1 and 4 bars (hop one bar), averaged per size, then over sizes.

    Windows without pitched notes are skipped; a window longer than the piece covers the whole piece.
    """
    notes = pitched(notes)
    n_bars = bar_count(notes, beats_per_bar)
    if n_bars == 0:
        return 0.0
    bars = [math.floor(n.onset / beats_per_bar + 1e-9) for n in notes]
    per_size = []
    for w in window_bars:
        values = []
        for start in range(max(1, n_bars - w + 1)):
            hist = np.zeros(12)
            for n, b in zip(notes, bars, strict=True):
                if start <= b < start + w:
                    hist[n.pitch % 12] += 1.0
            if hist.sum() > 0:
                values.append(entropy_bits(hist))
        if values:
            per_size.append(float(np.mean(values)))
    return float(np.mean(per_size)) if per_size else 0.0


# ----------------------------------------------------------------------------------------------
# Rhythm


def onset_grid(
    notes: Sequence[NoteEvent], beats_per_bar: float, slots_per_bar: int = 16, n_bars: int | None = None
) -> np.ndarray:
    """Boolean [bars, slots] matrix: True where some note starts in that slot (nearest slot)."""
    n_bars = bar_count(notes, beats_per_bar) if n_bars is None else n_bars
    grid = np.zeros((max(n_bars, 0), slots_per_bar), dtype=bool)
    for n in notes:
        pos = round(n.onset / beats_per_bar * slots_per_bar)
        bar, slot = divmod(pos, slots_per_bar)
        if 0 <= bar < n_bars:
            grid[bar, slot] = True
    return grid


def groove_similarity(
    notes: Sequence[NoteEvent],
    beats_per_bar: float,
    slots_per_bar: int = 16,
    max_pairs: int = 1000,
    n_bars: int | None = None,
) -> float:
    """Mean over all bar pairs of 1 − XOR(onsets_a, onsets_b)/Q (MusDr's GS; Q = slots per bar).

    All pairs, not only neighbours (MusPy's adjacent-only variant saturates); beyond `max_pairs`
    a fixed, evenly spaced subset is used so the value is deterministic. NaN below two bars.
    """
    grid = onset_grid(notes, beats_per_bar, slots_per_bar, n_bars)
    if grid.shape[0] < 2:
        return float("nan")
    pairs = list(itertools.combinations(range(grid.shape[0]), 2))
    if len(pairs) > max_pairs:
        idx = np.linspace(0, len(pairs) - 1, max_pairs).round().astype(int)
        pairs = [pairs[i] for i in idx]
    sims = [1.0 - np.logical_xor(grid[a], grid[b]).sum() / slots_per_bar for a, b in pairs]
    return float(np.mean(sims))


# ----------------------------------------------------------------------------------------------
# Harmony


def chord_pcs(label: str) -> frozenset[int]:
    """Pitch classes of a chord label such as "C", "F#m", "Bdim", "Eaug", "Gsus4"."""
    root_name = label[:2] if len(label) > 1 and label[1] == "#" else label[:1]
    quality = label[len(root_name) :]
    if root_name not in PITCH_NAMES or quality not in CHORD_QUALITIES:
        raise ValueError(f"not a chord label: {label!r}")
    root = PITCH_NAMES.index(root_name)
    return frozenset((root + i) % 12 for i in CHORD_QUALITIES[quality])


def _chord_templates() -> list[tuple[str, np.ndarray]]:
    out = []
    for quality, intervals in CHORD_QUALITIES.items():
        for root in range(12):
            t = np.zeros(12)
            t[[(root + i) % 12 for i in intervals]] = 1.0
            out.append((PITCH_NAMES[root] + quality, t / np.linalg.norm(t)))
    return out


_TEMPLATES = _chord_templates()


def estimate_chord(weights: np.ndarray, bass_pc: int | None = None) -> str | None:
    """Best triad for a 12-bin pitch-class weight vector (cosine match; the bass note counts extra)."""
    w = np.asarray(weights, dtype=float).copy()
    if w.sum() <= 0:
        return None
    if bass_pc is not None:
        w[bass_pc] += 0.5 * w.max()
    w = w / np.linalg.norm(w)
    scores = [float(t @ w) for _, t in _TEMPLATES]
    return _TEMPLATES[int(np.argmax(scores))][0]


def estimate_chords(
    notes: Sequence[NoteEvent], segment_beats: float, n_segments: int | None = None
) -> list[str | None]:
    """One chord label per segment (e.g. per bar) from the pitched notes sounding in it (by overlap)."""
    notes = pitched(notes)
    if n_segments is None:
        end = max((n.onset + n.duration for n in notes), default=0.0)
        n_segments = math.ceil(end / segment_beats - 1e-9)
    weights = np.zeros((n_segments, 12))
    bass: list[tuple[int, float] | None] = [None] * n_segments
    for n in notes:
        first = math.floor(n.onset / segment_beats + 1e-9)
        last = math.ceil((n.onset + n.duration) / segment_beats - 1e-9)
        for s in range(max(first, 0), min(last, n_segments)):
            overlap = min(n.onset + n.duration, (s + 1) * segment_beats) - max(n.onset, s * segment_beats)
            if overlap > 0:
                weights[s, n.pitch % 12] += overlap
                b = bass[s]
                if b is None or n.pitch < b[0]:
                    bass[s] = (n.pitch, overlap)
    return [estimate_chord(weights[s], None if bass[s] is None else bass[s][0] % 12)  # type: ignore[index]
            for s in range(n_segments)]


def chord_irregularity(labels: Sequence[str | None]) -> float:
    """CPI: unique chord trigrams / chord trigrams over the label sequence (NaN below three labels).

    Empty segments count as a chord "N" so silence is part of the progression, as in MusDr.
    """
    seq = ["N" if lab is None else lab for lab in labels]
    trigrams = [tuple(seq[i : i + 3]) for i in range(len(seq) - 2)]
    if not trigrams:
        return float("nan")
    return len(set(trigrams)) / len(trigrams)


# ----------------------------------------------------------------------------------------------
# Melody fit and key


def melody_in_chord_share(melody: Sequence[NoteEvent], chords: Sequence[str | None], segment_beats: float) -> float:
    """Share of melody notes whose pitch class belongs to the chord of their segment (NaN if none scored)."""
    hits = total = 0
    for n in pitched(melody):
        s = math.floor(n.onset / segment_beats + 1e-9)
        if 0 <= s < len(chords) and chords[s] is not None:
            total += 1
            hits += (n.pitch % 12) in chord_pcs(chords[s])  # type: ignore[arg-type]
    return hits / total if total else float("nan")


def scale_pcs(key: str, mode: str) -> frozenset[int]:
    """Pitch classes of the key's scale; minor includes the raised 7th (harmonic minor's leading tone)."""
    tonic = PITCH_NAMES.index(key)
    steps = MAJOR_SCALE if mode == "major" else (*NATURAL_MINOR_SCALE, 11)
    return frozenset((tonic + s) % 12 for s in steps)


def melody_in_scale_share(melody: Sequence[NoteEvent], key: str, mode: str) -> float:
    """Share of melody notes in the key's scale (NaN for an empty melody)."""
    notes = pitched(melody)
    if not notes:
        return float("nan")
    pcs = scale_pcs(key, mode)
    return sum((n.pitch % 12) in pcs for n in notes) / len(notes)


def key_correlations(notes: Iterable[NoteEvent]) -> list[tuple[float, str, str]]:
    """(r, key, mode) for the 24 keys, best first: Pearson r of the duration-weighted PC histogram
    with each rotation of the Krumhansl–Kessler profiles."""
    hist = pitch_class_histogram(notes, weight="duration")
    out = []
    if hist.sum() <= 0 or np.allclose(hist, hist[0]):
        return [(0.0, k, m) for m in ("major", "minor") for k in PITCH_NAMES]
    for tonic in range(12):
        for mode, profile in (("major", KK_MAJOR), ("minor", KK_MINOR)):
            r = float(np.corrcoef(hist, np.roll(profile, tonic))[0, 1])
            out.append((r, PITCH_NAMES[tonic], mode))
    out.sort(key=lambda t: -t[0])
    return out


def estimate_key(notes: Iterable[NoteEvent]) -> KeyEstimate:
    ranked = key_correlations(notes)
    (r1, key, mode), (r2, _, _) = ranked[0], ranked[1]
    return KeyEstimate(key, mode, r1, r1 - r2)


# ----------------------------------------------------------------------------------------------
# Controls, readers, summary


def shuffled_control(
    notes: Sequence[NoteEvent], beats_per_bar: float, rng: np.random.Generator, slots_per_bar: int = 16
) -> list[NoteEvent]:
    """The same notes with pitches permuted among them and onsets moved to random grid slots.

    Keeps the note count, durations, velocities and the pitch-class histogram (so whole-piece H is
    unchanged by construction), destroys rhythm, voice-leading and note-to-chord alignment.
    """
    notes = list(notes)
    n_bars = max(bar_count(notes, beats_per_bar), 1)
    pitched_idx = [i for i, n in enumerate(notes) if not n.drum]
    perm = rng.permutation(len(pitched_idx))
    pitches = {pitched_idx[i]: notes[pitched_idx[j]].pitch for i, j in enumerate(perm)}
    out = []
    for i, n in enumerate(notes):
        slot = int(rng.integers(0, n_bars * slots_per_bar))
        onset = slot * beats_per_bar / slots_per_bar
        out.append(replace(n, onset=onset, pitch=pitches.get(i, n.pitch)))
    out.sort(key=lambda n: (n.onset, n.pitch))
    return out


def notes_from_midi(midi: Any) -> dict[str, list[NoteEvent]]:
    """Notes per track (by track name) from a `mido.MidiFile`; channel 10 notes are drums."""
    tpb = float(midi.ticks_per_beat)
    tracks: dict[str, list[NoteEvent]] = {}
    for index, track in enumerate(midi.tracks):
        name = f"track{index}"
        tick = 0
        open_notes: dict[tuple[int, int], list[tuple[int, int]]] = {}
        notes: list[NoteEvent] = []
        for msg in track:
            tick += msg.time
            if msg.type == "track_name":
                name = msg.name
            elif msg.type == "note_on" and msg.velocity > 0:
                open_notes.setdefault((msg.channel, msg.note), []).append((tick, msg.velocity))
            elif msg.type in ("note_off", "note_on"):
                started = open_notes.get((msg.channel, msg.note))
                if started:
                    t0, vel = started.pop(0)
                    notes.append(NoteEvent(t0 / tpb, (tick - t0) / tpb, msg.note, vel, msg.channel == 9))
        if notes:
            notes.sort(key=lambda n: (n.onset, n.pitch))
            key = name
            while key in tracks:
                key += "'"
            tracks[key] = notes
    return tracks


def summarize(
    tracks: Mapping[str, Sequence[NoteEvent]],
    beats_per_bar: float,
    melody: str,
    key: str | None = None,
    mode: str | None = None,
) -> dict[str, float | str]:
    """The benchmark's metric set for one piece: H (windowed, bits), GS, CPI (chords per bar), melody fit, key.

    `melody` names the melody track; chords are estimated per bar from the other pitched tracks. The
    scale test uses `key`/`mode` when given, else the estimated key.
    """
    everything = [n for notes in tracks.values() for n in notes]
    accompaniment = [n for name, notes in tracks.items() if name != melody for n in notes if not n.drum]
    tune = list(tracks.get(melody, ()))
    n_bars = bar_count(everything, beats_per_bar)
    chords = estimate_chords(accompaniment or tune, beats_per_bar, n_bars)
    est = estimate_key(everything)
    return {
        "H": windowed_pitch_class_entropy(everything, beats_per_bar),
        "GS": groove_similarity(everything, beats_per_bar, n_bars=n_bars),
        "CPI": chord_irregularity(chords),
        "in_chord": melody_in_chord_share(tune, chords, beats_per_bar),
        "in_scale": melody_in_scale_share(tune, key or est.key, mode or est.mode),
        "key": f"{est.key} {est.mode}",
        "key_r": est.r,
    }
