"""Known-answer tests for the symbolic music metrics (engine_server.analysis.music_metrics)."""

from __future__ import annotations

import io
import math

import mido
import numpy as np
import pytest

from engine_server.analysis import music_metrics as mm
from engine_server.analysis.music_metrics import NoteEvent


def bar_of(pattern: str, bar: int = 0, pitch: int = 60, beats_per_bar: float = 4.0) -> list[NoteEvent]:
    """Notes at the 'x' slots of a 16-slot pattern in the given bar."""
    step = beats_per_bar / len(pattern)
    return [NoteEvent(bar * beats_per_bar + i * step, step, pitch) for i, c in enumerate(pattern) if c == "x"]


def test_pitch_class_entropy_known_values() -> None:
    assert mm.pitch_class_entropy([NoteEvent(i, 1, 60 + 12 * (i % 3)) for i in range(6)]) == 0.0
    assert mm.pitch_class_entropy([NoteEvent(0, 1, 60), NoteEvent(1, 1, 67)]) == pytest.approx(1.0)
    major = [NoteEvent(i, 1, 60 + s) for i, s in enumerate(mm.MAJOR_SCALE)]
    assert mm.pitch_class_entropy(major) == pytest.approx(math.log2(7))
    chromatic = [NoteEvent(i, 1, 60 + i) for i in range(12)]
    assert mm.pitch_class_entropy(chromatic) == pytest.approx(mm.MAX_ENTROPY_BITS)
    assert mm.pitch_class_entropy([NoteEvent(0, 1, 36, drum=True)]) == 0.0  # drums have no pitch class


def test_windowed_entropy_averages_bar_windows() -> None:
    # bar 0: only C (H=0); bar 1: C and G equally (H=1). 1-bar windows -> 0.5; 4-bar window (whole) -> H(3C,1G)
    notes = [NoteEvent(0, 1, 60), NoteEvent(1, 1, 60), NoteEvent(4, 1, 60), NoteEvent(5, 1, 67)]
    whole = -(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25))
    assert mm.windowed_pitch_class_entropy(notes, 4.0, window_bars=(1,)) == pytest.approx(0.5)
    assert mm.windowed_pitch_class_entropy(notes, 4.0, window_bars=(4,)) == pytest.approx(whole)
    assert mm.windowed_pitch_class_entropy(notes, 4.0) == pytest.approx((0.5 + whole) / 2)


def test_groove_similarity_known_values() -> None:
    four = "x...x...x...x..."
    eighths = "x.x.x.x.x.x.x.x."
    same = bar_of(four, 0) + bar_of(four, 1) + bar_of(four, 2)
    assert mm.groove_similarity(same, 4.0) == pytest.approx(1.0)
    # XOR of quarters and eighths = 4 slots of 16
    assert mm.groove_similarity(bar_of(four, 0) + bar_of(eighths, 1), 4.0) == pytest.approx(1 - 4 / 16)
    # a full bar against an empty bar: every slot differs (n_bars given so the empty bar counts)
    assert mm.groove_similarity(bar_of("x" * 16, 0), 4.0, n_bars=2) == pytest.approx(0.0)
    # all pairs, not neighbours: A A B -> pairs (A,A)=1, (A,B)=0.75, (A,B)=0.75
    abb = bar_of(four, 0) + bar_of(four, 1) + bar_of(eighths, 2)
    assert mm.groove_similarity(abb, 4.0) == pytest.approx((1 + 0.75 + 0.75) / 3)
    assert math.isnan(mm.groove_similarity(bar_of(four, 0), 4.0))
    # waltz grid: 12 slots per 3/4 bar
    waltz = bar_of("x...x...x...", 0, beats_per_bar=3.0) + bar_of("x...........", 1, beats_per_bar=3.0)
    assert mm.groove_similarity(waltz, 3.0, slots_per_bar=12) == pytest.approx(1 - 2 / 12)


def test_chord_estimation_and_irregularity() -> None:
    def triad(bar: int, pitches: tuple[int, ...]) -> list[NoteEvent]:
        return [NoteEvent(bar * 4, 4, p) for p in pitches]

    notes = triad(0, (60, 64, 67)) + triad(1, (57, 60, 64)) + triad(2, (59, 62, 65)) + triad(3, (55, 59, 62, 65))
    assert mm.estimate_chords(notes, 4.0) == ["C", "Am", "Bdim", "G"]
    assert mm.chord_pcs("F#m") == frozenset({6, 9, 1})
    with pytest.raises(ValueError):
        mm.chord_pcs("H7")
    # C F G repeated three times: 7 trigrams, 3 unique
    assert mm.chord_irregularity(["C", "F", "G"] * 3) == pytest.approx(3 / 7)
    assert mm.chord_irregularity(["C", "D", "E", "F", "G"]) == pytest.approx(1.0)
    assert math.isnan(mm.chord_irregularity(["C", "G"]))
    assert mm.chord_irregularity(["C", None, "C", None]) == pytest.approx(1.0)  # ("C","N","C") vs ("N","C","N")


