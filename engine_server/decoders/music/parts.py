"""Accompaniment parts with roles: bass, harmony (pads, strums, comping), texture (arpeggios, ostinati,
counter-lines) and drums. Each role has pattern families per style; a bar's intensity (arousal × the
form's energy arc) picks the density level 0..3, so calm music breathes and intense music drives.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine_server.decoders.music.plan import Plan, phrases
from engine_server.decoders.music.score import ChordSpan, Note
from engine_server.decoders.music.theory import Chord, nearest_pitch, scale_of, tonic_pc

Cell = tuple[float, float]  # onset within the bar, duration (beats)


def level_of(intensity: float) -> int:
    return 0 if intensity < 0.3 else 1 if intensity < 0.55 else 2 if intensity < 0.8 else 3


def chord_at(spans: Sequence[ChordSpan], beat: float) -> ChordSpan:
    for s in reversed(spans):
        if s.start <= beat + 1e-6:
            return s
    return spans[0]


def _eighths(bpb: float, dur: float = 0.45) -> list[Cell]:
    return [(i * 0.5, dur) for i in range(int(bpb * 2))]


def _clip(v: float) -> int:
    return int(min(max(round(v), 1), 127))


# ----------------------------------------------------------------------------------------------
# Bass


def _bass_cells(pattern: str, meter: str, bpb: float, level: int) -> list[tuple[float, float, str]]:
    if (pattern in ("sustain", "choral") and level < 2) or (level == 0 and pattern not in ("walking", "lofi")):
        return [(0.0, bpb, "O" if pattern == "piano" else "R")]
    if bpb != 4:  # waltz and compound time share simple shapes
        if pattern == "walking":
            return [(0.0, 1.0, "R"), (1.0, 1.0, "W"), (2.0, 1.0, "A")]
        if meter == "6/8":
            cells = [(0.0, 1.5, "R"), (1.5, 1.5, "5")] if level < 3 else [
                (0.0, 1.0, "R"), (1.0, 0.5, "R"), (1.5, 1.0, "5"), (2.5, 0.5, "8")]
            return cells
        return [(0.0, 3.0, "R")] if level < 3 else [(0.0, 1.0, "R"), (1.0, 1.0, "5"), (2.0, 1.0, "8")]
    if pattern == "walking":
        return [(0.0, 1.0, "R"), (1.0, 1.0, "W"), (2.0, 1.0, "W"), (3.0, 1.0, "A")]
    if pattern == "lofi":
        if level == 0:
            return [(0.0, 2.5, "R"), (2.5, 1.5, "5")]
        return [(0.0, 1.5, "R"), (1.5, 1.0, "R"), (2.5, 1.0, "5"), (3.5, 0.5, "A")]
    if pattern == "sustain":
        return [(0.0, bpb, "R")] if level < 3 else [(0.0, 2.0, "R"), (2.0, 2.0, "8")]
    if pattern == "choral":
        return [(0.0, 2.0, "R"), (2.0, 2.0, "3")]
    if pattern == "piano":
        return [(0.0, 2.0, "O"), (2.0, 2.0, "5")] if level < 3 else [(0.0, 1.5, "O"), (1.5, 1.0, "5"), (2.5, 1.5, "8")]
    if pattern == "root_fifth":
        return [(0.0, 1.0, "R"), (2.0, 1.0, "5")] if level < 2 else [(0.0, 1.0, "R"), (2.0, 1.0, "5"), (3.0, 1.0, "A")]
    if pattern == "orchestral":
        if level == 1:
            return [(0.0, 2.0, "R"), (2.0, 2.0, "5")]
        if level == 2:
            return [(0.0, 1.0, "R"), (1.0, 1.0, "R"), (2.0, 1.0, "5"), (3.0, 1.0, "R")]
        return [(i * 0.5, 0.45, "5" if i in (4, 5) else "R") for i in range(8)]
    if pattern == "cinematic":
        if level == 1:
            return [(0.0, 1.5, "R"), (1.5, 1.5, "R"), (3.0, 1.0, "R")]
        return [(i * 0.5, 0.45, "8" if i % 4 == 3 else "R") for i in range(8)]
    if pattern == "octaves":
        if level == 1:
            return [(i * 0.5, 0.45, "R") for i in range(8)]
        return [(i * 0.5, 0.45, "8" if i % 2 else "R") for i in range(8)]
    if pattern == "eighths":
        return [(i * 0.5, 0.45, "5" if level == 3 and i == 7 else "R") for i in range(8)]
    if pattern == "offbeat":
        if level == 1:
            return [(i + 0.5, 0.4, "R") for i in range(4)]
        return [(i * 0.5, 0.4, "8" if i % 4 == 2 else "R") for i in range(8)]
    return [(0.0, bpb, "R")]


def bass_part(plan: Plan, spans: Sequence[ChordSpan], pattern: str, levels: Sequence[float], lo: int, hi: int,
              key: str, mode: str, rng: np.random.Generator) -> list[Note]:
    bpb = plan.beats_per_bar
    centre = min(max(lo + 12, 38), hi - 7)
    prev_root = centre
    tonic = tonic_pc(key)
    scale = [(tonic + s) % 12 for s in scale_of(mode)]
    notes: list[Note] = []
    for bar in range(plan.bars):
        level = level_of(levels[bar])
        cells = _bass_cells(pattern, plan.meter, bpb, level)
        bar_start = bar * bpb
        onsets = {c[0] for c in cells}
        for s in spans:  # a chord that changes inside the bar gets its root on the change
            if bar_start < s.start < bar_start + bpb and (s.start - bar_start) not in onsets:
                cells = [c for c in cells if c[0] < s.start - bar_start] + [(s.start - bar_start, 0.9, "R")] + [
                    c for c in cells if c[0] > s.start - bar_start]
        for i, (on, dur, tone) in enumerate(cells):
            beat = bar_start + on
            span = chord_at(spans, beat)
            root_pc = tonic if span.pedal else span.chord.root
            root = nearest_pitch((root_pc,), (prev_root + centre) / 2, lo, hi)
            if on == 0.0 or tone == "R":
                prev_root = root
            nxt_start = bar_start + (cells[i + 1][0] if i + 1 < len(cells) else bpb)
            nxt_span = chord_at(spans, nxt_start)
            pitches: list[int]
            if tone in ("R", "O"):
                pitches = [root] if tone == "R" or root + 12 > hi + 12 else [root, root + 12]
            elif tone == "5":
                pitches = [nearest_pitch((span.chord.fifth,), root + 5, lo, hi)]
            elif tone == "8":
                pitches = [root + 12 if root + 12 <= hi + 7 else root]
            elif tone == "3":
                pitches = [nearest_pitch((span.chord.pcs[1],), root + 3, lo, hi)]
            elif tone == "W":
                choices = [p for p in span.chord.pcs[1:3]] + scale
                pitches = [nearest_pitch((choices[int(rng.integers(len(choices)))],), root + 4, lo, hi)]
            else:  # "A": approach the next chord's root by a step from below or above
                target = nearest_pitch((nxt_span.chord.root,), root, lo, hi)
                pitches = [target - 1 if rng.random() < 0.6 else target + 1]
            vel = 70 + 35 * levels[bar] + (8 if on == 0.0 else 0) + int(rng.integers(-3, 4))
            for p in pitches:
                notes.append(Note(beat, min(dur, nxt_start - beat) * 0.97, min(max(p, 0), 127), _clip(vel)))
    return notes


# ----------------------------------------------------------------------------------------------
# Harmony


def voice(chord: Chord, prev: Sequence[int] | None, lo: int, hi: int, n: int = 4) -> list[int]:
    """Close-position voicing of `n` notes inside [lo, hi], moving as little as possible from `prev`."""
    pcs = list(chord.pcs[:n])
    while len(pcs) < n:
        pcs.append(pcs[len(pcs) % len(chord.pcs)])
    best: tuple[float, list[int]] | None = None
    centre = (lo + hi) / 2
    for inversion in range(len(pcs)):
        order = pcs[inversion:] + pcs[:inversion]
        for base in range(lo, lo + 12):
            if base % 12 != order[0]:
                continue
            v = [base]
            for pc in order[1:]:
                p = v[-1] + 1
                while p % 12 != pc:
                    p += 1
                v.append(p)
            if v[-1] > hi:
                continue
            cost: float
            if prev:
                cost = sum(abs(a - b) for a, b in zip(sorted(v), sorted(prev), strict=False))
            else:
                cost = abs(sum(v) / len(v) - centre)
            if best is None or cost < best[0]:
                best = (cost, v)
    if best is None:
        return sorted(nearest_pitch((pc,), centre, lo - 12, hi + 12) for pc in pcs[:3])
    return best[1]


def _harmony_cells(pattern: str, meter: str, bpb: float, level: int, rng: np.random.Generator) -> list[Cell] | None:
    """Rhythm of re-articulations in one bar; None means 'hold the chord for its whole span'."""
    triple = bpb == 3
    if meter == "3/4" and level >= 1 and pattern in ("pad", "choir", "strings", "stabs", "lazy"):
        return [(0.0, 0.95), (1.0, 0.9), (2.0, 0.9)]  # the waltz's "oom-pah-pah" (the bass has the "oom")
    if meter == "6/8" and level >= 1 and pattern in ("pad", "choir", "strings", "stabs", "lazy"):
        return [(0.0, 1.45), (1.5, 1.45)]
    if pattern in ("pad", "choir") or (pattern in ("strings", "stabs") and level < 2):
        if pattern in ("choir", "pad") and level == 3:
            return [(0.0, bpb)]
        return None
    if pattern == "strings":
        return [(0.0, bpb / 2), (bpb / 2, bpb / 2)] if level == 2 else _eighths(bpb, 0.48)
    if pattern == "stabs":
        return [(i + 0.5, 0.3) for i in range(int(bpb))] if level == 2 else [
            (i * 0.5, 0.3) for i in range(int(bpb * 2)) if i % 4 in (1, 2, 3)]
    if pattern == "lazy":
        if level == 0 or triple:
            return [(0.0, bpb)] if level == 0 else [(0.0, 1.5), (1.5, 1.5)]
        return [(0.0, 2.25), (2.5, 1.5)]
    if pattern == "strum":
        if level == 0:
            return [(0.0, bpb)]
        if meter == "6/8":
            return [(0.0, 1.5), (1.5, 1.5)] if level == 1 else [(0.0, 1.0), (1.0, 0.5), (1.5, 1.0), (2.5, 0.5)]
        if triple:
            return [(0.0, 1.0), (1.0, 1.0), (2.0, 1.0)] if level == 1 else [
                (0.0, 1.0), (1.0, 0.5), (1.5, 0.5), (2.0, 0.5), (2.5, 0.5)]
        if level == 1:
            return [(0.0, 2.0), (2.0, 2.0)]
        if level == 2:
            return [(0.0, 1.0), (1.0, 0.5), (1.5, 1.0), (2.5, 0.5), (3.0, 0.5), (3.5, 0.5)]
        return _eighths(bpb, 0.5)
    if pattern == "power":
        if level == 0:
            return [(0.0, bpb)]
        if level == 1:
            return [(float(i), 0.9) for i in range(int(bpb))]
        return _eighths(bpb, 0.35)
    if pattern == "comp":
        if level == 0:
            return [(0.0, bpb * 0.9)]
        options: list[list[Cell]] = (
            [[(0.0, 1.0), (1.5, 0.5)], [(1.0, 0.5), (2.5, 1.0)], [(0.0, 0.8), (2.0, 0.8)], [(1.5, 0.5), (3.0, 0.9)]]
            if not triple else [[(0.0, 1.0), (2.0, 0.8)], [(1.0, 0.8), (2.0, 0.8)]])
        return options[int(rng.integers(len(options)))]
    return None


def harmony_part(plan: Plan, spans: Sequence[ChordSpan], pattern: str, levels: Sequence[float], lo: int, hi: int,
                 rng: np.random.Generator, end_beats: float) -> list[Note]:
    bpb = plan.beats_per_bar
    notes: list[Note] = []
    prev: list[int] | None = None
    n_voices = 3 if pattern == "power" else 4
    for span in spans:
        if pattern == "power":
            root = nearest_pitch((span.chord.root,), (lo + hi) / 2 - 6, lo, hi - 12)
            v = [root, root + 7, root + 12]
            if span.chord.is_tonic or span.chord.is_dominant:  # the third tells major from minor
                v.insert(1, root + span.chord.intervals[1])
        else:
            v = voice(span.chord, prev, lo, hi, n_voices)
        prev = v
        span_end = min(span.start + span.dur, end_beats)
        bar0 = int(span.start // bpb)
        bar1 = int(np.ceil(span_end / bpb - 1e-9))
        if pattern in ("chiparp", "broken"):
            notes += _arpeggiate(pattern, span, v, bar0, bar1, bpb, levels, span_end)
            continue
        for bar in range(bar0, bar1):
            level = level_of(levels[min(bar, len(levels) - 1)])
            cells = _harmony_cells(pattern, plan.meter, bpb, level, rng)
            base_vel = 48 + 42 * levels[min(bar, len(levels) - 1)]
            if cells is None:
                if bar == bar0:
                    for p in v:
                        notes.append(Note(span.start, (span_end - span.start) * 0.995, p, _clip(base_vel)))
                continue
            for on, dur in cells:
                beat = bar * bpb + on
                if beat < span.start - 1e-6 or beat >= span_end - 1e-6:
                    continue
                accent = 10 if on == 0 else 0
                for k, p in enumerate(v):
                    offset = 0.012 * k if pattern == "strum" else 0.0  # a strum, not a block
                    d = min(dur, span_end - beat) - offset
                    notes.append(Note(beat + offset, max(d * 0.97, 0.05), p, _clip(base_vel + accent - 2 * k)))
            if bar == bar0 and cells and all(span.start < bar * bpb + c[0] - 1e-6 or bar * bpb + c[0] >= span_end
                                            for c in cells):
                for p in v:  # a chord that starts off the pattern still sounds at its start
                    notes.append(Note(span.start, min(bpb / 2, span_end - span.start) * 0.97, p, _clip(base_vel)))
    return notes


def _arpeggiate(pattern: str, span: ChordSpan, v: list[int], bar0: int, bar1: int, bpb: float,
                levels: Sequence[float], span_end: float) -> list[Note]:
    notes = []
    for bar in range(bar0, bar1):
        level = level_of(levels[min(bar, len(levels) - 1)])
        step = 0.25 if pattern == "chiparp" and level >= 1 else 0.5 if (level >= 1 or pattern == "chiparp") else 1.0
        if pattern == "broken":
            order = [0, 2, 1, 2, 3, 2, 1, 2] if len(v) >= 4 else [0, 2, 1, 2]
            ring = 2.0
        else:
            order = [0, 1, 2, 3, 2, 1] if len(v) >= 4 else [0, 1, 2, 1]
            ring = 1.0
        t = bar * bpb
        i = 0
        while t < (bar + 1) * bpb - 1e-6:
            if span.start - 1e-6 <= t < span_end - 1e-6:
                p = v[order[i % len(order)] % len(v)]
                vel = 50 + 40 * levels[min(bar, len(levels) - 1)] + (10 if i == 0 else 0)
                notes.append(Note(t, max(min(step * ring, span_end - t) * 0.97, 0.05), p, _clip(vel)))
            t += step
            i += 1
    return notes


# ----------------------------------------------------------------------------------------------
# Texture


def texture_part(plan: Plan, spans: Sequence[ChordSpan], pattern: str, levels: Sequence[float], lo: int, hi: int,
                 rng: np.random.Generator, end_beats: float) -> list[Note]:
    bpb = plan.beats_per_bar
    notes: list[Note] = []
    section_shapes = {s.name: int(rng.integers(3)) for s in plan.sections}
    sparkle_cells = {s.name: sorted(set(int(x) for x in rng.integers(0, int(bpb * 2), size=3)))
                     for s in plan.sections}
    prev_guide: int | None = None
    base = min(max(lo + 7, 55), hi - 19)
    for bar in range(plan.bars):
        section = plan.section_at(bar)
        level = level_of(levels[bar])
        intensity = levels[bar]
        bar_start = bar * bpb
        if pattern in ("arp", "pulse", "ostinato"):
            if pattern == "pulse":
                step = 1.0 if level >= 1 else 2.0
                if plan.meter == "6/8":
                    step = 1.5 if level < 2 else 0.5
            elif pattern == "ostinato":
                step = 0.25 if level >= 2 else 0.5
            else:
                step = 0.25 if level >= 3 else 0.5 if level >= 1 or plan.tempo_bpm < 90 else 1.0
            t, i = bar_start, 0
            while t < bar_start + bpb - 1e-6 and t < end_beats - 1e-6:
                span = chord_at(spans, t)
                tones = _tones_in(span.chord.pcs, base, base + 19)
                if pattern == "ostinato":
                    figure = [0, 0, 2, 0, 3, 0, 2, 0]
                    p = tones[figure[i % len(figure)] % len(tones)]
                    accent = 18 if i % 8 in (0, 3, 6) else 0
                elif pattern == "pulse":
                    figure = [2, 0, 1, 0]
                    p = tones[figure[i % len(figure)] % len(tones)]
                    accent = 8 if i == 0 else 0
                else:
                    seq = _ARP_SHAPES[section_shapes[section.name]][0 if bpb == 4 else 1]
                    p = tones[seq[i % len(seq)] % len(tones)]
                    accent = 16 if abs((t - bar_start) % 1.0) < 1e-6 else 0  # the beat leads the arpeggio
                vel = 40 + 36 * intensity + accent
                ring = 0.9 if pattern == "ostinato" else 1.6
                notes.append(Note(t, min(step * ring, end_beats - t), p, _clip(vel)))
                t += step
                i += 1
        elif pattern == "sparkle":
            for cell in sparkle_cells[section.name]:
                t = bar_start + cell * 0.5
                if t >= end_beats:
                    continue
                span = chord_at(spans, t)
                tones = _tones_in(span.chord.pcs, base + 5, base + 24)
                p = tones[(cell + bar) % len(tones)]
                notes.append(Note(t, 1.0, p, _clip(40 + 30 * intensity)))
        elif pattern == "counter":
            step = bpb if level == 0 else bpb / 2 if bpb == 4 else bpb
            t = bar_start
            while t < bar_start + bpb - 1e-6 and t < end_beats - 1e-6:
                span = chord_at(spans, t)
                seventh = span.chord.intervals[3] if len(span.chord.intervals) > 3 else None
                # guide tones: third and seventh, but never lean on a major seventh (it blurs the key)
                guides = [span.chord.pcs[1], span.chord.pcs[3] if seventh in (9, 10) else span.chord.fifth]
                target = prev_guide if prev_guide is not None else (lo + hi) // 2
                p = nearest_pitch(tuple(guides), target, lo, hi)
                prev_guide = p
                notes.append(Note(t, min(step, end_beats - t) * 0.97, p, _clip(45 + 35 * intensity)))
                t += step
    return notes


# Arpeggio figures whose length divides the bar (4/4: 4 or 8 notes; 3/4 and 6/8: 6), so the figure
# re-starts on every downbeat instead of drifting across the metre as a polyrhythm.
_ARP_SHAPES = (
    ((0, 1, 2, 3), (0, 1, 2, 3, 2, 1)),
    ((0, 1, 2, 3, 4, 3, 2, 1), (0, 2, 1, 3, 2, 1)),
    ((0, 2, 1, 3, 2, 4, 3, 1), (0, 2, 4, 2, 1, 2)),
)


def _tones_in(pcs: Sequence[int], lo: int, hi: int) -> list[int]:
    tones = [p for p in range(lo, hi + 1) if p % 12 in pcs]
    return tones or [lo]


# ----------------------------------------------------------------------------------------------
# Drums

KICK, SNARE, SIDESTICK, CLAP, CHH, PHH, OHH, CRASH, RIDE, TAMB, MARACAS = 36, 38, 37, 39, 42, 44, 46, 49, 51, 54, 70
LOW_TOM, MID_TOM, FLOOR_TOM = 45, 47, 41

_GRIDS_44: dict[str, tuple[dict[int, str], ...]] = {
    "rock": (
        {KICK: "x.......x.......", SNARE: "....x.......x...", CHH: "x...x...x...x..."},
        {KICK: "x.......x.x.....", SNARE: "....x.......x...", CHH: "x.x.x.x.x.x.x.x."},
        {KICK: "x.....x.x.x.....", SNARE: "....x.......x...", CHH: "x.x.x.x.x.x.x.x."},
        {KICK: "x.....x.x.x...x.", SNARE: "....x..x....x...", CHH: "xxxxxxxxxxxxxxxx"},
    ),
    "electronic": (
        {KICK: "x...x...x...x...", CHH: "..x...x...x...x."},
        {KICK: "x...x...x...x...", CLAP: "....x.......x...", CHH: "..x...x...x...x."},
        {KICK: "x...x...x...x...", CLAP: "....x.......x...", CHH: "x...x...x...x...", OHH: "..x...x...x...x."},
        {KICK: "x...x...x...x...", CLAP: "....x.......x...", CHH: "xx.xxx.xxx.xxx.x", OHH: "..x...x...x...x."},
    ),
    "synthwave": (
        {KICK: "x.......x.......", CHH: "x.x.x.x.x.x.x.x."},
        {KICK: "x.......x.......", SNARE: "....x.......x...", CHH: "x.x.x.x.x.x.x.x."},
        {KICK: "x...x...x...x...", SNARE: "....x.......x...", CHH: "x.x.x.x.x.x.x.x."},
        {KICK: "x...x...x...x...", SNARE: "....x.......x...", CHH: "xxxxxxxxxxxxxxxx"},
    ),
    "lofi": (
        {KICK: "x.........x.....", SIDESTICK: "....x.......x...", CHH: "x.x.x.x.x.x.x.x."},
        {KICK: "x......x..x.....", SNARE: "....x.......x...", CHH: "x.x.x.x.x.x.x.x."},
        {KICK: "x......x.xx.....", SNARE: "....x.......x...", CHH: "x.x.x.x.x.x.x.x."},
        {KICK: "x......x.xx.....", SNARE: "....x..x....x..x", CHH: "x.x.x.x.x.x.x.x."},
    ),
    "jazz": (
        {RIDE: "x...x...x...x...", PHH: "....x.......x..."},
        {RIDE: "x...x.x.x...x.x.", PHH: "....x.......x...", KICK: "x.......x......."},
        {RIDE: "x...x.x.x...x.x.", PHH: "....x.......x...", KICK: "x.......x.......", SNARE: "......x.......x."},
        {RIDE: "x...x.x.x...x.x.", PHH: "....x.......x...", KICK: "x.....x.x.......", SNARE: "..x...x...x...x."},
    ),
    "folk": (
        {TAMB: "....x.......x..."},
        {KICK: "x.......x.......", SIDESTICK: "....x.......x...", TAMB: "..x...x...x...x."},
        {KICK: "x.......x.......", SNARE: "....x.......x...", TAMB: "x.x.x.x.x.x.x.x."},
        {KICK: "x.....x.x.......", SNARE: "....x.......x...", TAMB: "..x...x...x...x.", MARACAS: "xxxxxxxxxxxxxxxx"},
    ),
    "orchestral": (
        {KICK: "x..............."},
        {KICK: "x.......x......."},
        {KICK: "x.......x.......", SNARE: "....x.......x..."},
        {KICK: "x...x...x...x...", SNARE: "..x...x...x...xx"},
    ),
    "cinematic": (
        {KICK: "x.........x....."},
        {KICK: "x.....x...x.....", LOW_TOM: "..........x...x."},
        {KICK: "x.....x...x.....", SNARE: "........x.......", LOW_TOM: "..x.......x..x.."},
        {KICK: "x.....x.x.x.....", SNARE: "....x.......x...", LOW_TOM: "x.xxx.xxx.xxx.xx"},
    ),
    "chiptune": (
        {KICK: "x.......x.......", CHH: "x...x...x...x..."},
        {KICK: "x.......x.......", SNARE: "....x.......x...", CHH: "x.x.x.x.x.x.x.x."},
        {KICK: "x.....x.x.......", SNARE: "....x.......x...", CHH: "x.x.x.x.x.x.x.x."},
        {KICK: "x.....x.x.x.....", SNARE: "....x.......x...", CHH: "xxxxxxxxxxxxxxxx"},
    ),
}
_KIT_VOICES = {  # kick, backbeat, time-keeper for waltz and compound grids
    "rock": (KICK, SNARE, CHH), "electronic": (KICK, CLAP, CHH), "synthwave": (KICK, SNARE, CHH),
    "lofi": (KICK, SNARE, CHH), "jazz": (KICK, PHH, RIDE), "folk": (KICK, SIDESTICK, TAMB),
    "orchestral": (KICK, SNARE, None), "cinematic": (KICK, SNARE, LOW_TOM), "chiptune": (KICK, SNARE, CHH),
}
_GRIDS_34 = (("x...........", "", "x...x...x..."), ("x...........", "....x...x...", "x.x.x.x.x.x."),
             ("x.......x...", "....x...x...", "x.x.x.x.x.x."), ("x.....x.....", "....x...x...", "xxxxxxxxxxxx"))
_GRIDS_68 = (("x...........", "", "x.x.x.x.x.x."), ("x...........", "......x.....", "x.x.x.x.x.x."),
             ("x.........x.", "......x.....", "x.x.x.x.x.x."), ("x.....x...x.", "......x.....", "xxxxxxxxxxxx"))
_BASE_VEL = {KICK: 104, SNARE: 98, SIDESTICK: 80, CLAP: 96, CHH: 72, PHH: 60, OHH: 70, RIDE: 74, TAMB: 62,
             MARACAS: 50, LOW_TOM: 96, CRASH: 100}


def _grid(style: str, meter: str, bpb: float, level: int) -> dict[int, str]:
    if bpb == 4:
        return _GRIDS_44[style][level]
    kick, back, keeper = _KIT_VOICES[style]
    k, b, h = (_GRIDS_68 if meter == "6/8" else _GRIDS_34)[level]
    out = {kick: k}
    if b:
        out[back] = b
    if keeper is not None:
        out[keeper] = h
    return out


def drum_part(plan: Plan, style: str, levels: Sequence[float], arousal: float, rng: np.random.Generator) -> list[Note]:
    bpb = plan.beats_per_bar
    steps = round(bpb * 4)
    notes: list[Note] = []
    phrase_ends = {start + n - 1 for s in plan.sections for start, n in phrases(s)}
    section_starts = {s.start_bar for s in plan.sections}
    for bar in range(plan.bars):
        section = plan.section_at(bar)
        intensity = levels[bar]
        level = level_of(intensity)
        if section.role == "intro" and len(plan.sections) > 2:
            if arousal < 0.6:
                continue
            level = 0
        if section.role == "outro":
            level = 0
        if plan.shape == "cue" and bar == plan.bars - 1 and plan.bars > 2:
            continue  # the final chord rings without a beat under it
        grid = _grid(style, plan.meter, bpb, level)
        bar_start = bar * bpb
        fill = bar in phrase_ends and level >= 1 and bpb == 4 and section.role != "outro"
        for drum, pattern in grid.items():
            for i, ch in enumerate(pattern[:steps]):
                if ch != "x" or (fill and i >= 12 and drum not in (KICK,)):
                    continue
                on_beat = i % 4 == 0
                vel = _BASE_VEL.get(drum, 80) * (0.72 + 0.33 * intensity) * (1.0 if on_beat else 0.85)
                vel += int(rng.integers(-4, 5))
                notes.append(Note(bar_start + i * 0.25, 0.25, drum, _clip(vel)))
        if fill:
            toms = [SNARE, SNARE, LOW_TOM, FLOOR_TOM] if style not in ("jazz", "lofi") else [SNARE, SNARE, SNARE, SNARE]
            for j, drum in enumerate(toms):
                notes.append(Note(bar_start + 3 + j * 0.25, 0.25, drum, _clip(70 + 12 * j + 20 * intensity)))
        if bar in section_starts and level >= 1 and style not in ("lofi",):
            notes.append(Note(bar_start, 1.0, CRASH, _clip(88 + 25 * intensity)))
    return notes
