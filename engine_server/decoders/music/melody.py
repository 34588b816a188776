"""Motif and melody: a two-bar idea, stated, repeated, sequenced, varied and cadenced phrase by phrase.

Motifs live in diatonic steps, not pitches, so the same idea can be realised over any chord: strong
beats land on chord tones, passing notes follow the chord's scale, and the last note of a phrase lands
on the cadence's goal (the tonic for an authentic cadence, a tone of V for a half cadence).
A given melody (a note list or a MIDI file) is mapped into the latent's key and mode, stated verbatim
first, and becomes the motif that the rest of the piece develops.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from engine_server.analysis.music_metrics import NoteEvent, estimate_key
from engine_server.decoders.music.options import MelodyNote
from engine_server.decoders.music.plan import Plan, Section, phrases
from engine_server.decoders.music.score import ChordSpan, Note
from engine_server.decoders.music.theory import chord_scale, nearest_pitch, scale_of, tonic_pc
from engine_server.latent import KEYS

# One bar of rhythm per density level (0 calm .. 3 busy); negative values are rests.
Rhythms = dict[int, tuple[tuple[float, ...], ...]]
_RHYTHMS: dict[float, Rhythms] = {
    4.0: {
        0: ((4,), (2, 2), (3, 1), (2, -1, 1)),
        1: ((2, 1, 1), (1, 1, 2), (1.5, 0.5, 2), (1, 1, 1, 1), (3, 0.5, 0.5), (2, 1.5, 0.5)),
        2: ((1, 0.5, 0.5, 1, 1), (0.5, 0.5, 1, 1.5, 0.5), (1.5, 0.5, 1, 1), (1, 1, 0.5, 0.5, 1),
            (-0.5, 0.5, 1, 1, 1), (1, 0.5, 0.5, 2)),
        3: ((0.5,) * 8, (0.75, 0.25, 0.5, 0.5, 1, 1), (0.5, 0.5, 0.5, 0.5, 1, 0.5, 0.5),
            (0.25, 0.25, 0.5, 1, 0.5, 0.5, 1), (1, 0.5, 0.5, 0.5, 0.5, 1)),
    },
    3.0: {
        0: ((3,), (2, 1)),
        1: ((2, 1), (1, 1, 1), (1.5, 0.5, 1)),
        2: ((1, 0.5, 0.5, 1), (0.5, 0.5, 1, 1), (1.5, 0.5, 0.5, 0.5)),
        3: ((0.5,) * 6, (0.5, 0.5, 0.5, 0.5, 1), (1, 0.5, 0.5, 0.5, 0.5)),
    },
}
_RHYTHMS_68: Rhythms = {
    0: ((3,), (1.5, 1.5)),
    1: ((1.5, 1.5), (1, 0.5, 1.5), (1.5, 1, 0.5)),
    2: ((1, 0.5, 1, 0.5), (0.5, 0.5, 0.5, 1.5), (1.5, 0.5, 0.5, 0.5)),
    3: ((0.5,) * 6, (1, 0.5, 0.5, 0.5, 0.5)),
}


@dataclass(frozen=True)
class MotifNote:
    onset: float  # beats from the motif's start
    dur: float
    step: int | None  # diatonic steps from the motif's first note; None = rest
    alter: int = 0  # chromatic alteration (given melodies only)


@dataclass(frozen=True)
class Motif:
    notes: tuple[MotifNote, ...]
    length: float  # beats

    def shifted(self, k: int) -> Motif:
        return Motif(tuple(replace(n, step=None if n.step is None else n.step + k) for n in self.notes), self.length)


def rhythms_for(meter: str, bpb: float) -> Rhythms:
    return _RHYTHMS_68 if meter == "6/8" else _RHYTHMS[bpb]


def density_level(intensity: float) -> int:
    return 0 if intensity < 0.3 else 1 if intensity < 0.55 else 2 if intensity < 0.8 else 3


_CONTOURS = ("arch", "descending", "ascending", "wave")


def invent_motif(meter: str, bpb: float, intensity: float, tension: float, rng: np.random.Generator) -> Motif:
    """A two-bar idea: a livelier first bar and a calmer answer ending on a long note.

    The pitch line follows a contour archetype (arch, descent, ascent, wave) mostly by step, with the
    occasional leap that is then filled in by step the other way — the way singable tunes move.
    """
    table = rhythms_for(meter, bpb)
    level = density_level(intensity)
    first = table[level][int(rng.integers(len(table[level])))]
    calmer = [r for r in table[max(level - 1, 0)] if abs(r[-1]) >= 1] or list(table[max(level - 1, 0)])
    second = calmer[int(rng.integers(len(calmer)))]
    durations = [*first, *second]
    n_pitched = sum(1 for d in durations if d > 0)
    contour = _CONTOURS[int(rng.integers(len(_CONTOURS)))]
    leap_p = 0.12 + 0.2 * tension
    notes: list[MotifNote] = []
    step = 0
    last_move = 0
    k = 0  # index among pitched notes
    t = 0.0
    for d in durations:
        if d < 0:
            notes.append(MotifNote(t, -d, None))
            t += -d
            continue
        if k > 0:
            frac = k / max(n_pitched - 1, 1)
            if contour == "arch":
                direction = 1 if frac <= 0.55 else -1
            elif contour == "descending":
                direction = -1 if k > 1 or rng.random() < 0.5 else 1
            elif contour == "ascending":
                direction = 1 if frac < 0.8 else -1
            else:
                direction = 1 if (k // 2) % 2 == 0 else -1
            if abs(last_move) >= 3:
                move = -int(np.sign(last_move))  # fill the gap after a leap
            else:
                r = rng.random()
                size = 0 if r < 0.08 else 1 if r < 0.08 + (1 - leap_p) * 0.7 else 2 if r < 1 - leap_p * 0.5 else 3
                move = direction * size
            if not -4 <= step + move <= 6:
                move = -move
            step += move
            last_move = move
        notes.append(MotifNote(t, float(d), step))
        t += d
        k += 1
    return Motif(tuple(notes), 2 * bpb)


def invert(m: Motif) -> Motif:
    return Motif(tuple(replace(n, step=None if n.step is None else -n.step) for n in m.notes), m.length)


def vary_rhythm(m: Motif, rng: np.random.Generator) -> Motif:
    """Split one long note into two (the second a neighbour tone) — the same idea, said differently."""
    notes = list(m.notes)
    long_ones = [i for i, n in enumerate(notes) if n.step is not None and n.dur >= 1.0 and i < len(notes) - 1]
    if not long_ones:
        return m
    i = long_ones[int(rng.integers(len(long_ones)))]
    n = notes[i]
    half = n.dur / 2
    neighbour = n.step + (1 if rng.random() < 0.5 else -1)  # type: ignore[operator]
    notes[i : i + 1] = [replace(n, dur=half), MotifNote(n.onset + half, half, neighbour)]
    return Motif(tuple(notes), m.length)


def ornament(m: Motif) -> Motif:
    """Fill thirds with passing notes where the first note is long enough to share its time."""
    out: list[MotifNote] = []
    notes = list(m.notes)
    for i, n in enumerate(notes):
        nxt = notes[i + 1] if i + 1 < len(notes) else None
        if (nxt is not None and n.step is not None and nxt.step is not None and abs(nxt.step - n.step) == 2
                and n.dur >= 1.0):
            out.append(replace(n, dur=n.dur / 2))
            out.append(MotifNote(n.onset + n.dur / 2, n.dur / 2, (n.step + nxt.step) // 2))
        else:
            out.append(n)
    return Motif(tuple(out), m.length)


def from_melody(melody: Sequence[MelodyNote], key: str, mode: str) -> tuple[Motif, int]:
    """A given melody as a motif in the latent's key and mode, and the MIDI pitch of its first note there.

    Its own key is estimated (Krumhansl–Kessler) when it has enough notes; each pitch becomes a degree
    (plus alteration) of that key and is re-spelled in the target key, so a major tune heard in minor
    keeps its contour and rhythm.
    """
    events = []
    t = 0.0
    for n in melody:
        if n.pitch is not None:
            events.append(NoteEvent(t, n.beats, n.pitch))
        t += n.beats
    if len({e.pitch for e in events}) >= 5:
        est = estimate_key(events)
        src_tonic, src_mode = KEYS.index(est.key), est.mode
    else:
        src_tonic, src_mode = tonic_pc(key), mode
    src_scale = scale_of(src_mode)

    def degree(p: int) -> tuple[int, int]:
        rel = p - src_tonic
        octave, pc = divmod(rel, 12)
        best = min(range(7), key=lambda d: (abs(pc - src_scale[d]), -(pc - src_scale[d])))
        return octave * 7 + best, pc - src_scale[best]

    first_pitch = next(n.pitch for n in melody if n.pitch is not None)
    base_index, _ = degree(first_pitch)
    notes = []
    t = 0.0
    for n in melody:
        if n.pitch is None:
            notes.append(MotifNote(t, n.beats, None))
        else:
            idx, alter = degree(n.pitch)
            notes.append(MotifNote(t, n.beats, idx - base_index, alter))
        t += n.beats
    target_scale = scale_of(mode)
    first_idx, first_alter = degree(first_pitch)
    first_degree = first_idx % 7
    pc = (tonic_pc(key) + target_scale[first_degree] + first_alter) % 12
    anchor = nearest_pitch((pc,), first_pitch)
    return Motif(tuple(notes), t), anchor


class Realiser:
    """Turns motif steps into pitches over the chords, within an instrument's range."""

    def __init__(self, key: str, mode: str, spans: Sequence[ChordSpan], lo: int, hi: int) -> None:
        self.key, self.mode = key, mode
        self.spans = spans
        self.lo, self.hi = lo, hi
        self.tonic = tonic_pc(key)
        self.scale = scale_of(mode)

    def chord_at(self, beat: float) -> ChordSpan:
        for s in reversed(self.spans):
            if s.start <= beat + 1e-6:
                return s
        return self.spans[0]

    def index_of(self, pitch: int) -> int:
        """Diatonic index (7 per octave) of the scale tone nearest to a pitch."""
        rel = pitch - self.tonic
        octave, pc = divmod(rel, 12)
        d = min(range(7), key=lambda k: (abs(pc - self.scale[k]), k))
        return octave * 7 + d

    def pitch_of(self, index: int) -> int:
        octave, d = divmod(index, 7)
        return self.tonic + octave * 12 + self.scale[d]

    def realise(self, motif: Motif, start: float, anchor: int, strong: float, snap: bool,
                cadence_pc: tuple[int, ...] | None = None) -> list[tuple[float, float, int]]:
        """(start, dur, pitch) for a motif placed at `start` with its first note near `anchor`."""
        base = self.index_of(anchor)
        out: list[tuple[float, float, int]] = []
        pitched = [n for n in motif.notes if n.step is not None]
        last = pitched[-1] if pitched else None
        prev_p: int | None = None
        prev_step: int | None = None
        for n in motif.notes:
            if n.step is None:
                continue
            beat = start + n.onset
            p = self.pitch_of(base + n.step) + n.alter
            if snap:
                span = self.chord_at(beat)
                direction = 0 if prev_step is None or prev_p is None else int(np.sign(n.step - prev_step))
                if direction == 0 and prev_p is not None and prev_step == n.step:
                    p = prev_p  # a repeated note stays repeated
                scale = chord_scale(span.chord, self.key, self.mode)
                if p % 12 not in scale:
                    p = _nearest_directed(scale, p, prev_p, direction)
                on_strong = abs((n.onset / strong) - round(n.onset / strong)) < 1e-6 or n.dur >= 1.5
                if on_strong and p % 12 not in span.chord.pcs:
                    p = _nearest_directed(span.chord.triad_pcs, p, prev_p, direction)
                if cadence_pc is not None and n is last:
                    p = nearest_pitch(cadence_pc, p)
            out.append((beat, n.dur, p))
            prev_p, prev_step = p, n.step
        return self._fit_range(out)

    def _fit_range(self, notes: list[tuple[float, float, int]]) -> list[tuple[float, float, int]]:
        if not notes:
            return notes
        lo = min(p for _, _, p in notes)
        hi = max(p for _, _, p in notes)
        shift = 0
        while hi + shift > self.hi and lo + shift - 12 >= self.lo - 12:
            shift -= 12
        while lo + shift < self.lo and hi + shift + 12 <= self.hi + 12:
            shift += 12
        out = []
        for s, d, p in notes:
            q = p + shift
            while q > self.hi:
                q -= 12
            while q < self.lo:
                q += 12
            out.append((s, d, q))
        return out