def test_melody_fit_known_values() -> None:
    chords = ["C", "G"]
    melody = [NoteEvent(0, 1, 72), NoteEvent(1, 1, 74), NoteEvent(4, 1, 71), NoteEvent(5, 1, 73)]
    # C over C: in; D over C: out; B over G: in; C# over G: out
    assert mm.melody_in_chord_share(melody, chords, 4.0) == pytest.approx(0.5)
    # C, D, B in C major; C# is not
    assert mm.melody_in_scale_share(melody, "C", "major") == pytest.approx(0.75)
    # harmonic minor's raised 7th counts as in the scale
    assert mm.melody_in_scale_share([NoteEvent(0, 1, 68)], "A", "minor") == 1.0
    assert math.isnan(mm.melody_in_scale_share([], "C", "major"))


def test_key_estimation_recovers_profiles_and_scales() -> None:
    # a histogram shaped exactly like the D-major profile correlates perfectly with D major
    weights = np.roll(mm.KK_MAJOR, 2)
    notes = [NoteEvent(0, float(w), 60 + pc) for pc, w in enumerate(weights)]
    est = mm.estimate_key(notes)
    assert (est.key, est.mode) == ("D", "major") and est.r == pytest.approx(1.0)
    # an A harmonic-minor tune with tonic weight
    tune = [57, 59, 60, 62, 64, 65, 68, 69, 64, 69, 60, 57]
    est = mm.estimate_key([NoteEvent(i, 2 if p % 12 == 9 else 1, p) for i, p in enumerate(tune)])
    assert (est.key, est.mode) == ("A", "minor")
    assert est.clarity > 0


def test_shuffled_control_keeps_histogram_and_breaks_structure() -> None:
    rng = np.random.default_rng(0)
    notes = [n for b in range(8) for n in bar_of("x...x...x...x...", b, pitch=60 + (b % 2) * 7)]
    shuffled = mm.shuffled_control(notes, 4.0, rng)
    assert len(shuffled) == len(notes)
    assert np.array_equal(mm.pitch_class_histogram(notes), mm.pitch_class_histogram(shuffled))
    assert mm.groove_similarity(shuffled, 4.0) < mm.groove_similarity(notes, 4.0) == 1.0


def test_notes_from_midi_reads_tracks_and_drums() -> None:
    mid = mido.MidiFile(type=1, ticks_per_beat=480)
    lead = mido.MidiTrack([mido.MetaMessage("track_name", name="Lead"),
                           mido.Message("note_on", note=72, velocity=90, time=0),
                           mido.Message("note_off", note=72, time=960),
                           mido.Message("note_on", note=74, velocity=80, time=0),
                           mido.Message("note_on", note=74, velocity=0, time=480)])
    drums = mido.MidiTrack([mido.MetaMessage("track_name", name="Drums"),
                            mido.Message("note_on", channel=9, note=36, velocity=100, time=480),
                            mido.Message("note_off", channel=9, note=36, time=120)])
    mid.tracks += [lead, drums]
    buf = io.BytesIO()
    mid.save(file=buf)
    tracks = mm.notes_from_midi(mido.MidiFile(file=io.BytesIO(buf.getvalue())))
    assert tracks["Lead"] == [NoteEvent(0.0, 2.0, 72, 90), NoteEvent(2.0, 1.0, 74, 80)]
    assert tracks["Drums"] == [NoteEvent(1.0, 0.25, 36, 100, drum=True)]


def test_summarize_scores_a_simple_song() -> None:
    # I-IV-V-I with a chord-tone melody: every melody note fits, CPI of 4 bars = 2 unique / 2
    chords = [(60, 64, 67), (65, 69, 72), (67, 71, 74), (60, 64, 67)]
    tracks = {
        "Harmony": [NoteEvent(b * 4, 4, p) for b, ch in enumerate(chords) for p in ch],
        "Lead": [NoteEvent(b * 4 + i, 1, ch[i % 3] + 12) for b, ch in enumerate(chords) for i in range(4)],
    }
    m = mm.summarize(tracks, 4.0, melody="Lead")
    assert m["in_chord"] == 1.0 and m["in_scale"] == 1.0
    assert m["CPI"] == 1.0 and m["GS"] == 1.0
    assert m["key"] == "C major"
