"""Form: the top of the hierarchy. Sections, phrases, cadences and the energy arc, decided before any note.

A loop is a few phrases at an even energy whose last cadence is left open, so bar 1 follows naturally.
A cue is through-composed: intro, statement, contrast, a climactic return and an outro, sized to the
requested seconds, with an energy arc and hit points placed on the timeline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine_server.decoders.music.cue_shape import CueShape
from engine_server.decoders.music.options import MusicOptions
from engine_server.decoders.music.tempo import TempoMap

BEATS_PER_BAR = {"4/4": 4.0, "3/4": 3.0, "6/8": 3.0}  # in quarter notes


@dataclass(frozen=True)
class Section:
    name: str  # intro, A, A', B, C, outro ...
    role: str  # intro | statement | contrast | return | climax | outro
    start_bar: int
    bars: int
    energy: float  # 0..1, relative arc position (scaled by arousal later)
    cadence: str  # none (the progression as written) | half | authentic | open | final


@dataclass(frozen=True)
class Hit:
    time_s: float
    beat: float
    kind: str


@dataclass(frozen=True)
class Plan:
    shape: str
    tempo_bpm: float
    meter: str
    beats_per_bar: float
    bars: int
    length_beats: float  # loop period, or the cue's whole duration in beats
    duration_s: float
    sections: tuple[Section, ...]
    hits: tuple[Hit, ...]
    tempo_map: TempoMap | None = None  # None: tempo_bpm throughout
    cue_shape: CueShape | None = None  # a cue shaped from outside (score to picture)

    @property
    def tempo(self) -> TempoMap:
        """Beats <-> seconds for this piece (one step unless a tempo map was given)."""
        return self.tempo_map or TempoMap.constant(self.tempo_bpm)

    @property
    def end_of_music_beats(self) -> float:
        """Where the last bar ends (cues hold their final chord past it until the tail)."""
        return self.bars * self.beats_per_bar

    def section_at(self, bar: int) -> Section:
        for s in self.sections:
            if s.start_bar <= bar < s.start_bar + s.bars:
                return s
        return self.sections[-1]

    def energy(self, bar: int) -> float:
        """Arc value for a bar: the section's level, ramping over its last two bars toward a louder next section
        (or, for a cue with an energy curve, the curve's value at the middle of the bar)."""
        if self.cue_shape is not None and self.cue_shape.energy:
            mid = self.tempo.seconds((bar + 0.5) * self.beats_per_bar)
            value = self.cue_shape.energy_at(mid)
            if value is not None:
                return value
        s = self.section_at(bar)
        idx = self.sections.index(s)
        nxt = self.sections[idx + 1] if idx + 1 < len(self.sections) else None
        e = s.energy
        into_last = bar - (s.start_bar + s.bars - 2)
        if nxt is not None and nxt.energy > e and into_last >= 0 and s.bars >= 3:
            e += (nxt.energy - e) * (into_last + 1) / 3.0
        return e


def phrases(section: Section) -> list[tuple[int, int]]:
    """(start_bar, bars) for the phrases of a section: fours, a one-bar remainder folded into the last."""
    n = section.bars
    if n <= 5:
        return [(section.start_bar, n)]
    sizes = [4] * (n // 4)
    if n % 4 == 1:
        sizes[-1] += 1
    elif n % 4:
        sizes.append(n % 4)
    out, start = [], section.start_bar
    for size in sizes:
        out.append((start, size))
        start += size
    return out


def _allocate(total: int, weights: list[float], unit: int = 2) -> list[int]:
    """Split `total` bars by weight into multiples of `unit` where possible, each at least one bar."""
    raw = [total * w / sum(weights) for w in weights]
    sizes = [max(1, round(r / unit) * unit) for r in raw]
    while sum(sizes) > total:
        i = max(range(len(sizes)), key=lambda k: (sizes[k] - raw[k], sizes[k]))
        sizes[i] -= unit if sizes[i] > unit else 1
        if sizes[i] < 1:
            sizes[i] = 1
    while sum(sizes) < total:
        i = max(range(len(sizes)), key=lambda k: (raw[k] - sizes[k], -k))
        sizes[i] += min(unit, total - sum(sizes))
    return sizes


_LOOP_SECTIONS = (("A", "statement", 0.55, "none"), ("A'", "statement", 0.6, "authentic"),
                  ("B", "contrast", 0.7, "half"), ("A''", "return", 0.6, "authentic"))

_CUE_FORMS: dict[str, tuple[tuple[str, str, float, str, float], ...]] = {
    # name, role, energy, cadence, relative length
    "tiny": (("A", "statement", 0.6, "final", 1.0),),
    "short": (("A", "statement", 0.55, "authentic", 3.0), ("outro", "outro", 0.35, "final", 1.0)),
    "medium": (("intro", "intro", 0.25, "half", 1.0), ("A", "statement", 0.5, "authentic", 2.0),
               ("B", "climax", 0.9, "half", 2.0), ("outro", "outro", 0.3, "final", 1.0)),
    "long": (("intro", "intro", 0.2, "half", 1.0), ("A", "statement", 0.45, "authentic", 2.0),
             ("B", "contrast", 0.7, "half", 2.0), ("A'", "climax", 1.0, "authentic", 2.0),
             ("outro", "outro", 0.3, "final", 1.0)),
    "epic": (("intro", "intro", 0.2, "half", 1.0), ("A", "statement", 0.4, "authentic", 2.0),
             ("B", "contrast", 0.6, "half", 2.0), ("A'", "return", 0.55, "authentic", 2.0),
             ("C", "contrast", 0.85, "half", 2.0), ("A''", "climax", 1.0, "authentic", 2.0),
             ("outro", "outro", 0.3, "final", 1.0)),
}


def make_plan(tempo_bpm: float, meter: str, opts: MusicOptions) -> Plan:
    bpb = BEATS_PER_BAR[meter]
    if opts.shape == "loop":
        bars = opts.bars
        chunks = [4] * (bars // 4)
        rem = bars % 4
        if not chunks:
            chunks = [bars]
        elif rem == 1:
            chunks[-1] += 1
        elif rem:
            chunks.append(rem)
        sections = []
        start = 0
        for i, n in enumerate(chunks):
            name, role, energy, cadence = _LOOP_SECTIONS[i % 4]
            if i >= 4:
                name = f"{name}{i // 4 + 1}"
            last = i == len(chunks) - 1
            sections.append(Section(name, role, start, n, energy, "open" if last else cadence))
            start += n
        length_beats = bars * bpb
        return Plan("loop", tempo_bpm, meter, bpb, bars, length_beats, length_beats * 60.0 / tempo_bpm,
                    tuple(sections), ())

    shape = opts.shape_given
    tmap = TempoMap.from_times(shape.tempo) if shape is not None and shape.tempo else TempoMap.constant(tempo_bpm)
    duration_beats = tmap.beat(opts.duration_s)
    bars = max(1, math.floor(duration_beats / bpb + 1e-9))
    hits = tuple(Hit(h.time_s, tmap.beat(h.time_s), h.kind) for h in opts.hit_points)
    if shape is not None and shape.sections:
        return Plan("cue", tmap.first_bpm, meter, bpb, bars, duration_beats, opts.duration_s,
                    _given_sections(shape, tmap, bpb, bars), hits, None if tmap.is_constant else tmap, shape)
    form = ("tiny" if bars <= 3 else "short" if bars <= 7 else "medium" if bars <= 15
            else "long" if bars <= 40 else "epic")
    spec = _CUE_FORMS[form]
    sizes = _allocate(bars, [s[4] for s in spec], unit=4 if bars >= 24 else 2)
    sections = []
    start = 0
    for (name, role, energy, cadence, _), n in zip(spec, sizes, strict=True):
        sections.append(Section(name, role, start, n, energy, cadence))
        start += n
    return Plan("cue", tmap.first_bpm, meter, bpb, bars, duration_beats, opts.duration_s, tuple(sections), hits,
                None if tmap.is_constant else tmap, shape)


_ROLE_NAMES = {"intro": "intro", "outro": "outro", "climax": "climax"}


def _given_sections(shape: CueShape, tmap: TempoMap, bpb: float, bars: int) -> tuple[Section, ...]:
    """Sections where the caller put them, each on the nearest bar line (exact when the tempo map puts the
    bar lines there); sections that would fall on the same bar merge. Cadences lead into what follows: a
    half cadence before a louder section, an authentic one before a calmer one, the last one final."""
    starts: list[tuple[int, float, str]] = []
    for t, energy, role in shape.sections:
        bar = min(round(tmap.beat(t) / bpb), bars - 1) if starts else 0
        if starts and bar <= starts[-1][0]:
            continue
        starts.append((bar, energy, role))
    out = []
    letters = iter("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    for i, (bar, energy, role) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else bars
        last = i + 1 == len(starts)
        cadence = "final" if last else "half" if starts[i + 1][1] > energy + 0.05 else "authentic"
        name = _ROLE_NAMES.get(role) or next(letters, f"S{i + 1}")
        out.append(Section(name, role, bar, end - bar, energy, cadence))
    return tuple(out)