def counter_line(spans: Sequence[ChordSpan], key: str, mode: str, motif: Motif, start: float, end: float,
                 bpb: float, intensity: Sequence[float], lo: int, hi: int, rng: np.random.Generator) -> list[Note]:
    """A given (hummed) motif as a counter-line: from `start` (after the lead's statement) it answers the lead
    a bar late, unit by unit inverted, sequenced or repeated (every other unit varied in rhythm), its strong
    notes on the chords, in the texture instrument's range — the tune heard against itself, not guide tones."""
    real = Realiser(key, mode, spans, lo, hi)
    anchor = (lo + hi) // 2
    unit = max(bpb, float(np.ceil(motif.length / bpb)) * bpb)
    notes: list[Note] = []
    t = start + bpb
    k = 0
    while t < end - 1e-6:
        m = (invert(motif), motif.shifted(-2), motif, invert(motif).shifted(1))[k % 4]
        if k % 2 == 1:
            m = vary_rhythm(m, rng)
        for s, d, p in real.realise(m, t, anchor, 2.0, snap=True):
            if s < end - 1e-6:
                level = intensity[min(int(s // bpb), len(intensity) - 1)] if len(intensity) else 0.5
                notes.append(Note(s, min(d, end - s) * 0.95, p, max(1, min(127, int(44 + 36 * level)))))
        t += unit
        k += 1
    return notes


def given_start_bar(plan: Plan) -> int:
    """Where a given melody is first stated: the first statement-like section."""
    for section in plan.sections:
        if section.role in ("statement", "return", "climax"):
            return section.start_bar
    return 0


def _nearest_directed(pcs: Sequence[int], p: int, prev: int | None, direction: int) -> int:
    """Nearest pitch of a class in `pcs` to `p` that keeps the melody moving the way the motif moves."""
    cands = [q for q in range(p - 5, p + 6) if q % 12 in pcs]
    if prev is not None and direction != 0:
        keep = [q for q in cands if np.sign(q - prev) == direction]
        cands = keep or cands
    return min(cands, key=lambda q: (abs(q - p), q)) if cands else p


def _cadence_target(section: Section, last_phrase: bool, span: ChordSpan, key: str, mode: str,
                    cadence: str) -> tuple[int, ...]:
    tonic = tonic_pc(key)
    if cadence in ("authentic", "final"):
        third = (tonic + scale_of(mode)[2]) % 12
        return (tonic,) if cadence == "final" or last_phrase else (tonic, third)
    if cadence == "half":
        dom = (tonic + 7) % 12
        return (dom, (tonic + 2) % 12)
    return span.chord.triad_pcs


def _cadence_bar(material: list[tuple[float, float, int]], bar_start: float, bpb: float, target: tuple[int, ...],
                 lo: int, hi: int, breath: float) -> list[tuple[float, float, int]]:
    """The last bar of a phrase: keep the opening gesture, then land on a long goal note."""
    land_at = bar_start + (bpb / 2 if bpb == 4 else 0.0 if bpb == 3 else bpb / 2)
    kept = [n for n in material if bar_start <= n[0] < land_at][:3]
    if not kept:
        land_at = bar_start
    prev = kept[-1][2] if kept else (material[0][2] if material else (lo + hi) // 2)
    goal = nearest_pitch(target, prev, lo, hi)
    trimmed = [(s, min(d, land_at - s), p) for s, d, p in kept]
    return [*trimmed, (land_at, bar_start + bpb - land_at - breath, goal)]


def compose_lead(
    plan: Plan,
    spans: Sequence[ChordSpan],
    key: str,
    mode: str,
    motif: Motif,
    given: Motif | None,
    given_anchor: int | None,
    intensity: Sequence[float],
    lo: int,
    hi: int,
    rng: np.random.Generator,
) -> list[Note]:
    """The melody of the whole piece, phrase by phrase (intros rest; outros recall the motif and close)."""
    bpb = plan.beats_per_bar
    strong = 2.0 if bpb == 4 else 1.5 if plan.meter == "6/8" else 3.0
    real = Realiser(key, mode, spans, lo, hi)
    centre = (lo + hi) // 2
    out: list[tuple[float, float, int]] = []
    contrast_motif = invert(vary_rhythm(motif, rng))
    given_done = False
    covered_until = 0
    prev_pitch = centre
    for s_index, section in enumerate(plan.sections):
        if section.role == "intro" and len(plan.sections) > 2:
            continue
        section_phrases = phrases(section)
        for p_index, (start_bar, n_bars) in enumerate(section_phrases):
            last_phrase = p_index == len(section_phrases) - 1
            cadence = section.cadence if last_phrase else ("half" if p_index % 2 == 0 else "authentic")
            if plan.shape == "loop" and s_index == len(plan.sections) - 1 and last_phrase:
                cadence = "open"
            if start_bar + n_bars <= covered_until:
                continue  # still inside a given melody's verbatim statement
            if start_bar < covered_until:
                n_bars -= covered_until - start_bar
                start_bar = covered_until
            start = start_bar * bpb
            lift = 5 if section.role == "climax" else 2 if section.role == "contrast" else 0
            target_centre = min(max(centre + lift + (prev_pitch - centre) // 2, lo + 4), hi - 4)
            phrase_notes: list[tuple[float, float, int]] = []
            if given is not None and not given_done and section.role in ("statement", "return", "climax"):
                # the given melody, verbatim (in degrees of this key), then developed like any motif
                assert given_anchor is not None
                phrase_notes = real.realise(given, start, given_anchor, strong, snap=False)
                given_done = True
                used = int(np.ceil(given.length / bpb - 1e-9))
                covered_until = start_bar + used
                remaining = n_bars - used
                if remaining > 0:
                    phrase_notes += _develop(real, motif, (start_bar + used) * bpb, remaining, bpb, strong,
                                             phrase_notes[-1][2], section, cadence, key, mode, rng, lo, hi)
                phrase_notes = [n for n in phrase_notes if n[0] < plan.end_of_music_beats - 1e-6]
            elif section.role == "outro":
                first_bar = [(s, d, p) for s, d, p in real.realise(motif, start, target_centre, strong, True)
                             if s < start + bpb]
                phrase_notes = first_bar if n_bars > 1 else []
                end_bar = start_bar + n_bars - 1
                target = _cadence_target(section, True, real.chord_at(end_bar * bpb), key, mode, "final")
                goal = nearest_pitch(target, phrase_notes[-1][2] if phrase_notes else prev_pitch, lo, hi)
                hold = max(plan.length_beats - 0.5 - end_bar * bpb, bpb * 0.75) if plan.shape == "cue" else bpb
                phrase_notes.append((end_bar * bpb, hold, goal))
            else:
                m = contrast_motif if section.role == "contrast" else motif
                if section.role in ("return", "climax"):
                    m = ornament(m)
                phrase_notes = _develop(real, m, start, n_bars, bpb, strong, target_centre, section, cadence,
                                        key, mode, rng, lo, hi)
            if phrase_notes:
                prev_pitch = phrase_notes[-1][2]
            out += phrase_notes
    out.sort()
    notes = []
    for i, (s, d, p) in enumerate(out):
        if i + 1 < len(out):
            d = min(d, out[i + 1][0] - s)
        bar = int(s // bpb)
        level = intensity[min(bar, len(intensity) - 1)]
        downbeat = abs(s / bpb - round(s / bpb)) < 1e-6
        vel = 58 + 48 * level + (8 if downbeat else 0) + int(rng.integers(-4, 5))
        notes.append(Note(s, max(d * 0.96, 0.1), p, int(min(max(vel, 30), 122))))
    return notes


def _develop(real: Realiser, motif: Motif, start: float, n_bars: int, bpb: float, strong: float, anchor: int,
             section: Section, cadence: str, key: str, mode: str, rng: np.random.Generator, lo: int,
             hi: int) -> list[tuple[float, float, int]]:
    """One phrase from a motif: statement, then repetition / sequence / variation, then the cadence."""
    motif_bars = max(1, round(motif.length / bpb))
    notes: list[tuple[float, float, int]] = []
    bar = 0
    unit = 0
    current_anchor = anchor
    while bar < n_bars:
        m = motif
        if unit % 2 == 1:
            choice = rng.choice(["repeat", "sequence_up", "sequence_down", "vary"], p=[0.25, 0.3, 0.2, 0.25])
            if choice == "sequence_up":
                m = motif.shifted(1)
            elif choice == "sequence_down":
                m = motif.shifted(-1)
            elif choice == "vary":
                m = vary_rhythm(motif, rng)
        elif unit >= 2:
            m = vary_rhythm(motif, rng)
        realised = real.realise(m, start + bar * bpb, current_anchor, strong, snap=True)
        limit = start + min(bar + motif_bars, n_bars) * bpb
        notes += [n for n in realised if n[0] < limit - 1e-6]
        bar += motif_bars
        unit += 1
    # cadence on the last bar
    last_bar_start = start + (n_bars - 1) * bpb
    body = [n for n in notes if n[0] < last_bar_start - 1e-6]
    material = [n for n in notes if n[0] >= last_bar_start - 1e-6]
    span = real.chord_at(last_bar_start + bpb - 0.01)
    target = _cadence_target(section, True, span, key, mode, cadence)
    breath = 0.0 if cadence == "open" else min(0.5, bpb / 8)
    return body + _cadence_bar(material or body[-1:], last_bar_start, bpb, target, lo, hi, breath)
