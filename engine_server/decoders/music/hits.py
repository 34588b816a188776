"""Hit points for picture: an accent, a swell or a drop lands exactly on each requested time.

The times are not moved to the beat grid (a cut does not wait for the downbeat): notes are placed on
the exact tick (1/480 beat, ≈1 ms), far inside the ±1 frame (41.7 ms at 24 fps) an editor can see.
- accent: a low hit (timpani / taiko), a crash and kick, and the bass and harmony re-struck hard;
- swell: a two-beat crescendo (expression CC11 on the sustained parts, a rising roll) peaking on the hit;
- drop: the hit, then a bar with drums, bass, lead and texture silent and the harmony hushed.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine_server.decoders.music.parts import CRASH, KICK, chord_at
from engine_server.decoders.music.plan import Plan
from engine_server.decoders.music.score import ChordSpan, Control, Note, Part
from engine_server.decoders.music.theory import nearest_pitch, tonic_pc

EXPRESSION = 11


def _restrike(part: Part, beat: float, vel: int, hold: float) -> None:
    """Cut notes sounding through `beat` and strike them again there, hard."""
    new: list[Note] = []
    struck: set[int] = set()
    for n in part.notes:
        end = n.start + n.dur
        if n.start < beat - 0.05 and end > beat + 0.05:
            new.append(Note(n.start, beat - n.start - 0.01, n.pitch, n.vel))
            if n.pitch not in struck:
                new.append(Note(beat, min(end - beat, hold), n.pitch, vel))
                struck.add(n.pitch)
        elif abs(n.start - beat) <= 0.05:
            if n.pitch not in struck:
                new.append(Note(beat, n.dur - (beat - n.start), n.pitch, vel))
                struck.add(n.pitch)
        else:
            new.append(n)
    part.notes = new


def apply_hits(plan: Plan, spans: Sequence[ChordSpan], key: str, parts: dict[str, Part], hit_part: Part) -> None:
    bpb = plan.beats_per_bar
    tonic = tonic_pc(key)
    inst = hit_part.instrument
    low = nearest_pitch((tonic,), inst.lo + 5, inst.lo, inst.hi)
    for hit in plan.hits:
        b = hit.beat
        span = chord_at(spans, b)
        root = nearest_pitch((span.chord.root,), low + 5, inst.lo, inst.hi)
        if hit.kind == "swell":
            length = max(2.0, plan.tempo_bpm / 60.0 * 1.0)  # at least two beats and one second
            start = max(b - length, 0.0)
            n_steps = 16
            for part in parts.values():
                if part.instrument.is_drums or part.name == "bass":
                    continue
                before = [c.value for c in part.controls if c.control == EXPRESSION and c.beat <= start]
                after = [c.value for c in part.controls if c.control == EXPRESSION and c.beat <= b + 1.0]
                v0 = min(before[-1] if before else 127, 90)
                part.controls = [c for c in part.controls
                                 if not (c.control == EXPRESSION and start <= c.beat <= b + 1.0)]
                for k in range(n_steps + 1):
                    t = start + (b - start) * k / n_steps
                    part.controls.append(Control(t, EXPRESSION, int(v0 + (127 - v0) * k / n_steps)))
                part.controls.append(Control(b + 1.0, EXPRESSION, after[-1] if after else 127))
                part.controls.sort(key=lambda c: c.beat)
            t, k = start, 0
            roll_step = 0.125 if plan.tempo_bpm < 140 else 0.25
            n_roll = int((b - start) / roll_step)
            for k in range(n_roll):
                t = b - (n_roll - k) * roll_step
                hit_part.notes.append(Note(t, roll_step, root, int(25 + 60 * k / max(n_roll - 1, 1))))
        # every kind lands with an accent, well above the roll that led to it
        hit_part.notes.append(Note(b, 2.0, low if hit.kind == "drop" else root, 127 if hit.kind != "accent" else 120))
        if hit.kind == "drop" and low + 7 <= inst.hi:
            hit_part.notes.append(Note(b, 2.0, low + 7, 100))
        drums = parts.get("drums")
        if drums is not None:
            drums.notes = [n for n in drums.notes if abs(n.start - b) > 0.1 or n.pitch not in (KICK, CRASH)]
            drums.notes += [Note(b, 1.0, CRASH, 120), Note(b, 0.25, KICK, 124)]
        for name in ("bass", "harmony"):
            if name in parts:
                _restrike(parts[name], b, 118, 2.0)
        if hit.kind == "drop":
            quiet_until = b + bpb
            for name in ("drums", "lead", "texture", "bass"):
                if name in parts:
                    parts[name].notes = [n for n in parts[name].notes if not b + 0.05 < n.start < quiet_until]
            if "harmony" in parts:
                parts["harmony"].notes = [
                    Note(n.start, n.dur, n.pitch, max(int(n.vel * 0.45), 20)) if b + 0.05 < n.start < quiet_until else n
                    for n in parts["harmony"].notes]
